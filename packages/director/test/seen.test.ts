// What a pass takes as seen in place (seen.ts): a no-op pass keeps the record it had (no new maps
// and keys per pass), any change of a wanted setting makes a new one, and the settings strings are
// the same whichever way destRepr works them out.
import type { DesiredService, Destination } from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import { destRepr, seenOf, serviceRepr } from "../src/reconcile-compare.js";
import { SeenInPlace } from "../src/seen.js";

const service = { protocol: 6, address: "10.0.0.1", port: 80, scheduler: "wlc" };
const dest = (i: number, over: Partial<Destination> = {}): Destination => ({
  address: `10.1.0.${i}`,
  port: 80,
  forward: 3,
  weight: 1,
  ...over,
});
const desired = (dests: Destination[], svc = service): DesiredService => ({ service: svc, dests });
const ID = "2/6/10.0.0.1/80";

/** A SeenInPlace that took `d` as in place (as a pass's commit does). */
function seenWith(d: DesiredService): SeenInPlace {
  const s = new SeenInPlace();
  s.record([], [{ id: ID, desired: d, seen: s.seenFor(ID, d) }], () => true);
  return s;
}

describe("SeenInPlace.seenFor", () => {
  it("gives back the record it has when nothing wanted changed", () => {
    const first = desired([dest(1), dest(2), dest(3)]);
    const s = seenWith(first);
    const again = desired([dest(3), dest(1), dest(2)]); // rebuilt by the next pass, other order
    const seen = s.seenFor(ID, again);
    expect(seen).toBe(s.seenFor(ID, first));
    expect(seen).toEqual(seenOf(again));
  });

  it("makes a new record when a weight, a real server or the service changed", () => {
    const s = seenWith(desired([dest(1), dest(2)]));
    const before = s.seenFor(ID, desired([dest(1), dest(2)]));
    for (const changed of [
      desired([dest(1), dest(2, { weight: 5 })]),
      desired([dest(1), dest(2, { forward: 0 })]),
      desired([dest(1), dest(2, { upperThreshold: 10 })]),
      desired([dest(1)]),
      desired([dest(1), dest(2), dest(3)]),
      desired([dest(1), dest(4)]),
      desired([dest(1), dest(2)], { ...service, scheduler: "rr" }),
    ]) {
      const seen = s.seenFor(ID, changed);
      expect(seen).not.toBe(before);
      expect(seen).toEqual(seenOf(changed));
    }
  });

  it("a service it never saw gets a new record", () => {
    const d = desired([dest(1)]);
    expect(new SeenInPlace().seenFor(ID, d)).toEqual(seenOf(d));
  });
});

describe("destRepr", () => {
  it("is the same string by the numeric shortcut and by the full settings", () => {
    const full = (d: Destination) =>
      JSON.stringify([
        d.forward,
        d.weight ?? 1,
        d.upperThreshold ?? 0,
        d.lowerThreshold ?? 0,
        d.tunnelType ?? 0,
        d.tunnelPort ?? 0,
        d.tunnelFlags ?? 0,
      ]);
    const cases: Destination[] = [];
    for (const forward of [0, 1, 2, 3, undefined])
      for (const weight of [0, 1, 7, 65535, 2147483647, undefined, 1.5])
        for (const extra of [
          {},
          { upperThreshold: 0, lowerThreshold: 0 },
          { upperThreshold: 9 },
          { tunnelType: 1 },
        ])
          cases.push({ address: "10.1.0.1", port: 80, forward, weight, ...extra } as Destination);
    // Twice: the second time from the shortcut's cache.
    for (const round of [1, 2])
      for (const d of cases) expect(destRepr(d), `${round} ${JSON.stringify(d)}`).toBe(full(d));
    // Distinct settings, distinct strings; equal settings, the one shared string.
    expect(destRepr(dest(1, { weight: 2 }))).not.toBe(destRepr(dest(1, { weight: 3 })));
    expect(destRepr(dest(1))).toBe(destRepr(dest(2)));
    expect(serviceRepr(service)).toBe(serviceRepr({ ...service }));
  });
});
