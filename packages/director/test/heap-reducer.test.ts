// The heap reducer: when it asks V8 for the pages back (logic, injected heap and signal), and that
// asking really shrinks a daemon-like heap (a child process with the real addon).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DEFAULT_HEAP_REDUCE_INTERVAL_S,
  HEAP_REDUCE_ENV,
  HEAP_REDUCE_MIN_SLACK,
  heapReduceIntervalS,
  heapWorthReducing,
  startHeapReducer,
} from "../src/index.js";

const MiB = 1024 * 1024;
const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("heapWorthReducing", () => {
  it("asks when the slack is both 16 MiB and a quarter of the used heap", () => {
    expect(heapWorthReducing(128 * MiB, 77 * MiB)).toBe(true); // the bench's heap at 70 s
    expect(heapWorthReducing(91 * MiB, 77 * MiB)).toBe(false); // after a reduction: 14 MiB
    expect(heapWorthReducing(20 * MiB, 2 * MiB)).toBe(true);
    expect(heapWorthReducing(2 * MiB + HEAP_REDUCE_MIN_SLACK - 1, 2 * MiB)).toBe(false);
    expect(heapWorthReducing(300 * MiB, 250 * MiB)).toBe(false); // 50 MiB is under a quarter
  });
});

describe("heapReduceIntervalS", () => {
  it("takes the option, else the environment, else 30 s; a bad value is the default", () => {
    expect(heapReduceIntervalS(5, { [HEAP_REDUCE_ENV]: "9" })).toBe(5);
    expect(heapReduceIntervalS(undefined, { [HEAP_REDUCE_ENV]: "0" })).toBe(0);
    expect(heapReduceIntervalS(undefined, { [HEAP_REDUCE_ENV]: "12" })).toBe(12);
    expect(heapReduceIntervalS(undefined, {})).toBe(DEFAULT_HEAP_REDUCE_INTERVAL_S);
    expect(heapReduceIntervalS(undefined, { [HEAP_REDUCE_ENV]: "-1" })).toBe(DEFAULT_HEAP_REDUCE_INTERVAL_S);
    expect(DEFAULT_HEAP_REDUCE_INTERVAL_S).toBe(30);
  });
});

describe("startHeapReducer", () => {
  afterEach(() => vi.useRealTimers());

  it("looks every interval and signals 'moderate' only when worth it; stop() ends it", () => {
    vi.useFakeTimers();
    let heap = { committed: 60 * MiB, used: 50 * MiB };
    const signals: string[] = [];
    const reducer = startHeapReducer({
      intervalMs: 30_000,
      heap: () => heap,
      signal: (level) => {
        signals.push(level);
        return true;
      },
    });
    vi.advanceTimersByTime(29_999);
    expect(reducer.stats()).toEqual({ checks: 0, reductions: 0 });
    vi.advanceTimersByTime(1);
    expect(reducer.stats()).toEqual({ checks: 1, reductions: 0 });
    heap = { committed: 128 * MiB, used: 77 * MiB };
    vi.advanceTimersByTime(30_000);
    expect(reducer.stats()).toEqual({ checks: 2, reductions: 1 });
    expect(signals).toEqual(["moderate"]);
    reducer.stop();
    vi.advanceTimersByTime(300_000);
    expect(reducer.stats()).toEqual({ checks: 2, reductions: 1 });
  });

  it("counts no reduction when the signal could not be sent (no addon), and 0 means off", () => {
    vi.useFakeTimers();
    const unsent = startHeapReducer({
      intervalMs: 1000,
      heap: () => ({ committed: 200 * MiB, used: 50 * MiB }),
      signal: () => false,
    });
    vi.advanceTimersByTime(3000);
    expect(unsent.stats()).toEqual({ checks: 3, reductions: 0 });
    unsent.stop();
    let looked = 0;
    const off = startHeapReducer({
      intervalMs: 0,
      heap: () => {
        looked++;
        return { committed: 0, used: 0 };
      },
    });
    vi.advanceTimersByTime(600_000);
    expect(looked).toBe(0);
    off.stop();
  });

  it("shrinks a real heap a peak left committed (child process, real addon)", () => {
    // 4 million objects made, one in ten kept: after gc() the pages stay committed. One check,
    // then small allocations on timers (what a daemon does) for at most 3 s.
    const script = `
      import { startHeapReducer } from ${JSON.stringify(built)};
      const keep = [];
      let junk = [];
      for (let r = 0; r < 40; r++) {
        for (let i = 0; i < 100000; i++) {
          const o = { a: i, b: String(i) };
          if (i % 10 === 0) keep.push(o); else junk.push(o);
        }
        junk = [];
      }
      gc();
      const total = () => process.memoryUsage().heapTotal;
      const before = total();
      const reducer = startHeapReducer({ intervalMs: 0 });
      const asked = reducer.check();
      const t0 = Date.now();
      while (total() > before * 0.8 && Date.now() - t0 < 3000) {
        await new Promise((r) => setTimeout(r, 5));
        junk.push({ t: Date.now() });
        if (junk.length > 1000) junk = [];
      }
      console.log(JSON.stringify({ asked, before, after: total(), kept: keep.length }));`;
    const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { asked: boolean; before: number; after: number; kept: number };
    expect(out).toMatchObject({ asked: true, kept: 400000 });
    expect(out.after).toBeLessThan(out.before * 0.8);
  });
});
