import { describe, expect, it } from "vitest";
import {
  FakeClock,
  HealthCheckRunner,
  type ProbeFn,
  type ProbeResult,
  type TargetEvent,
} from "../src/index.js";

const tcp = (port: number) => ({ type: "tcp" as const, connectIp: "127.0.0.1", connectPort: port });

/** A prober the test resolves by hand: records every call with its signal. */
function manualProbe() {
  const calls: Array<{ port: number; signal: AbortSignal | undefined; resolve: (r: ProbeResult) => void }> =
    [];
  const fn: ProbeFn = (def, opts) =>
    new Promise((resolve) =>
      calls.push({ port: (def as { connectPort: number }).connectPort, signal: opts.signal, resolve }),
    );
  return { fn, calls };
}
const flush = () => new Promise((r) => setImmediate(r));

describe("HealthCheckRunner", () => {
  it("staggers first probes across delay_loop instead of firing all at once", () => {
    const clock = new FakeClock();
    const p = manualProbe();
    const r = new HealthCheckRunner({ clock, probe: p.fn, random: () => 0 });
    r.configure(
      Array.from({ length: 10 }, (_, i) => ({
        id: `t${i}`,
        check: tcp(1000 + i),
        policy: { delayLoop: 10 },
      })),
    );
    clock.advance(0);
    expect(p.calls.length).toBe(1);
    clock.advance(4999);
    expect(p.calls.length).toBe(5);
    clock.advance(5000);
    expect(p.calls.length).toBe(10);
    r.stop();
  });

  it("with a warmup, first probes come within it (keepalived), not after a stagger as well", () => {
    const clock = new FakeClock();
    const p = manualProbe();
    const r = new HealthCheckRunner({ clock, probe: p.fn, random: () => 0.99 });
    r.configure(
      Array.from({ length: 10 }, (_, i) => ({
        id: `t${i}`,
        check: tcp(1500 + i),
        policy: { delayLoop: 10, warmup: 10 },
      })),
    );
    clock.advance(9899);
    expect(p.calls.length).toBe(0);
    // Every one at 0.99 × warmup: a stagger on top would have put the last at 18.9 s.
    clock.advance(1);
    expect(p.calls.length).toBe(10);
    r.stop();
  });

  it("one clock timer waits for every target, whatever their deadlines; stop clears it", async () => {
    // A timer per target cost a Timeout (and a timer list per distinct delay) for each of
    // 20,000 targets; the runner keeps due probes in a heap under one timer.
    const clock = new FakeClock();
    const p = manualProbe();
    const r = new HealthCheckRunner({ clock, probe: p.fn, random: () => 0.5, concurrency: 5000 });
    r.configure(
      Array.from({ length: 1000 }, (_, i) => ({
        id: `t${i}`,
        check: tcp(2000 + i),
        // Half with a warmup (first probe at 1.5 s), half staggered over their delay_loop.
        policy: { delayLoop: 1 + (i % 7), warmup: i % 2 ? 3 : 0 },
      })),
    );
    expect(clock.pending).toBe(1);
    clock.advance(2500);
    const started = p.calls.length;
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThan(1000);
    for (const c of p.calls.splice(0)) c.resolve({ up: true, reason: "ok", latencyMs: 1 });
    await flush();
    expect(clock.pending).toBe(1);
    clock.advance(20_000);
    expect(p.calls.length).toBeGreaterThanOrEqual(1000 - started);
    r.stop();
    expect(clock.pending).toBe(0);
  });

  it("bounds concurrency and drains the queue as probes finish", async () => {
    const clock = new FakeClock();
    const p = manualProbe();
    const r = new HealthCheckRunner({ clock, probe: p.fn, concurrency: 3, random: () => 0 });
    r.configure(
      Array.from({ length: 8 }, (_, i) => ({
        id: `t${i}`,
        check: tcp(2000 + i),
        policy: { delayLoop: 0.001 },
      })),
    );
    clock.advance(10);
    expect(p.calls.length).toBe(3);
    expect(r.inFlight).toBe(3);
    for (const c of p.calls.splice(0, 3)) c.resolve({ up: true, reason: "ok", latencyMs: 0 });
    await flush();
    expect(p.calls.length).toBe(3);
    expect(r.stats.probesStarted).toBe(6);
    r.stop();
  });

  it("deduplicates identical checks and fans the result out to every target", async () => {
    const clock = new FakeClock();
    const p = manualProbe();
    const events: TargetEvent[] = [];
    const r = new HealthCheckRunner({ clock, probe: p.fn, random: () => 0, onEvent: (e) => events.push(e) });
    r.configure([
      { id: "vs1/rs", check: tcp(80), policy: { retry: 0, weight: 3 } },
      {
        id: "vs2/rs",
        check: { connectPort: 80, connectIp: "127.0.0.1", type: "tcp" },
        policy: { retry: 0, weight: 7 },
      },
      { id: "other", check: tcp(81), policy: { retry: 0 } },
    ]);
    expect(r.uniqueChecks).toBe(2);
    clock.advance(60_000);
    const port80 = p.calls.filter((c) => c.port === 80);
    expect(port80.length).toBe(1);
    port80[0]!.resolve({ up: false, reason: "ECONNREFUSED", latencyMs: 0.2 });
    await flush();
    expect(events.map((e) => [e.id, e.kind, e.reason])).toEqual([
      ["vs1/rs", "down", "ECONNREFUSED"],
      ["vs2/rs", "down", "ECONNREFUSED"],
    ]);
    expect(r.status("vs1/rs")?.up).toBe(false);
    expect(r.status("other")?.up).toBe(true);
    expect(r.stats.fannedOut).toBe(1);
    r.stop();
  });

  it("counts a prober that throws or rejects as a DOWN result, and refuses a duplicate id with a code", async () => {
    const clock = new FakeClock();
    const events: TargetEvent[] = [];
    const probe: ProbeFn = (def) => {
      if ((def as { connectPort: number }).connectPort === 1) throw new Error("sync boom");
      return Promise.reject(new Error("async boom"));
    };
    const r = new HealthCheckRunner({ clock, probe, random: () => 0, onEvent: (e) => events.push(e) });
    expect(() =>
      r.configure([
        { id: "a", check: tcp(1) },
        { id: "a", check: tcp(2) },
      ]),
    ).toThrow(expect.objectContaining({ code: "HC_DUPLICATE_TARGET", message: 'duplicate target id "a"' }));
    r.configure([
      { id: "a", check: tcp(1), policy: { retry: 0 } },
      { id: "b", check: tcp(2), policy: { retry: 0 } },
    ]);
    clock.advance(60_000);
    await flush();
    expect(events.map((e) => [e.id, e.kind, e.reason]).sort()).toEqual([
      ["a", "down", "Error: sync boom"],
      ["b", "down", "Error: async boom"],
    ]);
    expect(r.inFlight).toBe(0);
    r.stop();
    expect(() => r.configure([])).toThrow(expect.objectContaining({ code: "HC_RUNNER_STOPPED" }));
  });

  it("each result carries the target's status after it (what status() would answer then)", async () => {
    const clock = new FakeClock();
    const p = manualProbe();
    const seen: Array<[string, boolean, number, string | undefined]> = [];
    const r = new HealthCheckRunner({
      clock,
      probe: p.fn,
      random: () => 0,
      onResult: (id, result, status) => {
        expect(status).toEqual(r.status(id));
        seen.push([id, status.up, status.weight, status.lastResult?.reason ?? result.reason]);
      },
    });
    r.configure([{ id: "x", check: tcp(7), policy: { retry: 0, weight: 4, delayLoop: 1 } }]);
    clock.advance(0);
    p.calls.shift()!.resolve({ up: false, reason: "ECONNREFUSED", latencyMs: 0 });
    await flush();
    clock.advance(1000);
    p.calls.shift()!.resolve({ up: true, reason: "connected", latencyMs: 0 });
    await flush();
    expect(seen).toEqual([
      ["x", false, 0, "ECONNREFUSED"],
      ["x", true, 4, "connected"],
    ]);
    r.stop();
  });

  it("reconfiguration aborts removed checks, keeps unchanged targets' state", async () => {
    const clock = new FakeClock();
    const p = manualProbe();
    const r = new HealthCheckRunner({ clock, probe: p.fn, random: () => 0 });
    const a = { id: "a", check: tcp(1), policy: { retry: 0, delayLoop: 1 } };
    const b = { id: "b", check: tcp(2), policy: { retry: 0, delayLoop: 1 } };
    r.configure([a, b]);
    clock.advance(0);
    const callA = p.calls.find((c) => c.port === 1)!;
    callA.resolve({ up: false, reason: "down", latencyMs: 0 });
    await flush();
    expect(r.status("a")?.up).toBe(false);
    clock.advance(500);
    const callB = p.calls.find((c) => c.port === 2)!;
    expect(callB.signal?.aborted).toBe(false);
    r.configure([a]); // b removed mid-probe
    expect(callB.signal?.aborted).toBe(true);
    expect(r.status("b")).toBeUndefined();
    expect(r.status("a")?.up).toBe(false); // state kept
    callB.resolve({ up: true, reason: "late", latencyMs: 0 });
    await flush();
    expect(r.statuses().map((s) => s.id)).toEqual(["a"]);
    r.stop();
    expect(clock.pending).toBe(0);
  });

  it("follows retry/delay_before_retry then delay_loop on the fake clock", async () => {
    const clock = new FakeClock();
    const p = manualProbe();
    const events: TargetEvent[] = [];
    const r = new HealthCheckRunner({ clock, probe: p.fn, random: () => 0, onEvent: (e) => events.push(e) });
    r.configure([{ id: "x", check: tcp(9), policy: { retry: 2, delayBeforeRetry: 2, delayLoop: 30 } }]);
    const down = { up: false, reason: "timeout after 5000 ms", latencyMs: 5000 };
    clock.advance(0);
    p.calls.shift()!.resolve(down);
    await flush();
    clock.advance(1999);
    expect(p.calls.length).toBe(0);
    clock.advance(1);
    p.calls.shift()!.resolve(down);
    await flush();
    clock.advance(2000);
    p.calls.shift()!.resolve(down);
    await flush();
    expect(events).toMatchObject([{ id: "x", kind: "down", at: 4000, weight: 0 }]);
    clock.advance(29_999);
    expect(p.calls.length).toBe(0);
    clock.advance(1);
    expect(p.calls.length).toBe(1);
    r.stop();
  });
});
