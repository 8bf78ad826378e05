// The no-root path, for real: examples/proxy/local.conf run by the built `lvsctl up` as user
// `nobody` (setpriv drops root), three real HTTP backends (examples/proxy/backends.mjs), curl as
// the client. A network namespace of its own keeps the example's fixed ports (8080-8083) apart
// from anything else on the host; root is needed only to create it and to drop to `nobody`.
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../../../examples/proxy/local.conf", import.meta.url));
const BACKENDS = fileURLToPath(new URL("../../../examples/proxy/backends.mjs", import.meta.url));
const NOBODY = 65534;

describe.skipIf(!canUseNetns())("examples/proxy/local.conf without root (lvsctl up as nobody)", () => {
  let topo: Topology;
  let ns: Netns;
  let runtime: string;
  beforeAll(async () => {
    topo = await Topology.create("proxy-local");
    ns = await topo.addNamespace("host");
    // $XDG_RUNTIME_DIR as a login session would give nobody: private, its own.
    runtime = mkdtempSync(join(tmpdir(), "lvs-nobody-"));
    chownSync(runtime, NOBODY, NOBODY);
  });
  afterAll(async () => {
    await topo?.destroy();
    rmSync(runtime, { recursive: true, force: true });
  });

  /** argv run as nobody, with a minimal environment (no root's HOME or TMPDIR leaking in). */
  const asNobody = (argv: string[], env: Record<string, string> = {}) => [
    "setpriv",
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
    "env",
    "-i",
    "PATH=/usr/local/bin:/usr/bin:/bin",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...argv,
  ];
  const curl = async () => (await ns.run("curl -sS --max-time 5 http://127.0.0.1:8080/")).trim();

  it("balances curl over the three backends, warns once about VRRP/VIPs, serves `lvsctl status`", async () => {
    const backends = ns.spawn(asNobody([process.execPath, BACKENDS]));
    await waitFor(() => (backends.output().match(/listening/g) ?? []).length === 3, { timeoutMs: 10_000 });
    const env = { XDG_RUNTIME_DIR: runtime };
    const up: SpawnedProcess = ns.spawn(
      asNobody([process.execPath, BIN, "up", "-f", EXAMPLE, "--log-format", "text"], env),
    );
    await waitFor(() => up.output().includes("Runtime API on"), { timeoutMs: 20_000 }).catch((e) => {
      throw new Error(`${(e as Error).message}: ${up.output()}`);
    });
    const log = () => up.output();
    expect(log()).toContain("Dataplane: proxy (auto: no CAP_NET_ADMIN");
    expect(log()).toContain(`Runtime API on ${runtime}/lvs/director.sock (not root: under $XDG_RUNTIME_DIR)`);
    // The example's directory isn't nobody's: the state file goes to the runtime directory.
    expect(log()).toMatch(new RegExp(`State file ${runtime}/lvs/local\\.conf-[0-9a-f]{8}\\.state\\.json`));

    // rr over three healthy backends (all start up as keepalived's checkers do): 12 sequential
    // requests land 4, 4, 4.
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) seen.push(await curl());
    const counts = new Map<string, number>();
    for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([
      "backend 1 (127.0.0.1:8081)",
      "backend 2 (127.0.0.1:8082)",
      "backend 3 (127.0.0.1:8083)",
    ]);
    expect([...counts.values()]).toEqual([4, 4, 4]);

    // One warning about VRRP/VIPs, one about NAT/DR/TUN meaning full proxy; no other warning.
    const warnings = log()
      .split("\n")
      .filter((l) => l.includes("WARNING"));
    expect(warnings.filter((l) => l.includes("VRRP and VIP handling skipped"))).toHaveLength(1);
    expect(warnings.filter((l) => l.includes("all mean full proxy"))).toHaveLength(1);
    expect(warnings).toHaveLength(2);

    // lvsctl status as nobody finds the daemon on the same default socket.
    const status = await ns.exec(asNobody([process.execPath, BIN, "status", "--json"], env));
    expect(status.code, status.stderr).toBe(0);
    const st = JSON.parse(status.stdout) as { virtualServers: { realServers: unknown[] }[] };
    expect(st.virtualServers[0]?.realServers).toHaveLength(3);

    // `lvsctl status --connections`: the proxy's connection table in ipvsadm -Lcn's format,
    // with a connection held open by a client in the namespace.
    const holder = ns.spawn([
      process.execPath,
      "-e",
      "const s = require('node:net').connect(8080, '127.0.0.1', () => console.log('port ' + s.localPort))",
    ]);
    await waitFor(() => /port \d+/.test(holder.output()), { timeoutMs: 10_000 });
    const clientPort = /port (\d+)/.exec(holder.output())?.[1];
    const conns = await ns.exec(asNobody([process.execPath, BIN, "status", "--connections"], env));
    expect(conns.code, conns.stderr).toBe(0);
    const lines = conns.stdout.split("\n");
    expect(lines[0]).toBe("IPVS connection entries");
    expect(lines[1]).toMatch(/^pro expire state\s+source\s+virtual\s+destination$/);
    expect(conns.stdout).toMatch(
      new RegExp(
        `^TCP \\d\\d:\\d\\d\\s+ESTABLISHED\\s+127\\.0\\.0\\.1:${clientPort}\\s+127\\.0\\.0\\.1:8080\\s+127\\.0\\.0\\.1:808[123]$`,
        "m",
      ),
    );
    holder.kill();

    up.kill("SIGTERM");
    expect(await up.exited).toBe(0);
  }, 60_000);

  it("refuses a virtual address the host doesn't have, naming file:line", async () => {
    const conf = join(runtime, "remote.conf");
    {
      writeFileSync(
        conf,
        readFileSync(EXAMPLE, "utf8").replace(
          "virtual_server 127.0.0.1 8080",
          "virtual_server 192.0.2.80 8080",
        ),
      );
      const line =
        readFileSync(conf, "utf8")
          .split("\n")
          .findIndex((l) => l.startsWith("virtual_server")) + 1;
      const r = await ns.exec(
        asNobody([process.execPath, BIN, "up", "-f", conf, "--log-format", "text"], {
          XDG_RUNTIME_DIR: runtime,
        }),
        { timeoutMs: 20_000 },
      );
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(
        `${conf}:${line}: virtual_server 192.0.2.80 8080: 192.0.2.80 is not an address of this host`,
      );
      expect(r.stderr).toContain("DIRECTOR_VIP_NOT_LOCAL");
    }
  }, 30_000);
});
