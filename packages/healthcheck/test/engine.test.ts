import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TargetEngine } from "../src/index.js";

const ok = { up: true, reason: "connected", latencyMs: 1 };
const bad = { up: false, reason: "ECONNREFUSED", latencyMs: 1 };

describe("TargetEngine", () => {
  it("starts UP without alpha and DOWN with alpha (keepalived)", () => {
    expect(new TargetEngine({}).up).toBe(true);
    expect(new TargetEngine({ alpha: true }).up).toBe(false);
  });

  it("retries `retry` times delay_before_retry apart before a failure counts", () => {
    const e = new TargetEngine({ retry: 2, delayBeforeRetry: 3, delayLoop: 10 });
    expect(e.onResult(bad, 0)).toEqual({ nextDelayMs: 3000, retrying: true });
    expect(e.onResult(bad, 3000)).toEqual({ nextDelayMs: 3000, retrying: true });
    const step = e.onResult(bad, 6000);
    expect(step.event).toMatchObject({ kind: "down", reason: "ECONNREFUSED", at: 6000 });
    expect(step.nextDelayMs).toBe(10_000);
    expect(e.up).toBe(false);
  });

  it("progress shows the way to a transition: failed rounds toward fall, passes toward rise", () => {
    const e = new TargetEngine({ retry: 1, fall: 3, rise: 2 });
    expect(e.progress).toEqual({ ok: 0, fail: 0, retries: 0, rise: 2, fall: 3, retry: 1 });
    e.onResult(bad, 0);
    expect(e.progress).toMatchObject({ fail: 0, retries: 1 });
    e.onResult(bad, 1000);
    e.onResult(bad, 2000);
    e.onResult(bad, 3000);
    expect(e.progress).toMatchObject({ ok: 0, fail: 2, retries: 0 });
    expect(e.up).toBe(true);
    e.onResult(bad, 4000);
    e.onResult(bad, 5000);
    expect(e.up).toBe(false);
    e.onResult(ok, 6000);
    expect(e.progress).toMatchObject({ ok: 1, fail: 0 });
    expect(e.up).toBe(false);
    e.onResult(ok, 7000);
    expect(e.up).toBe(true);
  });

  it("a success during retries resets the retry budget", () => {
    const e = new TargetEngine({ retry: 1, delayLoop: 5 });
    expect(e.onResult(bad, 0).retrying).toBe(true);
    expect(e.onResult(ok, 1000).retrying).toBe(false);
    expect(e.onResult(bad, 6000).retrying).toBe(true);
    expect(e.up).toBe(true);
  });

  it("fall counts failed rounds; rise counts consecutive successes", () => {
    const e = new TargetEngine({ retry: 0, fall: 3, rise: 2 });
    expect(e.onResult(bad, 0).event).toBeUndefined();
    expect(e.onResult(bad, 1).event).toBeUndefined();
    expect(e.onResult(ok, 2).event).toBeUndefined(); // resets the fall count
    expect(e.onResult(bad, 3).event).toBeUndefined();
    expect(e.onResult(bad, 4).event).toBeUndefined();
    expect(e.onResult(bad, 5).event?.kind).toBe("down");
    expect(e.onResult(ok, 6).event).toBeUndefined();
    expect(e.onResult(bad, 7).event).toBeUndefined(); // breaks the rise streak
    expect(e.onResult(ok, 8).event).toBeUndefined();
    expect(e.onResult(ok, 9).event).toMatchObject({ kind: "up", reason: "connected" });
  });

  it("slow start ramps the weight from 1 to full after recovery, not at startup", () => {
    const e = new TargetEngine({ retry: 0, weight: 100, slowStart: 10 });
    expect(e.weightAt(0)).toBe(100); // initial UP is not a recovery
    e.onResult(bad, 0);
    expect(e.weightAt(0)).toBe(0);
    e.onResult(ok, 1000);
    expect(e.weightAt(1000)).toBe(1);
    expect(e.weightAt(6000)).toBe(50);
    expect(e.weightAt(10_999)).toBe(100);
    expect(e.weightAt(11_000)).toBe(100);
    expect(e.slowStartRemainingMs(6000)).toBe(5000);
  });

  it("dynamic weight (MISC misc_dynamic / load hook) replaces the configured weight", () => {
    const e = new TargetEngine({ weight: 5 });
    e.onResult({ ...ok, weight: 42 }, 0);
    expect(e.weightAt(0)).toBe(42);
    e.setDynamicWeight(7);
    expect(e.weightAt(0)).toBe(7);
    e.setDynamicWeight(undefined);
    expect(e.weightAt(0)).toBe(5);
  });

  it("warmup delays the first check by a random fraction of warmup", () => {
    const e = new TargetEngine({ warmup: 4 });
    expect(e.firstDelayMs(0)).toBe(0);
    expect(e.firstDelayMs(0.5)).toBe(2000);
    expect(new TargetEngine({}).firstDelayMs(0.9)).toBe(0);
  });

  it("property: weight stays within [0, full], is 0 iff down, and never decreases during a ramp", () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (results, weight, slowStart, rise, fall) => {
          const e = new TargetEngine({ retry: 0, weight, slowStart, rise, fall, delayLoop: 1 });
          let now = 0;
          for (const up of results) {
            e.onResult(up ? ok : bad, now);
            const w = e.weightAt(now);
            expect(w >= 0 && w <= weight).toBe(true);
            expect(w === 0).toBe(!e.up);
            // Between probes the ramp only goes up.
            expect(e.weightAt(now + 500)).toBeGreaterThanOrEqual(w);
            now += 1000;
          }
          // After the ramp has fully elapsed the weight is full.
          if (e.up) expect(e.weightAt(now + slowStart * 1000)).toBe(weight);
        },
      ),
    );
  });
});
