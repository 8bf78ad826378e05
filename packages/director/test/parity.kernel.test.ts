// Kernel tier (tools/vm): keepalived behaviours that only the real IPVS can show, each read back
// with ipvsadm in a namespace of its own: MISC_CHECK's dynamic weight (misc_dynamic), a drain and
// a runtime weight surviving kill -9 of the daemon, real servers added and removed at runtime
// (keepalived #1296), slow start ramping a recovered server, and the director's sysctls.
// The real servers are never contacted (the checks are MISC scripts or none): what is proven is
// what the daemon writes into the kernel's table, so no server namespace is needed.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectorClient } from "../src/client.js";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));
const RS1 = "10.83.0.11";
const RS2 = "10.83.0.12";
const RS3 = "10.83.0.13";
const RS4 = "10.83.0.14";
const RS5 = "10.83.0.15";

interface Daemon {
  proc: SpawnedProcess;
  api: DirectorClient;
}

describe("keepalived parity on the kernel's IPVS", () => {
  let topo: Topology;
  let lb: Netns;
  let dir: string;
  /** The daemon the runtime-server test goes on with (restarted by the kill -9 test). */
  let persisted: Daemon | undefined;
  /** The daemon of the MISC_CHECK and slow-start tests, and the slow-start server's script. */
  let checks: Daemon | undefined;
  let slow: { path: string; set: (exit: number) => void } | undefined;
  /** What that daemon said (it ran without lvs_director_sysctl). */
  let plainOutput = "";
  /** What the restarted kill -9 daemon said, up to its stop. */
  let persistedOutput = "";
  /** `ip_forward/vs.conntrack` at each step of the kill -9 daemon (it runs with lvs_director_sysctl). */
  const sysctlTrace: string[] = [];
  const sysctls = async () =>
    (await lb.run("sysctl -n net.ipv4.ip_forward net.ipv4.vs.conntrack")).trim().split(/\s+/).join("/");
  const running = new Set<SpawnedProcess>();
  const table = () => lb.run("ipvsadm -Sn");

  /** `lvsctl director run` in the lb namespace; resolves once `ready` holds on the table. */
  const start = async (conf: string, name: string, ready: (t: string) => boolean): Promise<Daemon> => {
    const sock = join(dir, `${name}.sock`);
    const proc = lb.spawn([
      "node",
      BIN,
      "director",
      "run",
      "-f",
      conf,
      "--mode",
      "check",
      "--socket",
      sock,
      "--state",
      join(dir, `${name}.state.json`),
      "--reconcile-interval",
      "1",
      "--log-format",
      "text",
    ]);
    running.add(proc);
    await waitFor(async () => ready(await table()), {
      what: `${name}: the director's table`,
      timeoutMs: 60_000,
      intervalMs: 250,
    }).catch((err) => {
      throw new Error(`${(err as Error).message}\n${proc.output().slice(-3000)}`);
    });
    return { proc, api: new DirectorClient({ socketPath: sock }) };
  };

  const stop = async (d: Daemon, signal: NodeJS.Signals = "SIGTERM") => {
    d.proc.kill(signal);
    const code = await d.proc.exited;
    running.delete(d.proc);
    return code;
  };

  /** Real server `rip:port` of service `vip:port` → its weight in the kernel (undefined: absent). */
  const weightIn = (t: string, vs: string, rs: string): number | undefined => {
    const m = new RegExp(
      `^-a -t ${vs.replace(/\./g, "\\.")} -r ${rs.replace(/\./g, "\\.")} -m -w (\\d+)`,
      "m",
    ).exec(t);
    return m ? Number(m[1]) : undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pk-parity-"));
    topo = await Topology.create("pk-parity");
    lb = await topo.addNamespace("lb");
    // The director's sysctls (last test): IPVS and netfilter's conntrack loaded, forwarding off.
    await lb.run("modprobe ip_vs && modprobe nf_conntrack");
    await lb.sysctl("net.ipv4.ip_forward", 0);
    await lb.sysctl("net.ipv4.vs.conntrack", 0);
  }, 60_000);

  afterAll(async () => {
    // A failed test leaves its daemon running: killed before the namespace goes.
    for (const p of running) {
      p.kill("SIGKILL");
      await p.exited;
    }
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("MISC_CHECK misc_dynamic: exit 2..255 sets the weight to exit-2 in the kernel, exit 1 removes the server", async () => {
    const script = (name: string, first: string) => {
      const code = join(dir, `${name}-code`);
      const path = join(dir, `${name}.sh`);
      writeFileSync(code, first);
      writeFileSync(path, `#!/bin/sh\nexit "$(cat ${code})"\n`);
      chmodSync(path, 0o755);
      return { path, set: (exit: number) => writeFileSync(code, `${exit}\n`) };
    };
    const misc = script("misc", "12\n");
    slow = script("slow", "0\n");
    // One daemon for this test and the slow-start one (each start costs 10-20 s under TCG). The
    // native YAML because slow start is ours (keepalived has none); `miscDynamic` is what
    // keepalived.conf's `misc_dynamic` loads as (@lvs/config's tests).
    const conf = join(dir, "checks.yaml");
    writeFileSync(
      conf,
      `virtualServers:
  - key: { address: 10.82.0.100, port: 80 }
    protocol: TCP
    delayLoop: 1
    realServers:
      - address: ${RS1}
        port: 8080
        weight: 5
        checkers:
          - check: { type: misc, miscPath: ["${misc.path}"], miscDynamic: true, miscTimeout: 5 }
      - address: ${RS2}
        port: 8080
        weight: 2
  - key: { address: 10.82.0.102, port: 80 }
    protocol: TCP
    lvsSched: wrr
    delayLoop: 1
    realServers:
      - address: ${RS1}
        port: 8080
        weight: 12
        checkers:
          - check: { type: misc, miscPath: ["${slow.path}"], miscTimeout: 5 }
            policy: { slowStart: 6, retry: 0, warmup: 0 }
      - address: ${RS2}
        port: 8080
        weight: 3
`,
    );
    const vs = "10.82.0.100:80";
    checks = await start(conf, "checks", (t) => weightIn(t, vs, `${RS1}:8080`) === 10);
    expect(weightIn(await table(), vs, `${RS2}:8080`)).toBe(2); // the unchecked neighbour as configured
    for (const [exit, weight] of [
      [255, 253],
      [2, 0],
      [3, 1],
    ] as const) {
      misc.set(exit);
      await waitFor(async () => weightIn(await table(), vs, `${RS1}:8080`) === weight, {
        what: `exit ${exit} → weight ${weight}`,
        timeoutMs: 15_000,
        intervalMs: 200,
      });
    }
    // Exit 1 is a failure: removed (no inhibit_on_failure), the rest of the pool stays.
    misc.set(1);
    await waitFor(async () => weightIn(await table(), vs, `${RS1}:8080`) === undefined, {
      what: "exit 1 → removed",
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    expect(weightIn(await table(), vs, `${RS2}:8080`)).toBe(2);
    misc.set(9);
    await waitFor(async () => weightIn(await table(), vs, `${RS1}:8080`) === 7, {
      what: "exit 9 → back with weight 7",
      timeoutMs: 15_000,
      intervalMs: 200,
    });
  }, 120_000);

  it("slow start: a recovered server's weight ramps up in the kernel to its full weight", async () => {
    if (!checks || !slow) throw new Error("needs the daemon of the MISC_CHECK test");
    const vs = "10.82.0.102:80";
    const rs = `${RS1}:8080`;
    // Up from the start: full weight at once (slow start is for a recovery).
    expect(weightIn(await table(), vs, rs)).toBe(12);
    slow.set(1);
    await waitFor(async () => weightIn(await table(), vs, rs) === undefined, {
      what: "down: removed",
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    slow.set(0);
    // Sample the kernel's weight while it comes back, until it reaches the full one.
    const samples: number[] = [];
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const w = weightIn(await table(), vs, rs);
      if (w !== undefined) samples.push(w);
      if (w === 12) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    console.log(`slow start weights seen: ${samples.join(" ")}`);
    expect(samples.at(-1)).toBe(12);
    expect(samples[0]).toBeLessThan(12);
    expect(samples[0]).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < samples.length; i++)
      expect(samples[i]).toBeGreaterThanOrEqual(samples[i - 1] as number);
    // A ramp, not a jump: at least two steps between the first weight and the full one.
    expect(new Set(samples).size).toBeGreaterThanOrEqual(3);
    expect(weightIn(await table(), vs, `${RS2}:8080`)).toBe(3);
    expect(await stop(checks)).toBe(0);
    plainOutput = checks.proc.output();
  }, 120_000);

  it("a drain and a runtime weight survive kill -9 and a restart onto an emptied table", async () => {
    const conf = join(dir, "persist.conf");
    writeFileSync(
      conf,
      `global_defs {
  lvs_director_sysctl
}
virtual_server 10.82.0.101 80 {
  lb_kind NAT
  protocol TCP
  real_server ${RS1} 8080 {
  }
  real_server ${RS2} 8080 {
  }
  real_server ${RS3} 8080 {
    weight 3
  }
}
`,
    );
    const vs = "10.82.0.101:80";
    const complete = (t: string) => weightIn(t, vs, `${RS3}:8080`) === 3;
    const first = await start(conf, "persist", complete);
    sysctlTrace.push(`started ${await sysctls()}`);
    expect(weightIn(await table(), vs, `${RS1}:8080`)).toBe(1);
    await first.api.weight(vs, `${RS1}:8080`, 7);
    await first.api.drain(vs, `${RS2}:8080`); // no connection through it: drained at once
    await first.api.addServer(vs, `${RS4}:8080`, 4); // keepalived #1296: not in the config
    await waitFor(
      async () => {
        const t = await table();
        return (
          weightIn(t, vs, `${RS1}:8080`) === 7 &&
          weightIn(t, vs, `${RS2}:8080`) === undefined &&
          weightIn(t, vs, `${RS4}:8080`) === 4
        );
      },
      { what: "weight 7 and the drain in the kernel", timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(await stop(first, "SIGKILL")).not.toBe(0);
    sysctlTrace.push(`killed ${await sysctls()}`);
    // Empty the kernel: whatever the restart programs comes from the config and the state file.
    await lb.run("ipvsadm -C");
    const second = await start(conf, "persist", complete);
    sysctlTrace.push(`restarted ${await sysctls()}`);
    const t = await table();
    expect(weightIn(t, vs, `${RS1}:8080`)).toBe(7);
    expect(weightIn(t, vs, `${RS2}:8080`)).toBeUndefined();
    expect(weightIn(t, vs, `${RS4}:8080`)).toBe(4);
    const st = await second.api.status();
    expect(st.drains).toEqual([expect.objectContaining({ realServer: `${RS2}:8080`, phase: "drained" })]);
    // Undoing both on the restarted daemon gives the configured table back.
    await second.api.undrain(vs, `${RS2}:8080`);
    await second.api.weight(vs, `${RS1}:8080`, null);
    await waitFor(
      async () => {
        const t2 = await table();
        return weightIn(t2, vs, `${RS1}:8080`) === 1 && weightIn(t2, vs, `${RS2}:8080`) === 1;
      },
      { what: "configured weights back", timeoutMs: 10_000, intervalMs: 200 },
    );
    persisted = second;
  }, 120_000);

  it("a real server added at runtime: kept by a reload, replaced (not duplicated) once the config names it, removable", async () => {
    if (!persisted) throw new Error("needs the daemon of the kill -9 test");
    const { api } = persisted;
    const conf = join(dir, "persist.conf");
    const vs = "10.82.0.101:80";
    const stateOf = () =>
      JSON.parse(readFileSync(join(dir, "persist.state.json"), "utf8")) as {
        runtimeServers?: Record<string, Array<{ address: string; port: number; weight: number }>>;
      };
    await api.addServer(vs, RS5, 6); // no port: a NAT server takes the virtual server's
    await waitFor(async () => weightIn(await table(), vs, `${RS5}:80`) === 6, {
      what: "RS5 added",
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    // The configuration now names RS4 (weight 9): the reload replaces the runtime entry by it.
    writeFileSync(
      conf,
      readFileSync(conf, "utf8").replace(
        `real_server ${RS3} 8080 {`,
        `real_server ${RS4} 8080 {\n    weight 9\n  }\n  real_server ${RS3} 8080 {`,
      ),
    );
    await api.reload();
    const t = await table();
    expect(weightIn(t, vs, `${RS4}:8080`)).toBe(9);
    expect(t.split("\n").filter((l) => l.includes(`-r ${RS4}:8080`))).toHaveLength(1);
    expect(weightIn(t, vs, `${RS5}:80`)).toBe(6); // kept by the reload
    const st = await api.status();
    const rsList = st.virtualServers.find((v) => v.key === `TCP/${vs}`)?.realServers.map((r) => r.key);
    expect(rsList?.filter((k) => k === `${RS4}:8080`)).toHaveLength(1);
    await waitFor(() => stateOf().runtimeServers?.[`TCP/${vs}`]?.length === 1, {
      what: "state file: only RS5 left as a runtime server",
      timeoutMs: 5_000,
    });
    expect(stateOf().runtimeServers).toEqual({ [`TCP/${vs}`]: [{ address: RS5, port: 80, weight: 6 }] });
    // A configured server is not removable this way; the runtime one is.
    await expect(api.removeServer(vs, `${RS4}:8080`)).rejects.toMatchObject({ status: 409 });
    await api.removeServer(vs, RS5);
    await waitFor(async () => weightIn(await table(), vs, `${RS5}:80`) === undefined, {
      what: "RS5 removed",
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    expect(weightIn(await table(), vs, `${RS4}:8080`)).toBe(9);
    expect(persisted.proc.output()).toContain(
      `Adding service [${RS5}]:tcp:80 to VS [10.82.0.101]:tcp:80 (runtime, weight 6)`,
    );
    expect(await stop(persisted)).toBe(0);
    sysctlTrace.push(`stopped ${await sysctls()}`);
    persistedOutput = persisted.proc.output();
  }, 60_000);

  it("director sysctls: warned about without lvs_director_sysctl; with it set at start, kept through kill -9, restored at stop", async () => {
    // The MISC_CHECK daemon (NAT, no switch) said what it lacked and changed nothing.
    expect(plainOutput).toContain(
      "net.ipv4.ip_forward is 0; NAT virtual server [10.82.0.100]:tcp:80 needs 1: run `sysctl -w net.ipv4.ip_forward=1`, or add lvs_director_sysctl to global_defs",
    );
    expect(plainOutput).toContain(
      "net.ipv4.vs.conntrack is 0; NAT virtual server [10.82.0.100]:tcp:80 beside netfilter's connection tracking needs 1",
    );
    // The kill -9 daemon (lvs_director_sysctl) set both; the restarted one found them set, knew
    // from the state file what they were before, and put that back at its stop.
    expect(sysctlTrace).toEqual(["started 1/1", "killed 1/1", "restarted 1/1", "stopped 0/0"]);
    expect(persistedOutput).toContain("Restored net.ipv4.ip_forward=0");
    expect(persistedOutput).toContain("Restored net.ipv4.vs.conntrack=0");
    expect(await sysctls()).toBe("0/0");
  }, 30_000);
});
