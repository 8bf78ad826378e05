/**
 * ipvsadm 1.31's output, byte for byte, from typed data (pure; name lookups injected).
 * Facts from ipvsadm.c: print_title, print_service_entry, print_largenum, print_sched_flags,
 * list_all, list_timeout, list_daemon, list_conn/print_conn; libipvs.c: ipvs_cmp_services,
 * ipvs_cmp_dests (sorted with glibc's qsort, a merge sort).
 */

import { parseIPv4, parseIPv6 } from "@lvs/inet";
import {
  AF_INET,
  AF_INET6,
  type Connection,
  type Daemon,
  type DestinationEntry,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_FWD_MASK,
  IP_VS_CONN_F_LOCALNODE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_CONN_F_TUNNEL_TYPE_GRE,
  IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  IP_VS_STATE_BACKUP,
  IP_VS_STATE_MASTER,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type IpvsInfo,
  PROTOCOL_NAMES,
  type ServiceEntry,
  type ServiceWithDests,
  type Stats,
  type Timeouts,
} from "@lvs/ipvs";

/** ipvsadm.c FMT_* printing flags. */
export const Fmt = {
  NONE: 0,
  NUMERIC: 0x0001,
  RULE: 0x0002,
  STATS: 0x0004,
  RATE: 0x0008,
  THRESHOLDS: 0x0010,
  PERSISTENTCONN: 0x0020,
  NOSORT: 0x0040,
  EXACT: 0x0080,
  TUN_INFO: 0x0100,
} as const;

/** Name lookups for output without -n (gethostbyaddr / getservbyport in ipvsadm). */
export interface NameLookup {
  host(af: number, address: string): string | undefined;
  service(port: number, protocol: number): string | undefined;
}
export const numericOnly: NameLookup = { host: () => undefined, service: () => undefined };

const TUN_FLAG_SHORT = ["-c", "+c", "r+c"];
const TUN_FLAG_OPTS = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];

// ---------------------------------------------------------------- printf helpers
const padR = (s: string, w: number): string => (s.length >= w ? s : s + " ".repeat(w - s.length));
const padL = (s: string, w: number): string => (s.length >= w ? s : " ".repeat(w - s.length) + s);

/** print_largenum: %9llu, or K/M/G/T-scaled in 8 columns; --exact widens instead. */
export function largeNum(i: bigint, format: number): string {
  if (format & Fmt.EXACT) {
    const s = i.toString();
    return padL(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (i < 100000000n) return padL(i.toString(), 9);
  if (i < 1000000000n) return `${padL((i / 1000n).toString(), 8)}K`;
  if (i < 100000000000n) return `${padL((i / 1000000n).toString(), 8)}M`;
  if (i < 100000000000000n) return `${padL((i / 1000000000n).toString(), 8)}G`;
  return `${padL((i / 1000000000000n).toString(), 8)}T`;
}

// ---------------------------------------------------------------- sorting like libipvs + glibc qsort
const int32 = (x: number): number => x | 0;

function addrWords(af: number, address: string): number[] {
  if (af === AF_INET6) {
    const b = parseIPv6(address) ?? new Uint8Array(16);
    const v = new DataView(b.buffer);
    return [v.getUint32(0), v.getUint32(4), v.getUint32(8), v.getUint32(12)];
  }
  const b = parseIPv4(address) ?? new Uint8Array(4);
  return [new DataView(b.buffer).getUint32(0)];
}

/** ipvs_cmp_services: differences of unsigned fields taken as int (wrapping, as in C). */
export function compareServices(a: ServiceEntry, b: ServiceEntry): number {
  let r = int32(a.fwmark - b.fwmark);
  if (r !== 0) return r;
  r = a.af - b.af;
  if (r !== 0) return r;
  r = a.protocol - b.protocol;
  if (r !== 0) return r;
  const wa = addrWords(a.af, a.address);
  const wb = addrWords(a.af, b.address);
  for (let i = 0; r === 0 && i < wa.length; i++) r = int32((wa[i] as number) - (wb[i] as number));
  if (r !== 0) return r;
  return a.port - b.port;
}

/** ipvs_cmp_dests: address (as int differences) then port; the family of the first decides. */
export function compareDests(a: DestinationEntry, b: DestinationEntry): number {
  let r = 0;
  const wa = addrWords(a.af, a.address);
  const wb = addrWords(a.af, b.address);
  for (let i = 0; r === 0 && i < wa.length; i++) r = int32((wa[i] as number) - (wb[i] as number));
  if (r !== 0) return r;
  return a.port - b.port;
}

/** glibc msort: top-down merge sort, left run wins ties (matters: the comparators wrap). */
export function glibcSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = [...items];
  const tmp = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    const iEnd = lo + n1;
    const jEnd = lo + n;
    let k = 0;
    while (i < iEnd && j < jEnd) {
      if (cmp(a[i] as T, a[j] as T) <= 0) tmp[k++] = a[i++] as T;
      else tmp[k++] = a[j++] as T;
    }
    while (i < iEnd) tmp[k++] = a[i++] as T;
    // the rest of the right run is already in place
    for (let x = 0; x < k; x++) a[lo + x] = tmp[x] as T;
  };
  sort(0, a.length);
  return a;
}

// ---------------------------------------------------------------- names
function addrToAnyName(af: number, address: string, names: NameLookup): string {
  return names.host(af, address) ?? address;
}

/** addrport_to_anyname: "[v6]:port" or "v4:port", names unless FMT_NUMERIC. */
export function addrPort(
  af: number,
  address: string,
  port: number,
  protocol: number,
  format: number,
  names: NameLookup,
): string {
  const open = af === AF_INET ? "" : "[";
  const close = af === AF_INET ? "" : "]";
  if (format & Fmt.NUMERIC) return `${open}${address}${close}:${port}`;
  const host = addrToAnyName(af, address, names);
  const svc = names.service(port, protocol) ?? String(port);
  // ipvsadm's buffer is 60 bytes (snprintf truncates to 59 characters)
  return `${open}${host}${close}:${svc}`.slice(0, 59);
}

// ---------------------------------------------------------------- sections
export function formatTitle(format: number): string {
  if (format & Fmt.STATS) {
    return `${padR("Prot LocalAddress:Port", 33)} ${padL("Conns", 8)} ${padL("InPkts", 8)} ${padL("OutPkts", 8)} ${padL("InBytes", 8)} ${padL("OutBytes", 8)}\n  -> RemoteAddress:Port\n`;
  }
  if (format & Fmt.RATE) {
    return `${padR("Prot LocalAddress:Port", 33)} ${padL("CPS", 8)} ${padL("InPPS", 8)} ${padL("OutPPS", 8)} ${padL("InBPS", 8)} ${padL("OutBPS", 8)}\n  -> RemoteAddress:Port\n`;
  }
  if (format & Fmt.THRESHOLDS) {
    return `${padR("Prot LocalAddress:Port", 33)} ${padR("Uthreshold", 10)} ${padR("Lthreshold", 10)} ${padR("ActiveConn", 10)} ${padR("InActConn", 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (format & Fmt.PERSISTENTCONN) {
    return `${padR("Prot LocalAddress:Port", 33)} ${padR("Weight", 9)} ${padR("PersistConn", 11)} ${padR("ActiveConn", 10)} ${padR("InActConn", 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (format & Fmt.TUN_INFO) {
    return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
  }
  if (!(format & Fmt.RULE)) {
    return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  }
  return "";
}

function schedFlags(se: ServiceEntry): string {
  const f: string[] = [];
  if (se.scheduler === "sh") {
    if (se.flags & IP_VS_SVC_F_SCHED1) f.push("sh-fallback");
    if (se.flags & IP_VS_SVC_F_SCHED2) f.push("sh-port");
  } else if (se.scheduler === "mh") {
    if (se.flags & IP_VS_SVC_F_SCHED1) f.push("mh-fallback");
    if (se.flags & IP_VS_SVC_F_SCHED2) f.push("mh-port");
  } else {
    if (se.flags & IP_VS_SVC_F_SCHED1) f.push("flag-1");
    if (se.flags & IP_VS_SVC_F_SCHED2) f.push("flag-2");
    if (se.flags & IP_VS_SVC_F_SCHED3) f.push("flag-3");
  }
  return f.join(",");
}

const SCHED_ANY = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

function netmaskText(se: ServiceEntry): string | undefined {
  if (se.af === AF_INET) {
    if (se.netmask === 32) return undefined;
    const m = se.netmask === 0 ? 0 : (0xffffffff << (32 - se.netmask)) >>> 0;
    return `${m >>> 24}.${(m >>> 16) & 0xff}.${(m >>> 8) & 0xff}.${m & 0xff}`;
  }
  if (se.af === AF_INET6 && se.netmask !== 128) return String(se.netmask);
  return undefined;
}

function fwdName(fwd: number): string {
  switch (fwd & IP_VS_CONN_F_FWD_MASK) {
    case IP_VS_CONN_F_MASQ:
      return "Masq";
    case IP_VS_CONN_F_LOCALNODE:
      return "Local";
    case IP_VS_CONN_F_TUNNEL:
      return "Tunnel";
    case IP_VS_CONN_F_DROUTE:
      return "Route";
    default:
      return "(null)";
  }
}

function fwdSwitch(fwd: number): string {
  switch (fwd & IP_VS_CONN_F_FWD_MASK) {
    case IP_VS_CONN_F_MASQ:
      return "-m";
    case IP_VS_CONN_F_TUNNEL:
      return "-i";
    case IP_VS_CONN_F_LOCALNODE:
    case IP_VS_CONN_F_DROUTE:
      return "-g";
    default:
      return "(null)";
  }
}

function tunInfo(e: DestinationEntry): string | undefined {
  if ((e.forward & IP_VS_CONN_F_FWD_MASK) !== IP_VS_CONN_F_TUNNEL) return undefined;
  const flag = TUN_FLAG_SHORT[e.tunnelFlags] ?? "(null)";
  switch (e.tunnelType) {
    case IP_VS_CONN_F_TUNNEL_TYPE_IPIP:
      return "ipip";
    case IP_VS_CONN_F_TUNNEL_TYPE_GUE:
      return `gue:${e.tunnelPort}:${flag}`.slice(0, 15);
    case IP_VS_CONN_F_TUNNEL_TYPE_GRE:
      return `gre:${flag}`.slice(0, 15);
    default:
      return undefined;
  }
}

const stats64 = (s: Stats | undefined): Stats =>
  s ?? {
    conns: 0n,
    inPkts: 0n,
    outPkts: 0n,
    inBytes: 0n,
    outBytes: 0n,
    cps: 0n,
    inPps: 0n,
    outPps: 0n,
    inBps: 0n,
    outBps: 0n,
  };

/** print_service_entry: the service line and its (sorted) destinations. */
export function formatServiceEntry(
  se: ServiceEntry,
  dests: readonly DestinationEntry[],
  format: number,
  names: NameLookup = numericOnly,
): string {
  let out = "";
  let svcName: string;
  // ipvsadm 1.31 prints the mark with %d (a mark above 2^31 shows negative).
  const mark = se.fwmark | 0;
  if (se.fwmark) {
    if (format & Fmt.RULE) svcName = se.af === AF_INET6 ? `-f ${mark} -6` : `-f ${mark}`;
    else svcName = se.af === AF_INET6 ? `FWM  ${mark} IPv6` : `FWM  ${mark}`;
  } else {
    const vname = addrPort(se.af, se.address, se.port, se.protocol, format, names);
    if (format & Fmt.RULE) {
      const stype =
        se.protocol === IPPROTO_TCP
          ? "-t"
          : se.protocol === IPPROTO_UDP
            ? "-u"
            : se.protocol === IPPROTO_SCTP
              ? "--sctp-service"
              : "--xxx-service";
      svcName = `${stype} ${vname}`;
    } else {
      const stype = PROTOCOL_NAMES[se.protocol] ?? "?";
      svcName = `${padR(stype, 4)} ${vname}`;
      if (se.af !== AF_INET6) svcName = svcName.slice(0, 33);
    }
  }
  const s64 = stats64(se.stats64);
  if (format & Fmt.RULE) {
    out += `-A ${svcName} -s ${se.scheduler}`;
    if (se.flags & IP_VS_SVC_F_PERSISTENT) {
      out += ` -p ${se.timeout}`;
      const m = netmaskText(se);
      if (m !== undefined) out += ` -M ${m}`;
    }
    if (se.peName) out += ` --pe ${se.peName}`;
    if (se.flags & IP_VS_SVC_F_ONEPACKET) out += " -o";
    if (se.flags & SCHED_ANY) out += ` -b ${schedFlags(se)}`;
  } else if (format & Fmt.STATS) {
    out +=
      padR(svcName, 33) +
      largeNum(s64.conns, format) +
      largeNum(s64.inPkts, format) +
      largeNum(s64.outPkts, format) +
      largeNum(s64.inBytes, format) +
      largeNum(s64.outBytes, format);
  } else if (format & Fmt.RATE) {
    out +=
      padR(svcName, 33) +
      largeNum(s64.cps, format) +
      largeNum(s64.inPps, format) +
      largeNum(s64.outPps, format) +
      largeNum(s64.inBps, format) +
      largeNum(s64.outBps, format);
  } else {
    out += `${svcName} ${se.scheduler}`;
    if (se.flags & SCHED_ANY) out += ` (${schedFlags(se)})`;
    if (se.flags & IP_VS_SVC_F_PERSISTENT) {
      out += ` persistent ${se.timeout}`;
      const m = netmaskText(se);
      if (m !== undefined) out += ` mask ${m}`;
      if (se.peName) out += ` pe ${se.peName}`;
    }
    if (se.flags & IP_VS_SVC_F_ONEPACKET) out += " ops";
  }
  out += "\n";

  const sorted = format & Fmt.NOSORT ? dests : glibcSort(dests, compareDests);
  for (const e of sorted) {
    let dname = addrPort(e.af, e.address, e.port, se.protocol, format, names);
    if (!(format & Fmt.RULE) && e.af !== AF_INET6) dname = dname.slice(0, 28);
    const d64 = stats64(e.stats64);
    if (format & Fmt.RULE) {
      out += `-a ${svcName} -r ${dname} ${fwdSwitch(e.forward)} -w ${e.weight}`;
      if ((e.forward & IP_VS_CONN_F_FWD_MASK) === IP_VS_CONN_F_TUNNEL) {
        const flagOpt = TUN_FLAG_OPTS[e.tunnelFlags] ?? "(null)";
        if (e.tunnelType === IP_VS_CONN_F_TUNNEL_TYPE_GRE) out += ` --tun-type gre ${flagOpt}`;
        else if (e.tunnelType === IP_VS_CONN_F_TUNNEL_TYPE_GUE)
          out += ` --tun-type gue --tun-port ${e.tunnelPort} ${flagOpt}`;
        else if (e.tunnelType === IP_VS_CONN_F_TUNNEL_TYPE_IPIP) out += " --tun-type ipip";
      }
      out += "\n";
    } else if (format & Fmt.STATS) {
      out += `  -> ${padR(dname, 28)}${largeNum(d64.conns, format)}${largeNum(d64.inPkts, format)}${largeNum(d64.outPkts, format)}${largeNum(d64.inBytes, format)}${largeNum(d64.outBytes, format)}\n`;
    } else if (format & Fmt.RATE) {
      out += `  -> ${padR(dname, 28)} ${padL(d64.cps.toString(), 8)} ${padL(d64.inPps.toString(), 8)} ${padL(d64.outPps.toString(), 8)}${largeNum(d64.inBps, format)}${largeNum(d64.outBps, format)}\n`;
    } else if (format & Fmt.THRESHOLDS) {
      out += `  -> ${padR(dname, 28)} ${padR(String(e.upperThreshold), 10)} ${padR(String(e.lowerThreshold), 10)} ${padR(String(e.activeConns), 10)} ${padR(String(e.inactiveConns), 10)}\n`;
    } else if (format & Fmt.PERSISTENTCONN) {
      out += `  -> ${padR(dname, 28)} ${padR(String(e.weight), 9)} ${padR(String(e.persistConns), 11)} ${padR(String(e.activeConns), 10)} ${padR(String(e.inactiveConns), 10)}\n`;
    } else if (format & Fmt.TUN_INFO) {
      out += `  -> ${padR(dname, 28)} ${padR(fwdName(e.forward), 7)} ${padR(tunInfo(e) ?? "n/a", 13)} ${padR(String(e.weight | 0), 6)} ${padR(String(e.activeConns), 10)} ${padR(String(e.inactiveConns), 10)}\n`;
    } else {
      out += `  -> ${padR(dname, 28)} ${padR(fwdName(e.forward), 7)} ${padR(String(e.weight | 0), 6)} ${padR(String(e.activeConns), 10)} ${padR(String(e.inactiveConns), 10)}\n`;
    }
  }
  return out;
}

/** list_all: header (not with -S), title, every service sorted unless --nosort. */
export function formatListAll(
  info: IpvsInfo,
  table: readonly ServiceWithDests[],
  format: number,
  names: NameLookup = numericOnly,
): string {
  let out = "";
  if (!(format & Fmt.RULE)) {
    const v = info.version;
    out += `IP Virtual Server version ${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff} (size=${info.connTabSize | 0})\n`;
  }
  const sorted =
    format & Fmt.NOSORT ? table : glibcSort(table, (a, b) => compareServices(a.service, b.service));
  out += formatTitle(format);
  for (const t of sorted) out += formatServiceEntry(t.service, t.dests, format, names);
  return out;
}

/** list_service (-L -t addr...): title and that one service. */
export function formatListService(
  entry: ServiceWithDests,
  format: number,
  names: NameLookup = numericOnly,
): string {
  return formatTitle(format) + formatServiceEntry(entry.service, entry.dests, format, names);
}

export function formatTimeouts(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp | 0} ${t.tcpFin | 0} ${t.udp | 0}\n`;
}

/** list_daemon: one line per running daemon (master, then backup). */
export function formatDaemons(daemons: readonly Daemon[]): string {
  let out = "";
  const ordered = [
    ...daemons.filter((d) => d.state & IP_VS_STATE_MASTER),
    ...daemons.filter((d) => !(d.state & IP_VS_STATE_MASTER) && d.state & IP_VS_STATE_BACKUP),
  ];
  for (const d of ordered) {
    const type = d.state & IP_VS_STATE_MASTER ? "master" : "backup";
    out += `${type} sync daemon (mcast=${d.mcastIfn}, syncid=${d.syncId | 0}`;
    if (d.syncMaxLen) out += `, maxlen=${d.syncMaxLen}`;
    if (d.mcastGroup) out += `, group=${d.mcastGroup}`;
    if (d.mcastPort) out += `, port=${d.mcastPort}`;
    if (d.mcastTtl) out += `, ttl=${d.mcastTtl}`;
    out += ")\n";
  }
  return out;
}

/** list_conn (-L -c): the header and one line per /proc/net/ip_vs_conn entry, in file order. */
export function formatConnections(
  connections: readonly Connection[],
  format: number,
  names: NameLookup = numericOnly,
): string {
  let out = "IPVS connection entries\n";
  if (format & Fmt.PERSISTENTCONN) {
    out += `pro expire ${padR("state", 11)} ${padR("source", 18)} ${padR("virtual", 18)} ${padR("destination", 18)} ${padR("pe name", 16)} pe_data\n`;
  } else {
    out += `pro expire ${padR("state", 11)} ${padR("source", 18)} ${padR("virtual", 18)} destination\n`;
  }
  for (const c of connections) {
    const proto =
      c.protocol === "TCP"
        ? IPPROTO_TCP
        : c.protocol === "UDP"
          ? IPPROTO_UDP
          : c.protocol === "SCTP"
            ? IPPROTO_SCTP
            : 0;
    const cname = addrPort(c.af, c.clientAddress, c.clientPort, proto, format, names);
    const vname = addrPort(c.af, c.virtualAddress, c.virtualPort, proto, format, names);
    const dname = addrPort(c.destAf, c.destAddress, c.destPort, proto, format, names);
    const minutes = Math.floor(c.expires / 60);
    const expire = `${String(minutes).padStart(2, "0")}:${String(c.expires % 60).padStart(2, "0")}`;
    if (format & Fmt.PERSISTENTCONN && c.peName !== undefined && c.peData !== undefined) {
      out += `${padR(c.protocol, 3)} ${padR(expire, 6)} ${padR(c.state, 11)} ${padR(cname, 18)} ${padR(vname, 18)} ${padR(dname, 16)} ${padR(c.peName, 18)} ${c.peData}\n`;
    } else {
      out += `${padR(c.protocol, 3)} ${padR(expire, 6)} ${padR(c.state, 11)} ${padR(cname, 18)} ${padR(vname, 18)} ${dname}\n`;
    }
  }
  return out;
}
