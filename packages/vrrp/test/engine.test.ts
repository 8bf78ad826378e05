// The state machine on a fake clock: every timer and transition of RFC 3768 §6 / RFC 9568 §6 as
// keepalived 2.2.7 applies them. No sleeps: time moves only in clock.advance().
import { describe, expect, it } from "vitest";
import {
  FakeClock,
  type InstanceEffect,
  type InstanceParams,
  VrrpInstanceEngine,
  type VrrpState,
} from "../src/index.js";

function make(params: Partial<InstanceParams> = {}, primary = "10.0.0.1", clock = new FakeClock()) {
  const effects: InstanceEffect[] = [];
  const engine = new VrrpInstanceEngine(
    { name: "VI_1", vrid: 51, version: 2, priority: 100, intervalCs: 100, ...params },
    { clock, onEffect: (e) => effects.push(e), primaryAddress: () => primary },
  );
  const states = () =>
    effects
      .filter((e): e is Extract<InstanceEffect, { type: "state" }> => e.type === "state")
      .map((e) => e.to);
  const sends = () =>
    effects
      .filter((e): e is Extract<InstanceEffect, { type: "send" }> => e.type === "send")
      .map((e) => e.priority);
  return { engine, clock, effects, states, sends, clear: () => effects.splice(0) };
}

describe("timers", () => {
  it("v2: Backup → Master after 3 × Advertisement_Interval + (256 − priority)/256 s", () => {
    const { engine, clock, effects, states } = make();
    engine.start();
    expect(states()).toEqual(["backup"]);
    // skew = 156/256 s = 609.375 ms; Master_Down_Interval = 3609.375 ms
    expect(engine.status().masterDownIntervalMs).toBeCloseTo(3609.375, 6);
    clock.advance(3609);
    expect(engine.state).toBe("backup");
    effects.splice(0);
    clock.advance(1);
    expect(engine.state).toBe("master");
    // the advert first, then the addresses, GARP and the notify (keepalived vrrp_state_master_tx())
    expect(effects.map((e) => e.type)).toEqual(["send", "add-addresses", "announce", "state"]);
    expect(effects[0]).toEqual({ type: "send", priority: 100 });
    expect(effects[2]).toEqual({ type: "announce", repeat: 5, reason: "master" });
    expect(engine.stats.become_master).toBe(1);
  });

  it("v2 skew does not scale with the interval (RFC 3768 §6.1), v3 skew does (RFC 9568 §6.1)", () => {
    const v2 = make({ version: 2, intervalCs: 300, priority: 200 }).engine;
    expect(v2.skewMs()).toBeCloseTo((56 * 1000) / 256, 9);
    expect(v2.downIntervalMs()).toBeCloseTo(9000 + (56 * 1000) / 256, 9);
    const v3 = make({ version: 3, intervalCs: 300, priority: 200 }).engine;
    expect(v3.skewMs()).toBeCloseTo((56 * 3000) / 256, 9);
    expect(v3.downIntervalMs()).toBeCloseTo(9000 + (56 * 3000) / 256, 9);
  });

  it("v3 with 50 ms adverts: Master_Down_Interval 150 ms + skew, adverts every 50 ms", () => {
    const { engine, clock, sends } = make({ version: 3, intervalCs: 5, priority: 100 });
    engine.start();
    const mdi = 150 + (156 * 50) / 256; // 180.47 ms
    expect(engine.status().masterDownIntervalMs).toBeCloseTo(mdi, 9);
    clock.advance(180);
    expect(engine.state).toBe("backup");
    clock.advance(1);
    expect(engine.state).toBe("master");
    clock.advance(500);
    expect(sends()).toHaveLength(1 + 10);
  });

  it("v3 Backup learns the master's interval (Master_Adver_Interval), and forgets it as Master", () => {
    const { engine, clock } = make({ version: 3, intervalCs: 100, priority: 100 });
    engine.start();
    engine.receive({ priority: 150, intervalCs: 20, source: "10.0.0.9" });
    expect(engine.status().masterAdverIntervalCs).toBe(20);
    expect(engine.status().masterDownIntervalMs).toBeCloseTo(600 + (156 * 200) / 256, 9);
    clock.advance(722);
    expect(engine.state).toBe("master");
    expect(engine.status().masterAdverIntervalCs).toBe(100);
  });

  it("v2 Backup keeps its own interval whatever the packet says", () => {
    const { engine } = make({ version: 2 });
    engine.start();
    engine.receive({ priority: 150, intervalCs: 300, source: "10.0.0.9" });
    expect(engine.status().masterAdverIntervalCs).toBe(100);
  });

  it("adverts keep a backup down; when they stop it takes over after Master_Down_Interval", () => {
    const { engine, clock } = make();
    engine.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      engine.receive({ priority: 150, intervalCs: 100, source: "10.0.0.9" });
    }
    expect(engine.state).toBe("backup");
    expect(engine.status().master).toEqual({ address: "10.0.0.9", priority: 150 });
    clock.advance(3609);
    expect(engine.state).toBe("backup");
    clock.advance(1);
    expect(engine.state).toBe("master");
  });

  it("priority 0 from the master: backups take over after Skew_Time", () => {
    const { engine, clock } = make({ priority: 200 });
    engine.start();
    engine.receive({ priority: 250, intervalCs: 100, source: "10.0.0.9" });
    engine.receive({ priority: 0, intervalCs: 100, source: "10.0.0.9" });
    expect(engine.stats.pri_zero_rcvd).toBe(1);
    // Skew_Time = (256 − 200) / 256 s = 218.75 ms
    expect(engine.skewMs()).toBe(218.75);
    clock.advance(218);
    expect(engine.state).toBe("backup");
    clock.advance(1);
    expect(engine.state).toBe("master");
  });

  it("the owner (255) takes over at once, without a BACKUP notify", () => {
    const { engine, clock, states } = make({ priority: 255 });
    engine.start();
    clock.advance(0);
    expect(engine.state).toBe("master");
    expect(states()).toEqual(["master"]);
  });

  it("state MASTER without being owner still waits Master_Down_Interval (keepalived)", () => {
    const { engine, clock } = make({ priority: 150, initialState: "master" });
    engine.start();
    clock.advance(100);
    expect(engine.state).toBe("backup");
    clock.advance(3500);
    expect(engine.state).toBe("master");
  });

  it("a master advertises every interval and sends the delayed GARP round after garp_master_delay", () => {
    const { engine, clock, effects } = make({ priority: 255, garpMasterDelayMs: 5000, garpMasterRepeat: 3 });
    engine.start();
    clock.advance(0);
    effects.splice(0);
    clock.advance(5000);
    expect(effects.filter((e) => e.type === "send")).toHaveLength(5);
    expect(effects.filter((e) => e.type === "announce")).toEqual([
      { type: "announce", repeat: 3, reason: "delayed" },
    ]);
  });

  it("garp_master_refresh re-announces while master", () => {
    const { engine, clock, effects } = make({
      priority: 255,
      garpMasterDelayMs: 0,
      garpMasterRefreshMs: 2500,
      garpMasterRefreshRepeat: 2,
    });
    engine.start();
    clock.advance(0);
    effects.splice(0);
    clock.advance(6000);
    expect(effects.filter((e) => e.type === "announce")).toEqual([
      { type: "announce", repeat: 2, reason: "refresh" },
      { type: "announce", repeat: 2, reason: "refresh" },
    ]);
  });
});

function master(params: Partial<InstanceParams> = {}, primary = "10.0.0.1") {
  const h = make(params, primary);
  h.engine.start();
  h.clock.advance(h.engine.status().masterDownIntervalMs + 1);
  expect(h.engine.state).toBe("master");
  h.clear();
  return h;
}

describe("elections", () => {
  it("a master yields to a higher priority: addresses removed, BACKUP, no priority-0 advert", () => {
    const { engine, effects } = master({ priority: 100 });
    engine.receive({ priority: 150, intervalCs: 100, source: "10.0.0.9" });
    expect(engine.state).toBe("backup");
    expect(effects.map((e) => e.type)).toEqual(["remove-addresses", "state"]);
    expect(engine.stats.release_master).toBe(1);
  });

  it("a master answers a lower priority with an advert at once (forcing a new election)", () => {
    const { engine, effects, clock } = master({ priority: 150 });
    clock.advance(500);
    engine.receive({ priority: 100, intervalCs: 100, source: "10.0.0.9" });
    expect(engine.state).toBe("master");
    // …and refreshes the neighbours' ARP caches (keepalived garp_lower_prio_repeat, default 5)
    expect(effects).toEqual([
      { type: "send", priority: 150 },
      { type: "announce", repeat: 5, reason: "lower-priority" },
      { type: "master-rx-lower-priority", priority: 100, source: "10.0.0.9" },
    ]);
    // the Adver_Timer restarted: next advert 1000 ms after the answer
    expect(engine.status().timerDeadline).toBe(clock.now() + 1000);
    effects.splice(0);
    clock.advance(5000); // garp_master_delay's round (due 5 s after becoming master), then garp_lower_prio_delay's
    expect(effects.filter((e) => e.type === "announce")).toEqual([
      { type: "announce", repeat: 5, reason: "delayed" },
      { type: "announce", repeat: 5, reason: "lower-priority" },
    ]);
  });

  it("lower_prio_no_advert: no answer", () => {
    const { engine, effects } = master({ priority: 150, lowerPrioNoAdvert: true, garpLowerPrioRepeat: 0 });
    engine.receive({ priority: 100, intervalCs: 100, source: "10.0.0.9" });
    expect(effects.filter((e) => e.type === "send" || e.type === "announce")).toEqual([]);
  });

  it("a master answers priority 0 with an advert", () => {
    const { engine, effects } = master({ priority: 150 });
    engine.receive({ priority: 0, intervalCs: 100, source: "10.0.0.9" });
    expect(engine.state).toBe("master");
    expect(effects).toEqual([{ type: "send", priority: 150 }]);
  });

  it("equal priority: the higher primary address wins (RFC 9568 §6.4.3)", () => {
    const low = master({ priority: 100 }, "10.0.0.1");
    low.engine.receive({ priority: 100, intervalCs: 100, source: "10.0.0.2" });
    expect(low.engine.state).toBe("backup");
    const high = master({ priority: 100 }, "10.0.0.3");
    high.engine.receive({ priority: 100, intervalCs: 100, source: "10.0.0.2" });
    expect(high.engine.state).toBe("master");
    expect(high.sends()).toEqual([100]);
    const v6 = master({ priority: 100, version: 3 }, "fe80::1:2");
    v6.engine.receive({ priority: 100, intervalCs: 100, source: "fe80::10" });
    expect(v6.engine.state).toBe("master");
  });

  it("preempt: a higher-priority backup ignores a lower master and takes over after Master_Down_Interval", () => {
    const { engine, clock } = make({ priority: 150 });
    engine.start();
    for (let t = 0; t < 3000; t += 1000) {
      engine.receive({ priority: 100, intervalCs: 100, source: "10.0.0.9" });
      clock.advance(1000);
    }
    // never reset by the lower adverts: master at 3 s + 106/256 s after start
    clock.advance(414);
    expect(engine.state).toBe("backup");
    clock.advance(1);
    expect(engine.state).toBe("master");
  });

  it("nopreempt: a higher-priority backup stays backup under a lower master", () => {
    const { engine, clock } = make({ priority: 150, preempt: false });
    engine.start();
    for (let i = 0; i < 20; i++) {
      engine.receive({ priority: 100, intervalCs: 100, source: "10.0.0.9" });
      clock.advance(1000);
    }
    expect(engine.state).toBe("backup");
  });

  it("preempt_delay: a lower master is tolerated for the delay once seen, then preempted", () => {
    const { engine, clock } = make({ priority: 150, preemptDelayMs: 10_000 });
    engine.start();
    let tookOverAt = -1;
    for (let t = 0; t < 20_000; t++) {
      if (t % 1000 === 0 && engine.state === "backup")
        engine.receive({ priority: 100, intervalCs: 100, source: "10.0.0.9" });
      clock.advance(1);
      if (engine.state === "master" && tookOverAt < 0) tookOverAt = clock.now();
    }
    // tolerated from 0 until 10 s (the advert at 9 s is the last one accepted), then
    // Master_Down_Interval (3 s + 106/256 s = 3414.06 ms) from that advert
    expect(tookOverAt).toBe(9000 + 3415);
  });

  it("two owners: the one hearing the other steps down to 254 (keepalived)", () => {
    const { engine } = master({ priority: 255 }, "10.0.0.1");
    engine.receive({ priority: 255, intervalCs: 100, source: "10.0.0.2" });
    expect(engine.effectivePriority).toBe(254);
    expect(engine.state).toBe("backup");
  });

  it("accept mode: the owner always accepts, others follow the setting (default true as keepalived)", () => {
    expect(make({ priority: 255, accept: false }).engine.params.accept).toBe(true);
    expect(make({ priority: 100, accept: false }).engine.params.accept).toBe(false);
    expect(make({ priority: 100 }).engine.params.accept).toBe(true);
  });

  it("rejects what keepalived refuses, naming the instance", () => {
    expect(() => make({ vrid: 0 })).toThrowError(/VI_1: virtual_router_id 0/);
    expect(() => make({ priority: 0 })).toThrowError(/priority 0/);
    expect(() => make({ version: 2, intervalCs: 5 })).toThrowError(/whole seconds/);
  });
});

describe("tracking, shutdown", () => {
  it("a fault takes a master to FAULT with a priority-0 advert; recovery → BACKUP → MASTER", () => {
    const { engine, effects, clock, states } = master({ priority: 150 });
    engine.setTracking({ faults: 1, initPending: 0, priorityDelta: 0 });
    expect(engine.state).toBe("fault");
    expect(effects.slice(0, 3)).toEqual([
      { type: "send", priority: 0 },
      { type: "remove-addresses" },
      expect.objectContaining({ type: "state", from: "master", to: "fault" }),
    ]);
    expect(engine.stats.pri_zero_sent).toBe(1);
    clock.advance(60_000);
    expect(engine.state).toBe("fault");
    engine.setTracking({ faults: 0, initPending: 0, priorityDelta: 0 });
    expect(engine.state).toBe("backup");
    clock.advance(engine.status().masterDownIntervalMs + 1);
    expect(states()).toEqual(["fault", "backup", "master"]);
  });

  it("weights move the effective priority, clamped to 1..254; the next advert carries it", () => {
    const { engine, clock, sends } = master({ priority: 100 });
    engine.setTracking({ faults: 0, initPending: 0, priorityDelta: -60 });
    expect(engine.effectivePriority).toBe(40);
    clock.advance(1000);
    expect(sends()).toEqual([40]);
    engine.setTracking({ faults: 0, initPending: 0, priorityDelta: -500 });
    expect(engine.effectivePriority).toBe(1);
    engine.setTracking({ faults: 0, initPending: 0, priorityDelta: 500 });
    expect(engine.effectivePriority).toBe(254);
  });

  it("the owner's priority never moves", () => {
    const { engine } = make({ priority: 255 });
    engine.setTracking({ faults: 0, initPending: 0, priorityDelta: -50 });
    expect(engine.effectivePriority).toBe(255);
  });

  it("a lower priority in Backup shortens/lengthens the running Master_Down_Timer", () => {
    const { engine, clock } = make({ priority: 200 });
    engine.start();
    const before = engine.status().timerDeadline ?? 0;
    engine.setTracking({ faults: 0, initPending: 0, priorityDelta: -100 });
    // skew grows from 56/256 s to 156/256 s
    expect((engine.status().timerDeadline ?? 0) - before).toBeCloseTo(100_000 / 256, 6);
    expect(clock.now()).toBe(0);
  });

  it("weightless scripts that have not reported keep the instance waiting (no FAULT notify)", () => {
    const { engine, clock, states } = make();
    engine.setTracking({ faults: 0, initPending: 1, priorityDelta: 0 });
    engine.start();
    expect(engine.state).toBe("fault");
    expect(states()).toEqual([]);
    clock.advance(10_000);
    engine.setTracking({ faults: 0, initPending: 0, priorityDelta: 0 });
    expect(engine.state).toBe("backup");
  });

  it("stop as master: priority-0 advert, addresses removed, STOP", () => {
    const { engine, effects, clock } = master();
    engine.stop();
    expect(effects).toEqual([
      { type: "send", priority: 0 },
      { type: "remove-addresses" },
      expect.objectContaining({ type: "state", from: "master", to: "stop" }),
    ]);
    clock.advance(10_000);
    expect(effects).toHaveLength(3);
  });

  it("stop as backup: only STOP", () => {
    const { engine, effects } = make();
    engine.start();
    effects.splice(0);
    engine.stop();
    expect(effects.map((e) => e.type)).toEqual(["state"]);
  });
});

/** Several engines on one simulated link: every advert reaches every other engine at once. */
function lan(
  specs: Array<{ name: string; priority: number; address: string; version?: 2 | 3; intervalCs?: number }>,
) {
  const clock = new FakeClock();
  const nodes = specs.map((s) => ({
    ...s,
    alive: true,
    engine: undefined as unknown as VrrpInstanceEngine,
    log: [] as VrrpState[],
  }));
  let partitioned = false;
  for (const n of nodes) {
    n.engine = new VrrpInstanceEngine(
      {
        name: n.name,
        vrid: 7,
        version: n.version ?? 2,
        priority: n.priority,
        intervalCs: n.intervalCs ?? 100,
      },
      {
        clock,
        primaryAddress: () => n.address,
        onEffect: (e) => {
          if (e.type === "state") n.log.push(e.to);
          if (e.type !== "send" || !n.alive || partitioned) return;
          for (const o of nodes) {
            if (o !== n && o.alive)
              o.engine.receive({ priority: e.priority, intervalCs: n.intervalCs ?? 100, source: n.address });
          }
        },
      },
    );
  }
  return {
    clock,
    nodes,
    cut: (on: boolean) => {
      partitioned = on;
    },
    masters: () => nodes.filter((n) => n.alive && n.engine.state === "master").map((n) => n.name),
  };
}

describe("several routers on a simulated link", () => {
  it("elect exactly one master, the highest priority; a dead master is replaced within Master_Down_Interval", () => {
    const { clock, nodes, masters } = lan([
      { name: "a", priority: 100, address: "10.0.0.1" },
      { name: "b", priority: 200, address: "10.0.0.2" },
      { name: "c", priority: 150, address: "10.0.0.3" },
    ]);
    for (const n of nodes) n.engine.start();
    clock.advance(10_000);
    expect(masters()).toEqual(["b"]);
    // kill -9 of b: silence
    const b = nodes[1];
    if (!b) throw new Error("no b");
    b.alive = false;
    const killedAt = clock.now();
    let takeover = 0;
    while (masters().length === 0) {
      clock.advance(1);
      takeover = clock.now() - killedAt;
    }
    expect(masters()).toEqual(["c"]);
    // c's Master_Down_Interval = 3 s + 106/256 s, counted from b's last advert (≤ 1 s before the kill)
    expect(takeover).toBeLessThanOrEqual(3415);
    expect(takeover).toBeGreaterThan(2400);
  });

  it("a clean stop hands over after Skew_Time of the best backup", () => {
    const { clock, nodes, masters } = lan([
      { name: "a", priority: 250, address: "10.0.0.1" },
      { name: "b", priority: 200, address: "10.0.0.2" },
    ]);
    for (const n of nodes) n.engine.start();
    clock.advance(10_000);
    expect(masters()).toEqual(["a"]);
    const a = nodes[0];
    if (!a) throw new Error("no a");
    a.engine.stop(); // sends priority 0 to b while still alive
    a.alive = false;
    clock.advance(218);
    expect(masters()).toEqual([]);
    clock.advance(1);
    expect(masters()).toEqual(["b"]);
  });

  it("equal priorities: a backup does not preempt an equal master; two masters meeting keep the highest address", () => {
    const { clock, nodes, masters, cut } = lan([
      { name: "a", priority: 100, address: "10.0.0.5" },
      { name: "b", priority: 100, address: "10.0.0.9" },
      { name: "c", priority: 100, address: "10.0.0.7" },
    ]);
    nodes[0]?.engine.start();
    clock.advance(5000);
    nodes[1]?.engine.start();
    nodes[2]?.engine.start();
    clock.advance(20_000);
    expect(masters()).toEqual(["a"]); // RFC 9568 §6.4.2: "greater than or equal to the local Priority" → stay Backup
    cut(true); // split brain: everyone alone on the link
    clock.advance(5000);
    expect(masters()).toEqual(["a", "b", "c"]);
    cut(false);
    clock.advance(5000);
    expect(masters()).toEqual(["b"]);
  });
});
