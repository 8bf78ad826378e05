// The director's timers on a fake clock (@lvs/inet's FakeClock, shared with the health runner):
// the periodic pass repairs drift, the drain poll removes a drained server when it goes idle or at
// its deadline, slow start raises the weight tick by tick and then stops ticking, the ha_suspend
// poll holds and releases checks as the VIP comes and goes. No test sleeps.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LvsConfig, parseKeepalivedConf } from "@lvs/config";
import type { CheckDefinition, ProbeResult } from "@lvs/healthcheck";
import { FakeClock } from "@lvs/inet";
import { MemoryIpvs, serviceId } from "@lvs/ipvs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createLogger,
  Director,
  DirectorClient,
  type DirectorEvent,
  type DirectorOptions,
} from "../src/index.js";

const S1 = serviceId({ protocol: 6, address: "10.0.0.1", port: 80 });
const KEY = { protocol: 6, address: "10.0.0.1", port: 80 };

const check = (delayLoop: number) =>
  `TCP_CHECK {\n      connect_timeout 1\n      retry 0\n      delay_loop ${delayLoop}\n    }`;

class Rig {
  dir = mkdtempSync(join(tmpdir(), "lvs-timers-"));
  clock = new FakeClock(1_700_000_000_000);
  kernel = new MemoryIpvs();
  down = new Set<string>();
  logs: string[] = [];
  events: DirectorEvent["kind"][] = [];
  director: Director | undefined;

  probe = async (def: CheckDefinition): Promise<ProbeResult> => {
    const c = def as { connectIp: string; connectPort: number };
    return this.down.has(`${c.connectIp}:${c.connectPort}`)
      ? { up: false, reason: "ECONNREFUSED", latencyMs: 0 }
      : { up: true, reason: "connected", latencyMs: 0 };
  };

  async start(conf: string | LvsConfig, extra: Partial<DirectorOptions> = {}): Promise<Director> {
    const configPath = join(this.dir, "keepalived.conf");
    writeFileSync(configPath, typeof conf === "string" ? conf : "");
    const d = new Director({
      configPath,
      socketPath: join(this.dir, "d.sock"),
      mode: "check",
      client: this.kernel,
      clock: this.clock,
      reconcileIntervalMs: 3_600_000,
      drainPollMs: 3_600_000,
      health: { probe: this.probe, random: () => 0 },
      log: createLogger({ destination: { write: (s: string) => this.logs.push(s) } }),
      ...(typeof conf === "string" ? {} : { loadConfig: () => ({ config: conf, files: [], warnings: [] }) }),
      ...extra,
    });
    const handle = d.engine.handle.bind(d.engine);
    d.engine.handle = (e) => {
      this.events.push(e.kind);
      return handle(e);
    };
    this.director = d;
    await d.start();
    return d;
  }

  /** Move the clock, then let probes, events and passes settle. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await this.director?.requestPass(new Set());
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  /** Wait for what follows real I/O (the state file's fsync); fails the test if it never comes. */
  async until(cond: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
    expect(cond()).toBe(true);
  }

  weight(address: string): number | undefined {
    return this.kernel.dest(S1, address, 8080)?.weight;
  }

  api(): DirectorClient {
    return new DirectorClient({ socketPath: join(this.dir, "d.sock") });
  }

  async close(): Promise<void> {
    await this.director?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const TWO = `virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind NAT
  real_server 10.1.0.1 8080 { weight 2 }
  real_server 10.1.0.2 8080 { }
}
`;

describe("director timers on a fake clock", () => {
  let r: Rig;
  beforeEach(() => {
    r = new Rig();
  });
  afterEach(async () => {
    await r.close();
  });

  it("the periodic pass repairs a real server deleted by hand (summary first, then the service)", async () => {
    await r.start(TWO, { reconcileIntervalMs: 5_000 });
    r.kernel.apply({ op: "delDest", service: KEY, dest: { address: "10.1.0.1", port: 8080 } });
    r.kernel.reads = { table: 0, service: 0, dests: 0 };
    await r.advance(4_999);
    expect(r.weight("10.1.0.1")).toBeUndefined();
    await r.advance(1);
    expect(r.weight("10.1.0.1")).toBe(2);
    // A quick pass: /proc/net/ip_vs showed the difference, then only that service was read.
    expect(r.kernel.reads).toEqual({ table: 0, service: 1, dests: 1 });
    const m = await r.api().metrics();
    expect(m).toContain('lvs_drift_repairs_total{object="real_server"} 1');
  });

  it("drain poll: removed once idle; with a timeout, removed at the deadline with connections left", async () => {
    await r.start(TWO, { drainPollMs: 1_000 });
    const dest = (a: string) => r.kernel.dest(S1, a, 8080) as { activeConns: number };
    dest("10.1.0.1").activeConns = 3;
    dest("10.1.0.2").activeConns = 5;
    await r.api().drain("10.0.0.1:80", "10.1.0.1:8080");
    await r.api().drain("10.0.0.1:80", "10.1.0.2:8080", 30);
    expect([r.weight("10.1.0.1"), r.weight("10.1.0.2")]).toEqual([0, 0]);
    await r.advance(10_000);
    expect([r.weight("10.1.0.1"), r.weight("10.1.0.2")]).toEqual([0, 0]);
    dest("10.1.0.1").activeConns = 0;
    await r.advance(1_000);
    // The state file is written before the pass (a real fsync): wait for the removal itself.
    await r.until(() => r.weight("10.1.0.1") === undefined);
    expect(r.weight("10.1.0.2")).toBe(0);
    await r.advance(18_000); // 29 s after the drain
    expect(r.weight("10.1.0.2")).toBe(0);
    await r.advance(1_000);
    await r.until(() => r.weight("10.1.0.2") === undefined);
    const st = await r.api().status();
    expect(st.drains.map((d) => [d.realServer, d.phase, d.doneReason])).toEqual([
      ["10.1.0.1:8080", "drained", "idle"],
      ["10.1.0.2:8080", "drained", "timeout"],
    ]);
    expect(r.logs.join("")).toContain("Drain of 10.1.0.2:8080 from TCP/10.0.0.1:80 timed out with 5 active");
  });

  it("slow start: the weight climbs every second after recovery, then the ticks stop", async () => {
    const config = parseKeepalivedConf(
      `virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_kind NAT\n  real_server 10.1.0.1 8080 {\n    weight 8\n    ${check(10)}\n  }\n}\n`,
      { lookupUser: () => ({ uid: 0, gid: 0 }), configId: "test" },
    ).config;
    // slow_start is an lvs extension (YAML/JSON): 4 s of ramp after a recovery.
    const policy = config.virtualServers[0]!.realServers[0]!.checkers[0]!.policy as { slowStart?: number };
    policy.slowStart = 4;
    await r.start(config);
    await r.advance(0);
    expect(r.weight("10.1.0.1")).toBe(8);
    r.down.add("10.1.0.1:8080");
    await r.advance(10_000);
    expect(r.weight("10.1.0.1")).toBeUndefined();
    r.down.clear();
    const seen: Array<number | undefined> = [];
    await r.advance(10_000);
    seen.push(r.weight("10.1.0.1"));
    for (let s = 0; s < 4; s++) {
      await r.advance(1_000);
      seen.push(r.weight("10.1.0.1"));
    }
    expect(seen).toEqual([1, 2, 4, 6, 8]);
    r.events.length = 0;
    await r.advance(4_000);
    expect(r.events.filter((k) => k === "weights")).toEqual([]);
  });

  it("ha_suspend: checks held while the VIP is away, run once it is local, held again when it goes", async () => {
    const local = new Set<string>();
    await r.start(
      `virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_kind NAT\n  ha_suspend\n  real_server 10.1.0.1 8080 {\n    ${check(1)}\n  }\n}\n`,
      { localAddresses: () => new Set(local), haSuspendPollMs: 1_000 },
    );
    await r.advance(5_000);
    let st = await r.api().status();
    expect(st.virtualServers[0]!.checksSuspended).toBe(true);
    expect(st.virtualServers[0]!.realServers[0]!.checks[0]!.at).toBeNull();
    local.add("10.0.0.1");
    await r.advance(1_000);
    expect(r.logs.join("")).toContain(
      "Activating healthchecker for service [10.1.0.1]:tcp:8080 for VS [10.0.0.1]:tcp:80",
    );
    await r.advance(2_000);
    st = await r.api().status();
    expect(st.virtualServers[0]!.checksSuspended).toBe(false);
    expect(st.virtualServers[0]!.realServers[0]!.checks[0]!.at).not.toBeNull();
    local.clear();
    await r.advance(1_000);
    expect(r.logs.join("")).toContain(
      "Suspending healthchecker for service [10.1.0.1]:tcp:8080 for VS [10.0.0.1]:tcp:80",
    );
    expect((await r.api().status()).virtualServers[0]!.checksSuspended).toBe(true);
  });
});
