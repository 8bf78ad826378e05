// The proxy's service table: services and real servers over @lvs/scheduler's model of IPVS, which
// makes every scheduling decision and keeps the kernel's counters. No sockets here: the I/O layer
// (tcp.ts, udp.ts) reports what its connections do and this file moves the model to match.
import { isIP } from "node:net";
import { AF_INET6, formatEndpoint, IPPROTO_TCP, IPPROTO_UDP } from "@lvs/inet";
import {
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  type Connection as ModelConnection,
  type Destination as ModelDestination,
  Service as ModelService,
} from "@lvs/scheduler";
import { IP_VS_SVC_F_SCHED_MASK } from "./constants.js";
import type {
  ConnectionEntry,
  DestinationConfig,
  DestinationCounters,
  DestinationEntry,
  ServiceConfig,
  ServiceCounters,
  ServiceEntry,
} from "./model.js";
import {
  type CanonicalKey,
  canonicalIp,
  type DestSettings,
  destSettings,
  fromModel,
  type ServiceSettings,
  serviceSettings,
} from "./settings.js";
import { Counters, stats32 } from "./stats.js";

export interface Endpoint {
  address: string;
  port: number;
}

/**
 * The model's own connection entries must never expire while the proxy holds the connection: the
 * proxy owns the idle timeouts and tells the model when a connection ends. Model entries get this
 * timeout and are refreshed every MODEL_REFRESH_MS; it is short so that the timers a closed entry
 * leaves in the model's queue are dropped soon (the model cancels timers lazily).
 */
export const MODEL_ENTRY_TIMEOUT_S = 30;
export const MODEL_REFRESH_MS = 10_000;

function modelPersistence(s: ServiceSettings): false | { timeout: number; netmask: number } {
  if (!(s.flags & IP_VS_SVC_F_PERSISTENT)) return false;
  return { timeout: Math.max(1, s.timeout), netmask: s.netmask };
}

export class DestState {
  readonly counters: DestinationCounters = {
    connectFailures: 0,
    connectTimeouts: 0,
    retries: 0,
    resets: 0,
    idleTimeouts: 0,
  };
  readonly stats = new Counters();

  constructor(
    public settings: DestSettings,
    public model: ModelDestination,
  ) {}

  get endpoint(): string {
    return formatEndpoint(this.settings.address, this.settings.port);
  }

  entry(): DestinationEntry {
    const s = this.settings;
    const stats64 = this.stats.read();
    return {
      af: s.af,
      address: s.address,
      port: s.port,
      forward: s.forward,
      weight: s.weight,
      upperThreshold: s.upperThreshold,
      lowerThreshold: s.lowerThreshold,
      activeConns: this.model.activeConns,
      inactiveConns: this.model.inactConns,
      persistConns: this.model.persistConns,
      tunnelType: 0,
      tunnelPort: 0,
      tunnelFlags: 0,
      stats: stats32(stats64),
      stats64,
      overloaded: this.model.overloaded,
      proxyProtocol: s.proxyProtocol,
      counters: { ...this.counters },
    };
  }
}

/**
 * One connection's (or UDP flow's) entry in the model: bound to its real server, active while
 * established, inactive once half-closed (IPVS: FIN_WAIT), gone when closed.
 */
export class Binding {
  private halfClosed = false;
  private done = false;
  /** One-packet UDP entries leave the model at once (ip_vs_conn with IP_VS_CONN_F_ONE_PACKET). */
  private readonly oneShot: boolean;

  constructor(
    readonly service: ServiceState,
    readonly dest: DestState,
    private readonly conn: ModelConnection,
  ) {
    this.oneShot = conn.expired;
  }

  get closed(): boolean {
    return this.done;
  }

  /** The first FIN of either side: the entry leaves activeconns for inactconns. */
  halfClose(): void {
    if (this.done || this.halfClosed || this.service.protocol !== IPPROTO_TCP) return;
    this.halfClosed = true;
    if (this.alive()) this.conn.tcp("in", { fin: true });
  }

  /** The connection is gone: the entry leaves the counters (and its template's count). */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.conn.expire();
    this.service.closed(this);
  }

  /** Restarts the model entry's timer (same state), so it never expires on its own. */
  refresh(): void {
    if (this.done || !this.alive()) return;
    if (this.service.protocol === IPPROTO_TCP) this.conn.tcp("in", { ack: true });
    else this.conn.establish();
  }

  private alive(): boolean {
    if (!this.conn.expired) return true;
    if (this.oneShot) return false;
    // Only a stalled event loop (longer than MODEL_ENTRY_TIMEOUT_S) gets here.
    this.service.onModelExpired();
    return false;
  }
}

export class ServiceState {
  readonly key: CanonicalKey;
  settings: ServiceSettings;
  readonly model: ModelService;
  private readonly byModel = new Map<ModelDestination, DestState>();
  /** Deleted real servers that live connections still use (IPVS's dest trash). */
  private readonly trash = new Map<string, DestState>();
  readonly live = new Set<Binding>();
  readonly counters: ServiceCounters = { refused: 0, overLimit: 0, badProxyHeader: 0, retries: 0 };
  readonly stats = new Counters();
  /** Set once the service is deleted: its connections finish, nothing new is scheduled. */
  deleted = false;
  modelExpiries = 0;

  constructor(
    key: CanonicalKey,
    config: ServiceConfig,
    now: () => number,
    random?: (bound: number) => number,
  ) {
    this.key = key;
    this.settings = serviceSettings(key, config);
    try {
      this.model = new ModelService({
        scheduler: this.settings.scheduler,
        flags: this.settings.flags & IP_VS_SVC_F_SCHED_MASK,
        protocol: key.protocol === IPPROTO_UDP ? "udp" : "tcp",
        address: key.address,
        port: key.port,
        persistent: modelPersistence(this.settings),
        onePacket: (this.settings.flags & IP_VS_SVC_F_ONEPACKET) !== 0,
        clock: now,
        ...(random ? { random } : {}),
        timeouts: { tcp: MODEL_ENTRY_TIMEOUT_S, tcpFin: MODEL_ENTRY_TIMEOUT_S, udp: MODEL_ENTRY_TIMEOUT_S },
      });
    } catch (e) {
      throw fromModel(e, key.name);
    }
  }

  get protocol(): number {
    return this.key.protocol;
  }

  edit(config: ServiceConfig): void {
    const next = serviceSettings(this.key, config);
    try {
      this.model.edit({
        scheduler: next.scheduler,
        flags: next.flags & IP_VS_SVC_F_SCHED_MASK,
        persistent: modelPersistence(next),
        onePacket: (next.flags & IP_VS_SVC_F_ONEPACKET) !== 0,
      });
    } catch (e) {
      throw fromModel(e, this.key.name);
    }
    this.settings = next;
  }

  /** Real servers in the kernel's list order (the most recently added first). */
  get dests(): DestState[] {
    return this.model.destinations.map((m) => this.byModel.get(m)!);
  }

  findDest(address: unknown, port: unknown): DestState | undefined {
    const what = `${this.key.name} -> ${String(address)}:${String(port)}`;
    const a = canonicalIp(address, what).address;
    return this.dests.find((d) => d.settings.address === a && d.settings.port === port);
  }

  addDest(config: DestinationConfig): DestState {
    const s = destSettings(this.key, config);
    let model: ModelDestination;
    try {
      model = this.model.addDest(this.modelDest(s));
    } catch (e) {
      throw fromModel(e, `${this.key.name} -> ${formatEndpoint(s.address, s.port)}`);
    }
    const ep = formatEndpoint(s.address, s.port);
    // As the kernel's trash: a real server deleted while connections used it comes back whole.
    const old = this.trash.get(ep);
    this.trash.delete(ep);
    const d = old && old.model === model ? old : new DestState(s, model);
    d.settings = s;
    this.byModel.set(model, d);
    return d;
  }

  editDest(config: DestinationConfig): DestState {
    const s = destSettings(this.key, config);
    try {
      this.model.editDest(this.modelDest(s));
    } catch (e) {
      throw fromModel(e, `${this.key.name} -> ${formatEndpoint(s.address, s.port)}`);
    }
    const d = this.findDest(s.address, s.port)!;
    d.settings = s;
    return d;
  }

  deleteDest(address: string, port: number): void {
    const d = this.findDest(address, port);
    try {
      this.model.deleteDest(canonicalIp(address, this.key.name).address, port);
    } catch (e) {
      throw fromModel(e, `${this.key.name} -> ${formatEndpoint(String(address), port)}`);
    }
    if (!d) return;
    this.byModel.delete(d.model);
    if (d.model.activeConns + d.model.inactConns + d.model.persistConns > 0) this.trash.set(d.endpoint, d);
  }

  private modelDest(s: DestSettings) {
    return {
      address: s.address,
      port: s.port,
      weight: s.weight,
      upperThreshold: s.upperThreshold,
      lowerThreshold: s.lowerThreshold,
      // The model's "route" reads only client-side packets (its INPUT_ONLY table), which is all
      // the proxy reports.
      forward: "route" as const,
    };
  }

  /** The real server the model's ip_vs_schedule() gives this client, bound as a new entry. */
  pick(client: Endpoint): Binding | undefined {
    let conn: ModelConnection | undefined;
    try {
      conn = this.model.connect({
        clientAddress: this.clientInFamily(client.address),
        clientPort: client.port,
      });
    } catch {
      return undefined; // a client of the other family (from a PROXY header): nothing to schedule
    }
    if (!conn) return undefined;
    const dest = this.byModel.get(conn.destination as ModelDestination) ?? this.trashed(conn.destination);
    if (!dest) {
      conn.expire();
      return undefined;
    }
    if (this.key.protocol === IPPROTO_TCP) conn.establish();
    const b = new Binding(this, dest, conn);
    this.live.add(b);
    return b;
  }

  /** A binding is gone: a deleted real server leaves the trash with its last connection. */
  closed(b: Binding): void {
    this.live.delete(b);
    const d = b.dest;
    if (!this.byModel.has(d.model) && d.model.activeConns + d.model.inactConns + d.model.persistConns === 0) {
      this.trash.delete(d.endpoint);
    }
  }

  private trashed(m: ModelDestination): DestState | undefined {
    for (const d of this.trash.values()) if (d.model === m) return d;
    return undefined;
  }

  /**
   * After `failed` could not connect: one more pick that avoids its real server (haproxy's
   * `option redispatch`). The model picks as for a new connection; when it returns the same server
   * (a hash, a least-connection tie), that server is quiesced for one pick. A persistence template
   * still names it then, so a persistent client gets no other server, as under IPVS.
   */
  repick(client: Endpoint, failed: Binding): Binding | undefined {
    failed.close();
    let b = this.pick(client);
    if (!b || b.dest !== failed.dest) return b;
    b.close();
    const s = failed.dest.settings;
    if (s.weight === 0 || !failed.dest.model.available) return undefined;
    this.model.editDest({ ...this.modelDest(s), weight: 0 });
    try {
      b = this.pick(client);
    } finally {
      this.model.editDest(this.modelDest(s));
    }
    if (b && b.dest === failed.dest) {
      b.close();
      return undefined;
    }
    return b;
  }

  /**
   * Keeps the model's entries of live connections from expiring by themselves, and runs its due
   * timers, which also drops the timers closed connections left in its queue.
   */
  refresh(): void {
    this.model.advance();
    for (const b of this.live) b.refresh();
  }

  onModelExpired(): void {
    this.modelExpiries++;
  }

  /** A v4 client on a v6 service (from a PROXY header) is scheduled by its v4-mapped address. */
  private clientInFamily(address: string): string {
    if (this.key.af === AF_INET6 && isIP(address) === 4) return `::ffff:${address}`;
    return address;
  }

  entry(): ServiceEntry {
    const k = this.key;
    const s = this.settings;
    const stats64 = this.stats.read();
    return {
      af: k.af,
      protocol: k.protocol,
      address: k.address,
      port: k.port,
      fwmark: 0,
      scheduler: s.scheduler,
      flags: s.flags,
      timeout: s.timeout,
      netmask: s.netmask,
      peName: undefined,
      stats: stats32(stats64),
      stats64,
      acceptProxyProtocol: s.acceptProxyProtocol,
      maxConnections: s.maxConnections,
      connections: this.live.size,
      counters: { ...this.counters },
    };
  }

  /** The persistence templates as `ipvsadm -Lcn` lists them (client port 0, state NONE). */
  templateEntries(now: number): ConnectionEntry[] {
    const k = this.key;
    return this.model.persistenceTemplates.map((t) => ({
      protocol: t.protocol === IPPROTO_UDP ? "UDP" : t.protocol === IPPROTO_TCP ? "TCP" : "IP",
      af: k.af,
      clientAddress: t.clientNet,
      clientPort: 0,
      virtualAddress: t.virtual,
      virtualPort: t.virtualPort,
      destAf: k.af,
      destAddress: t.destination.address,
      destPort: t.destination.port,
      state: "NONE",
      expires: Math.max(0, Math.floor((t.expiresAt - now) / 1000)),
      peName: undefined,
      peData: undefined,
    }));
  }

  /** Every Counters object of the service (its own, its real servers', those in the trash). */
  *allCounters(): Iterable<Counters> {
    yield this.stats;
    for (const d of this.byModel.values()) yield d.stats;
    for (const d of this.trash.values()) yield d.stats;
  }
}
