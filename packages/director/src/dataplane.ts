// What the director needs from whatever forwards the packets: read the table, apply a batch of
// operations, connection counts, totals, timeouts and (optionally) the connection-sync daemons.
// IpvsDataplane implements it over the kernel's IPVS (@lvs/ipvs); a userspace proxy can implement
// the same. Everything here is plain data: services, real servers and operations in @lvs/ipvs's
// model types, errors as a code, a message, the object and the errno — no netlink.
import type { Connection, Operation, ServiceKey, ServiceWithDests, Timeouts } from "@lvs/ipvs";
import type { DaemonClient } from "@lvs/sync";

/** Why one operation was refused (IpvsError has this shape). */
export interface DataplaneError {
  /** Stable code: `IPVS_EEXIST_SERVICE`, `IPVS_ENOENT_DEST`… */
  readonly code: string;
  readonly message: string;
  /** What it was about: `TCP 10.0.0.1:80 -> 10.1.0.2:80`. */
  readonly object?: string | undefined;
  /** Positive errno (17 for EEXIST) when the refusal has one. */
  readonly errno?: number | undefined;
  readonly errnoName?: string | undefined;
}

/** The outcome of one operation of a batch. */
export interface DataplaneResult {
  operation: Operation;
  /** undefined when it was applied. */
  error: DataplaneError | undefined;
}

/** Connections of one real server of one service. */
export interface DestConnections {
  service: ServiceKey;
  address: string;
  port: number;
  active: number;
  inactive: number;
  /** Persistence templates pointing at it. */
  persistent: number;
}

/** Per-destination settings IPVS has no attribute for (the proxy's PROXY header). */
export interface DestinationOption {
  service: ServiceKey;
  address: string;
  port: number;
  proxyProtocol: "v1" | "v2";
}

/** Totals since the dataplane started (node_exporter's ip_vs_stats). */
export interface DataplaneStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

export interface Dataplane {
  /** What logs and errors call it: `ipvs` (the kernel's) or `proxy` (@lvs/proxy); absent = ipvs. */
  readonly kind?: "ipvs" | "proxy";
  /**
   * Services with their real servers and counters: every one, or those of `keys` that exist
   * (missing ones are left out, not an error). Throws only when the table can't be read.
   */
  read(keys?: readonly ServiceKey[]): Promise<ServiceWithDests[]>;
  /**
   * Optional cheaper, partial read of the whole table for periodic checks (IPVS:
   * /proc/net/ip_vs): scheduler, one-packet flag, persistence, forwarding, weights and connection
   * counts; no thresholds, tunnel settings, counters or a fwmark service's family.
   */
  summary?(): Promise<ServiceWithDests[]>;
  /**
   * Apply operations in order; a refusal does not stop the rest. One result per operation.
   * Throws only when the batch could not be sent at all.
   */
  apply(operations: readonly Operation[]): Promise<DataplaneResult[]>;
  /** Connection counts per real server (of `keys`, or of every service). */
  connections(keys?: readonly ServiceKey[]): Promise<DestConnections[]>;
  /**
   * The connection table, one entry per connection (and persistence template) as `ipvsadm -Lcn`
   * lists it: IPVS's /proc/net/ip_vs_conn, the proxy's own sockets. Absent: can't be listed here.
   */
  connectionTable?(): Promise<Connection[]>;
  /** Totals, or undefined when this dataplane doesn't keep them apart from the table's counters. */
  stats(): Promise<DataplaneStats | undefined>;
  timeouts(): Promise<Timeouts>;
  /** 0 leaves a value as it is. */
  setTimeouts(timeouts: Timeouts): Promise<void>;
  /**
   * The configuration's per-destination options (every one, replacing the last call's): used by
   * later operations and applied at once to destinations already there. Absent: not supported
   * (the kernel's IPVS forwards packets; it can't add a PROXY header).
   */
  destinationOptions?(options: readonly DestinationOption[]): Promise<void>;
  /** Remove every service (`lvs_flush`). */
  flush(): Promise<void>;
  /** The kernel's connection-sync daemons (`lvs_sync_daemon`), where the dataplane has them. */
  readonly syncDaemons?: DaemonClient;
  close(): void;
}

/** "IPVS" or "proxy", for log lines about the table and refused operations. */
export function dataplaneName(dataplane: Dataplane | undefined): string {
  return dataplane?.kind === "proxy" ? "proxy" : "IPVS";
}
