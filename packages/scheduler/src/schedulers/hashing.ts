// The hashing schedulers: dh, sh (ip_vs_dh.c, ip_vs_sh.c) and mh, Maglev (ip_vs_mh.c), Linux 6.1.

import type { IpAddress } from "@lvs/inet";
import {
  IP_VS_DH_TAB_BITS,
  IP_VS_SH_TAB_BITS,
  IP_VS_SVC_F_SCHED_MH_FALLBACK,
  IP_VS_SVC_F_SCHED_MH_PORT,
  IP_VS_SVC_F_SCHED_SH_FALLBACK,
  IP_VS_SVC_F_SCHED_SH_PORT,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MH_HASH1_KEY,
  MH_HASH2_KEY,
} from "../constants.js";
import type { Dest } from "../dest.js";
import { foldAddress, hash32, hsiphashU32, type SipKey, sipKey } from "../hash.js";
import type { PacketView, SchedHost, Scheduler } from "./types.js";

/** ip_vs_sh_get_port() / ip_vs_mh_get_port(): the client's port for TCP, UDP, SCTP; else 0. */
function clientPort(p: PacketView): number {
  return p.protocol === IPPROTO_TCP || p.protocol === IPPROTO_UDP || p.protocol === IPPROTO_SCTP
    ? p.cport
    : 0;
}

const unavailable = (d: Dest) => d.weight <= 0 || d.overloaded;

/**
 * ip_vs_dh.c: 256 buckets filled round-robin with the destinations in list order (weights are
 * ignored), rebuilt on add/del (no upd callback); bucket = hash_32(ntohl(daddr fold), 8).
 */
export function dh(host: SchedHost): Scheduler {
  const size = 1 << IP_VS_DH_TAB_BITS;
  const buckets: (Dest | null)[] = new Array(size).fill(null);
  const reassign = () => {
    const ds = host.dests;
    for (let i = 0; i < size; i++) buckets[i] = ds.length === 0 ? null : ds[i % ds.length]!;
  };
  reassign();
  return {
    name: "dh",
    schedule(p) {
      const d = buckets[hash32(foldAddress(p.vaddr, host.af), IP_VS_DH_TAB_BITS)];
      if (!d || !d.available || d.weight <= 0 || d.overloaded) return undefined;
      return d;
    },
    addDest: reassign,
    delDest: reassign,
    kernelBytes: () => size * 8,
  };
}

/** ip_vs_sh_hashkey(): (offset + hash_32(ntohs(port) + ntohl(addr fold), 8)) & 255. */
function shKey(fold32: number, port: number, offset: number): number {
  return (offset + hash32((port + fold32) >>> 0, IP_VS_SH_TAB_BITS)) & ((1 << IP_VS_SH_TAB_BITS) - 1);
}

/**
 * ip_vs_sh.c: 256 buckets; ip_vs_sh_reassign() walks the list cyclically giving each destination
 * `weight` consecutive buckets (weight 0 still gets one), rebuilt on add/del/upd. sh-port adds
 * the client port to the hashed value; sh-fallback, when the bucket's destination is unavailable,
 * tries hash keys with offsets (i + ihash) % 256 for i = 0..255, stopping at an empty bucket.
 */
export function sh(host: SchedHost): Scheduler {
  const size = 1 << IP_VS_SH_TAB_BITS;
  const buckets: (Dest | null)[] = new Array(size).fill(null);
  const reassign = () => {
    const ds = host.dests;
    if (ds.length === 0) {
      buckets.fill(null);
      return;
    }
    let p = 0;
    let count = 0;
    for (let i = 0; i < size; i++) {
      const d = ds[p]!;
      buckets[i] = d;
      if (++count >= d.weight) {
        p = (p + 1) % ds.length;
        count = 0;
      }
    }
  };
  reassign();
  return {
    name: "sh",
    schedule(p) {
      const port = host.flags & IP_VS_SVC_F_SCHED_SH_PORT ? clientPort(p) : 0;
      const f = foldAddress(p.caddr, host.af);
      const ihash = shKey(f, port, 0);
      const d = buckets[ihash];
      if (!(host.flags & IP_VS_SVC_F_SCHED_SH_FALLBACK)) return !d || unavailable(d) ? undefined : d;
      if (!d) return undefined;
      if (!unavailable(d)) return d;
      for (let offset = 0; offset < size; offset++) {
        const roffset = (offset + ihash) % size;
        const e = buckets[shKey(f, port, roffset)];
        if (!e) break;
        if (!unavailable(e)) return e;
      }
      return undefined;
    },
    addDest: reassign,
    delDest: reassign,
    updDest: reassign,
    kernelBytes: () => size * 8,
  };
}

const HASH1 = sipKey(BigInt(MH_HASH1_KEY), BigInt(MH_HASH1_KEY));
const HASH2 = sipKey(BigInt(MH_HASH2_KEY), BigInt(MH_HASH2_KEY));

/** ip_vs_mh_hashkey(): hsiphash of the u32 (offset + ntohs(port) + ntohl(addr fold)). */
export function mhHashKey(fold32: number, port: number, key: SipKey, offset: number): number {
  return hsiphashU32(key, (offset + port + fold32) >>> 0);
}

/** fls(): the 1-based index of the most significant set bit, 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/** A Maglev lookup table of `size` slots for `dests` (ip_vs_mh_permutate + ip_vs_mh_populate). */
export interface MaglevInput {
  af: number;
  size: number;
  /** IP_VS_MH_TAB_BITS: weights above 2^bits (after the gcd) are shifted down. */
  bits: number;
  dests: readonly { addr: IpAddress; port: number; lastWeight: number }[];
}

/**
 * Fills `lookup` (length `size`) with indexes into `dests`, as the kernel fills s->lookup: each
 * destination's permutation starts at hash1 % M and steps by hash2 % (M - 1) + 1; in list order,
 * each takes `turns` = ((last_weight / gcd) >> rshift) || (last_weight != 0) slots per round until
 * all M are taken. Returns false (table untouched) when no destination has a last weight (the
 * kernel then empties the table) — the caller clears it.
 */
export function populateMaglev(input: MaglevInput, lookup: Int32Array): boolean {
  const { size: M, dests } = input;
  let g = 0;
  let maxw = 0;
  for (const d of dests) {
    const w = d.lastWeight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
    if (w > maxw) maxw = w;
  }
  if (g < 1) return false;
  const shift = Math.max(0, fls(Math.trunc(maxw / g)) - input.bits);
  const n = dests.length;
  const perm = new Int32Array(n);
  const skip = new Int32Array(n);
  const turns = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    const f = foldAddress(d.addr, input.af);
    perm[i] = mhHashKey(f, d.port, HASH1, 0) % M;
    skip[i] = (mhHashKey(f, d.port, HASH2, 0) % (M - 1)) + 1;
    const lw = d.lastWeight;
    turns[i] = Math.trunc(lw / g) >> shift || (lw !== 0 ? 1 : 0);
  }
  const taken = new Uint8Array(M);
  let filled = 0;
  let dt = 0;
  let i = 0;
  for (;;) {
    const t = turns[i]!;
    if (t > 0) {
      const s = skip[i]! - M;
      let c = perm[i]!;
      // c = (c + skip) % M without a branch: c + skip - M is in (-M, M).
      while (taken[c] !== 0) {
        c += s;
        c += M & (c >> 31);
      }
      taken[c] = 1;
      lookup[c] = i;
      // The kernel leaves perm on the slot it just took and steps past it on the next turn;
      // stepping now gives the same slots with one probe less.
      c += s;
      perm[i] = c + (M & (c >> 31));
      if (++filled === M) return true;
      // A destination takes `turns` slots in a row before the next one's turn.
      if (++dt < t) continue;
      dt = 0;
    }
    if (++i === n) i = 0;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * ip_vs_mh.c (Maglev): a prime-sized table (4093 by default) rebuilt on add/del/upd from the
 * destinations' last weights; lookup slot = hsiphash(addr fold + port) % M with the fixed key
 * hash1; mh-port adds the client port; mh-fallback retries with offsets (i + ihash) % M like sh.
 * With more destinations than slots the kernel's rebuild fails (-EINVAL, ignored) and the old
 * table stays, which is kept here too.
 */
export function mh(host: SchedHost): Scheduler {
  const M = host.options.mhTableSize;
  // One pointer per slot, as the kernel's s->lookup (8 bytes each on 64-bit).
  const lookup: (Dest | null)[] = new Array(M).fill(null);
  const reassign = () => {
    const ds = host.dests;
    if (ds.length > M) return;
    const idx = new Int32Array(M);
    const ok = populateMaglev({ af: host.af, size: M, bits: host.options.mhTableBits, dests: ds }, idx);
    if (!ok) {
      lookup.fill(null);
      return;
    }
    for (let i = 0; i < M; i++) lookup[i] = ds[idx[i]!]!;
  };
  reassign();
  return {
    name: "mh",
    schedule(p) {
      const port = host.flags & IP_VS_SVC_F_SCHED_MH_PORT ? clientPort(p) : 0;
      const f = foldAddress(p.caddr, host.af);
      const ihash = mhHashKey(f, port, HASH1, 0) % M;
      const d = lookup[ihash];
      if (!(host.flags & IP_VS_SVC_F_SCHED_MH_FALLBACK)) return !d || unavailable(d) ? undefined : d;
      if (!d) return undefined;
      if (!unavailable(d)) return d;
      for (let offset = 0; offset < M; offset++) {
        const roffset = (offset + ihash) % M;
        const e = lookup[mhHashKey(f, port, HASH1, roffset) % M];
        if (!e) break;
        if (!unavailable(e)) return e;
      }
      return undefined;
    },
    addDest: reassign,
    delDest: reassign,
    updDest: reassign,
    kernelBytes: () => M * 8,
  };
}
