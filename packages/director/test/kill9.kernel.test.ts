// Kernel tier (tools/vm): kill -9 the daemon at a random point of a 1,000-service apply, three
// times; each restart converges to the config (ipvsadm -Sn equals the table the config gives) and
// an established connection through a service the config leaves unchanged is never reset.
// The same code makes the README's figure with 100 iterations (bench/kill9.mjs).
import { describe, expect, it } from "vitest";
import { runKill9 } from "../bench/kill9.mjs";

// 4,000 services (8,000 operations): the batch goes out on a pool thread in writes of 128, fast
// enough under TCG that a 1,000-service apply could be over before the first kill point.
const SERVICES = 4000;

describe("kill -9 during a 4,000-service apply", () => {
  it("three kill points through the batch: every restart converges, the established connection survives", async () => {
    const r = await runKill9({
      iterations: 3,
      services: SERVICES,
      spread: true, // at 1/6, 1/2 and 5/6 of the batch
      log: (l) => console.log(l),
    });
    expect(r.iterations).toBe(3);
    expect(r.records.filter((x) => !x.converged)).toEqual([]);
    expect(r.records.filter((x) => x.reset)).toEqual([]);
    // The kills must land before the table is complete for the test to prove anything.
    expect(r.records.some((x) => (x.opsInKernelAtKill ?? 2 * SERVICES) < 2 * SERVICES)).toBe(true);
  }, 900_000); // under TCG on a shared host each iteration (two daemon start-ups) takes ~1 min
});
