// In-place reload (VrrpRouter.reload, VrrpInstanceEngine.reconfigure, ScriptResult.reloaded,
// VrrpSyncGroup.resume) on the simulated LAN and a fake clock: what keepalived's SIGHUP keeps
// (vrrp_daemon.c reload_vrrp_thread(), vrrp.c clear_diff_vrrp(), clear_diff_script()). The same
// against real keepalived 2.2.7 is in reload.netns.test.ts.
import { describe, expect, it } from "vitest";
import {
  type AcceptFilter,
  decodeAdvert,
  FakeClock,
  type InstanceEffect,
  type OutgoingPacket,
  ScriptResult,
  VrrpError,
  VrrpInstanceEngine,
  type VrrpInstanceOptions,
  type VrrpRouterOptions,
} from "../src/index.js";
import { conf, flush, MemoryLan, node, run } from "./router-doubles.js";

const prio = (p: OutgoingPacket | undefined) => p?.payload[2];
const vridOf = (p: OutgoingPacket | undefined) => p?.payload[1];
const addrs = (p: OutgoingPacket | undefined) => (p ? decodeAdvert(p.payload, 4).addresses : []);
const inst = (
  name: string,
  vrid: number,
  priority: number,
  vip: string,
  extra: Partial<VrrpInstanceOptions> = {},
): VrrpInstanceOptions => ({
  name,
  interface: "eth0",
  vrid,
  priority,
  advertInterval: 1,
  virtualAddresses: [vip],
  ...extra,
});

/** a (priority `pa`) and b (`pb`) on one LAN, started, 5 s later. */
async function pair(pa: VrrpRouterOptions, pb: VrrpRouterOptions, scripts: Record<string, boolean> = {}) {
  const lan = new MemoryLan();
  const clock = new FakeClock();
  const a = node(lan, clock, pa, "10.0.0.1", scripts);
  const b = node(lan, clock, pb, "10.0.0.2", scripts);
  await a.router.start();
  await b.router.start();
  await run(clock, 5000);
  return { lan, clock, a, b };
}

const stateOf = (n: { router: { status(): { instances: Array<{ name: string; state: string }> } } }) =>
  Object.fromEntries(n.router.status().instances.map((i) => [i.name, i.state]));

describe("VrrpRouter.reload: instances", () => {
  it("the same configuration: the MASTER keeps its rhythm — no priority 0, no address or state change, no notify", async () => {
    const { clock, a, b } = await pair(conf(150), conf(100));
    expect(stateOf(a)).toEqual({ VI_1: "master" });
    await run(clock, 5000); // past the delayed GARP round (garp_master_delay 5 s)
    const sent = a.transport.sent.length;
    const ops = a.net.ops.length;
    const states = a.states.length;
    const ran = a.ran.length;
    const announced = a.net.announced.length;
    const summary = await a.router.reload(conf(150));
    expect(summary.instances).toEqual({ unchanged: ["VI_1"], updated: [], added: [], removed: [] });
    await run(clock, 10_000);
    const after = a.transport.sent.slice(sent);
    // exactly one advert a second (a restart would add a priority-0 advert and a takeover)
    expect(after.map(prio)).toEqual(Array(10).fill(150));
    expect(a.net.ops.length).toBe(ops);
    expect(a.states.length).toBe(states);
    expect(a.ran.length).toBe(ran);
    expect(a.net.announced.length).toBe(announced);
    expect(b.router.status().instances[0]?.stats.pri_zero_rcvd).toBe(0);
    expect(b.states.map((s) => s.to)).toEqual(["backup"]);
  });

  it("a BACKUP reloaded unchanged keeps its Master_Down_Timer", async () => {
    const { a, b } = await pair(conf(150), conf(100));
    const before = b.router.status().instances[0]?.timerDeadline;
    await b.router.reload(conf(100));
    expect(b.router.status().instances[0]?.timerDeadline).toBe(before);
    expect(stateOf(a)).toEqual({ VI_1: "master" });
  });

  it("a VIP added to a MASTER: an advert at once with both, only the new address added and announced, no state change; removed again: only it goes", async () => {
    const two = conf(150, { virtualAddresses: ["10.0.0.100/24", "10.0.0.101/24"] });
    const { clock, a, b } = await pair(conf(150), conf(100));
    await b.router.reload({ ...two, instances: two.instances.map((i) => ({ ...i, priority: 100 })) });
    const sent = a.transport.sent.length;
    const ops = a.net.ops.length;
    const announced = a.net.announced.length;
    const t0 = clock.now();
    const summary = await a.router.reload(two);
    expect(summary.instances.updated).toEqual(["VI_1"]);
    await flush();
    expect(clock.now()).toBe(t0);
    expect(a.transport.sent.length).toBe(sent + 1);
    expect(prio(a.transport.sent[sent])).toBe(150);
    expect(addrs(a.transport.sent[sent])).toEqual(["10.0.0.100", "10.0.0.101"]);
    expect(a.net.ops.slice(ops)).toEqual(["add 10.0.0.101"]);
    expect(a.net.has("10.0.0.101")).toBe(true);
    expect(a.net.announced.slice(announced)).toEqual([{ dev: "eth0", addresses: ["10.0.0.101"], count: 5 }]);
    await run(clock, 5000);
    expect(a.states.map((s) => s.to)).toEqual(["backup", "master"]);
    expect(stateOf(b)).toEqual({ VI_1: "backup" });
    expect(b.router.status().instances[0]?.stats.addr_list_err).toBe(0);
    // and back: the added address goes, the other stays
    const ops2 = a.net.ops.length;
    await a.router.reload(conf(150));
    await flush();
    expect(a.net.ops.slice(ops2)).toEqual(["remove 10.0.0.101"]);
    expect(a.net.has("10.0.0.101")).toBe(false);
    expect(a.net.has("10.0.0.100")).toBe(true);
    expect(addrs(a.transport.sent.at(-1))).toEqual(["10.0.0.100"]);
    expect(a.states.map((s) => s.to)).toEqual(["backup", "master"]);
  });

  it("a VIP added to a BACKUP is not installed (the master holds the VIPs)", async () => {
    const { a, b } = await pair(conf(150), conf(100));
    const ops = b.net.ops.length;
    await b.router.reload(conf(100, { virtualAddresses: ["10.0.0.100/24", "10.0.0.101/24"] }));
    await flush();
    expect(b.net.ops.length).toBe(ops);
    expect(stateOf(b)).toEqual({ VI_1: "backup" });
    expect(stateOf(a)).toEqual({ VI_1: "master" });
  });

  it("a MASTER's priority lowered below a preempting BACKUP: advertised at once, the backup takes over within its Master_Down_Interval, no priority 0", async () => {
    const { clock, a, b } = await pair(conf(150), conf(100));
    const sent = a.transport.sent.length;
    const t0 = clock.now();
    await a.router.reload(conf(50));
    await flush();
    expect(prio(a.transport.sent[sent])).toBe(50);
    expect(a.router.status().instances[0]).toMatchObject({ basePriority: 50, effectivePriority: 50 });
    let tookOver = -1;
    for (let t = 0; t < 5000 && tookOver < 0; t += 10) {
      await run(clock, 10);
      if (b.router.status().instances[0]?.state === "master") tookOver = clock.now() - t0;
    }
    // Master_Down_Interval of priority 100, 1 s adverts: 3 s + 156/256 s, from the last advert at 150
    expect(tookOver).toBeGreaterThan(0);
    expect(tookOver).toBeLessThanOrEqual(3610);
    await run(clock, 100);
    expect(stateOf(a)).toEqual({ VI_1: "backup" });
    expect(a.states.at(-1)?.reason).toMatch(/higher priority 100/);
    expect(a.router.status().instances[0]?.stats.pri_zero_sent).toBe(0);
    expect(b.router.status().instances[0]?.stats.pri_zero_rcvd).toBe(0);
    expect(a.net.has("10.0.0.100")).toBe(false);
    expect(b.net.has("10.0.0.100")).toBe(true);
  });

  it("a BACKUP's priority raised above the MASTER: it preempts after its Master_Down_Interval", async () => {
    const { clock, a, b } = await pair(conf(150), conf(100));
    await b.router.reload(conf(200));
    expect(stateOf(b)).toEqual({ VI_1: "backup" });
    await run(clock, 4000);
    expect(stateOf(b)).toEqual({ VI_1: "master" });
    expect(stateOf(a)).toEqual({ VI_1: "backup" });
  });

  it("advert_int changed on a MASTER: an advert at once, then at the new interval", async () => {
    const { clock, a } = await pair(conf(150), conf(100));
    const sent = a.transport.sent.length;
    await a.router.reload(conf(150, { advertInterval: 2 }));
    await run(clock, 6000);
    expect(a.transport.sent.length - sent).toBe(4); // now, 2 s, 4 s, 6 s
    expect(a.router.status().instances[0]?.masterAdverIntervalCs).toBe(200);
    expect(stateOf(a)).toEqual({ VI_1: "master" });
  });

  it("an instance removed: priority 0, its VIP removed, notified as FAULT (keepalived's default for a deleted instance); the other untouched; the peer takes over after Skew_Time", async () => {
    const two = (p: number, notify = false): VrrpRouterOptions => ({
      instances: [
        inst("VI_1", 51, p, "10.0.0.101/24"),
        inst(
          "VI_2",
          52,
          p,
          "10.0.0.102/24",
          notify ? { notify: { fault: { argv: ["/bin/fault"] }, any: { argv: ["/bin/notify"] } } } : {},
        ),
      ],
    });
    const { clock, a, b } = await pair(two(150, true), two(100));
    expect(stateOf(a)).toEqual({ VI_1: "master", VI_2: "master" });
    const sent = a.transport.sent.length;
    const ops = a.net.ops.length;
    const states = a.states.length;
    const summary = await a.router.reload({ instances: [inst("VI_1", 51, 150, "10.0.0.101/24")] });
    expect(summary.instances).toEqual({ unchanged: ["VI_1"], updated: [], added: [], removed: ["VI_2"] });
    await flush();
    expect(a.transport.sent.slice(sent).map((p) => [vridOf(p), prio(p)])).toEqual([[52, 0]]);
    expect(a.net.ops.slice(ops)).toEqual(["remove 10.0.0.102"]);
    expect(a.states.slice(states)).toMatchObject([
      { kind: "INSTANCE", name: "VI_2", from: "master", to: "stop", reason: "removed by reload" },
    ]);
    expect(a.ran.slice(-2)).toEqual([["/bin/fault"], ["/bin/notify", "INSTANCE", "VI_2", "FAULT", "150"]]);
    expect(a.router.status().instances.map((i) => i.name)).toEqual(["VI_1"]);
    await run(clock, 700); // Skew_Time of priority 100: 156/256 s
    expect(stateOf(b)).toEqual({ VI_1: "backup", VI_2: "master" });
    expect(stateOf(a)).toEqual({ VI_1: "master" });
  });

  it("virtual_router_id changed: a removal and an addition, as keepalived (priority 0 on the old VRID, the new one starts BACKUP)", async () => {
    const { clock, a } = await pair(conf(150), conf(100));
    const sent = a.transport.sent.length;
    const states = a.states.length;
    const summary = await a.router.reload(conf(150, { vrid: 61 }));
    expect(summary.instances).toMatchObject({ removed: ["VI_1"], added: ["VI_1"] });
    expect(vridOf(a.transport.sent[sent])).toBe(51);
    expect(prio(a.transport.sent[sent])).toBe(0);
    await run(clock, 4000);
    expect(a.states.slice(states).map((s) => `${s.from}>${s.to}`)).toEqual([
      "master>stop",
      "init>backup",
      "backup>master",
    ]);
    expect(vridOf(a.transport.sent.at(-1))).toBe(61);
    expect(a.net.has("10.0.0.100")).toBe(true);
  });

  it("an instance added starts as at startup (BACKUP, then MASTER); the running one is untouched", async () => {
    const { clock, a } = await pair(conf(150), conf(100));
    const states = a.states.length;
    const ops = a.net.ops.length;
    const summary = await a.router.reload({
      instances: [...conf(150).instances, inst("VI_2", 52, 150, "10.0.0.102/24")],
    });
    expect(summary.instances).toEqual({ unchanged: ["VI_1"], updated: [], added: ["VI_2"], removed: [] });
    await run(clock, 4000);
    expect(a.states.slice(states).map((s) => `${s.name}:${s.to}`)).toEqual(["VI_2:backup", "VI_2:master"]);
    expect(a.net.ops.slice(ops)).toEqual(["add 10.0.0.102"]);
  });

  it("an instance renamed with the same VRID and interface keeps its state (keepalived matches by VRID, not name)", async () => {
    const { a } = await pair(conf(150), conf(100));
    const states = a.states.length;
    const summary = await a.router.reload(conf(150, { name: "WEB" }));
    expect(summary.instances.updated).toEqual(["WEB"]);
    expect(stateOf(a)).toEqual({ WEB: "master" });
    expect(a.states.length).toBe(states);
    expect(a.router.instance("WEB")?.name).toBe("WEB");
  });

  it("a track_interface added that is down takes the MASTER to FAULT (priority 0, VIP removed)", async () => {
    const { clock, a, b } = await pair(conf(150), conf(100));
    await a.router.reload(conf(150, { trackInterfaces: [{ name: "eth9" }] }));
    await flush();
    expect(stateOf(a)).toEqual({ VI_1: "fault" });
    expect(prio(a.transport.sent.at(-1))).toBe(0);
    expect(a.net.has("10.0.0.100")).toBe(false);
    await run(clock, 1000);
    expect(stateOf(b)).toEqual({ VI_1: "master" });
  });

  it("no_accept switched on and off on a MASTER: the drop rules follow its VIPs", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const calls: Array<[string, string[] | undefined]> = [];
    const filter = {
      set: async (name: string, list: readonly string[] | undefined) => {
        calls.push([name, list ? [...list] : undefined]);
      },
      close: async () => {},
    } as unknown as AcceptFilter;
    const a = node(lan, clock, conf(150), "10.0.0.1", {}, { acceptFilter: filter });
    await a.router.start();
    await run(clock, 4000);
    await a.router.reload(conf(150, { accept: false }));
    await flush();
    expect(calls).toEqual([["VI_1", ["10.0.0.100"]]]);
    await a.router.reload(conf(150));
    await flush();
    expect(calls.at(-1)).toEqual(["VI_1", undefined]);
    expect(stateOf(a)).toEqual({ VI_1: "master" });
  });

  it("a configuration with errors is refused before anything changes (VrrpError), and the router goes on", async () => {
    const { clock, a } = await pair(conf(150), conf(100));
    const sent = a.transport.sent.length;
    const ops = a.net.ops.length;
    await expect(
      a.router.reload({ instances: [...conf(150).instances, { ...inst("VI_2", 51, 100, "10.0.0.102") }] }),
    ).rejects.toMatchObject({
      code: "VRRP_BAD_CONFIG",
      message: expect.stringMatching(/already used by VI_1/),
    });
    await expect(a.router.reload(conf(300))).rejects.toBeInstanceOf(VrrpError);
    await expect(a.router.reload({ ...conf(150), netns: "other" })).rejects.toMatchObject({
      code: "VRRP_BAD_CONFIG",
      message: expect.stringMatching(/netns cannot change/),
    });
    await run(clock, 3000);
    expect(a.transport.sent.slice(sent).map(prio)).toEqual([150, 150, 150]);
    expect(a.net.ops.length).toBe(ops);
    expect((await a.router.reload(conf(160))).instances.updated).toEqual(["VI_1"]);
    expect(a.router.status().instances[0]?.basePriority).toBe(160);
  });

  it("before start: the new configuration replaces the old; after stop: VRRP_STOPPED", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(150), "10.0.0.1");
    const s = await a.router.reload(conf(120, { vrid: 9 }));
    expect(s.instances).toEqual({ unchanged: [], updated: [], added: ["VI_1"], removed: ["VI_1"] });
    await a.router.start();
    await run(clock, 4000);
    expect(a.router.status().instances[0]).toMatchObject({ vrid: 9, state: "master", basePriority: 120 });
    await a.router.stop();
    await expect(a.router.reload(conf(120))).rejects.toMatchObject({ code: "VRRP_STOPPED" });
  });

  it("fifo_write_vrrp_states_on_reload: the kept states are written to the FIFO", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const lines: string[] = [];
    const a = node(lan, clock, conf(150), "10.0.0.1", {}, { fifo: { write: (l) => lines.push(l) } });
    await a.router.start();
    await run(clock, 4000);
    lines.length = 0;
    await a.router.reload(conf(150));
    expect(lines).toEqual([]);
    await a.router.reload({ ...conf(150), fifoWriteStatesOnReload: true });
    expect(lines).toEqual(['INSTANCE "VI_1" MASTER 150\n']);
  });
});

describe("VrrpRouter.reload: vrrp_script", () => {
  const withScript = (interval: number, extra: { rise?: number; fall?: number } = {}): VrrpRouterOptions => ({
    ...conf(150, { trackScripts: [{ name: "chk" }] }),
    scripts: [{ name: "chk", argv: ["/bin/chk"], interval, weight: -60, fall: 1, rise: 1, ...extra }],
  });

  it("unchanged: its timer keeps its phase (no extra run) and its state", async () => {
    const { clock, a } = await pair(withScript(1), conf(120), { "/bin/chk": true });
    const before = a.scriptRuns.length;
    clock.advance(300);
    await a.router.reload(withScript(1));
    await run(clock, 3000);
    const runs = a.scriptRuns.slice(before);
    expect(runs).toHaveLength(3);
    expect(new Set(runs.map((r) => r.at % 1000)).size).toBe(1);
    expect(a.router.status().scripts[0]).toMatchObject({ name: "chk", state: "up" });
  });

  it("changed while failing: it runs at once and stays down (rise/fall carried over), so priorities do not flap", async () => {
    const scripts = { "/bin/chk": true };
    const { clock, a, b } = await pair(withScript(1), conf(120), scripts);
    expect(stateOf(a)).toEqual({ VI_1: "master" });
    scripts["/bin/chk"] = false;
    await run(clock, 5000);
    expect(a.router.status().instances[0]?.effectivePriority).toBe(90);
    expect(stateOf(b)).toEqual({ VI_1: "master" });
    const before = a.scriptRuns.length;
    const t0 = clock.now();
    const summary = await a.router.reload(withScript(2, { rise: 3 }));
    expect(summary.scripts).toEqual({ unchanged: [], updated: ["chk"], added: [], removed: [] });
    expect(a.router.status().instances[0]?.effectivePriority).toBe(90);
    await run(clock, 10);
    expect(a.scriptRuns[before]?.at).toBe(t0);
    // still failing; then it succeeds twice (rise 3 → up after 3 successes, every 2 s)
    scripts["/bin/chk"] = true;
    await run(clock, 4000);
    expect(a.router.status().instances[0]?.effectivePriority).toBe(90);
    expect(stateOf(b)).toEqual({ VI_1: "master" });
    await run(clock, 2500);
    expect(a.router.status().instances[0]?.effectivePriority).toBe(150);
  });

  it("removed with its tracking: no more runs", async () => {
    const { clock, a } = await pair(withScript(1), conf(120), { "/bin/chk": true });
    await a.router.reload(conf(150));
    const before = a.scriptRuns.length;
    await run(clock, 3000);
    expect(a.scriptRuns.length).toBe(before);
    expect(a.router.status().scripts).toEqual([]);
  });

  it("ScriptResult.reloaded follows keepalived's clear_diff_script()", () => {
    const feed = (r: ScriptResult, outcomes: boolean[]) => {
      for (const o of outcomes) r.update(o);
      return r;
    };
    // never reported: starts over
    expect(ScriptResult.reloaded(new ScriptResult(2, 2), 3, 3)).toMatchObject({ state: "init", value: 2 });
    // up at the top (rise 2, fall 2: 3) → the new top (rise 3, fall 3: 5)
    expect(ScriptResult.reloaded(feed(new ScriptResult(2, 2), [true]), 3, 3)).toMatchObject({
      state: "up",
      value: 5,
    });
    // up, one failure from the top (value 2 of 2..3) → rise + 0 = 3 of 3..5: still up
    const oneFail = feed(new ScriptResult(2, 2), [true, false]);
    expect(oneFail).toMatchObject({ state: "up", value: 2 });
    expect(ScriptResult.reloaded(oneFail, 3, 3)).toMatchObject({ state: "up", value: 3 });
    // down at 0 stays 0
    const down = feed(new ScriptResult(2, 2), [false]);
    expect(ScriptResult.reloaded(down, 3, 3)).toMatchObject({ state: "down", value: 0 });
    // down, one success towards rise 3 (value 1) → rise 2: 2 − (3 − 1) = 0
    const climbing = feed(new ScriptResult(3, 1), [false, true]);
    expect(climbing).toMatchObject({ state: "down", value: 1 });
    expect(ScriptResult.reloaded(climbing, 2, 1)).toMatchObject({ state: "down", value: 0 });
    expect(ScriptResult.reloaded(climbing, 5, 1)).toMatchObject({ state: "down", value: 3 });
  });
});

describe("VrrpRouter.reload: vrrp_sync_group", () => {
  const grouped = (p: number, extra: Partial<VrrpRouterOptions> = {}, third = false): VrrpRouterOptions => ({
    instances: [
      inst("VI_1", 1, p, "10.0.0.101"),
      inst("VI_2", 2, p, "10.0.0.102"),
      ...(third ? [inst("VI_3", 3, p, "10.0.0.103")] : []),
    ],
    syncGroups: [
      {
        name: "G1",
        members: third ? ["VI_1", "VI_2", "VI_3"] : ["VI_1", "VI_2"],
        notify: { any: { argv: ["/bin/g"] } },
      },
    ],
    ...extra,
  });

  it("unchanged: no GROUP notify, members untouched; notify changed: rebuilt in the same state, still no GROUP notify", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, grouped(150), "10.0.0.1");
    await a.router.start();
    await run(clock, 5000);
    expect(a.router.status().groups[0]?.state).toBe("master");
    const states = a.states.length;
    const ran = a.ran.length;
    let s = await a.router.reload(grouped(150));
    expect(s.groups).toEqual({ unchanged: ["G1"], rebuilt: [], added: [], removed: [] });
    const changed = grouped(150);
    (changed.syncGroups as NonNullable<VrrpRouterOptions["syncGroups"]>)[0] = {
      name: "G1",
      members: ["VI_1", "VI_2"],
      notify: { any: { argv: ["/bin/g2"] } },
    };
    s = await a.router.reload(changed);
    expect(s.groups.rebuilt).toEqual(["G1"]);
    await run(clock, 3000);
    expect(a.states.length).toBe(states);
    expect(a.ran.length).toBe(ran);
    expect(a.router.status().groups[0]).toMatchObject({ state: "master" });
    // the new group's notify is the one used from now on
    await a.router.stop();
    expect(a.ran).toContainEqual(["/bin/g2", "GROUP", "G1", "STOP", "0"]);
  });

  it("a group removed: its members keep running in their state", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, grouped(150), "10.0.0.1");
    await a.router.start();
    await run(clock, 5000);
    const states = a.states.length;
    const s = await a.router.reload({ instances: grouped(150).instances });
    expect(s.groups.removed).toEqual(["G1"]);
    await run(clock, 3000);
    expect(a.states.length).toBe(states);
    expect(stateOf(a)).toEqual({ VI_1: "master", VI_2: "master" });
    expect(a.router.status().groups).toEqual([]);
  });

  it("a member added to a MASTER group: the group goes BACKUP until every member can be MASTER, then MASTER together (keepalived)", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, grouped(150), "10.0.0.1");
    await a.router.start();
    await run(clock, 5000);
    const states = a.states.length;
    const s = await a.router.reload(grouped(150, {}, true));
    expect(s.groups.rebuilt).toEqual(["G1"]);
    expect(s.instances.added).toEqual(["VI_3"]);
    expect(a.router.status().groups[0]?.state).toBe("backup");
    await run(clock, 8000);
    expect(stateOf(a)).toEqual({ VI_1: "master", VI_2: "master", VI_3: "master" });
    expect(a.router.status().groups[0]?.state).toBe("master");
    const groupMoves = a.states
      .slice(states)
      .filter((c) => c.kind === "GROUP")
      .map((c) => `${c.from}>${c.to}`);
    expect(groupMoves).toEqual(["master>backup", "backup>master"]);
  });
});

describe("VrrpInstanceEngine.reconfigure", () => {
  function engine(priority: number, intervalCs = 100, version: 2 | 3 = 2) {
    const clock = new FakeClock();
    const effects: InstanceEffect[] = [];
    const e = new VrrpInstanceEngine(
      { name: "VI_1", vrid: 7, version, priority, intervalCs },
      { clock, onEffect: (x) => effects.push(x), primaryAddress: () => "10.0.0.1" },
    );
    return { clock, effects, e };
  }
  const none = { faults: 0, initPending: 0, priorityDelta: 0 };

  it("a BACKUP's running Master_Down_Timer moves by the change of the interval, not restarted", () => {
    const { clock, e } = engine(100);
    e.start();
    clock.advance(1000);
    const before = e.status().timerDeadline as number;
    e.reconfigure({ name: "VI_1", vrid: 7, version: 2, priority: 100, intervalCs: 200 }, none);
    // 3 × 1 s more (3 adverts of 2 s instead of 1 s); skew unchanged in v2
    expect(e.status().timerDeadline).toBeCloseTo(before + 3000, 6);
    expect(e.state).toBe("backup");
  });

  it("a version 3 BACKUP keeps the master's learnt interval", () => {
    const { e } = engine(100, 10, 3);
    e.start();
    e.receive({ priority: 200, intervalCs: 50, source: "10.0.0.9" });
    e.reconfigure({ name: "VI_1", vrid: 7, version: 3, priority: 90, intervalCs: 20 }, none);
    expect(e.status().masterAdverIntervalCs).toBe(50);
    expect(e.status().master).toEqual({ address: "10.0.0.9", priority: 200 });
  });

  it("a MASTER sends at once with its new priority; a priority effect is emitted", () => {
    const { clock, effects, e } = engine(150);
    e.start();
    clock.advance(4000);
    expect(e.state).toBe("master");
    effects.length = 0;
    e.reconfigure({ name: "VI_1", vrid: 7, version: 2, priority: 120, intervalCs: 100 }, none);
    expect(effects).toEqual([
      { type: "priority", from: 150, to: 120, state: "master", notify: false },
      { type: "send", priority: 120 },
    ]);
  });

  it("the VRID cannot change in place", () => {
    const { e } = engine(100);
    e.start();
    expect(() =>
      e.reconfigure({ name: "VI_1", vrid: 8, version: 2, priority: 100, intervalCs: 100 }, none),
    ).toThrow(/cannot change in place/);
  });
});
