/**
 * IPVS connections from /proc/net/ip_vs_conn (no netlink command lists them). Pure parser: the
 * one every package uses (`lvsctl ipvs -Lc`, @lvs/sync's bulk resync, the kernel tests).
 *
 * Line format (net/netfilter/ipvs/ip_vs_conn.c, ip_vs_conn_seq_show, Linux 6.1):
 *   IPv4: "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s"
 *   IPv6: "%-3s %pI6 %04X %pI6 %04X %s %04X %-11s %7u%s"
 * protocol, client addr/port, virtual addr/port, destination (hex IPv4 or %pI6 by the *dest's*
 * family), state, seconds to expiry, then " <pe name> <pe data>" when a persistence engine is used.
 */
import { formatAddress, formatIPv4, parseIPv6 } from "@lvs/inet";
import * as C from "./constants.js";

export interface Connection {
  /** "TCP", "UDP", "SCTP" (as the kernel names it; others "IP"...). */
  protocol: string;
  af: number;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  destAf: number;
  destAddress: string;
  destPort: number;
  /** ESTABLISHED, SYN_RECV, FIN_WAIT, TIME_WAIT, CLOSE, NONE, ... */
  state: string;
  /** Seconds until the entry expires. */
  expires: number;
  peName: string | undefined;
  peData: string | undefined;
}

export interface MalformedLine {
  /** 1-based line number in the file. */
  line: number;
  text: string;
  reason: string;
}

export interface ConnectionTable {
  connections: Connection[];
  /** Lines that did not parse: dropped and counted, never fatal. */
  malformed: MalformedLine[];
}

export const IP_VS_CONN_PROC = "/proc/net/ip_vs_conn";

function parseAddr(text: string): { af: number; address: string } | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(text)) {
    const n = Number.parseInt(text, 16);
    const b = new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
    return { af: C.AF_INET, address: formatIPv4(b) };
  }
  const v6 = parseIPv6(text);
  return v6 ? { af: C.AF_INET6, address: formatAddress(C.AF_INET6, v6) } : undefined;
}

/** Ports are "%04X". */
function parsePort(text: string): number | undefined {
  return /^[0-9A-Fa-f]{4}$/.test(text) ? Number.parseInt(text, 16) : undefined;
}

/** The kernel's header line (ip_vs_conn_seq_show prints it first). */
const HEADER = /^Pro\s+FromIP\s/;

export function parseConnLine(text: string): Connection | string {
  const f = text.trim().split(/\s+/);
  if (f.length < 9) return `expected at least 9 fields, got ${f.length}`;
  const [proto, ca, cp, va, vp, da, dp, state, exp, peName, ...peRest] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  const c = parseAddr(ca);
  const v = parseAddr(va);
  const d = parseAddr(da);
  const cport = parsePort(cp);
  const vport = parsePort(vp);
  const dport = parsePort(dp);
  if (!c || !v || !d) return "bad address";
  if (cport === undefined || vport === undefined || dport === undefined) return "bad port";
  if (!/^\d+$/.test(exp)) return "bad expiry";
  // One connection, one family (struct ip_vs_conn's af); only the destination may differ.
  if (c.af !== v.af) return "client and virtual address families differ";
  return {
    protocol: proto,
    af: c.af,
    clientAddress: c.address,
    clientPort: cport,
    virtualAddress: v.address,
    virtualPort: vport,
    destAf: d.af,
    destAddress: d.address,
    destPort: dport,
    state,
    expires: Number(exp),
    peName,
    peData: peRest.length ? peRest.join(" ") : undefined,
  };
}

/**
 * Parses the file's text: the kernel's header line first (skipped; a file of bare lines parses
 * too). Lines that do not parse are returned with their line number, never fatal.
 */
export function parseConnections(text: string): ConnectionTable {
  const out: ConnectionTable = { connections: [], malformed: [] };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === "" || (i === 0 && HEADER.test(line))) continue;
    const r = parseConnLine(line);
    if (typeof r === "string") out.malformed.push({ line: i + 1, text: line, reason: r });
    else out.connections.push(r);
  }
  return out;
}
