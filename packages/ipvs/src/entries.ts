// What the kernel would report for a service or real server just programmed: the settings of an
// operation as the entry a dump returns, keeping the counters of what was there before (the
// kernel's defaults for what the operation leaves out). Used by the in-memory IPVS and by callers
// that keep a copy of the table up to date with the operations they sent.
import { AF_INET, AF_INET6, Forward } from "./constants.js";
import type { Destination, DestinationEntry, Service, ServiceEntry, ServiceKey } from "./types.js";

const familyOf = (address: string): number => (address.includes(":") ? AF_INET6 : AF_INET);

export function serviceEntryOf(s: Service | ServiceKey, prev?: ServiceEntry): ServiceEntry {
  const full = s as Service;
  const af = full.af ?? (full.fwmark !== undefined ? AF_INET : familyOf(full.address ?? ""));
  return {
    af,
    protocol: full.protocol ?? 0,
    address: full.address ?? (af === AF_INET6 ? "::" : "0.0.0.0"),
    port: full.port ?? 0,
    fwmark: full.fwmark ?? 0,
    scheduler: full.scheduler ?? "wlc",
    flags: full.flags ?? 0,
    timeout: full.timeout ?? 0,
    netmask: full.netmask ?? (af === AF_INET6 ? 128 : 32),
    peName: full.peName,
    stats: prev?.stats,
    stats64: prev?.stats64,
  };
}

export function destEntryOf(d: Destination, prev?: DestinationEntry): DestinationEntry {
  return {
    af: d.af ?? familyOf(d.address),
    address: d.address,
    port: d.port,
    forward: d.forward ?? Forward.ROUTE,
    weight: d.weight ?? 1,
    upperThreshold: d.upperThreshold ?? 0,
    lowerThreshold: d.lowerThreshold ?? 0,
    activeConns: prev?.activeConns ?? 0,
    inactiveConns: prev?.inactiveConns ?? 0,
    persistConns: prev?.persistConns ?? 0,
    tunnelType: d.tunnelType ?? 0,
    tunnelPort: d.tunnelPort ?? 0,
    tunnelFlags: d.tunnelFlags ?? 0,
    stats: prev?.stats,
    stats64: prev?.stats64,
  };
}
