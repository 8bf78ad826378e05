// The proxy's service table: services and real servers over @lvs/scheduler's model of IPVS, which
// makes every scheduling decision and keeps the kernel's counters. No sockets here: the I/O layer
// (tcp.ts, udp.ts) reports what its connections do and this file moves the model to match.
import { isIP, SocketAddress } from "node:net";
import {
  type Connection as ModelConnection,
  type Destination as ModelDestination,
  Service as ModelService,
  SchedulerError,
} from "@lvs/scheduler";
import {
  AF_INET,
  AF_INET6,
  DEFAULT_PERSISTENT_TIMEOUT_S,
  DEFAULT_SCHEDULER,
  IP_VS_CONN_F_MASQ,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED_MASK,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "./constants.js";
import { ProxyError, type ProxyErrorCode } from "./errors.js";
import type {
  ConnectionEntry,
  DestinationConfig,
  DestinationCounters,
  DestinationEntry,
  ServiceConfig,
  ServiceCounters,
  ServiceEntry,
  ServiceKey,
} from "./model.js";
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

const INT_MAX = 2 ** 31 - 1;

/** `TCP 127.0.0.1:80` / `UDP [::1]:53`, as ipvsadm names a service. */
export function serviceName(protocol: number, address: string, port: number): string {
  const p = protocol === IPPROTO_UDP ? "UDP" : protocol === IPPROTO_TCP ? "TCP" : String(protocol);
  return `${p} ${hostPort(address, port)}`;
}

export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function bad(code: ProxyErrorCode, message: string, object: string, errno?: string): ProxyError {
  return new ProxyError(code, message, errno === undefined ? { object } : { object, errno });
}

/** A SchedulerError as ours, same meaning, the original kept as the cause. */
function fromModel(e: unknown, object: string): unknown {
  if (!(e instanceof SchedulerError)) return e;
  const map: Partial<Record<string, ProxyErrorCode>> = {
    SCHED_UNKNOWN_SCHEDULER: "PROXY_UNKNOWN_SCHEDULER",
    SCHED_BAD_FLAG: "PROXY_BAD_FLAG",
    SCHED_BAD_THRESHOLD: "PROXY_BAD_THRESHOLD",
    SCHED_DEST_EXISTS: "PROXY_DEST_EXISTS",
    SCHED_NO_DEST: "PROXY_NO_DEST",
  };
  const ctx = { object: e.object ?? object, cause: e, ...(e.errno ? { errno: e.errno } : {}) };
  return new ProxyError(map[e.code] ?? "PROXY_BAD_VALUE", e.message, ctx);
}

function checkInt(v: unknown, min: number, max: number, what: string, object: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad("PROXY_BAD_VALUE", `${what} must be an integer ${min}..${max}, got ${String(v)}`, object);
  }
  return v;
}

/** The canonical address text (RFC 5952 for IPv6, as node prints socket addresses), or a throw. */
export function canonicalIp(address: unknown, object: string): { address: string; af: number } {
  const family = typeof address === "string" ? isIP(address) : 0;
  if (family === 0) {
    throw bad("PROXY_BAD_VALUE", `not an IPv4 or IPv6 address: ${JSON.stringify(address)}`, object);
  }
  const a = address as string;
  if (family === 4) return { address: a, af: AF_INET };
  // SocketAddress prints the address as the sockets will (lower case, longest zero run as ::).
  return { address: new SocketAddress({ address: a, family: "ipv6" }).address, af: AF_INET6 };
}

/** A service key, checked and in canonical form. */
export interface CanonicalKey {
  protocol: number;
  address: string;
  port: number;
  af: number;
  /** `TCP 127.0.0.1:8080`. */
  name: string;
}

export function canonicalKey(k: ServiceKey): CanonicalKey {
  const what = k.fwmark ? `FWM ${k.fwmark}` : `${String(k.protocol)} ${String(k.address)}:${String(k.port)}`;
  if (k.fwmark) {
    throw bad(
      "PROXY_FWMARK_UNSUPPORTED",
      `fwmark service ${k.fwmark}: the proxy listens on address:port and cannot see packet marks; use a TCP or UDP address:port service`,
      what,
    );
  }
  const protocol =
    k.protocol === "tcp" ? IPPROTO_TCP : k.protocol === "udp" ? IPPROTO_UDP : (k.protocol as number);
  if (protocol === IPPROTO_SCTP) {
    throw bad("PROXY_UNSUPPORTED", `${what}: SCTP is not proxied (node has no SCTP sockets)`, what);
  }
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) {
    throw bad("PROXY_BAD_VALUE", `protocol must be tcp (6) or udp (17), got ${String(k.protocol)}`, what);
  }
  const { address, af } = canonicalIp(k.address, what);
  if (k.af !== undefined && k.af !== af) {
    throw bad("PROXY_BAD_VALUE", `af ${k.af} does not match address ${address}`, what);
  }
  const port = checkInt(k.port, 0, 0xffff, "port", what);
  const name = serviceName(protocol, address, port);
  if (port === 0) {
    throw bad(
      "PROXY_UNSUPPORTED",
      `${name}: a port-0 (all ports) service needs the kernel; the proxy listens on one port`,
      name,
    );
  }
  return { protocol, address, port, af, name };
}

export function keyId(k: CanonicalKey): string {
  return k.name;
}

/** A real server's settings, checked, defaults filled in (ipvsadm's: weight 1, thresholds 0). */
export interface DestSettings {
  address: string;
  port: number;
  af: number;
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  proxyProtocol: "v1" | "v2" | undefined;
}

function destSettings(svc: CanonicalKey, d: DestinationConfig): DestSettings {
  const what = `${svc.name} -> ${String(d.address)}:${String(d.port)}`;
  const { address, af } = canonicalIp(d.address, what);
  if (af !== svc.af) {
    // IPVS allows mixed families for tunnel/route only; a proxy could, but the model's schedulers
    // (sh, mh, lblc) hash one family per service, as the kernel does.
    throw bad("PROXY_BAD_VALUE", `${what}: real server and service must be of one address family`, what);
  }
  if (d.proxyProtocol !== undefined && d.proxyProtocol !== "v1" && d.proxyProtocol !== "v2") {
    throw bad("PROXY_BAD_VALUE", `${what}: proxyProtocol must be "v1" or "v2"`, what);
  }
  if (d.proxyProtocol && svc.protocol === IPPROTO_UDP) {
    throw bad("PROXY_UNSUPPORTED", `${what}: a PROXY header is sent on TCP connections only`, what);
  }
  return {
    address,
    port: checkInt(d.port, 1, 0xffff, "port", what),
    af,
    forward: checkInt(d.forward ?? IP_VS_CONN_F_MASQ, 0, 7, "forward", what),
    weight: checkInt(d.weight ?? 1, 0, INT_MAX, "weight", what),
    upperThreshold: checkInt(d.upperThreshold ?? 0, 0, 2 ** 32 - 1, "upperThreshold", what),
    lowerThreshold: checkInt(d.lowerThreshold ?? 0, 0, 2 ** 32 - 1, "lowerThreshold", what),
    proxyProtocol: d.proxyProtocol,
  };
}

/** A service's settings, checked, defaults filled in. */
export interface ServiceSettings {
  scheduler: string;
  flags: number;
  timeout: number;
  netmask: number;
  acceptProxyProtocol: boolean;
  maxConnections: number;
}

function serviceSettings(k: CanonicalKey, c: ServiceConfig): ServiceSettings {
  if (c.peName) {
    throw bad("PROXY_UNSUPPORTED", `${k.name}: persistence engine ${c.peName} is not supported`, k.name);
  }
  const flags = checkInt(c.flags ?? 0, 0, 0xffff, "flags", k.name);
  const persistent = (flags & IP_VS_SVC_F_PERSISTENT) !== 0;
  const max = k.af === AF_INET ? 32 : 128;
  return {
    scheduler: c.scheduler ?? DEFAULT_SCHEDULER,
    flags: flags & (IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED_MASK),
    timeout: checkInt(
      c.timeout ?? (persistent ? DEFAULT_PERSISTENT_TIMEOUT_S : 0),
      0,
      INT_MAX,
      "timeout",
      k.name,
    ),
    netmask: checkInt(c.netmask ?? max, 0, max, "netmask", k.name),
    acceptProxyProtocol: c.acceptProxyProtocol ?? false,
    maxConnections: checkInt(c.maxConnections ?? 0, 0, INT_MAX, "maxConnections", k.name),
  };
}

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
    return hostPort(this.settings.address, this.settings.port);
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
      throw fromModel(e, `${this.key.name} -> ${hostPort(s.address, s.port)}`);
    }
    const ep = hostPort(s.address, s.port);
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
      throw fromModel(e, `${this.key.name} -> ${hostPort(s.address, s.port)}`);
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
      throw fromModel(e, `${this.key.name} -> ${hostPort(String(address), port)}`);
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
