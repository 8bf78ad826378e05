// The kernel's hash functions: hash_32 (include/linux/hash.h) and hsiphash on a 64-bit kernel
// (lib/siphash.c: SipHash-1-3), checked against the kernel's own self-test vector and against an
// independent BigInt implementation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hash32, hsiphashU32, MH_HASH1_KEY, MH_HASH2_KEY, mhHashKey, sipKey } from "../src/index.js";

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;

/** SipHash-1-3 of one u32 (lib/siphash.c HPREAMBLE/HPOSTAMBLE on 64-bit), in BigInt. */
function refHsiphashU32(k0: bigint, k1: bigint, v: number): number {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & M64;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & M64;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & M64;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const b = (4n << 56n) | BigInt(v >>> 0);
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
}

describe("hash_32", () => {
  it("is the high bits of val * 0x61C88647 mod 2^32", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 32 }), (val, bits) => {
        const ref = Number(((BigInt(val) * 0x61c88647n) & 0xffffffffn) >> BigInt(32 - bits));
        expect(hash32(val, bits)).toBe(ref);
      }),
    );
  });
  it("known values", () => {
    expect(hash32(0, 8)).toBe(0);
    expect(hash32(1, 8)).toBe(0x61);
    expect(hash32(0x0a000001, 8)).toBe(Number(((0x0a000001n * 0x61c88647n) & 0xffffffffn) >> 24n));
  });
});

describe("hsiphash (SipHash-1-3 on 64-bit kernels)", () => {
  it("matches lib/test_siphash.c: hsiphash_1u32(0x03020100) == test_vectors_hsiphash[4]", () => {
    const key = sipKey(0x0706050403020100n, 0x0f0e0d0c0b0a0908n);
    expect(hsiphashU32(key, 0x03020100)).toBe(0x88d38328);
  });

  it("matches an independent BigInt SipHash-1-3 for any key and value", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: M64 }),
        fc.bigInt({ min: 0n, max: M64 }),
        fc.nat({ max: 0xffffffff }),
        (k0, k1, v) => {
          expect(hsiphashU32(sipKey(k0, k1), v)).toBe(refHsiphashU32(k0, k1, v));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("ip_vs_mh_hashkey: the u32 offset + port + address, with ip_vs_mh.c's fixed keys", () => {
    const k1 = BigInt(MH_HASH1_KEY);
    const k2 = BigInt(MH_HASH2_KEY);
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 65535 }),
        fc.nat({ max: 131071 }),
        (addr, port, off) => {
          const v = (addr + port + off) >>> 0;
          expect(mhHashKey(addr, port, sipKey(k1, k1), off)).toBe(refHsiphashU32(k1, k1, v));
          expect(mhHashKey(addr, port, sipKey(k2, k2), off)).toBe(refHsiphashU32(k2, k2, v));
        },
      ),
    );
  });
});
