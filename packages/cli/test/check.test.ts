// lvsctl check: one probe through the built binary against servers this test starts on loopback.
import { spawn } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
// Async spawn: the servers live in this process, so it must not block.
function lvsctl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, "check", ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const tcpServer = createServer((c) => c.destroy());
let healthy = true;
const httpServer = createHttpServer((_req, res) => {
  res.writeHead(healthy ? 200 : 503).end(healthy ? "OK" : "maintenance");
});
let tcpPort = 0;
let httpPort = 0;
let closedPort = 0;
beforeAll(async () => {
  await new Promise<void>((r) => tcpServer.listen(0, "127.0.0.1", () => r()));
  await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", () => r()));
  tcpPort = (tcpServer.address() as AddressInfo).port;
  httpPort = (httpServer.address() as AddressInfo).port;
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", () => r()));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise((r) => tmp.close(r));
});
afterAll(() => {
  tcpServer.close();
  httpServer.close();
});

describe("lvsctl check", () => {
  it("tcp: UP with exit 0 on a listening port, DOWN ECONNREFUSED with exit 1 on a closed one", async () => {
    const up = await lvsctl(["tcp", "--connect-ip", "127.0.0.1", "--connect-port", String(tcpPort)]);
    expect(up.stdout).toMatch(
      new RegExp(`^UP tcp 127\\.0\\.0\\.1:${tcpPort} connected in \\d+\\.\\d ms\\n$`),
    );
    expect(up.status).toBe(0);
    const down = await lvsctl(["tcp", "--connect-ip", "127.0.0.1", "--connect-port", String(closedPort)]);
    expect(down.stdout).toMatch(/^DOWN tcp 127\.0\.0\.1:\d+ ECONNREFUSED in \d+\.\d ms\n$/);
    expect(down.status).toBe(1);
  });

  it("tcp --bind-if: through lo UP; an unknown interface DOWN with ENODEV (the bundled @lvs/sys addon loads)", async () => {
    const up = await lvsctl([
      "tcp",
      "--connect-ip",
      "127.0.0.1",
      "--connect-port",
      String(tcpPort),
      "--bind-if",
      "lo",
    ]);
    expect(up.stdout).toMatch(/^UP tcp 127\.0\.0\.1:\d+ connected in /);
    expect(up.status).toBe(0);
    const down = await lvsctl([
      "tcp",
      "--connect-ip",
      "127.0.0.1",
      "--connect-port",
      String(tcpPort),
      "--bind-if",
      "lvsnosuch0",
    ]);
    expect(down.stdout).toMatch(/^DOWN tcp 127\.0\.0\.1:\d+ bind_if lvsnosuch0: ENODEV in /);
    expect(down.status).toBe(1);
  });

  it("http: status code ranges and regex decide", async () => {
    const url = `http://127.0.0.1:${httpPort}/health`;
    const ok = await lvsctl(["http", "--url", url, "--status-code", "200-299", "--regex", "^OK$"]);
    expect(ok.stdout).toMatch(/^UP http 127\.0\.0\.1:\d+\/health \/health status 200 in/);
    expect(ok.status).toBe(0);
    healthy = false;
    const bad = await lvsctl(["http", "--url", url]);
    healthy = true;
    expect(bad.stdout).toMatch(/^DOWN http .* status 503 not in 200-299 in/);
    expect(bad.status).toBe(1);
  });

  it("misc: exit status 0 up, 1 down, 2..255 = weight with --misc-dynamic", async () => {
    expect((await lvsctl(["misc", "--", "/bin/true"])).status).toBe(0);
    expect((await lvsctl(["misc", "--", "/bin/false"])).status).toBe(1);
    const dyn = await lvsctl(["misc", "--misc-dynamic", "--", "/bin/sh", "-c", "exit 12"]);
    expect(dyn.stdout).toMatch(/^UP misc \/bin\/sh -c exit 12 exit 12 in \d+\.\d ms weight 10\n$/);
    expect(dyn.status).toBe(0);
  });

  it("--watch prints each probe and the rise transition, then stops at --count", async () => {
    const r = await lvsctl([
      "tcp",
      "--connect-ip",
      "127.0.0.1",
      "--connect-port",
      String(tcpPort),
      "--watch",
      "--rise",
      "2",
      "--delay-loop",
      "0.05",
      "--count",
      "3",
    ]);
    const lines = r.stdout.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("ok tcp")).length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => l.startsWith("UP tcp"))).toEqual([`UP tcp 127.0.0.1:${tcpPort} connected`]);
    // UP comes after the second success (rise 2).
    expect(lines.findIndex((l) => l.startsWith("UP"))).toBe(2);
    expect(r.status).toBe(0);
  });

  it("bad arguments are exit 2 with a message saying what to write", async () => {
    const r = await lvsctl(["http", "--url", "not a url"]);
    expect(r.stderr).toContain('--url "not a url" is not a URL; write http://127.0.0.1:8080/health');
    expect(r.status).toBe(2);
    const s = await lvsctl(["http", "--url", "http://127.0.0.1:1/", "--status-code", "299-200"]);
    expect(s.stderr).toContain('status_code: range "299-200" is reversed; write 200-299');
    expect(s.status).toBe(2);
    const p = await lvsctl(["tcp", "--connect-ip", "127.0.0.1", "--connect-port", "70000"]);
    expect(p.stderr).toContain("--connect-port must be an integer 1..65535");
  });
});
