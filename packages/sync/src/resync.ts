/**
 * Bulk resync: turn the master's connection table (/proc/net/ip_vs_conn, parsed by @lvs/ipvs's
 * parseConnections) into sync entries, so a freshly started backup also learns long-lived idle
 * connections (the kernel only syncs a connection when packets flow). Pure: the caller reads the
 * file and the service table. /proc shows no flags: they are rebuilt here.
 */
import type { Connection } from "@lvs/ipvs";
import type { SyncConnection } from "./codec.js";
import {
  IP_VS_CONN_F_INACTIVE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TEMPLATE,
  IPPROTO_SCTP,
  IPPROTO_TCP,
} from "./constants.js";
import { parseProtocol, parseState } from "./text.js";

/** What identifies a connection's real server in the service table. */
export interface ForwardKey {
  protocol: number;
  virtualAddress: string;
  virtualPort: number;
  destAddress: string;
  destPort: number;
}

/** Forwarding method (IP_VS_CONN_F_FWD_MASK value) of a connection, from the service table. */
export type ForwardLookup = (c: ForwardKey) => number | undefined;

/** A lookup over "protocol vaddr:vport → daddr:dport → method" entries (e.g. from @lvs/ipvs's table()). */
export function forwardLookup(entries: Iterable<ForwardKey & { forward: number }>): ForwardLookup {
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
  skipped: Array<{ connection: Connection; reason: string }>;
}

/**
 * Converts /proc entries to sync entries, filling what /proc lacks: the forwarding method (from
 * `lookup`, default Masq), INACTIVE for TCP/SCTP not ESTABLISHED, TEMPLATE for persistence
 * templates (client port 0, state NONE or ASSURED), and the remaining lifetime as the v1 timeout.
 */
export function resyncConnections(procs: readonly Connection[], lookup?: ForwardLookup): ResyncConversion {
  const connections: SyncConnection[] = [];
  const skipped: ResyncConversion["skipped"] = [];
  for (const p of procs) {
    const protocol = parseProtocol(p.protocol);
    if (protocol === undefined) {
      skipped.push({ connection: p, reason: `unknown protocol ${p.protocol}` });
      continue;
    }
    if (p.destAf !== p.af) {
      skipped.push({
        connection: p,
        reason: "destination family differs from the service's (the sync protocol has one family per entry)",
      });
      continue;
    }
    const template = p.clientPort === 0 && (p.state === "NONE" || p.state === "ASSURED");
    const key: ForwardKey = {
      protocol,
      virtualAddress: p.virtualAddress,
      virtualPort: p.virtualPort,
      destAddress: p.destAddress,
      destPort: p.destPort,
    };
    let flags = (lookup?.(key) ?? IP_VS_CONN_F_MASQ) | (template ? IP_VS_CONN_F_TEMPLATE : 0);
    const state = parseState(protocol, p.state, flags);
    if (state === undefined) {
      skipped.push({ connection: p, reason: `unknown state ${p.state}` });
      continue;
    }
    if (
      !template &&
      ((protocol === IPPROTO_TCP && p.state !== "ESTABLISHED") ||
        (protocol === IPPROTO_SCTP && p.state !== "ESTABLISHED"))
    ) {
      flags |= IP_VS_CONN_F_INACTIVE;
    }
    const c: SyncConnection = {
      af: p.af,
      protocol,
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
