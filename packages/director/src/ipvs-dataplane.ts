// The Dataplane over the kernel's IPVS: @lvs/ipvs's IpvsClient (or MemoryIpvs, its in-memory
// double) for reads, batches, timeouts and the sync daemons; /proc/net/ip_vs for the quick
// summary, /proc/net/ip_vs_stats for the totals when the director programs its own namespace, and
// /proc/net/ip_vs_conn (of its namespace) for the connection table.
import { readFile } from "node:fs/promises";
import {
  type Connection,
  type DestinationEntry,
  IP_VS_CONN_PROC,
  IpvsClient,
  keyOf,
  type Operation,
  type OperationResult,
  parseConnections,
  readConnectionsFile,
  type ServiceEntry,
  type ServiceKey,
  type ServiceWithDests,
  type Timeouts,
} from "@lvs/ipvs";
import type { DaemonClient } from "@lvs/sync";
import type { Dataplane, DataplaneResult, DataplaneStats, DestConnections } from "./dataplane.js";
import { parseIpvsStats, parseProcIpvsYielding } from "./proc-ipvs.js";

/** What IpvsDataplane needs of an IPVS client (IpvsClient and MemoryIpvs have all of it). */
export interface DirectorKernel extends DaemonClient {
  table(): Promise<ServiceWithDests[]>;
  service(key: ServiceKey): Promise<ServiceEntry>;
  dests(key: ServiceKey): Promise<DestinationEntry[]>;
  batch(ops: readonly Operation[]): Promise<OperationResult[]>;
  flush(): Promise<void>;
  timeouts(): Promise<Timeouts>;
  setTimeouts(t: Timeouts): Promise<void>;
  close?(): void;
}

export interface IpvsDataplaneOptions {
  /**
   * /proc/net/ip_vs of the namespace the client programs (the summary). Default: the client's own
   * `procText()` when it has one (MemoryIpvs); null: no summary.
   */
  readProc?: (() => Promise<string>) | null;
  /** /proc/net/ip_vs_stats of that namespace (the totals); default none. */
  readStats?: () => Promise<string>;
  /** /proc/net/ip_vs_conn of that namespace (the connection table); default none. */
  readConnections?: () => Promise<string>;
  /** Close the client with the dataplane (it was opened for it). */
  ownsClient?: boolean;
}

const ESRCH = 3;
const isEsrch = (err: unknown) => (err as { errno?: number }).errno === ESRCH;

export class IpvsDataplane implements Dataplane {
  readonly kind = "ipvs" as const;
  readonly client: DirectorKernel;
  readonly syncDaemons: DaemonClient;
  /** /proc/net/ip_vs_conn's text (absent: not readable from here). */
  private readonly readConns: (() => Promise<string>) | undefined;
  /** Absent without a /proc/net/ip_vs to read. */
  readonly summary: (() => Promise<ServiceWithDests[]>) | undefined;
  private readonly readStats: (() => Promise<string>) | undefined;
  private readonly ownsClient: boolean;

  constructor(client: DirectorKernel, opts: IpvsDataplaneOptions = {}) {
    this.client = client;
    this.syncDaemons = client;
    const procText = (client as { procText?: () => Promise<string> }).procText;
    const readProc =
      opts.readProc === null ? undefined : (opts.readProc ?? (procText ? procText.bind(client) : undefined));
    this.summary = readProc && (async () => parseProcIpvsYielding(await readProc()));
    this.readStats = opts.readStats;
    this.readConns = opts.readConnections;
    this.ownsClient = opts.ownsClient ?? false;
  }

  /**
   * The kernel's IPVS, inside `netns` if given. Without a namespace the director programs its own,
   * so /proc/net/ip_vs and /proc/net/ip_vs_stats are that table's.
   */
  static async open(opts: { netns?: string; readProc?: (() => Promise<string>) | null } = {}) {
    const client = await IpvsClient.open(opts.netns ? { netns: opts.netns } : {});
    const own = !opts.netns;
    return new IpvsDataplane(client, {
      ownsClient: true,
      readProc:
        opts.readProc !== undefined ? opts.readProc : own ? () => readFile("/proc/net/ip_vs", "utf8") : null,
      ...(own ? { readStats: () => readFile("/proc/net/ip_vs_stats", "utf8") } : {}),
      readConnections: own
        ? () => readFile(IP_VS_CONN_PROC, "utf8")
        : async () => readConnectionsFile(opts.netns),
    });
  }

  async read(keys?: readonly ServiceKey[]): Promise<ServiceWithDests[]> {
    if (!keys) return this.client.table();
    const out: ServiceWithDests[] = [];
    for (const key of keys) {
      // ESRCH: not there (or deleted between the two requests) — absent, not an error.
      let service: ServiceEntry;
      let dests: DestinationEntry[];
      try {
        service = await this.client.service(key);
        dests = await this.client.dests(key);
      } catch (err) {
        if (isEsrch(err)) continue;
        throw err;
      }
      out.push({ service, dests });
    }
    return out;
  }

  apply(operations: readonly Operation[]): Promise<DataplaneResult[]> {
    return this.client.batch(operations);
  }

  async connections(keys?: readonly ServiceKey[]): Promise<DestConnections[]> {
    const table = keys || !this.summary ? await this.read(keys) : await this.summary();
    return table.flatMap(({ service, dests }) =>
      dests.map((d) => ({
        service: keyOf(service),
        address: d.address,
        port: d.port,
        active: d.activeConns,
        inactive: d.inactiveConns,
        persistent: d.persistConns,
      })),
    );
  }

  async connectionTable(): Promise<Connection[]> {
    if (!this.readConns) return [];
    return parseConnections(await this.readConns()).connections;
  }

  async stats(): Promise<DataplaneStats | undefined> {
    if (!this.readStats) return undefined;
    try {
      return parseIpvsStats(await this.readStats());
    } catch {
      return undefined; // no IPVS here: the caller sums the table's counters
    }
  }

  timeouts(): Promise<Timeouts> {
    return this.client.timeouts();
  }

  setTimeouts(t: Timeouts): Promise<void> {
    return this.client.setTimeouts(t);
  }

  flush(): Promise<void> {
    return this.client.flush();
  }

  close(): void {
    if (this.ownsClient) this.client.close?.();
  }
}
