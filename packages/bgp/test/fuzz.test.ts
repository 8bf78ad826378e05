// Unit tier of the fuzz driver: the BGP decoders of test/fuzz-targets.ts on mutated inputs with a
// fixed seed (`pnpm fuzz` at the root runs 1,000,000 over all packages).
import { CI_FUZZ_CASES, CI_FUZZ_SEED, runFuzz } from "@lvs/testkit";
import { describe, expect, it } from "vitest";
import { fuzzTargets } from "./fuzz-targets.js";

describe(`fuzz: ${CI_FUZZ_CASES} mutated inputs per decoder, seed ${CI_FUZZ_SEED.toString(16)}`, () => {
  it.each(fuzzTargets.map((t) => [t.name, t] as const))(
    "%s",
    (_name, target) => {
      const r = runFuzz(target, { seed: CI_FUZZ_SEED, cases: CI_FUZZ_CASES });
      expect(r.failures).toEqual([]);
      expect(r.cases).toBe(CI_FUZZ_CASES);
      if (target.name === "bgp/message") {
        // The mutations reach both sides: some inputs decode, some are refused.
        expect(r.rejected).toBeGreaterThan(0);
        expect(r.rejected).toBeLessThan(r.cases);
      }
    },
    120_000,
  );
});
