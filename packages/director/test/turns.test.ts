// Long loops give the event loop a turn once they have held it for the budget (turns.ts), and
// only then: a clock the test moves stands in for the work.
import { MemoryIpvs, serviceId } from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import { ObservedTable } from "../src/observed.js";
import { parseProcIpvsYielding } from "../src/proc-ipvs.js";
import { TurnBudget } from "../src/turns.js";

/** A budget over a clock that moves `stepMs` each time it is read; yields are counted, and instant. */
function rig(budgetMs: number, stepMs: number) {
  let t = 0;
  const turns: number[] = [];
  const budget = new TurnBudget({
    budgetMs,
    clock: () => {
      t += stepMs;
      return t;
    },
    yieldTurn: async () => {
      turns.push(t);
    },
  });
  return { budget, turns };
}

describe("TurnBudget", () => {
  it("yields once the budget is spent, and starts it again after the turn", async () => {
    // 1 ms per item (one clock read each), 5 ms budget: a turn before every fifth item or so.
    const { budget, turns } = rig(5, 1);
    const seen: number[] = [];
    await budget.each(
      Array.from({ length: 50 }, (_, i) => i),
      (i) => seen.push(i),
    );
    expect(seen).toHaveLength(50);
    expect(budget.yields).toBe(turns.length);
    expect(turns.length).toBeGreaterThanOrEqual(8);
    expect(turns.length).toBeLessThanOrEqual(12);
  });

  it("does not yield while under budget", async () => {
    const { budget, turns } = rig(5, 0.001);
    expect(await budget.map([1, 2, 3, 4, 5, 6, 7, 8], (x) => x * 2)).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(turns).toEqual([]);
    expect(budget.due()).toBe(false);
  });

  it("yields by time, not by count: slow items get a turn each", async () => {
    const { budget } = rig(5, 6);
    await budget.each([1, 2, 3, 4], () => {});
    expect(budget.yields).toBe(4);
  });

  it("the /proc summary parse gives turns on the same budget, and parses the same", async () => {
    const lines = ["IP Virtual Server version 1.2.1 (size=4096)", "Prot LocalAddress:Port Scheduler Flags"];
    for (let i = 0; i < 200; i++) {
      lines.push(
        `TCP  0A0000${(i % 256).toString(16).padStart(2, "0")}:${(1000 + i).toString(16).padStart(4, "0")} wlc`,
      );
      lines.push("  -> 0A000102:1F90      Route   1      0          0");
    }
    const { budget } = rig(5, 1);
    const out = await parseProcIpvsYielding(lines.join("\n"), budget);
    expect(out).toHaveLength(200);
    expect(out.every((s) => s.dests.length === 1)).toBe(true);
    expect(budget.yields).toBeGreaterThan(0);
  });

  it("a quick pass's summary, taken in between turns, leaves a service edited meanwhile as it is", async () => {
    const k = new MemoryIpvs();
    const svc = (i: number) => ({ protocol: 6, address: `10.0.0.${i}`, port: 80 });
    for (const i of [1, 2]) {
      k.apply({ op: "addService", service: svc(i) });
      k.apply({ op: "addDest", service: svc(i), dest: { address: "10.1.0.1", port: 80, weight: 1 } });
    }
    const table = new ObservedTable();
    table.record("full", undefined, await k.table(), []);
    for (const i of [1, 2])
      k.apply({ op: "editDest", service: svc(i), dest: { address: "10.1.0.1", port: 80, weight: 7 } });
    const summary = await k.table();
    const edited = new Set<string>();
    let turns = 0;
    const yielding = new TurnBudget({
      budgetMs: 0,
      yieldTurn: async () => {
        // An edit of the first service goes out during the first turn the refresh gives.
        if (turns++ === 0) edited.add(serviceId(svc(1)));
      },
    });
    await table.refreshInTurns(summary, (id) => edited.has(id), yielding);
    expect(turns).toBeGreaterThan(0);
    expect(table.get(serviceId(svc(1)))?.dests[0]?.weight).toBe(1);
    expect(table.get(serviceId(svc(2)))?.dests[0]?.weight).toBe(7);
  });
});
