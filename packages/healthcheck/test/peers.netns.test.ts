// Checkers against real servers from Debian packages (the netns tier's peers; each case is skipped
// when its peer is not installed — tools/host-deps installs them). Loopback only.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSmtp } from "../src/index.js";

const PY = "/usr/bin/python3";
const hasAiosmtpd = existsSync(PY) && existsSync("/usr/lib/python3/dist-packages/aiosmtpd/__init__.py");

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const up = await checkSmtp({
      type: "smtp",
      connectIp: "127.0.0.1",
      connectPort: port,
      connectTimeout: 1,
    });
    if (up.up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasAiosmtpd)("SMTP_CHECK against aiosmtpd (python3-aiosmtpd)", () => {
  let port: number;
  let mta: ReturnType<typeof spawn>;
  beforeAll(async () => {
    port = await freePort();
    mta = spawn(PY, ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`, "-c", "aiosmtpd.handlers.Sink"], {
      stdio: "ignore",
    });
    await waitListening(port, 10_000);
  });
  afterAll(() => {
    mta?.kill("SIGTERM");
  });

  it("a real MTA's banner and HELO reply make the check UP", async () => {
    const r = await checkSmtp({
      type: "smtp",
      connectIp: "127.0.0.1",
      connectPort: port,
      heloName: "lvs-check",
      connectTimeout: 5,
    });
    expect(r).toMatchObject({ up: true, reason: "HELO accepted" });
  });

  it("the MTA gone: DOWN with the connection error", async () => {
    mta.kill("SIGTERM");
    await new Promise((r) => mta.once("exit", r));
    const r = await checkSmtp({ type: "smtp", connectIp: "127.0.0.1", connectPort: port, connectTimeout: 2 });
    expect(r.up).toBe(false);
    expect(r.reason).toMatch(/ECONNREFUSED/);
  });
});
