/**
 * Typed objects ⇄ codec attributes, and one builder per IPVS command. Pure.
 */
import {
  formatAddress,
  formatEndpoint,
  type IpAddress,
  ipVersion,
  maskToPrefix,
  prefixToMask,
  tryParseAddress,
} from "@lvs/inet";
import type { DaemonAttrs, DestAttrs, IpvsMessage, ServiceAttrs, StatsAttrs } from "./codec.js";
import * as C from "./constants.js";
import { IpvsError } from "./errors.js";
import type {
  Daemon,
  Destination,
  DestinationEntry,
  IpvsInfo,
  Service,
  ServiceEntry,
  ServiceKey,
  Stats,
  Timeouts,
} from "./types.js";

/** 16-byte union nf_inet_addr, as the kernel and ipvsadm put IPVS_*_ATTR_ADDR. */
function addr16(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(bytes);
  return out;
}

function u32FromNetworkBytes(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}
function networkBytesFromU32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v >>> 0, true);
  return out;
}

/** The address of a request, or IPVS_BAD_ADDRESS naming the object it belongs to. */
function requestAddress(text: string | undefined, object: string): IpAddress {
  const a = tryParseAddress(text as string);
  if (!a) {
    throw new IpvsError("IPVS_BAD_ADDRESS", `not an IPv4 or IPv6 address: ${JSON.stringify(text)}`, {
      object,
    });
  }
  return a;
}

/** Family of a service key: explicit, or from its address, or IPv4 for a bare fwmark. */
export function serviceFamily(key: ServiceKey): number {
  if (key.af !== undefined) return key.af;
  if (key.fwmark !== undefined) return C.AF_INET;
  // Asked for every service of a diff: the version straight from the text, and the described
  // error (its string built) only for an address that is neither.
  const version = typeof key.address === "string" ? ipVersion(key.address) : 0;
  if (version === 4) return C.AF_INET;
  if (version === 6) return C.AF_INET6;
  return requestAddress(key.address, describeService(key)).af;
}

/** "TCP 10.0.0.1:80", "UDP [2001:db8::1]:53", "FWM 7", "FWM 7 IPv6" (ipvsadm -L style). */
export function describeService(key: ServiceKey | ServiceEntry): string {
  if (key.fwmark) return `FWM ${key.fwmark}${key.af === C.AF_INET6 ? " IPv6" : ""}`;
  const proto = C.PROTOCOL_NAMES[key.protocol ?? 0] ?? `proto${key.protocol}`;
  return `${proto} ${formatEndpoint(key.address ?? "", key.port ?? 0)}`;
}

export function describeDest(
  key: ServiceKey | ServiceEntry,
  dest: { address: string; port: number },
): string {
  return `${describeService(key)} -> ${formatEndpoint(dest.address, dest.port)}`;
}

/** Identity attributes only (enough for DEL, GET, ZERO and the dest commands). */
export function serviceKeyAttrs(key: ServiceKey): ServiceAttrs {
  const af = serviceFamily(key);
  if (key.fwmark !== undefined && key.fwmark !== 0) return { af, fwmark: key.fwmark };
  const { bytes } = requestAddress(key.address, describeService(key));
  return { af, protocol: key.protocol as number, addr: addr16(bytes), port: key.port as number };
}

/**
 * The full service entry NEW_SERVICE / SET_SERVICE need (ip_vs_genl_parse_service with
 * full_entry: SCHED_NAME, FLAGS, TIMEOUT and NETMASK are required), in ipvsadm's order.
 */
export function serviceFullAttrs(svc: Service): ServiceAttrs {
  const a = serviceKeyAttrs(svc);
  const af = a.af as number;
  a.schedName = svc.scheduler ?? "wlc";
  if (svc.peName) a.peName = svc.peName;
  // mask ~0: the kernel replaces every flag bit with ours (ip_vs_genl_parse_service).
  a.flags = { flags: (svc.flags ?? 0) >>> 0, mask: 0xffffffff };
  a.timeout = svc.timeout ?? 0;
  a.netmask = encodeNetmask(af, svc.netmask);
  return a;
}

export function encodeNetmask(af: number, prefix: number | undefined): number {
  if (af === C.AF_INET6) return prefix ?? 128;
  const mask = prefixToMask(prefix ?? 32);
  return u32FromNetworkBytes(
    new Uint8Array([mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff]),
  );
}

export function decodeNetmask(af: number, raw: number): number {
  if (af === C.AF_INET6) return raw;
  // `raw` is the attribute's network-order bytes read little-endian: swapped back, without an
  // array per service (a table read decodes every service's netmask).
  const mask =
    (((raw & 0xff) << 24) | (((raw >>> 8) & 0xff) << 16) | (((raw >>> 16) & 0xff) << 8) | (raw >>> 24)) >>> 0;
  const prefix = maskToPrefix(mask);
  if (prefix === undefined) {
    throw new IpvsError(
      "IPVS_BAD_MESSAGE",
      `non-contiguous IPv4 persistence netmask ${networkBytesFromU32(raw).join(".")} is not supported`,
    );
  }
  return prefix;
}

export function statsFromAttrs(s: StatsAttrs | undefined): Stats | undefined {
  if (!s) return undefined;
  const z = 0n;
  return {
    conns: s.conns ?? z,
    inPkts: s.inPkts ?? z,
    outPkts: s.outPkts ?? z,
    inBytes: s.inBytes ?? z,
    outBytes: s.outBytes ?? z,
    cps: s.cps ?? z,
    inPps: s.inPps ?? z,
    outPps: s.outPps ?? z,
    inBps: s.inBps ?? z,
    outBps: s.outBps ?? z,
  };
}

export function serviceEntryFromAttrs(a: ServiceAttrs): ServiceEntry {
  const af = a.af ?? C.AF_INET;
  const fwmark = a.fwmark ?? 0;
  return {
    af,
    protocol: a.protocol ?? 0,
    address: a.addr ? formatAddress(af, a.addr) : af === C.AF_INET6 ? "::" : "0.0.0.0",
    port: a.port ?? 0,
    fwmark,
    scheduler: a.schedName ?? "",
    flags: a.flags?.flags ?? 0,
    timeout: a.timeout ?? 0,
    netmask: a.netmask === undefined ? (af === C.AF_INET6 ? 128 : 32) : decodeNetmask(af, a.netmask),
    peName: a.peName || undefined,
    stats: statsFromAttrs(a.stats),
    stats64: statsFromAttrs(a.stats64),
  };
}

/** Full dest entry (ip_vs_genl_parse_dest with full_entry: FWD_METHOD, WEIGHT, U/L_THRESH). */
export function destFullAttrs(_svcAf: number, d: Destination): DestAttrs {
  const { af: addrAf, bytes } = requestAddress(d.address, formatEndpoint(d.address, d.port));
  const af = d.af ?? addrAf;
  const a: DestAttrs = {
    addrFamily: af,
    addr: addr16(bytes),
    port: d.port,
    fwdMethod: d.forward ?? C.IP_VS_CONN_F_DROUTE,
    weight: d.weight ?? 1,
    tunType: d.tunnelType ?? 0,
    tunPort: d.tunnelPort ?? 0,
    tunFlags: d.tunnelFlags ?? 0,
    uThresh: d.upperThreshold ?? 0,
    lThresh: d.lowerThreshold ?? 0,
  };
  return a;
}

export function destKeyAttrs(d: { address: string; port: number; af?: number }): DestAttrs {
  const { af, bytes } = requestAddress(d.address, formatEndpoint(d.address, d.port));
  return { addrFamily: d.af ?? af, addr: addr16(bytes), port: d.port };
}

export function destEntryFromAttrs(a: DestAttrs, svcAf: number): DestinationEntry {
  // IPVS_DEST_ATTR_ADDR_FAMILY is absent on kernels before 4.9: the service's family then.
  const af = a.addrFamily ?? svcAf;
  return {
    af,
    address: a.addr ? formatAddress(af, a.addr) : "",
    port: a.port ?? 0,
    forward: (a.fwdMethod ?? 0) & C.IP_VS_CONN_F_FWD_MASK,
    weight: a.weight ?? 0,
    upperThreshold: a.uThresh ?? 0,
    lowerThreshold: a.lThresh ?? 0,
    activeConns: a.activeConns ?? 0,
    inactiveConns: a.inactConns ?? 0,
    persistConns: a.persistConns ?? 0,
    tunnelType: a.tunType ?? 0,
    tunnelPort: a.tunPort ?? 0,
    tunnelFlags: a.tunFlags ?? 0,
    stats: statsFromAttrs(a.stats),
    stats64: statsFromAttrs(a.stats64),
  };
}

export function daemonAttrs(d: Daemon): DaemonAttrs {
  const a: DaemonAttrs = { state: d.state, mcastIfn: d.mcastIfn, syncId: d.syncId };
  if (d.syncMaxLen) a.syncMaxLen = d.syncMaxLen;
  if (d.mcastPort) a.mcastPort = d.mcastPort;
  if (d.mcastTtl) a.mcastTtl = d.mcastTtl;
  if (d.mcastGroup) {
    const { af, bytes } = requestAddress(d.mcastGroup, "mcast group");
    if (af === C.AF_INET6) a.mcastGroup6 = bytes;
    else a.mcastGroup = bytes;
  }
  return a;
}

export function daemonFromAttrs(a: DaemonAttrs): Daemon {
  const d: Daemon = { state: a.state ?? 0, mcastIfn: a.mcastIfn ?? "", syncId: a.syncId ?? 0 };
  if (a.syncMaxLen) d.syncMaxLen = a.syncMaxLen;
  if (a.mcastPort) d.mcastPort = a.mcastPort;
  if (a.mcastTtl) d.mcastTtl = a.mcastTtl;
  if (a.mcastGroup6) d.mcastGroup = formatAddress(C.AF_INET6, a.mcastGroup6);
  else if (a.mcastGroup) d.mcastGroup = formatAddress(C.AF_INET, a.mcastGroup);
  return d;
}

// ---------------------------------------------------------------- one builder per command
const cmd = C.IpvsCmd;
export const Msg = {
  newService: (s: Service): IpvsMessage => ({ cmd: cmd.NEW_SERVICE, service: serviceFullAttrs(s) }),
  setService: (s: Service): IpvsMessage => ({ cmd: cmd.SET_SERVICE, service: serviceFullAttrs(s) }),
  delService: (k: ServiceKey): IpvsMessage => ({ cmd: cmd.DEL_SERVICE, service: serviceKeyAttrs(k) }),
  getService: (k: ServiceKey): IpvsMessage => ({ cmd: cmd.GET_SERVICE, service: serviceKeyAttrs(k) }),
  dumpServices: (): IpvsMessage => ({ cmd: cmd.GET_SERVICE }),
  newDest: (k: ServiceKey, d: Destination): IpvsMessage => ({
    cmd: cmd.NEW_DEST,
    service: serviceKeyAttrs(k),
    dest: destFullAttrs(serviceFamily(k), d),
  }),
  setDest: (k: ServiceKey, d: Destination): IpvsMessage => ({
    cmd: cmd.SET_DEST,
    service: serviceKeyAttrs(k),
    dest: destFullAttrs(serviceFamily(k), d),
  }),
  delDest: (k: ServiceKey, d: { address: string; port: number }): IpvsMessage => ({
    cmd: cmd.DEL_DEST,
    service: serviceKeyAttrs(k),
    dest: destKeyAttrs(d),
  }),
  dumpDests: (k: ServiceKey): IpvsMessage => ({ cmd: cmd.GET_DEST, service: serviceKeyAttrs(k) }),
  newDaemon: (d: Daemon): IpvsMessage => ({ cmd: cmd.NEW_DAEMON, daemon: daemonAttrs(d) }),
  // ipvsadm also sends an empty ifname and syncid 0; the kernel reads only STATE.
  delDaemon: (state: number): IpvsMessage => ({
    cmd: cmd.DEL_DAEMON,
    daemon: { state, mcastIfn: "", syncId: 0 },
  }),
  dumpDaemons: (): IpvsMessage => ({ cmd: cmd.GET_DAEMON }),
  setConfig: (t: Timeouts): IpvsMessage => ({
    cmd: cmd.SET_CONFIG,
    timeoutTcp: t.tcp,
    timeoutTcpFin: t.tcpFin,
    timeoutUdp: t.udp,
  }),
  getConfig: (): IpvsMessage => ({ cmd: cmd.GET_CONFIG }),
  getInfo: (): IpvsMessage => ({ cmd: cmd.GET_INFO }),
  zero: (k?: ServiceKey): IpvsMessage =>
    k ? { cmd: cmd.ZERO, service: serviceKeyAttrs(k) } : { cmd: cmd.ZERO },
  flush: (): IpvsMessage => ({ cmd: cmd.FLUSH }),
};

export function timeoutsFromMessage(m: IpvsMessage): Timeouts {
  return { tcp: m.timeoutTcp ?? 0, tcpFin: m.timeoutTcpFin ?? 0, udp: m.timeoutUdp ?? 0 };
}

export function infoFromMessage(m: IpvsMessage): IpvsInfo {
  return { version: m.info?.version ?? 0, connTabSize: m.info?.connTabSize ?? 0 };
}

/** The identity of a reported service, usable as a key in further requests. */
/**
 * Tables as the client decoded them from the kernel (`table()`): every address in them is the
 * kernel's bytes formatted as canonical text already, so a diff need not canonicalise them again.
 */
const kernelTables = new WeakSet<object>();

/** Marks `table` as decoded from the kernel (see kernelTables). */
export function markKernelTable<T extends object>(table: T): T {
  kernelTables.add(table);
  return table;
}

export function isKernelTable(table: object): boolean {
  return kernelTables.has(table);
}

export function keyOf(e: ServiceEntry): ServiceKey {
  return e.fwmark
    ? { af: e.af, fwmark: e.fwmark }
    : { af: e.af, protocol: e.protocol, address: e.address, port: e.port };
}
