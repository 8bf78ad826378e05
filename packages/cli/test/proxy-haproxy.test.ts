// `proxy_protocol v1|v2` in a keepalived.conf real_server, through the whole `lvsctl up` path on
// the proxy dataplane, read by haproxy 2.6 (`accept-proxy`, tools/host-deps installs it): each
// haproxy frontend answers with the client address the PROXY header gave it, so the answer is
// the real client's (127.0.0.5 here), never the proxy's own.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { type AddressInfo, createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const HAPROXY = "/usr/sbin/haproxy";
const haproxyThere = (() => {
  try {
    return execFileSync(HAPROXY, ["-v"], { encoding: "utf8" }).startsWith("HAProxy version 2.");
  } catch {
    return false;
  }
})();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** GET / through `port` from `from`: haproxy answers `200 <client it saw>`. */
function get(port: number, from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", localAddress: from, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    });
    req.on("error", reject);
    req.end();
  });
}

const procs: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(argv: string[]): { proc: ChildProcess; output: () => string } {
  const proc = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  procs.push(proc);
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  return { proc, output: () => out };
}

describe.skipIf(!haproxyThere)(
  "proxy_protocol in keepalived.conf, lvsctl up --dataplane proxy, haproxy",
  () => {
    it("haproxy's accept-proxy frontends see the real client through v1 and v2", async () => {
      const dir = mkdtempSync(join(tmpdir(), "lvs-pp-"));
      dirs.push(dir);
      const [v1, v2, vport] = [await freePort(), await freePort(), await freePort()];
      const frontend = (name: string, port: number) => `frontend ${name}
  mode http
  bind 127.0.0.1:${port} accept-proxy
  http-request return status 200 content-type text/plain lf-string "%[src]"
`;
      writeFileSync(
        join(dir, "haproxy.cfg"),
        `global
  maxconn 100
defaults
  timeout connect 2s
  timeout client 10s
  timeout server 10s
${frontend("echo_v1", v1)}${frontend("echo_v2", v2)}`,
      );
      const haproxy = run([HAPROXY, "-db", "-f", join(dir, "haproxy.cfg")]);
      await waitFor(
        async () => (await canConnect(v1)) && (await canConnect(v2)),
        `haproxy: ${haproxy.output()}`,
      );

      const conf = join(dir, "keepalived.conf");
      writeFileSync(
        conf,
        `virtual_server 127.0.0.1 ${vport} {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${v1} {
    proxy_protocol v1
  }
  real_server 127.0.0.1 ${v2} {
    proxy_protocol v2
  }
}
`,
      );
      const sock = join(dir, "api.sock");
      const up = run([
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
      ]);
      await waitFor(() => up.output().includes("Runtime API on"), `lvsctl up: ${up.output()}`);
      await waitFor(() => canConnect(vport), "the proxy listener");

      // rr over both: four requests, two through each header version, each showing 127.0.0.5.
      const answers: string[] = [];
      for (let i = 0; i < 4; i++) answers.push(await get(vport, "127.0.0.5"));
      expect(answers).toEqual(["200 127.0.0.5", "200 127.0.0.5", "200 127.0.0.5", "200 127.0.0.5"]);

      // A reload that drops the header from the v1 server: haproxy's accept-proxy then refuses the
      // bare connection (no 200 from that server any more), the v2 server still answers.
      writeFileSync(conf, readFileSync(conf, "utf8").replace("    proxy_protocol v1\n", ""));
      up.proc.kill("SIGHUP");
      await waitFor(() => up.output().includes("Reloading configuration"), "the reload");
      const after: string[] = [];
      for (let i = 0; i < 4; i++)
        after.push(await get(vport, "127.0.0.5").catch((e: Error) => `error ${e.message}`));
      expect(after.filter((a) => a === "200 127.0.0.5")).toHaveLength(2);
      expect(after.filter((a) => a !== "200 127.0.0.5")).toHaveLength(2);

      up.proc.kill("SIGTERM");
      haproxy.proc.kill("SIGTERM");
    }, 60_000);
  },
);
