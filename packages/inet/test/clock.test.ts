import { describe, expect, it } from "vitest";
import { FakeClock } from "../src/index.js";

describe("FakeClock", () => {
  it("fires timers in deadline order, including ones they schedule", () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("b@20"), 20);
    clock.setTimeout(() => {
      fired.push("a@10");
      clock.setTimeout(() => fired.push("c@15"), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => fired.push("never"), 12);
    clock.clearTimeout(cancelled);
    clock.advance(19);
    expect(fired).toEqual(["a@10", "c@15"]);
    expect(clock.now()).toBe(19);
    clock.advance(1);
    expect(fired).toEqual(["a@10", "c@15", "b@20"]);
    expect(clock.pending).toBe(0);
  });
});
