// The order of a quorum gain's BGP announcement against the pass that programs the service: a
// router must not be told to send flows here before IPVS has the service (our stack would reset
// them: the ECMP join of test/bgp-ecmp.kernel.test.ts broke on it). A loss withdraws at once.
import { describe, expect, it } from "vitest";
import { EffectPerformer, type EffectTargets } from "../src/effects.js";
import type { EngineEffect } from "../src/events.js";
import type { PlannedVirtualServer } from "../src/plan.js";

const vs = {
  key: "TCP/192.0.2.60:80",
  label: "[192.0.2.60]:tcp:80",
  quorum: 1,
  hysteresis: 0,
  sorry: undefined,
} as unknown as PlannedVirtualServer;

function rig() {
  const calls: string[] = [];
  const passes: (() => void)[] = [];
  const targets = {
    log: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
    requestPass: () => {
      calls.push("pass requested");
      return new Promise<void>((resolve) =>
        passes.push(() => {
          calls.push("pass done");
          resolve();
        }),
      );
    },
    bgpQuorum: (v: PlannedVirtualServer, up: boolean) =>
      calls.push(`${up ? "announce" : "withdraw"} ${v.key}`),
  } as unknown as EffectTargets;
  return { performer: new EffectPerformer(targets), calls, passes };
}
const quorum = (up: boolean): EngineEffect =>
  ({ kind: "quorum", vs, up, init: false, weightSum: up ? 1 : 0, threshold: 1 }) as EngineEffect;
const pass: EngineEffect = { kind: "pass", scope: undefined } as EngineEffect;
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("EffectPerformer: BGP announcements after the pass", () => {
  it("a quorum gain is announced only once the batch's pass has run", async () => {
    const { performer, calls, passes } = rig();
    const done = performer.perform([quorum(true), pass]);
    await tick();
    expect(calls).toEqual(["pass requested"]);
    passes[0]?.();
    await done;
    expect(calls).toEqual(["pass requested", "pass done", `announce ${vs.key}`]);
  });

  it("a loss withdraws at once, and a gain still waiting for its pass is then not announced", async () => {
    const { performer, calls, passes } = rig();
    const gained = performer.perform([quorum(true), pass]);
    await tick();
    const lost = performer.perform([quorum(false), pass]);
    expect(calls).toEqual(["pass requested", `withdraw ${vs.key}`, "pass requested"]);
    for (const p of passes) p();
    await Promise.all([gained, lost]);
    expect(calls.filter((c) => c.startsWith("announce"))).toEqual([]);
  });

  it("a failed pass still announces (the periodic pass repairs the table; quorum is not re-sent)", async () => {
    const calls: string[] = [];
    const performer = new EffectPerformer({
      log: { info: () => {}, warn: () => {}, error: () => {} },
      requestPass: () => Promise.reject(new Error("netlink said no")),
      bgpQuorum: (v: PlannedVirtualServer, up: boolean) =>
        calls.push(`${up ? "announce" : "withdraw"} ${v.key}`),
    } as unknown as EffectTargets);
    await expect(performer.perform([quorum(true), pass])).rejects.toThrow("netlink said no");
    expect(calls).toEqual([`announce ${vs.key}`]);
  });
});
