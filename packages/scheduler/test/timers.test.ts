// The timer heap: cancelled timers let go of their callbacks at once and are swept out in one
// pass once they are the majority, so closed connections don't hold memory for their timeout.
import { describe, expect, it } from "vitest";
import { type TimerHandle, TimerQueue } from "../src/timers.js";

describe("TimerQueue", () => {
  it("runs due timers in (time, creation) order, never a cancelled one", () => {
    const q = new TimerQueue();
    const ran: string[] = [];
    q.add(20, () => ran.push("b"));
    const c = q.add(10, () => ran.push("cancelled"));
    q.add(10, () => ran.push("a"));
    q.add(30, () => ran.push("late"));
    q.cancel(c);
    q.run(25);
    expect(ran).toEqual(["a", "b"]);
    q.run(30);
    expect(ran).toEqual(["a", "b", "late"]);
    expect(q.size).toBe(0);
  });

  it("10,000 cancelled timers (closed connections): the heap stays near the live ones, order kept", () => {
    const q = new TimerQueue();
    const handles: TimerHandle[] = [];
    const ran: number[] = [];
    // Deterministic shuffled expiry times.
    for (let i = 0; i < 10_000; i++) {
      const at = (i * 7919) % 10_007;
      handles.push(q.add(at, () => ran.push(at)));
    }
    const kept: number[] = [];
    handles.forEach((h, i) => {
      if (i % 100 === 0) kept.push(h.at);
      else {
        const fn = h.fn;
        q.cancel(h);
        // The callback (and what it captured) is released at once.
        expect(h.fn).not.toBe(fn);
      }
    });
    // 100 live timers: the heap holds at most twice that plus the sweep threshold.
    expect(q.size).toBeLessThanOrEqual(2 * 100 + 64);
    q.run(20_000);
    expect(ran).toEqual([...kept].sort((a, b) => a - b));
    expect(q.size).toBe(0);
  });

  it("cancelling inside a callback (a timer that closes others) sweeps safely mid-run", () => {
    const q = new TimerQueue();
    const ran: number[] = [];
    const later: TimerHandle[] = [];
    q.add(1, () => {
      for (const h of later) q.cancel(h);
    });
    for (let i = 0; i < 500; i++) later.push(q.add(2 + i, () => ran.push(i)));
    q.add(1_000, () => ran.push(-1));
    q.run(2_000);
    expect(ran).toEqual([-1]);
    expect(q.size).toBe(0);
  });
});
