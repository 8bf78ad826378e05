// On the proxy dataplane, through the whole `lvsctl up` path: `lvsctl ipvs --set` changes the
// proxy's idle timeouts over the director's API (and `-L --timeout` shows them), and a reload
// (SIGHUP with a changed file) drops none of many idle connections — each still answers after.
// LVS_IDLE_CONNS sets the count (default 2,000 to keep CI fast; 10,000 is the figure:
// `LVS_IDLE_CONNS=10000 pnpm exec vitest run test/proxy-idle-reload.test.ts`). The daemon holds
// two descriptors per connection: a count its hard limit can't hold runs under `prlimit` (needs
// CAP_SYS_RESOURCE), else the test is skipped rather than run smaller.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const COUNT = Number(process.env.LVS_IDLE_CONNS ?? 2_000);
/** The daemon holds two descriptors per connection (client and real-server side), plus a few. */
const DAEMON_FDS = 2 * COUNT + 150;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: () => string,
  ms = 30_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what()}`);
}

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

function run(argv: string[], env: Record<string, string> = {}): { proc: ChildProcess; output: () => string } {
  const proc = spawn(argv[0] as string, argv.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  cleanups.push(() => {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  });
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  return { proc, output: () => out };
}

/** The limit this process may raise a child's descriptors to without root. */
const hardLimit = Number(
  /Max open files\s+\d+\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? 1024,
);

/** Whether prlimit may raise a child's limit past ours (CAP_SYS_RESOURCE). */
const canRaise = (() => {
  try {
    execFileSync("prlimit", [`--nofile=${hardLimit + 1}`, "--", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const raise = DAEMON_FDS > hardLimit;

describe.skipIf(raise && !canRaise)(
  "proxy dataplane: ipvs --set over the API, idle connections through a reload",
  () => {
    it(`${COUNT} idle connections survive a reload; --set changes the proxy's timeouts`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "lvs-idle-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const [b1, b2, vport] = [await freePort(), await freePort(), await freePort()];
      // The real servers in a process of their own: an echo server per port, holding every socket.
      const backend = run([
        process.execPath,
        "-e",
        `const net = require("node:net");
       for (const p of [${b1}, ${b2}]) net.createServer((s) => { s.on("error", () => {}); s.pipe(s); }).listen(p, "127.0.0.1");
       setTimeout(() => console.log("ready"), 100);`,
      ]);
      await waitFor(
        () => backend.output().includes("ready"),
        () => backend.output(),
      );
      const conf = join(dir, "keepalived.conf");
      const file = (extra: string) => `virtual_server 127.0.0.1 ${vport} {
  lb_algo wlc
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${b1} {
    weight 1
  }
${extra}}
`;
      writeFileSync(conf, file(""));
      const sock = join(dir, "api.sock");
      const daemonArgv = [
        process.execPath,
        BIN,
        "up",
        "-f",
        conf,
        "--dataplane",
        "proxy",
        "--socket",
        sock,
        "--log-format",
        "text",
      ];
      const up = run(raise ? ["prlimit", `--nofile=${DAEMON_FDS}`, "--", ...daemonArgv] : daemonArgv);
      await waitFor(
        () => up.output().includes("Runtime API on"),
        () => up.output(),
      );

      // lvsctl ipvs --set / -L --timeout go to the director's proxy (not the kernel's IPVS).
      const ipvs = (...args: string[]) =>
        execFileSync(process.execPath, [BIN, "ipvs", ...args], {
          encoding: "utf8",
          env: { ...process.env, LVSCTL_SOCKET: sock },
        });
      expect(ipvs("-L", "--timeout")).toBe("Timeout (tcp tcpfin udp): 900 120 300\n");
      expect(ipvs("--set", "3600", "0", "60")).toBe("");
      expect(ipvs("-L", "--timeout")).toBe("Timeout (tcp tcpfin udp): 3600 120 60\n");
      await waitFor(
        () => up.output().includes("Setting proxy timeouts (tcp 3600, tcpfin unchanged, udp 60)"),
        () => up.output(),
      );

      // COUNT idle connections, opened in waves (from spread-out loopback sources).
      const sockets: Socket[] = [];
      let closed = 0;
      const open = (i: number) =>
        new Promise<void>((resolve, reject) => {
          const s = tcpConnect({
            host: "127.0.0.1",
            port: vport,
            localAddress: `127.0.${1 + (i % 200)}.${10 + (Math.floor(i / 200) % 200)}`,
          });
          s.once("connect", () => resolve());
          s.once("error", reject);
          s.once("close", () => closed++);
          sockets.push(s);
        });
      cleanups.push(() => {
        for (const s of sockets) s.destroy();
      });
      for (let i = 0; i < COUNT; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, COUNT - i) }, (_, j) => open(i + j)));
      }
      // A client's connect completes in the kernel's backlog, before the proxy has accepted it and
      // connected on to a real server: on a loaded host the proxy is still catching up when the
      // last wave connects (CI saw 1,015 and 1,773 of 2,000 at the first look). So: until all
      // are established there, a generous bound.
      const established = () =>
        (
          JSON.parse(
            execFileSync(process.execPath, [BIN, "status", "--connections", "--json", "--socket", sock], {
              encoding: "utf8",
              maxBuffer: 64 << 20,
            }),
          ) as { connections: { state: string }[] }
        ).connections.filter((c) => c.state === "ESTABLISHED").length;
      let seen = 0;
      await waitFor(
        () => {
          seen = established();
          return seen === COUNT;
        },
        () => `${COUNT} established connections in the proxy's table (${seen} seen)`,
        60_000,
      );
      expect(seen).toBe(COUNT);

      // A reload that changes the file (a second real server): nothing established is touched.
      writeFileSync(conf, file(`  real_server 127.0.0.1 ${b2} {\n    weight 1\n  }\n`));
      const reloaded = up.output().length;
      up.proc.kill("SIGHUP");
      await waitFor(
        () => /Reloading configuration/.test(up.output().slice(reloaded)),
        () => up.output().slice(reloaded),
      );
      // Each connection still carries data both ways after the reload.
      let echoed = 0;
      await Promise.all(
        sockets.map(
          (s, i) =>
            new Promise<void>((resolve, reject) => {
              const msg = `${i}\n`;
              let got = "";
              s.on("data", (d) => {
                got += d;
                if (got === msg) {
                  echoed++;
                  resolve();
                }
              });
              s.once("close", () => reject(new Error(`connection ${i} closed after the reload`)));
              s.write(msg);
            }),
        ),
      );
      expect(echoed).toBe(COUNT);
      expect(closed).toBe(0);
      up.proc.kill("SIGTERM");
    }, 180_000);
  },
);
