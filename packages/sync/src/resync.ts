/**
 * Bulk resync: turn the master's connection table (/proc/net/ip_vs_conn) into sync entries, so a
 * freshly started backup also learns long-lived idle connections (the kernel only syncs a
 * connection when packets flow). Pure: the caller reads the file and the service table.
 *
 * /proc/net/ip_vs_conn (ip_vs_conn.c ip_vs_conn_seq_show(), Linux 6.1), after a header line:
 *   IPv4: "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s"   (dest address in hex, by the dest's family)
 *   IPv6: "%-3s %pI6 %04X %pI6 %04X %s %04X %-11s %7u%s"   (%pI6: 8 groups of 4 hex digits)
 * columns: protocol, client addr/port, virtual addr/port, destination addr/port, state, seconds
 * left, then " <pe name> <pe data>" when a persistence engine is in use. Flags are not shown.
 */
import { formatIPv4, formatIPv6 } from "@lvs/inet";
import type { SyncConnection } from "./codec.js";
import {
  AF_INET,
  AF_INET6,
  IP_VS_CONN_F_INACTIVE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TEMPLATE,
  IPPROTO_SCTP,
  IPPROTO_TCP,
} from "./constants.js";
import { parseProtocol, parseState } from "./text.js";

export const IP_VS_CONN_PROC = "/proc/net/ip_vs_conn";

export interface ProcConnection {
  protocol: number;
  af: number;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  destAddress: string;
  destPort: number;
  state: string;
  expires: number;
  peName?: string;
  peData?: string;
}

export interface MalformedLine {
  line: number;
  text: string;
  reason: string;
}

function parseAddr(text: string): { af: number; address: string } | undefined {
  const b = new Uint8Array(16);
  if (/^[0-9A-Fa-f]{8}$/.test(text)) {
    const n = Number.parseInt(text, 16);
    b[0] = n >>> 24;
    b[1] = (n >>> 16) & 0xff;
    b[2] = (n >>> 8) & 0xff;
    b[3] = n & 0xff;
    return { af: AF_INET, address: formatIPv4(b, 0) };
  }
  if (/^([0-9A-Fa-f]{4}:){7}[0-9A-Fa-f]{4}$/.test(text)) {
    const words = text.split(":");
    for (let i = 0; i < 8; i++) {
      const w = Number.parseInt(words[i] as string, 16);
      b[2 * i] = w >> 8;
      b[2 * i + 1] = w & 0xff;
    }
    return { af: AF_INET6, address: formatIPv6(b, 0) };
  }
  return undefined;
}

const port = (t: string | undefined): number | undefined =>
  t && /^[0-9A-Fa-f]{4}$/.test(t) ? Number.parseInt(t, 16) : undefined;

/** Parses the file's text; lines that do not parse are returned, never fatal. */
export function parseProcConnections(text: string): {
  connections: ProcConnection[];
  malformed: MalformedLine[];
} {
  const connections: ProcConnection[] = [];
  const malformed: MalformedLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const t = raw.trim();
    if (t === "" || (i === 0 && t.startsWith("Pro "))) continue;
    const c = t.split(/\s+/);
    const bad = (reason: string) => malformed.push({ line: i + 1, text: raw, reason });
    if (c.length < 9) {
      bad("fewer than 9 columns");
      continue;
    }
    const protocol = parseProtocol(c[0] as string);
    const client = parseAddr(c[1] as string);
    const virt = parseAddr(c[3] as string);
    const dest = parseAddr(c[5] as string);
    const cp = port(c[2]);
    const vp = port(c[4]);
    const dp = port(c[6]);
    const expires = /^\d+$/.test(c[8] as string) ? Number(c[8]) : undefined;
    if (protocol === undefined) bad(`unknown protocol ${c[0]}`);
    else if (!client || !virt || !dest) bad("bad address");
    else if (cp === undefined || vp === undefined || dp === undefined) bad("bad port");
    else if (expires === undefined) bad("bad expiry");
    else if (client.af !== virt.af) bad("client and virtual address families differ");
    else {
      const conn: ProcConnection = {
        protocol,
        af: client.af,
        clientAddress: client.address,
        clientPort: cp,
        virtualAddress: virt.address,
        virtualPort: vp,
        destAddress: dest.address,
        destPort: dp,
        state: c[7] as string,
        expires,
      };
      if (c[9] !== undefined) conn.peName = c[9];
      if (c[10] !== undefined) conn.peData = c.slice(10).join(" ");
      connections.push(conn);
    }
  }
  return { connections, malformed };
}

/** Forwarding method (IP_VS_CONN_F_FWD_MASK value) of a connection, from the service table. */
export type ForwardLookup = (c: ProcConnection) => number | undefined;

/** A lookup over "protocol vaddr:vport → daddr:dport → method" entries (e.g. from @lvs/ipvs's table()). */
export function forwardLookup(
  entries: Iterable<{
    protocol: number;
    virtualAddress: string;
    virtualPort: number;
    destAddress: string;
    destPort: number;
    forward: number;
  }>,
): ForwardLookup {
  const byService = new Map<string, number>();
  const byDest = new Map<string, number>();
  for (const e of entries) {
    byService.set(
      `${e.protocol} ${e.virtualAddress} ${e.virtualPort} ${e.destAddress} ${e.destPort}`,
      e.forward,
    );
    // fwmark services: /proc has no mark, so the destination alone decides.
    byDest.set(`${e.destAddress} ${e.destPort}`, e.forward);
  }
  return (c) =>
    byService.get(`${c.protocol} ${c.virtualAddress} ${c.virtualPort} ${c.destAddress} ${c.destPort}`) ??
    byDest.get(`${c.destAddress} ${c.destPort}`);
}

export interface ResyncConversion {
  connections: SyncConnection[];
  /** Connections skipped (family mix the protocol cannot carry, unknown state). */
  skipped: Array<{ connection: ProcConnection; reason: string }>;
}

/**
 * Converts /proc entries to sync entries, filling what /proc lacks: the forwarding method (from
 * `lookup`, default Masq), INACTIVE for TCP/SCTP not ESTABLISHED, TEMPLATE for persistence
 * templates (client port 0, state NONE or ASSURED), and the remaining lifetime as the v1 timeout.
 */
export function resyncConnections(
  procs: readonly ProcConnection[],
  lookup?: ForwardLookup,
): ResyncConversion {
  const connections: SyncConnection[] = [];
  const skipped: ResyncConversion["skipped"] = [];
  for (const p of procs) {
    if (p.af !== (p.destAddress.includes(":") ? AF_INET6 : AF_INET)) {
      skipped.push({
        connection: p,
        reason: "destination family differs from the service's (the sync protocol has one family per entry)",
      });
      continue;
    }
    const template = p.clientPort === 0 && (p.state === "NONE" || p.state === "ASSURED");
    let flags = (lookup?.(p) ?? IP_VS_CONN_F_MASQ) | (template ? IP_VS_CONN_F_TEMPLATE : 0);
    const state = parseState(p.protocol, p.state, flags);
    if (state === undefined) {
      skipped.push({ connection: p, reason: `unknown state ${p.state}` });
      continue;
    }
    if (
      !template &&
      ((p.protocol === IPPROTO_TCP && p.state !== "ESTABLISHED") ||
        (p.protocol === IPPROTO_SCTP && p.state !== "ESTABLISHED"))
    ) {
      flags |= IP_VS_CONN_F_INACTIVE;
    }
    const c: SyncConnection = {
      af: p.af,
      protocol: p.protocol,
      clientAddress: p.clientAddress,
      clientPort: p.clientPort,
      virtualAddress: p.virtualAddress,
      virtualPort: p.virtualPort,
      destAddress: p.destAddress,
      destPort: p.destPort,
      flags,
      state,
      fwmark: 0,
      timeout: p.expires,
    };
    if (p.peName !== undefined && p.peData !== undefined) {
      c.peName = p.peName;
      c.peData = new Uint8Array(Buffer.from(p.peData, "latin1"));
    }
    connections.push(c);
  }
  return { connections, skipped };
}
