// A virtual service: its destination list, its scheduler, its connections and persistence
// templates, as net/netfilter/ipvs/ip_vs_ctl.c and ip_vs_core.c (Linux 6.1) keep them.
import { type IpAddress as Address, formatEndpoint, maskAddress } from "@lvs/inet";
import { Connection, SCTP_TIMEOUTS_S, Template } from "./conn.js";
import {
  AF_INET,
  AF_INET6,
  DEFAULT_MH_TAB_INDEX,
  DEFAULT_PERSISTENT_TIMEOUT_S,
  DEFAULT_SCHEDULER,
  FTPDATA,
  FTPPORT,
  IP_VS_DEST_F_AVAILABLE,
  IP_VS_DEST_F_OVERLOAD,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  IPPROTO_IP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  LBLC_DEFAULT_EXPIRATION_S,
  MH_PRIMES,
  SCHED_FLAG_NAMES,
  SCHEDULER_NAMES,
  type SchedulerName,
  TCP_TIMEOUTS_S,
  type TcpState,
  UDP_TIMEOUT_S,
} from "./constants.js";
import { Dest, type Destination, type ForwardMethod } from "./dest.js";
import { SchedulerError } from "./errors.js";
import { checkPort, parseAddress, parseNetmask } from "./input.js";
import { dh, mh, sh } from "./schedulers/hashing.js";
import { lblc, lblcr } from "./schedulers/locality.js";
import { fo, lc, nq, ovf, rr, sed, twos, wlc, wrr } from "./schedulers/simple.js";
import type {
  PacketView,
  ResolvedSchedOptions,
  SchedHost,
  Scheduler,
  SchedulerFactory,
} from "./schedulers/types.js";
import { type TimerHandle, TimerQueue } from "./timers.js";

const FACTORIES: Record<SchedulerName, SchedulerFactory> = {
  rr,
  wrr,
  lc,
  wlc,
  sed,
  nq,
  lblc,
  lblcr,
  dh,
  sh,
  fo,
  ovf,
  mh,
  twos,
};

export type Protocol = "tcp" | "udp" | "sctp";
const PROTOCOLS: Record<Protocol, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };

/** Persistence (ipvsadm -p [timeout] -M netmask). */
export interface PersistenceOptions {
  /** Seconds a template outlives its last use (default 300, as ipvsadm's -p). */
  timeout?: number;
  /** IPv4 dotted mask or prefix length; IPv6 prefix length (default: the whole address). */
  netmask?: string | number;
}

export interface ServiceOptions {
  /** Scheduler name (default "wlc", as ipvsadm). */
  scheduler?: SchedulerName | string;
  /** Scheduler flags: ipvsadm -b names ("sh-port,sh-fallback"), a list of names, or the bits. */
  flags?: string | readonly string[] | number;
  /** tcp (default), udp or sctp; ignored by fwmark services' matching, kept for templates. */
  protocol?: Protocol;
  /** The virtual address (VIP); omit for a fwmark service. */
  address?: string;
  /** The virtual port; 0 = all ports (persistent services only). */
  port?: number;
  /** A firewall-mark service (ipvsadm -f) instead of address:port. */
  fwmark?: number;
  /** Family of a fwmark service: 4 (default) or 6 (ipvsadm -6). */
  family?: 4 | 6;
  /** Persistence: true for the defaults, or the timeout/netmask. */
  persistent?: boolean | PersistenceOptions;
  /** ipvsadm -o: one-packet scheduling (UDP entries expire after their first packet). */
  onePacket?: boolean;
  /** The clock, in ms (default Date.now). Timers (templates, connections, lblc GC) follow it. */
  clock?: () => number;
  /** A random integer in [0, bound) for twos (default Math.random based). */
  random?: (bound: number) => number;
  /** CONFIG_IP_VS_MH_TAB_INDEX 8..17 (table 251..131071; default 12 = 4093). */
  mhTableIndex?: number;
  /** Any prime table size for mh instead (e.g. 65537 as in the Maglev paper). */
  mhTableSize?: number;
  /** sysctl net.ipv4.vs.lblc_expiration, seconds (default 86400). */
  lblcExpiration?: number;
  /** sysctl net.ipv4.vs.lblcr_expiration, seconds (default 86400). */
  lblcrExpiration?: number;
  /** sysctl net.ipv4.vs.expire_quiescent_template (default false). */
  expireQuiescentTemplate?: boolean;
  /** ipvsadm --set tcp tcpfin udp, seconds (0 keeps the default). */
  timeouts?: { tcp?: number; tcpFin?: number; udp?: number };
}

/** A real server as ipvsadm -a/-e takes it. */
export interface DestOptions {
  address: string;
  /** Default 0 (the virtual port is kept). */
  port?: number;
  /** Default 1. */
  weight?: number;
  /** ipvsadm -x (0 = none). */
  upperThreshold?: number;
  /** ipvsadm -y (0 = none). */
  lowerThreshold?: number;
  /** ipvsadm -g (route, default), -m (masq), -i (tunnel). */
  forward?: ForwardMethod;
}

/** The packet that starts a connection (its first packet, client → VIP). */
export interface PacketInput {
  protocol?: Protocol | number;
  clientAddress: string;
  clientPort: number;
  /** Default: the service's address (required for fwmark services). */
  virtualAddress?: string;
  /** Default: the service's port. */
  virtualPort?: number;
  /** The packet's mark (for fwmark services: the service's, by default). */
  fwmark?: number;
}

/** A template as seen from outside. */
export interface TemplateInfo {
  protocol: number;
  clientNet: string;
  virtual: string;
  virtualPort: number;
  destination: Destination;
  controls: number;
  expiresAt: number;
}

const INT_MAX = 2 ** 31 - 1;
const U32_MAX = 2 ** 32 - 1;

function checkInt(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new SchedulerError(
      "SCHED_BAD_VALUE",
      `${what} must be an integer ${min}..${max}, got ${String(v)}`,
      {
        object: what,
      },
    );
  }
  return v;
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let i = 2; i * i <= n; i++) if (n % i === 0) return false;
  return true;
}

/** Parses ipvsadm -b flags for a scheduler (as ipvsadm 1.31 parse_sched_flags). */
export function parseSchedFlags(scheduler: string, flags: string | readonly string[] | number): number {
  if (typeof flags === "number") {
    return checkInt(flags, 0, IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3, "flags");
  }
  const names = typeof flags === "string" ? flags.split(",") : flags;
  let bits = 0;
  for (const raw of names) {
    const name = raw.trim();
    if (name === "") continue;
    const bit = SCHED_FLAG_NAMES[name];
    if (bit === undefined) {
      throw new SchedulerError(
        "SCHED_BAD_FLAG",
        `unknown scheduler flag ${JSON.stringify(name)} (write ${Object.keys(SCHED_FLAG_NAMES).join(", ")})`,
        { object: name },
      );
    }
    if (/^(sh|mh)-/.test(name) && name.slice(0, 2) !== scheduler) {
      throw new SchedulerError(
        "SCHED_BAD_FLAG",
        `scheduler flag ${name} belongs to the ${name.slice(0, 2)} scheduler, not ${scheduler}`,
        { object: name },
      );
    }
    bits |= bit;
  }
  return bits;
}

function checkScheduler(name: string): SchedulerName {
  if (!(SCHEDULER_NAMES as readonly string[]).includes(name)) {
    throw new SchedulerError(
      "SCHED_UNKNOWN_SCHEDULER",
      `unknown scheduler ${JSON.stringify(name)} (write one of ${SCHEDULER_NAMES.join(", ")})`,
      { object: name, errno: "ENOENT" },
    );
  }
  return name as SchedulerName;
}

/**
 * One IPVS virtual service. Destinations are kept in the kernel's list order: ip_vs_add_dest()
 * links a new one at the head (list_add_rcu), so the newest comes first; edits keep the place;
 * a deleted destination goes to the trash and, re-added, comes back with its counters.
 */
export class Service {
  readonly af: typeof AF_INET | typeof AF_INET6;
  readonly protocol: number;
  readonly address: Address | undefined;
  readonly port: number;
  readonly fwmark: number;
  private schedName: SchedulerName;
  private svcFlags: number;
  private timeoutMs: number;
  private netmaskPrefix: number;
  private readonly list: Dest[] = [];
  private readonly trash = new Map<string, Dest>();
  private sched: Scheduler;
  private readonly timers = new TimerQueue();
  private readonly clock: () => number;
  private readonly rand: (bound: number) => number;
  private readonly sopts: ResolvedSchedOptions;
  private readonly quiescentExpire: boolean;
  private readonly tcpTimeouts: Record<TcpState, number>;
  private readonly udpTimeoutMs: number;
  private readonly conns = new Set<Connection>();
  private readonly templates = new Map<string, Template>();
  private readonly allTemplates = new Set<Template>();
  private readonly host: SchedHost;

  constructor(opts: ServiceOptions = {}) {
    this.fwmark = opts.fwmark === undefined ? 0 : checkInt(opts.fwmark, 1, U32_MAX, "fwmark");
    if (this.fwmark) {
      if (opts.address !== undefined) {
        throw new SchedulerError(
          "SCHED_BAD_VALUE",
          "a service is either address:port or a fwmark, not both",
          {
            object: opts.address,
          },
        );
      }
      this.af = opts.family === 6 ? AF_INET6 : AF_INET;
      this.address = undefined;
      this.port = 0;
    } else {
      this.address = parseAddress(opts.address ?? "0.0.0.0");
      this.af = this.address.af;
      this.port = checkPort(opts.port ?? 0, "port");
    }
    const proto = opts.protocol ?? "tcp";
    if (!(proto in PROTOCOLS)) {
      throw new SchedulerError("SCHED_BAD_VALUE", `protocol must be tcp, udp or sctp, got ${String(proto)}`, {
        object: String(proto),
      });
    }
    this.protocol = PROTOCOLS[proto];
    this.clock = opts.clock ?? (() => Date.now());
    this.rand = opts.random ?? ((bound: number) => Math.floor(Math.random() * bound));
    this.quiescentExpire = opts.expireQuiescentTemplate ?? false;
    const t = opts.timeouts ?? {};
    this.tcpTimeouts = { ...TCP_TIMEOUTS_S };
    if (t.tcp) this.tcpTimeouts.ESTABLISHED = checkInt(t.tcp, 1, INT_MAX, "timeouts.tcp");
    if (t.tcpFin) this.tcpTimeouts.FIN_WAIT = checkInt(t.tcpFin, 1, INT_MAX, "timeouts.tcpFin");
    this.udpTimeoutMs = (t.udp ? checkInt(t.udp, 1, INT_MAX, "timeouts.udp") : UDP_TIMEOUT_S) * 1000;

    let mhSize: number;
    let mhBits: number;
    if (opts.mhTableSize !== undefined) {
      if (!isPrime(opts.mhTableSize) || opts.mhTableSize > 2 ** 24) {
        throw new SchedulerError(
          "SCHED_BAD_VALUE",
          `mhTableSize must be a prime ≤ 2^24, got ${opts.mhTableSize}`,
          {
            object: String(opts.mhTableSize),
          },
        );
      }
      mhSize = opts.mhTableSize;
      // The kernel's sizes are the largest primes below 2^INDEX and IP_VS_MH_TAB_BITS = INDEX / 2.
      mhBits = Math.floor(Math.round(Math.log2(mhSize)) / 2);
    } else {
      const index = checkInt(opts.mhTableIndex ?? DEFAULT_MH_TAB_INDEX, 8, 17, "mhTableIndex");
      mhSize = MH_PRIMES[index - 8]!;
      mhBits = Math.floor(index / 2);
    }
    this.sopts = {
      mhTableSize: mhSize,
      mhTableBits: mhBits,
      lblcExpirationMs: (opts.lblcExpiration ?? LBLC_DEFAULT_EXPIRATION_S) * 1000,
      lblcrExpirationMs: (opts.lblcrExpiration ?? LBLC_DEFAULT_EXPIRATION_S) * 1000,
    };
    this.schedName = checkScheduler(opts.scheduler ?? DEFAULT_SCHEDULER);
    this.svcFlags = opts.flags === undefined ? 0 : parseSchedFlags(this.schedName, opts.flags);
    if (opts.onePacket) this.svcFlags |= IP_VS_SVC_F_ONEPACKET;
    this.timeoutMs = DEFAULT_PERSISTENT_TIMEOUT_S * 1000;
    this.netmaskPrefix = this.af === AF_INET ? 32 : 128;
    this.setPersistence(opts.persistent);

    const self = this;
    this.host = {
      get dests() {
        return self.list;
      },
      get af() {
        return self.af;
      },
      get flags() {
        return self.svcFlags;
      },
      now: () => this.clock(),
      random: (bound) => this.rand(bound),
      addTimer: (at, fn) => this.timers.add(at, fn),
      cancelTimer: (h) => this.timers.cancel(h as TimerHandle),
      hold: (d) => this.hold(d),
      put: (d) => this.put(d),
      options: this.sopts,
    };
    this.sched = FACTORIES[this.schedName](this.host);
  }

  // ------------------------------------------------------------------ configuration

  get scheduler(): SchedulerName {
    return this.schedName;
  }
  /** svc->flags (IP_VS_SVC_F_PERSISTENT, _ONEPACKET, _SCHED1..3). */
  get flags(): number {
    return this.svcFlags;
  }
  get persistent(): boolean {
    return (this.svcFlags & IP_VS_SVC_F_PERSISTENT) !== 0;
  }
  /** Persistence timeout in seconds. */
  get persistenceTimeout(): number {
    return this.timeoutMs / 1000;
  }
  /** Persistence netmask as a prefix length. */
  get netmask(): number {
    return this.netmaskPrefix;
  }
  /** The mh table size in use. */
  get mhTableSize(): number {
    return this.sopts.mhTableSize;
  }

  /** `proto vip:port` or `fwmark N`. */
  get id(): string {
    if (this.fwmark) return `fwmark ${this.fwmark}`;
    const p = Object.entries(PROTOCOLS).find(([, v]) => v === this.protocol)?.[0] ?? String(this.protocol);
    return `${p} ${formatEndpoint(this.address!, this.port)}`;
  }

  private setPersistence(p: ServiceOptions["persistent"]): void {
    if (p === undefined) return;
    if (p === false) {
      this.svcFlags &= ~IP_VS_SVC_F_PERSISTENT;
      return;
    }
    this.svcFlags |= IP_VS_SVC_F_PERSISTENT;
    const o = p === true ? {} : p;
    if (o.timeout !== undefined)
      this.timeoutMs = checkInt(o.timeout, 1, U32_MAX / 1000, "persistent.timeout") * 1000;
    if (o.netmask !== undefined) this.netmaskPrefix = parseNetmask(o.netmask, this.af);
  }

  /**
   * ipvsadm -E: a different scheduler is unbound (its state dropped) and the new one bound to the
   * current destinations; flags and persistence change in place.
   */
  edit(opts: Pick<ServiceOptions, "scheduler" | "flags" | "persistent" | "onePacket">): void {
    this.advance();
    const name = opts.scheduler === undefined ? this.schedName : checkScheduler(opts.scheduler);
    let flags = this.svcFlags;
    if (opts.flags !== undefined) {
      flags =
        (flags & ~(IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3)) |
        parseSchedFlags(name, opts.flags);
    }
    if (opts.onePacket !== undefined) {
      flags = opts.onePacket ? flags | IP_VS_SVC_F_ONEPACKET : flags & ~IP_VS_SVC_F_ONEPACKET;
    }
    if (name !== this.schedName) {
      this.sched.done?.();
      this.schedName = name;
      this.sched = FACTORIES[name](this.host);
    }
    this.svcFlags = flags;
    this.setPersistence(opts.persistent);
  }

  // ------------------------------------------------------------------ destinations

  /** The destinations in the kernel's list order (the most recently added first). */
  get destinations(): readonly Destination[] {
    return this.list;
  }

  /** A destination of the service, or undefined. */
  getDest(address: string, port = 0): Destination | undefined {
    return this.find(parseAddress(address), port);
  }

  /**
   * Take a destination's counters as a live table reports them (ipvsadm -Ln's ActiveConn,
   * InActConn, the persistent count), to ask what the scheduler would do now without replaying
   * the connections. OVERLOAD follows the kernel's rule at bind time (total ≥ upper threshold)
   * unless `overloaded` says otherwise: between the thresholds it depends on history.
   */
  observeCounters(
    address: string,
    port: number,
    c: { active: number; inactive: number; persistent?: number; overloaded?: boolean },
  ): Destination {
    const d = this.find(parseAddress(address), port);
    if (!d)
      throw new SchedulerError("SCHED_NO_DEST", `no destination ${address}:${port}`, {
        object: `${address}:${port}`,
        errno: "ENOENT",
      });
    for (const [k, v] of Object.entries(c)) {
      if (typeof v === "number" && (!Number.isSafeInteger(v) || v < 0))
        throw new SchedulerError("SCHED_BAD_VALUE", `${k} must be an integer ≥ 0, not ${v}`);
    }
    d.activeConns = c.active;
    d.inactConns = c.inactive;
    d.persistConns = c.persistent ?? 0;
    const over = c.overloaded ?? (d.upperThreshold !== 0 && d.totalConns() >= d.upperThreshold);
    if (over) d.flags |= IP_VS_DEST_F_OVERLOAD;
    else d.flags &= ~IP_VS_DEST_F_OVERLOAD;
    return d;
  }

  private find(a: Address, port: number): Dest | undefined {
    return this.list.find((d) => d.port === port && d.addr.text === a.text);
  }

  private checkDestOptions(o: DestOptions): { addr: Address; port: number } {
    const addr = parseAddress(o.address);
    const port = checkPort(o.port ?? 0, "port");
    // ip_vs_add_dest()/ip_vs_edit_dest(): weight < 0 or l_threshold > u_threshold → -ERANGE.
    checkInt(o.weight ?? 1, 0, INT_MAX, "weight");
    const u = checkInt(o.upperThreshold ?? 0, 0, U32_MAX, "upperThreshold");
    const l = checkInt(o.lowerThreshold ?? 0, 0, U32_MAX, "lowerThreshold");
    if (l > u) {
      throw new SchedulerError(
        "SCHED_BAD_THRESHOLD",
        `lower threshold ${l} is above the upper threshold ${u} for ${formatEndpoint(addr, port)}`,
        { object: formatEndpoint(addr, port), errno: "ERANGE" },
      );
    }
    return { addr, port };
  }

  /** __ip_vs_update_dest(): weights, thresholds (clearing OVERLOAD when raised or removed). */
  private update(d: Dest, o: DestOptions, add: boolean): void {
    const weight = o.weight ?? 1;
    if (add || weight !== 0) d.lastWeight = weight;
    d.weight = weight;
    d.forward = o.forward ?? "route";
    d.flags |= IP_VS_DEST_F_AVAILABLE;
    const u = o.upperThreshold ?? 0;
    if (u === 0 || u > d.upperThreshold) d.flags &= ~IP_VS_DEST_F_OVERLOAD;
    d.upperThreshold = u;
    d.lowerThreshold = o.lowerThreshold ?? 0;
  }

  /** ipvsadm -a. Throws SCHED_DEST_EXISTS when it is there already. */
  addDest(o: DestOptions): Destination {
    this.advance();
    const { addr, port } = this.checkDestOptions(o);
    const ep = formatEndpoint(addr, port);
    if (this.find(addr, port)) {
      throw new SchedulerError("SCHED_DEST_EXISTS", `destination ${ep} already exists in ${this.id}`, {
        object: ep,
        errno: "EEXIST",
      });
    }
    // ip_vs_trash_get_dest(): a deleted destination still referenced comes back as it was.
    let d = this.trash.get(ep);
    if (d) this.trash.delete(ep);
    else d = new Dest(addr, port);
    this.update(d, o, true);
    this.list.unshift(d);
    this.sched.addDest?.(d);
    return d;
  }

  /** ipvsadm -e. Omitted fields take ipvsadm's defaults (weight 1, thresholds 0), as ipvsadm sends them. */
  editDest(o: DestOptions): Destination {
    this.advance();
    const { addr, port } = this.checkDestOptions(o);
    const d = this.find(addr, port);
    if (!d) {
      const ep = formatEndpoint(addr, port);
      throw new SchedulerError("SCHED_NO_DEST", `no destination ${ep} in ${this.id}`, {
        object: ep,
        errno: "ENOENT",
      });
    }
    this.update(d, o, false);
    this.sched.updDest?.(d);
    return d;
  }

  /** ipvsadm -d. Connections to it stay (and keep counting on it) until they expire. */
  deleteDest(address: string, port = 0): void {
    this.advance();
    const addr = parseAddress(address);
    const p = checkPort(port, "port");
    const i = this.list.findIndex((d) => d.port === p && d.addr.text === addr.text);
    if (i < 0) {
      const ep = formatEndpoint(addr, p);
      throw new SchedulerError("SCHED_NO_DEST", `no destination ${ep} in ${this.id}`, {
        object: ep,
        errno: "ENOENT",
      });
    }
    const d = this.list[i]!;
    d.flags &= ~IP_VS_DEST_F_AVAILABLE;
    this.list.splice(i, 1);
    this.sched.delDest?.(d, i);
    if (d.refs > 0) this.trash.set(d.endpoint, d);
  }

  private hold(d: Dest): void {
    d.refs++;
  }

  private put(d: Dest): void {
    d.refs--;
    if (d.refs === 0 && !d.available) this.trash.delete(d.endpoint);
  }

  // ------------------------------------------------------------------ scheduling

  /** Runs the timers due by now (templates, connections, lblc/lblcr GC). Every method calls it. */
  advance(): void {
    this.timers.run(this.clock());
  }

  private packet(p: PacketInput): PacketView {
    const caddr = parseAddress(p.clientAddress);
    let vaddr: Address;
    if (p.virtualAddress !== undefined) vaddr = parseAddress(p.virtualAddress);
    else if (this.address) vaddr = this.address;
    else {
      throw new SchedulerError("SCHED_BAD_PACKET", `a packet to ${this.id} needs virtualAddress`, {
        object: p.clientAddress,
      });
    }
    if (caddr.af !== this.af || vaddr.af !== this.af) {
      throw new SchedulerError(
        "SCHED_BAD_PACKET",
        `packet ${p.clientAddress} → ${vaddr.text} is not of the service's family (${this.id})`,
        { object: p.clientAddress },
      );
    }
    const proto =
      p.protocol === undefined
        ? this.protocol
        : typeof p.protocol === "number"
          ? p.protocol
          : PROTOCOLS[p.protocol];
    if (proto === undefined) {
      throw new SchedulerError("SCHED_BAD_PACKET", `unknown protocol ${String(p.protocol)}`, {
        object: String(p.protocol),
      });
    }
    const vport = checkPort(p.virtualPort ?? this.port, "virtualPort");
    const fwmark = p.fwmark ?? this.fwmark;
    // The kernel only hands a service the packets that match it (ip_vs_service_find()).
    const foreign = this.fwmark
      ? fwmark !== this.fwmark
      : vaddr.text !== this.address!.text || (this.port !== 0 && vport !== this.port);
    if (foreign) {
      throw new SchedulerError(
        "SCHED_BAD_PACKET",
        `packet to ${formatEndpoint(vaddr, vport)}${fwmark ? ` mark ${fwmark}` : ""} does not belong to ${this.id}`,
        { object: formatEndpoint(vaddr, vport) },
      );
    }
    return {
      af: this.af,
      protocol: proto,
      caddr,
      cport: checkPort(p.clientPort, "clientPort"),
      vaddr,
      vport,
      fwmark,
    };
  }

  /**
   * The scheduler alone (sched->schedule()): the destination it picks for this packet, or
   * undefined. It moves what the kernel's call moves (rr/wrr position, lblc/lblcr caches), but
   * creates no connection and consults no persistence template.
   */
  schedule(p: PacketInput): Destination | undefined {
    this.advance();
    return this.sched.schedule(this.packet(p));
  }

  /**
   * What the kernel does with a connection's first packet (ip_vs_schedule(), then the protocol's
   * state transition): persistence templates, the scheduler, a connection entry bound to the
   * destination. The connection stays until it expires (its timeout after the last packet) or
   * `expire()`. Returns undefined when the kernel would not schedule (no destination available,
   * a port-zero service without persistence, a client port of 20).
   */
  connect(p: PacketInput): Connection | undefined {
    this.advance();
    const pkt = this.packet(p);
    if (pkt.cport === FTPDATA) return undefined;
    let c: Connection | undefined;
    if (this.svcFlags & IP_VS_SVC_F_PERSISTENT) {
      c = this.schedPersist(pkt);
    } else {
      if (!this.fwmark && pkt.vport !== this.port) return undefined;
      const d = this.sched.schedule(pkt);
      if (!d) return undefined;
      c = this.newConn(pkt, d, d.port || pkt.vport, undefined);
    }
    if (!c) return undefined;
    this.conns.add(c);
    c.firstPacket();
    return c;
  }

  private newConn(pkt: PacketView, d: Dest, dport: number, ct: Template | undefined): Connection {
    const onePacket = (this.svcFlags & IP_VS_SVC_F_ONEPACKET) !== 0 && pkt.protocol === IPPROTO_UDP;
    return new Connection(
      this.connHost,
      pkt.protocol,
      pkt.caddr,
      pkt.cport,
      pkt.vaddr,
      pkt.vport,
      d,
      dport,
      ct,
      onePacket,
    );
  }

  /** ip_vs_sched_persist(). */
  private schedPersist(pkt: PacketView): Connection | undefined {
    const snet = maskAddress(pkt.caddr, this.netmaskPrefix);
    let protocol = pkt.protocol;
    let vaddr = pkt.vaddr.text;
    let vport = 0;
    if (pkt.vport === this.port) {
      // <protocol, caddr, 0, vaddr, vport, daddr, dport>; FTP: vport 0.
      if (this.port !== FTPPORT) vport = pkt.vport;
    } else if (this.fwmark) {
      // fwmark template: <IPPROTO_IP, caddr, 0, fwmark, 0, daddr, 0>
      protocol = IPPROTO_IP;
      vaddr = `fwmark:${this.fwmark}`;
    }
    const key = `${protocol}|${snet.text}|${vaddr}|${vport}`;
    let ct = this.templates.get(key);
    let dest: Dest;
    if (!ct || !this.checkTemplate(ct)) {
      const d = this.sched.schedule(pkt);
      if (!d) return undefined;
      dest = d;
      ct = new Template(this.connHost, key, protocol, snet, vaddr, vport, d, this.timeoutMs);
      this.templates.set(key, ct);
      this.allTemplates.add(ct);
    } else {
      dest = ct.dest;
    }
    let dport = pkt.vport;
    if (dport === this.port && dest.port) dport = dest.port;
    const c = this.newConn(pkt, dest, dport, ct);
    ct.rearm(this.clock());
    return c;
  }

  /** ip_vs_check_template(): a template whose dest left (or is quiesced, with the sysctl) is retired. */
  private checkTemplate(ct: Template): boolean {
    const d = ct.dest;
    if (!d.available || (this.quiescentExpire && d.weight === 0)) {
      ct.valid = false;
      if (this.templates.get(ct.key) === ct) this.templates.delete(ct.key);
      return false;
    }
    return true;
  }

  private readonly connHost = {
    now: () => this.clock(),
    advance: () => this.advance(),
    addTimer: (at: number, fn: (at: number) => void) => this.timers.add(at, fn),
    cancelTimer: (h: TimerHandle) => this.timers.cancel(h),
    hold: (d: Dest) => this.hold(d),
    put: (d: Dest) => this.put(d),
    timeoutMs: (protocol: number, state: string) => {
      if (protocol === IPPROTO_TCP) return (this.tcpTimeouts[state as TcpState] ?? 2) * 1000;
      if (protocol === IPPROTO_UDP) return this.udpTimeoutMs;
      return (SCTP_TIMEOUTS_S[state] ?? 2) * 1000;
    },
    forgetConn: (c: Connection) => {
      this.conns.delete(c);
    },
    forgetTemplate: (t: Template) => {
      this.allTemplates.delete(t);
      if (this.templates.get(t.key) === t) this.templates.delete(t.key);
    },
  };

  /** Live connection entries (not templates). */
  get connections(): readonly Connection[] {
    this.advance();
    return [...this.conns];
  }

  /** Live persistence templates, valid or retired. */
  get persistenceTemplates(): readonly TemplateInfo[] {
    this.advance();
    return [...this.allTemplates].map((t) => ({
      protocol: t.protocol,
      clientNet: t.clientNet.text,
      virtual: t.virtual,
      virtualPort: t.virtualPort,
      destination: t.destination,
      controls: t.nControl,
      expiresAt: t.expiresAt,
    }));
  }

  /** Bytes the kernel allocates for the scheduler's table (sh/dh: 256 × 8, mh: M × 8), else 0. */
  get kernelTableBytes(): number {
    return this.sched.kernelBytes?.() ?? 0;
  }
}
