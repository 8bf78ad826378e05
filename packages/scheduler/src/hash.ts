// The kernel's hash functions the schedulers use, bit-exact with x86_64 Linux 6.1.
import { AF_INET, type IpAddress } from "@lvs/inet";
import { GOLDEN_RATIO_32, SIPHASH_CONST } from "./constants.js";

function word(b: Uint8Array, i: number): number {
  return (
    (((b[i] as number) << 24) |
      ((b[i + 1] as number) << 16) |
      ((b[i + 2] as number) << 8) |
      (b[i + 3] as number)) >>>
    0
  );
}

/**
 * The 32-bit value ip_vs_sh/dh/mh/lblc(r)_hashkey() hash, by the *service's* family `af`:
 * ntohl(addr->ip) for IPv4 (the first word of union nf_inet_addr), for IPv6
 * ntohl(ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3]) (= the XOR of the big-endian words).
 */
export function foldAddress(a: IpAddress, af: number = a.af): number {
  const b = a.bytes;
  if (af === AF_INET || b.length === 4) return word(b, 0);
  return (word(b, 0) ^ word(b, 4) ^ word(b, 8) ^ word(b, 12)) >>> 0;
}

/**
 * include/linux/hash.h hash_32(val, bits) = (val * GOLDEN_RATIO_32) >> (32 - bits), in u32
 * arithmetic (x86_64 has no arch-specific __hash_32).
 */
export function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** A 128-bit SipHash key (two little-endian u64 words) split into 32-bit halves. */
export interface SipKey {
  /** v0..v3 after the key is mixed in (PREAMBLE), each as [hi, lo]. */
  readonly init: readonly number[];
}

/** hsiphash_key_t { unsigned long key[2] } on a 64-bit kernel. */
export function sipKey(k0: bigint, k1: bigint): SipKey {
  const v = [SIPHASH_CONST[0]! ^ k0, SIPHASH_CONST[1]! ^ k1, SIPHASH_CONST[2]! ^ k0, SIPHASH_CONST[3]! ^ k1];
  const init: number[] = [];
  for (const x of v) init.push(Number((x >> 32n) & 0xffffffffn), Number(x & 0xffffffffn));
  return { init };
}

/**
 * hsiphash(&v, 4, key) on a 64-bit kernel, where lib/siphash.c makes HalfSipHash-1-3 "actually be
 * SipHash-1-3": no full 8-byte block, b = (4 << 56) | v (the u32 read little-endian, which on x86
 * is v itself), HPOSTAMBLE = v3 ^= b; 1 round; v0 ^= b; v2 ^= 0xff; 3 rounds; the low 32 bits of
 * v0 ^ v1 ^ v2 ^ v3. The 64-bit words are kept as (hi, lo) pairs of u32 in locals; each round is
 * SIPHASH_PERMUTATION (include/linux/siphash.h): add, rotate by 13/16/21/17/32, xor.
 */
export function hsiphashU32(key: SipKey, v: number): number {
  const k = key.init;
  let v0h = k[0]!;
  let v0l = k[1]!;
  let v1h = k[2]!;
  let v1l = k[3]!;
  let v2h = k[4]!;
  let v2l = k[5]!;
  let v3h = k[6]!;
  let v3l = k[7]!;
  const bh = 0x04000000; // (u64)len << 56 with len = 4, high half
  const bl = v >>> 0;
  v3h ^= bh;
  v3l ^= bl;
  let lo: number;
  let t: number;
  for (let r = 0; r < 4; r++) {
    if (r === 1) {
      v0h ^= bh;
      v0l ^= bl;
      v2l ^= 0xff;
    }
    // v0 += v1; v1 = rol64(v1, 13) ^ v0; v0 = rol64(v0, 32)
    lo = (v0l + v1l) >>> 0;
    v0h = (v0h + v1h + (lo < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = lo;
    t = v1h;
    v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h;
    v1l = ((v1l << 13) | (t >>> 19)) ^ v0l;
    t = v0h;
    v0h = v0l;
    v0l = t;
    // v2 += v3; v3 = rol64(v3, 16) ^ v2
    lo = (v2l + v3l) >>> 0;
    v2h = (v2h + v3h + (lo < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = lo;
    t = v3h;
    v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h;
    v3l = ((v3l << 16) | (t >>> 16)) ^ v2l;
    // v0 += v3; v3 = rol64(v3, 21) ^ v0
    lo = (v0l + v3l) >>> 0;
    v0h = (v0h + v3h + (lo < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = lo;
    t = v3h;
    v3h = ((v3h << 21) | (v3l >>> 11)) ^ v0h;
    v3l = ((v3l << 21) | (t >>> 11)) ^ v0l;
    // v2 += v1; v1 = rol64(v1, 17) ^ v2; v2 = rol64(v2, 32)
    lo = (v2l + v1l) >>> 0;
    v2h = (v2h + v1h + (lo < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = lo;
    t = v1h;
    v1h = ((v1h << 17) | (v1l >>> 15)) ^ v2h;
    v1l = ((v1l << 17) | (t >>> 15)) ^ v2l;
    t = v2h;
    v2h = v2l;
    v2l = t;
  }
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}
