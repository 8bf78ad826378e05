// What the reconciler compares: a service's and a destination's settings as one string (what a
// pass saw in place, for drift), and a desired service against a /proc/net/ip_vs summary line.
import type { DesiredService, Destination, Service, ServiceWithDests } from "@lvs/ipvs";
import { destId, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT } from "@lvs/ipvs";
import { flat } from "./keys.js";
import { sameTimeout } from "./proc-ipvs.js";

/**
 * One string per distinct settings: most of 20,000 destinations share a handful (forward,
 * weight 1, no thresholds), and each kept its own copy (0.9 MiB of heap at 20,000). Bounded: dropped
 * when it grows past REPR_POOL_MAX (weights that keep changing), the next pass refills it.
 */
const reprPool = new Map<string, string>();
const REPR_POOL_MAX = 4096;
const shared = (repr: string): string => {
  const have = reprPool.get(repr);
  if (have !== undefined) return have;
  if (reprPool.size >= REPR_POOL_MAX) reprPool.clear();
  reprPool.set(repr, repr);
  return repr;
};
export const serviceRepr = (s: Service): string =>
  shared(
    JSON.stringify([s.scheduler ?? "wlc", s.flags ?? 0, s.timeout ?? 0, s.netmask ?? null, s.peName ?? ""]),
  );
/**
 * destRepr of a destination with no thresholds and no tunnel (nearly all of them), by forwarding
 * method and weight: a number looks it up, no array and JSON text per real server and pass.
 */
const plainDestRepr = new Map<number, string>();

export const destRepr = (d: Destination): string => {
  const weight = d.weight ?? 1;
  if (
    !d.upperThreshold &&
    !d.lowerThreshold &&
    !d.tunnelType &&
    !d.tunnelPort &&
    !d.tunnelFlags &&
    Number.isInteger(weight) &&
    weight >= 0 &&
    weight <= 0x7fffffff
  ) {
    // forward is 0–7 (IP_VS_CONN_F_FWD_MASK) when set by us; anything else takes the slow path.
    const f = d.forward ?? -1;
    if (Number.isInteger(f) && f >= 0 && f < 8) {
      const key = weight * 8 + f;
      const have = plainDestRepr.get(key);
      if (have !== undefined) return have;
      if (plainDestRepr.size >= REPR_POOL_MAX) plainDestRepr.clear();
      const repr = anyDestRepr(d);
      plainDestRepr.set(key, repr);
      return repr;
    }
  }
  return anyDestRepr(d);
};

const anyDestRepr = (d: Destination): string =>
  shared(
    JSON.stringify([
      d.forward,
      d.weight ?? 1,
      d.upperThreshold ?? 0,
      d.lowerThreshold ?? 0,
      d.tunnelType ?? 0,
      d.tunnelPort ?? 0,
      d.tunnelFlags ?? 0,
    ]),
  );

/** A service's settings and its destinations' (destination id → settings), as a pass saw them in place. */
export interface Seen {
  svc: string | undefined;
  dests: Map<string, string>;
}

/** What a pass takes as seen once a desired service is in place. */
export function seenOf(d: DesiredService): Seen {
  const dests = new Map<string, string>();
  // Kept until the next pass: flat copies of the keys (built by templates, each a tree of its
  // parts, ~1.5 MiB at 20,000 real servers).
  for (const x of d.dests) dests.set(flat(destId(x)), destRepr(x));
  return { svc: serviceRepr(d.service), dests };
}

/** /proc prints no family for a fwmark service: key those by mark. */
export const summaryKey = (id: string) => (id.startsWith("fwm/") ? `fwm/${id.split("/")[2]}` : id);

/** Whether a summary line (/proc) shows what a desired service asks for, as far as it can tell. */
export function summaryMatches(d: DesiredService, p: ServiceWithDests): boolean {
  const s = d.service;
  const flags = s.flags ?? 0;
  const persistent = (flags & IP_VS_SVC_F_PERSISTENT) !== 0;
  const v6 = p.service.af === 10 && !s.fwmark;
  if (
    p.service.scheduler !== (s.scheduler ?? "wlc") ||
    ((p.service.flags & IP_VS_SVC_F_PERSISTENT) !== 0) !== persistent ||
    (!v6 && ((p.service.flags & IP_VS_SVC_F_ONEPACKET) !== 0) !== ((flags & IP_VS_SVC_F_ONEPACKET) !== 0))
  )
    return false;
  if (
    persistent &&
    !(
      sameTimeout(p.service.timeout, s.timeout ?? 0) &&
      (p.service.af !== 2 || s.fwmark !== undefined || p.service.netmask === (s.netmask ?? 32))
    )
  )
    return false;
  if (p.dests.length !== d.dests.length) return false;
  // Every quick pass asks this of 5,000 services: no map of ids each time (garbage the collector
  // then stops the thread for) unless a service has many destinations.
  const have = p.dests.length > 16 ? new Map(p.dests.map((x) => [destId(x), x])) : undefined;
  return d.dests.every((x) => {
    const h = have ? have.get(destId(x)) : sameDest(p.dests, x);
    return h !== undefined && h.weight === (x.weight ?? 1) && h.forward === ((x.forward ?? 3) & 7);
  });
}

/** The destination of `dests` that is `x` (same address and port), without building their ids. */
export function sameDest<D extends { address: string; port: number }>(
  dests: readonly D[],
  x: { address: string; port: number },
): D | undefined {
  for (const d of dests) if (d.port === x.port && d.address === x.address) return d;
  // Spelled differently (IPv6 zeros, case): the canonical ids.
  const id = destId(x);
  for (const d of dests) if (d.port === x.port && destId(d) === id) return d;
  return undefined;
}
