// The fuzz harness itself: reproducible inputs, and each property able to fail.
import { describe, expect, it } from "vitest";
import { type FuzzTarget, fuzzInput, mutateBytes, netlinkMutator, Rng, runFuzz } from "../src/fuzz.js";

class OwnError extends Error {
  readonly code = "OWN";
}

// nlmsghdr(type 0x20) + genlmsghdr + a nest (type 1) holding two u32 attributes + a u16.
const genl = new Uint8Array(
  Buffer.from(
    "3000000020000000010000000000000001010000" + "14000180080001000100000008000200020000000600030050000000",
    "hex",
  ),
);
genl[0] = genl.length;

/** Strict framing: every nlmsg and attribute length consistent, nests included. */
function consistent(b: Uint8Array): boolean {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const attrs = (s: number, e: number, depth: number): boolean => {
    let o = s;
    while (o < e) {
      if (o + 4 > e) return false;
      const len = v.getUint16(o, true);
      if (len < 4 || o + len > e) return false;
      if (depth === 0 && (v.getUint16(o + 2, true) & 0x8000) !== 0 && !attrs(o + 4, o + len, 1)) return false;
      o += (len + 3) & ~3;
    }
    return true;
  };
  let o = 0;
  while (o < b.length) {
    if (o + 16 > b.length) return false;
    const len = v.getUint32(o, true);
    if (len < 20 || o + len > b.length || !attrs(o + 20, o + len, 0)) return false;
    o += (len + 3) & ~3;
  }
  return b.length > 0;
}

const target = (decode: (b: Uint8Array) => unknown): FuzzTarget => ({
  name: "test/x",
  seeds: [genl],
  mutate: netlinkMutator({ familyHeader: (t) => (t >= 16 ? 4 : undefined) }),
  decode,
  errorClass: OwnError,
});

describe("fuzz harness", () => {
  it("a case's input depends only on (target, seed, index)", () => {
    const t = target(() => undefined);
    for (let i = 0; i < 50; i++) expect(fuzzInput(t, 7, i)).toEqual(fuzzInput(t, 7, i));
    const a = Array.from({ length: 50 }, (_, i) => Buffer.from(fuzzInput(t, 7, i)).toString("hex"));
    const b = Array.from({ length: 50 }, (_, i) => Buffer.from(fuzzInput(t, 8, i)).toString("hex"));
    expect(a).not.toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(40);
  });

  it("reports a foreign error with the case index and input, and replays it", () => {
    const t = target((b) => {
      if (b.length > 40) throw new TypeError("boom");
      if (b.length > 30) throw new OwnError("fine");
      return b.length;
    });
    const r = runFuzz(t, { seed: 1, cases: 500 });
    expect(r.failures.length).toBeGreaterThan(0);
    const f = r.failures[0];
    expect(f?.problem).toMatch(/^threw TypeError: boom/);
    expect(Buffer.from(fuzzInput(t, 1, f?.index ?? 0)).toString("hex")).toBe(f?.input);
    expect(runFuzz(t, { seed: 1, first: f?.index ?? 0, cases: 1 }).failures).toEqual([f]);
    expect(r.rejected).toBeGreaterThan(0);
  });

  it("reports own errors without a code, foreign errors in typed drops, results out of bounds", () => {
    const noCode = target(() => {
      throw Object.assign(new OwnError("x"), { code: undefined });
    });
    expect(runFuzz(noCode, { seed: 1, cases: 3 }).failures[0]?.problem).toMatch(/without a code/);
    const badDrop = target(() => ({ ok: false, error: new RangeError("r") }));
    expect(runFuzz(badDrop, { seed: 1, cases: 3 }).failures[0]?.problem).toMatch(/dropped with RangeError/);
    const huge = target((b) => new Uint8Array(b.length * 200 + 5000));
    expect(runFuzz(huge, { seed: 1, cases: 3 }).failures[0]?.problem).toMatch(/weighs over/);
    const lazy = target(() => ({
      get stats(): number {
        throw new TypeError("lazy");
      },
    }));
    expect(runFuzz(lazy, { seed: 1, cases: 1 }).failures[0]?.problem).toMatch(/reading the result threw/);
  });

  it("netlink mutations: most keep every length consistent (they reach the attributes), many break framing", () => {
    const t = target(() => undefined);
    const outs = Array.from({ length: 2000 }, (_, i) => fuzzInput(t, 3, i));
    const ok = outs.filter(consistent).length;
    expect(ok).toBeGreaterThan(600);
    expect(ok).toBeLessThan(1800);
    // Structural edits show up: a message with more attributes than the capture, and one concatenated.
    expect(outs.some((b) => b.length > genl.length + 8 && consistent(b))).toBe(true);
    expect(outs.some((b) => consistent(b) && new DataView(b.buffer).getUint32(0, true) < b.length)).toBe(
      true,
    );
  });

  it("Rng: below() stays in range and covers it", () => {
    const rng = new Rng(42);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = rng.below(10);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(10);
      seen.add(v);
    }
    expect(seen.size).toBe(10);
    expect(mutateBytes(new Uint8Array(0), rng, [])).toBeInstanceOf(Uint8Array);
  });
});
