/**
 * What a diff compares: a service's and a real server's settings, each side's defaults filled in
 * place. Identity (address, port, protocol, family, mark) is the caller's; counters never take
 * part. One definition for the diff over decoded objects (diff.ts) and for the comparison in a
 * reply's bytes (fast-match.ts). Pure.
 */
import * as C from "./constants.js";
import type { Destination, DestinationEntry, Service, ServiceEntry } from "./types.js";

export const defaultNetmask = (af: number): number => (af === C.AF_INET6 ? 128 : 32);

// Field by field, no normalised copies: a no-op reconcile compares every object of the table (and
// no JSON.stringify, which cost more than the rest of the diff).
export function sameService(a: Service | ServiceEntry, b: Service | ServiceEntry, af: number): boolean {
  return (
    (a.scheduler ?? "wlc") === (b.scheduler ?? "wlc") &&
    // IP_VS_SVC_F_HASHED is the kernel's bookkeeping, reported back but never ours to set.
    ((a.flags ?? 0) & ~C.IP_VS_SVC_F_HASHED) === ((b.flags ?? 0) & ~C.IP_VS_SVC_F_HASHED) &&
    (a.timeout ?? 0) === (b.timeout ?? 0) &&
    (a.netmask ?? defaultNetmask(af)) === (b.netmask ?? defaultNetmask(af)) &&
    (a.peName ?? "") === (b.peName ?? "")
  );
}

/** The real-server settings sameDest reads (a DestinationEntry has them all). */
export type DestSettings = Pick<
  Destination,
  "forward" | "weight" | "upperThreshold" | "lowerThreshold" | "tunnelType" | "tunnelPort" | "tunnelFlags"
>;

const forwardOf = (d: DestSettings): number => (d.forward ?? C.IP_VS_CONN_F_DROUTE) & C.IP_VS_CONN_F_FWD_MASK;
// Tunnel settings only mean something for tunnel forwarding (and the port only for GUE, the
// flags not for IPIP).
const tunnelPortOf = (d: DestSettings): number =>
  d.tunnelType === C.IP_VS_CONN_F_TUNNEL_TYPE_GUE ? (d.tunnelPort ?? 0) : 0;
const tunnelFlagsOf = (d: DestSettings): number =>
  d.tunnelType !== C.IP_VS_CONN_F_TUNNEL_TYPE_IPIP ? (d.tunnelFlags ?? 0) : 0;

export function sameDest(a: DestSettings | DestinationEntry, b: DestSettings | DestinationEntry): boolean {
  const forward = forwardOf(a);
  if (
    forward !== forwardOf(b) ||
    (a.weight ?? 1) !== (b.weight ?? 1) ||
    (a.upperThreshold ?? 0) !== (b.upperThreshold ?? 0) ||
    (a.lowerThreshold ?? 0) !== (b.lowerThreshold ?? 0)
  ) {
    return false;
  }
  if (forward !== C.IP_VS_CONN_F_TUNNEL) return true;
  return (
    (a.tunnelType ?? 0) === (b.tunnelType ?? 0) &&
    tunnelPortOf(a) === tunnelPortOf(b) &&
    tunnelFlagsOf(a) === tunnelFlagsOf(b)
  );
}
