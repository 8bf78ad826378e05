// keepalived's rules for single values of the LVS configuration: forwarding methods, real_weight,
// persistence granularity, group address ranges (check/check_parser.c, check/ipvswrapper.c,
// keepalived 2.2.7). Pure.
import { isIP } from "node:net";
import type { LvsMethod } from "@lvs/config";
import { stableKey, type TargetPolicy } from "@lvs/healthcheck";
import { addressToBytes, parseNetmask } from "@lvs/inet";
import {
  AF_INET,
  AF_INET6,
  canonicalAddress,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_CONN_F_TUNNEL_TYPE_GRE,
  IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
  IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
} from "@lvs/ipvs";
import { IPVS_WEIGHT_LIMIT } from "./constants.js";

/** Forwarding of a real (or sorry) server, in @lvs/ipvs's terms. */
export interface ForwardSpec {
  /** IP_VS_CONN_F_MASQ / DROUTE / TUNNEL. */
  forward: number;
  tunnelType: number;
  tunnelPort: number;
  tunnelFlags: number;
}

/** Largest expansion of one group address range (an IPv6 range moves the last 16 bits only). */
const MAX_RANGE = 65_536;

export function familyOf(address: string): number {
  return isIP(address) === 6 ? AF_INET6 : AF_INET;
}

/** `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` (check_parser.c forwarding_handler). */
export function forwardOf(m: LvsMethod): ForwardSpec {
  if (m.method === "NAT") return { forward: IP_VS_CONN_F_MASQ, tunnelType: 0, tunnelPort: 0, tunnelFlags: 0 };
  if (m.method === "DR")
    return { forward: IP_VS_CONN_F_DROUTE, tunnelType: 0, tunnelPort: 0, tunnelFlags: 0 };
  const tunnelType =
    m.tunnelType === "gue"
      ? IP_VS_CONN_F_TUNNEL_TYPE_GUE
      : m.tunnelType === "gre"
        ? IP_VS_CONN_F_TUNNEL_TYPE_GRE
        : IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
  const tunnelFlags =
    m.tunnelChecksum === "csum"
      ? IP_VS_TUNNEL_ENCAP_FLAG_CSUM
      : m.tunnelChecksum === "remcsum"
        ? IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
        : IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
  return { forward: IP_VS_CONN_F_TUNNEL, tunnelType, tunnelPort: m.tunnelPort ?? 0, tunnelFlags };
}

/** keepalived's real_weight(): clamp to [0, IPVS_WEIGHT_LIMIT]. */
export function realWeight(w: number): number {
  if (!(w > 0)) return 0;
  return w > IPVS_WEIGHT_LIMIT ? IPVS_WEIGHT_LIMIT : Math.floor(w);
}

/** `255.255.255.0` or `24` (IPv4), `64` (IPv6) → prefix length; undefined when not contiguous. */
export function granularityPrefix(text: string, af: number): number | undefined {
  try {
    return parseNetmask(text, af);
  } catch {
    return undefined;
  }
}

/** IPv4 range by whole address; IPv6 by the last 16 bits (ipvs_group_range_cmd). */
export function expandRange(first: string, last: string | undefined, warn: (m: string) => void): string[] {
  if (!last) return [canonicalAddress(first)];
  if (isIP(first) === 4) {
    const toInt = (s: string) => new DataView(addressToBytes(s).buffer).getUint32(0);
    const a = toInt(first);
    const b = toInt(last);
    if (b < a) {
      warn(`address range ${first}-${last} is reversed - using ${first} only`);
      return [canonicalAddress(first)];
    }
    const out: string[] = [];
    for (let n = a; n <= b && out.length < MAX_RANGE; n++) {
      out.push([24, 16, 8, 0].map((s) => (n >>> s) & 255).join("."));
    }
    return out;
  }
  const full = canonicalAddress(first);
  const parts = expandV6(full);
  const lastParts = expandV6(canonicalAddress(last));
  const lo = parts[7] as number;
  const hi = lastParts[7] as number;
  if (hi < lo) {
    warn(`address range ${first}-${last} is reversed - using ${first} only`);
    return [full];
  }
  const out: string[] = [];
  for (let n = lo; n <= hi; n++) {
    const p = [...parts];
    p[7] = n;
    out.push(canonicalAddress(p.map((x) => x.toString(16)).join(":")));
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 address. */
function expandV6(a: string): number[] {
  const b = addressToBytes(a);
  return Array.from({ length: 8 }, (_, i) => ((b[2 * i] as number) << 8) | (b[2 * i + 1] as number));
}

/**
 * One frozen copy per distinct check policy: thousands of real servers usually share a handful
 * of policies, and each copy costs ~100 bytes held for the daemon's lifetime.
 */
export class PolicyPool {
  private readonly pool = new Map<string, Readonly<TargetPolicy>>();
  intern(policy: TargetPolicy): Readonly<TargetPolicy> {
    const key = stableKey(policy);
    let shared = this.pool.get(key);
    if (!shared) {
      shared = Object.freeze({ ...policy });
      this.pool.set(key, shared);
    }
    return shared;
  }
}
