import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceKeyIndex } from "../src/key-index.js";

// Keys as the plan makes them: IPv4 services (addr * 65536 + port) * 4 + protocol, below 2^50;
// firewall marks, negative; IPv6 services, ten-unit strings.
const v4Key = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0, max: 2 }),
  )
  .map(([a, p, r]) => (a * 65536 + p) * 4 + r);
const markKey = fc.integer({ min: 1, max: 0xffffffff }).map((m) => -(m * 2) - 1);
const v6Key = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 10, maxLength: 10 })
  .map((u) => String.fromCharCode(...u));
// A few values drawn from a small pool, so collisions of equal keys (and nearby ones) happen.
const key = fc.oneof(v4Key, markKey, v6Key, fc.integer({ min: -40, max: 40 }));

describe("ServiceKeyIndex", () => {
  it("answers get/has/values as a Map given the same sets", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.integer({ min: -1, max: 1000 })), { maxLength: 300 }),
        fc.array(key, { maxLength: 50 }),
        (sets, probes) => {
          const distinct = new Set(sets.map(([k]) => k)).size;
          const index = new ServiceKeyIndex(distinct);
          const map = new Map<number | string, number>();
          for (const [k, v] of sets) {
            index.set(k, v);
            map.set(k, v);
          }
          for (const k of [...map.keys(), ...probes]) {
            expect(index.get(k)).toBe(map.get(k));
            expect(index.has(k)).toBe(map.has(k));
          }
          expect([...index.values()].sort((a, b) => a - b)).toEqual([...map.values()].sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps apart keys whose low 32 bits are equal (only their high words differ)", () => {
    const index = new ServiceKeyIndex(8);
    const keys = Array.from({ length: 8 }, (_, i) => i * 16 * 4294967296);
    for (const [i, k] of keys.entries()) index.set(k, i);
    for (const [i, k] of keys.entries()) expect(index.get(k)).toBe(i);
    expect(index.get(8 * 16 * 4294967296)).toBeUndefined();
  });

  it("refuses more keys than it was sized for, and keys that are not safe integers", () => {
    const index = new ServiceKeyIndex(2);
    for (let k = 0; k < 8; k++) index.set(k, k);
    expect(() => index.set(8, 8)).toThrow(/more keys than sized for/);
    index.set(3, -1);
    expect(index.get(3)).toBe(-1);
    expect(() => index.set(0.5, 1)).toThrow(/not a safe integer/);
  });
});
