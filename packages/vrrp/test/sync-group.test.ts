// Sync groups and tracking, pure, on a fake clock (keepalived vrrp_sync.c, vrrp_track.c).
import { describe, expect, it } from "vitest";
import {
  aggregateTracking,
  FakeClock,
  type GroupEffect,
  type InstanceEffect,
  ScriptResult,
  type TrackRef,
  trackContribution,
  VrrpInstanceEngine,
  VrrpSyncGroup,
} from "../src/index.js";

function group(prios: number[] = [100, 100]) {
  const clock = new FakeClock();
  const effects: Array<InstanceEffect & { who: string }> = [];
  const groupEffects: GroupEffect[] = [];
  const members = prios.map(
    (priority, i) =>
      new VrrpInstanceEngine(
        { name: `VI_${i + 1}`, vrid: 10 + i, version: 2, priority, intervalCs: 100 },
        {
          clock,
          onEffect: (e) => effects.push({ ...e, who: `VI_${i + 1}` }),
          primaryAddress: () => "10.0.0.1",
        },
      ),
  );
  const g = new VrrpSyncGroup("G1", members, (e) => groupEffects.push(e));
  return { clock, members, g, effects, groupEffects, states: () => members.map((m) => m.state) };
}

describe("vrrp_sync_group", () => {
  it("starts BACKUP and announces it; members move to MASTER together", () => {
    const { clock, g, states, groupEffects } = group([100, 200]);
    g.start();
    expect(groupEffects).toEqual([{ type: "group-state", group: "G1", from: "init", to: "backup" }]);
    expect(states()).toEqual(["backup", "backup"]);
    // VI_2 (prio 200) times out first (3.22 s) but waits for VI_1 (3.61 s)
    clock.advance(3300);
    expect(states()).toEqual(["backup", "backup"]);
    clock.advance(400);
    expect(states()).toEqual(["master", "master"]);
    expect(g.state).toBe("master");
    expect(groupEffects.at(-1)).toEqual({ type: "group-state", group: "G1", from: "backup", to: "master" });
  });

  it("a member that hears a live master keeps the whole group BACKUP (prefer backup to thrashing)", () => {
    const { clock, g, members, states } = group();
    g.start();
    for (let i = 0; i < 20; i++) {
      members[0]?.receive({ priority: 150, intervalCs: 100, source: "10.0.0.9" });
      clock.advance(1000);
    }
    expect(states()).toEqual(["backup", "backup"]);
  });

  it("one member yielding to a higher priority takes the others to BACKUP", () => {
    const { clock, g, members, states, effects } = group();
    g.start();
    clock.advance(4000);
    expect(states()).toEqual(["master", "master"]);
    effects.splice(0);
    members[1]?.receive({ priority: 250, intervalCs: 100, source: "10.0.0.9" });
    expect(states()).toEqual(["backup", "backup"]);
    expect(g.state).toBe("backup");
    expect(
      effects
        .filter((e) => e.type === "remove-addresses")
        .map((e) => e.who)
        .sort(),
    ).toEqual(["VI_1", "VI_2"]);
  });

  it("one member's fault puts the group in FAULT; recovery brings every member back", () => {
    const { clock, g, members, states, effects } = group();
    g.start();
    clock.advance(4000);
    effects.splice(0);
    members[0]?.setTracking({ faults: 1, initPending: 0, priorityDelta: 0 });
    expect(states()).toEqual(["fault", "fault"]);
    expect(g.state).toBe("fault");
    // VI_1 sends priority 0 as it enters FAULT; VI_2, forced, too (leaving MASTER for FAULT)
    expect(
      effects.filter((e) => e.type === "send").map((e) => [e.who, e.type === "send" && e.priority]),
    ).toEqual([
      ["VI_1", 0],
      ["VI_2", 0],
    ]);
    clock.advance(30_000);
    expect(states()).toEqual(["fault", "fault"]);
    members[0]?.setTracking({ faults: 0, initPending: 0, priorityDelta: 0 });
    expect(states()).toEqual(["backup", "backup"]);
    clock.advance(4000);
    expect(states()).toEqual(["master", "master"]);
  });

  it("an instance in two groups is a configuration error", () => {
    const { members } = group();
    expect(() => new VrrpSyncGroup("G2", [members[0] as VrrpInstanceEngine], () => {})).toThrowError(
      /more than one sync group/,
    );
  });
});

describe("tracking", () => {
  const iface = (weight: number, reverse = false): TrackRef => ({
    kind: "interface",
    name: "eth1",
    weight,
    reverse,
  });
  it.each([
    // weight, reverse, state → fault, delta
    [0, false, "up", false, 0],
    [0, false, "down", true, 0],
    [0, true, "up", true, 0],
    [0, true, "down", false, 0],
    [10, false, "up", false, 10],
    [10, false, "down", false, 0],
    [-10, false, "up", false, 0],
    [-10, false, "down", false, -10],
    [10, true, "up", false, -10],
    [-10, true, "down", false, 10],
  ] as const)("weight %d reverse %s %s → fault %s, delta %d", (w, rev, st, fault, delta) => {
    const c = trackContribution(iface(w, rev), st);
    expect(c.fault).toBe(fault);
    expect(c.delta).toBe(delta);
  });

  it("aggregates faults, pending scripts and weights", () => {
    const refs: TrackRef[] = [
      { kind: "interface", name: "eth0", weight: 0 },
      { kind: "script", name: "chk_down_file", weight: -20 },
      { kind: "script", name: "chk_nginx", weight: 0 },
      { kind: "script", name: "chk_bonus", weight: 5 },
    ];
    const states: Record<string, "up" | "down" | "init"> = {
      eth0: "up",
      chk_down_file: "down",
      chk_nginx: "init",
      chk_bonus: "up",
    };
    expect(aggregateTracking(refs, (r) => states[r.name] ?? "up")).toEqual({
      faults: 0,
      initPending: 1,
      priorityDelta: -15,
    });
    states.eth0 = "down";
    states.chk_nginx = "down";
    expect(aggregateTracking(refs, (r) => states[r.name] ?? "up")).toEqual({
      faults: 2,
      initPending: 0,
      priorityDelta: -15,
    });
  });

  it("script rise/fall as keepalived counts them: one success leaves INIT, `fall` failures go down, `rise` successes come up", () => {
    const s = new ScriptResult(2, 3);
    expect(s.state).toBe("init");
    expect(s.update(true)).toBe("up"); // one success is enough at start
    expect(s.update(false)).toBeUndefined();
    expect(s.update(false)).toBeUndefined();
    expect(s.update(false)).toBe("down"); // fall 3
    expect(s.update(true)).toBeUndefined();
    expect(s.update(false)).toBeUndefined(); // a failure resets the rise count
    expect(s.update(true)).toBeUndefined();
    expect(s.update(true)).toBe("up"); // rise 2
    const f = new ScriptResult(1, 1);
    expect(f.update(false)).toBe("down"); // first result a failure: down at once
    const initFail = new ScriptResult(2, 2, true);
    expect(initFail.state).toBe("down");
    expect(initFail.update(true)).toBeUndefined();
    expect(initFail.update(true)).toBe("up");
  });
});
