/**
 * The I/O layer: a generic-netlink socket speaking to the kernel's IPVS family.
 *
 * Lessons from cloudflare/ipvs, moby/ipvs and kube-proxy, applied here:
 * - every request has a timeout (dumps: an inactivity timeout), so a hung socket never hangs us;
 * - kernel errors become IpvsError naming the object and keeping errno + its name;
 * - a dump whose parts carry NLM_F_DUMP_INTR is thrown away and retried, never half-trusted;
 * - many requests go out per write with NLM_F_ACK, ACKs matched by sequence number, with a
 *   bounded window so the ACKs fit the socket's receive buffer (an overflow would drop them).
 */

import { type Clock, systemClock } from "@lvs/inet";
import { NetlinkExchangeSocket, withNetns } from "@lvs/sys";
import type { RawNetlinkSocket } from "netlink";
import {
  appendIpvsRequest,
  decodeIpvsMessage,
  decodeServiceReply,
  encodeIpvsRequest,
  type IpvsMessage,
} from "./codec.js";
import * as C from "./constants.js";
import { IpvsError, type IpvsObjectKind, kernelError } from "./errors.js";
import {
  type BatchItem,
  DEST_DUMP_RECEIVE_BYTES,
  dumpServices,
  type ExchangeContext,
  readTable,
  runBatch,
  type TableRedo,
} from "./exchange-io.js";
import { decodeDestEntry } from "./fast-dest.js";
import type { ReconcilePlan, TableRead } from "./fast-match.js";
import {
  daemonFromAttrs,
  describeDest,
  describeService,
  infoFromMessage,
  keyOf,
  Msg,
  markKernelTable,
  serviceEntryFromAttrs,
  serviceFamily,
  timeoutsFromMessage,
} from "./model.js";
import {
  encodeGenl,
  encodeNlMsg,
  type NlMsg,
  parseAttrs,
  parseGenl,
  parseNlError,
  parseNlMsgs,
  splitNlMsgs,
  Writer,
} from "./netlink.js";
import type {
  Daemon,
  Destination,
  DestinationEntry,
  DestinationKey,
  IpvsInfo,
  Service,
  ServiceEntry,
  ServiceKey,
  ServiceWithDests,
  Timeouts,
} from "./types.js";

/** How a table read decodes. */
export interface TableReadOptions {
  /**
   * false: leave each service's and real server's traffic counters out (`stats` and `stats64`
   * undefined). Twenty bigints per object are most of a table read's decoding; a reconcile needs
   * none of them. Default true.
   */
  counters?: boolean;
}

export interface IpvsClientOptions {
  /** Network namespace (name under /run/netns, or a path) to open the socket in. */
  netns?: string;
  /** Per-request timeout; for dumps, the longest wait between two parts. Default 10 s. */
  timeoutMs?: number;
  /** Requests in flight in `batch()` (writes of 128). Default 256: their error replies fit the receive buffer. */
  window?: number;
  /** How often an interrupted dump (NLM_F_DUMP_INTR) is retried. Default 5. */
  dumpRetries?: number;
  /**
   * Sockets reading destinations in parallel in `table()` (a netlink socket runs one dump at a
   * time and IPVS dumps one service's destinations per request). Default 4.
   */
  parallelDumps?: number;
  /** Time source of the request timeouts (tests pass a FakeClock). Default: the system clock. */
  clock?: Clock;
  /**
   * Run `table()`'s dumps and `batch()`'s writes on libuv pool threads through @lvs/sys's
   * NetlinkExchangeSocket (the kernel's work and ours overlap; one crossing per few hundred
   * requests). Default true when the addon has it; false keeps everything on the one socket.
   * Only for clients from `open()`; their timeouts then use the system clock.
   */
  nativeIo?: boolean;
}

/** One mutation, as `batch()`, `diff()` and `apply()` speak them. */
export type Operation =
  | { op: "addService"; service: Service }
  | { op: "editService"; service: Service }
  | { op: "delService"; service: ServiceKey }
  | { op: "addDest"; service: ServiceKey; dest: Destination }
  | { op: "editDest"; service: ServiceKey; dest: Destination }
  | { op: "delDest"; service: ServiceKey; dest: DestinationKey };

export interface OperationResult {
  operation: Operation;
  /** undefined when the kernel acknowledged it. */
  error: IpvsError | undefined;
}

interface Pending {
  seq: number;
  kind: IpvsObjectKind;
  command: string;
  /** What the request is about; a function when it is only worth computing on failure. */
  object: string | undefined | (() => string);
  dump: boolean;
  parts: IpvsMessage[];
  /** Replaces the lossless codec for the parts of a dump whose caller needs only entries. */
  decode?: (payload: Uint8Array) => unknown;
  interrupted: boolean;
  /** clock.now() past which the request has timed out (the client's one timer checks it). */
  deadline: number;
  /** On the tail of a batch write: the members sent without NLM_F_ACK before it. */
  chunk?: Pending[];
  resolve: (parts: IpvsMessage[]) => void;
  reject: (err: IpvsError) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const EMPTY = new Uint8Array(0);

export function operationMessage(o: Operation): IpvsMessage {
  switch (o.op) {
    case "addService":
      return Msg.newService(o.service);
    case "editService":
      return Msg.setService(o.service);
    case "delService":
      return Msg.delService(o.service);
    case "addDest":
      return Msg.newDest(o.service, o.dest);
    case "editDest":
      return Msg.setDest(o.service, o.dest);
    case "delDest":
      return Msg.delDest(o.service, o.dest);
  }
}

export function describeOperation(o: Operation): { kind: IpvsObjectKind; object: string } {
  if (o.op === "addService" || o.op === "editService" || o.op === "delService") {
    return { kind: "SERVICE", object: describeService(o.service) };
  }
  return { kind: "DEST", object: describeDest(o.service, o.dest) };
}

/** What the receive path dropped, for metrics (netconf's watcher counts its own the same way). */
export interface IpvsClientStats {
  /**
   * Malformed replies dropped: a datagram or message whose framing does not hold, an NLMSG_ERROR
   * too short for its errno, a part the codec refused. Never thrown out of the socket's handler;
   * the request it was for gets a later answer or times out (a refused part fails its request).
   */
  malformed: number;
}

/** The part of netlink's RawNetlinkSocket the client uses (a fake kernel in unit tests). */
export type NetlinkSocketLike = Pick<RawNetlinkSocket, "send" | "on" | "ref" | "unref" | "close">;

export class IpvsClient {
  private readonly socket: NetlinkSocketLike;
  private readonly familyId: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly window: number;
  private readonly dumpRetries: number;
  private readonly pending = new Map<number, Pending>();
  readonly stats: IpvsClientStats = { malformed: 0 };
  private seq: number;
  private closed = false;
  /**
   * One timer for every pending request: it fires at the earliest deadline, fails what has
   * expired and re-arms for the next. (A timer per request cost more than decoding the replies
   * when a table dump issues thousands of requests.)
   */
  private deadlineTimer: unknown;
  private deadlineAt = Number.POSITIVE_INFINITY;
  /** Set when opened by `open()`: lets table() open sibling sockets the same way. */
  private openOptions: IpvsClientOptions | undefined;
  private peers: Promise<IpvsClient[]> | undefined;
  private exchange: ExchangeContext | null | undefined;
  private exchangeSeq = 1;

  private constructor(socket: NetlinkSocketLike, familyId: number, opts: IpvsClientOptions) {
    this.socket = socket;
    this.familyId = familyId;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.clock = opts.clock ?? systemClock;
    this.window = opts.window ?? 256;
    this.dumpRetries = opts.dumpRetries ?? 5;
    // A seed, not a time: sequence numbers of successive clients differ, like libnl's.
    this.seq = (Date.now() & 0x3fffffff) + 1;
  }

  /** Opens a socket (inside `netns` if given) and resolves the "IPVS" family through nlctrl. */
  static async open(opts: IpvsClientOptions = {}): Promise<IpvsClient> {
    // Loaded here, not on import: the package's pure parts (codec, diff, /proc parser) load no
    // native addon, so @lvs/sync and others can use them without one.
    const { RawNetlinkSocket } = await import("netlink");
    const socket = withNetns(opts.netns, () => {
      try {
        // Message peeking (the default) sizes each read, so no datagram is ever truncated.
        return new RawNetlinkSocket(C.NETLINK_GENERIC, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
      } catch (err) {
        const e = err as { errno?: number; code?: string; message?: string };
        throw new IpvsError(
          "IPVS_SOCKET",
          `cannot open a generic netlink socket: ${e.message ?? String(err)}`,
          {
            ...(e.errno !== undefined ? { errno: Math.abs(e.errno) } : {}),
            cause: err,
          },
        );
      }
    });
    socket.unref();
    const resolver = IpvsClient.fromSocket(socket, 0, opts);
    let familyId: number;
    try {
      familyId = await resolver.resolveFamily();
    } catch (err) {
      resolver.close();
      throw err;
    }
    (resolver as unknown as { familyId: number }).familyId = familyId;
    resolver.openOptions = opts;
    return resolver;
  }

  /** A client over an already open socket whose IPVS family id is known (tests: a fake kernel). */
  static fromSocket(socket: NetlinkSocketLike, familyId: number, opts: IpvsClientOptions = {}): IpvsClient {
    const client = new IpvsClient(socket, familyId, opts);
    socket.on("message", (buf) =>
      client.onDatagram(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)),
    );
    socket.on("error", (err) => client.onSocketError(err));
    return client;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.peers?.then((ps) => {
      for (const p of ps) p.close();
    });
    for (const s of this.exchange?.sockets ?? []) s.close();
    this.exchange?.servicesSocket?.close();
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    for (const p of this.pending.values()) {
      p.reject(
        new IpvsError("IPVS_CLOSED", `client closed while ${p.command} was pending`, { command: p.command }),
      );
    }
    this.pending.clear();
    this.socket.close();
  }

  // ------------------------------------------------------------------ public API
  async info(): Promise<IpvsInfo> {
    const [reply] = await this.request(Msg.getInfo(), "INFO", undefined);
    if (!reply) throw new IpvsError("IPVS_BAD_MESSAGE", "GET_INFO: no reply", { command: "GET_INFO" });
    return infoFromMessage(reply);
  }

  /** All services in one dump. */
  async services(opts: TableReadOptions = {}): Promise<ServiceEntry[]> {
    const counters = opts.counters ?? true;
    const exchange = this.exchangeContext();
    if (exchange) {
      for (let attempt = 0; attempt < this.dumpRetries; attempt++) {
        const services = await dumpServices(exchange, counters);
        if (services) return services;
      }
    }
    // Parts decoded straight to the service (decodeServiceReply), as table() reads them.
    const parts = (await this.dump(Msg.dumpServices(), "SERVICE", undefined, (payload) => {
      const a = decodeServiceReply(payload, counters);
      return a ? serviceEntryFromAttrs(a) : undefined;
    })) as unknown as (ServiceEntry | undefined)[];
    return parts.filter((s): s is ServiceEntry => s !== undefined);
  }

  /** One service (GET_SERVICE doit). ESRCH → IPVS_ESRCH_SERVICE. */
  async service(key: ServiceKey): Promise<ServiceEntry> {
    const [reply] = await this.request(Msg.getService(key), "SERVICE", describeService(key));
    if (!reply?.service)
      throw new IpvsError("IPVS_BAD_MESSAGE", "GET_SERVICE: no service in reply", { command: "GET_SERVICE" });
    return serviceEntryFromAttrs(reply.service);
  }

  /** A service's destinations (one multi-part dump). */
  async dests(key: ServiceKey, opts: TableReadOptions = {}): Promise<DestinationEntry[]> {
    const af = serviceFamily(key);
    const counters = opts.counters ?? true;
    // The hot path of table(): entries straight from the bytes (fast-dest.ts).
    const parts = (await this.dump(Msg.dumpDests(key), "SERVICE", describeService(key), (payload) =>
      decodeDestEntry(payload, af, counters),
    )) as unknown as (DestinationEntry | undefined)[];
    return parts.filter((d): d is DestinationEntry => d !== undefined);
  }

  /**
   * Every service (one dump) with its destinations (one dump each, on parallel sockets).
   * `{ counters: false }` leaves the traffic counters out (`stats`/`stats64` undefined): what a
   * reconcile reads, since counters never take part in a diff.
   */
  async table(opts: TableReadOptions = {}): Promise<ServiceWithDests[]> {
    const exchange = this.exchangeContext();
    if (exchange) {
      const read = await readTable(exchange, opts.counters ?? true, this.redo(opts));
      const table: ServiceWithDests[] = [];
      for (let i = 0; i < read.services.length; i++) {
        table.push({ service: read.services[i] as ServiceEntry, dests: read.dests[i] as DestinationEntry[] });
      }
      return markKernelTable(table);
    }
    const services = await this.services(opts);
    const workers: IpvsClient[] = [this, ...(await this.dumpPeers())];
    const out: (ServiceWithDests | undefined)[] = new Array(services.length);
    let next = 0;
    const work = async (c: IpvsClient): Promise<void> => {
      while (next < services.length) {
        const i = next++;
        const service = services[i] as ServiceEntry;
        try {
          out[i] = { service, dests: await c.dests(keyOf(service), opts) };
        } catch (err) {
          // Deleted between the two dumps: it is not part of the table any more.
          if (err instanceof IpvsError && err.errno === C.Errno.ESRCH) continue;
          throw err;
        }
      }
    };
    await Promise.all(workers.map(work));
    return markKernelTable(out.filter((x): x is ServiceWithDests => x !== undefined));
  }

  /**
   * apply()'s read: table({ counters: false }), with the services and real servers that equal
   * `plan`'s (asked for when the first reply is in) compared in their bytes and left undecoded
   * (fast-match.ts). Without the pool-thread sockets, the table as read, every row decoded.
   * @internal
   */
  async readForDiff(plan: () => ReconcilePlan | undefined): Promise<TableRead> {
    const exchange = this.exchangeContext();
    if (exchange) return readTable(exchange, false, this.redo({ counters: false }), plan);
    const table = await this.table({ counters: false });
    return {
      services: table.map((t) => t.service),
      dests: table.map((t) => t.dests),
      linked: undefined,
      same: undefined,
    };
  }

  /** What a read over the exchange sockets redoes on this client's socket. */
  private redo(opts: TableReadOptions): TableRedo {
    return {
      services: () => this.services(opts),
      dests: (service) => this.dests(keyOf(service), opts),
    };
  }

  /** The pool-thread sockets (opened on first use), or null when not available or not wanted. */
  private exchangeContext(): ExchangeContext | null {
    if (this.exchange !== undefined) return this.exchange;
    const opts = this.openOptions;
    if (!opts || opts.nativeIo === false || this.closed || !NetlinkExchangeSocket.available()) {
      this.exchange = null;
      return null;
    }
    const count = Math.max(1, opts.parallelDumps ?? 4);
    const sockets: NetlinkExchangeSocket[] = [];
    let servicesSocket: NetlinkExchangeSocket | undefined;
    const where = opts.netns ? { netns: opts.netns } : {};
    try {
      // Real-server dumps on sockets that read small datagrams (the kernel's parts stay small);
      // the services dump, one dump of the whole table, on one that reads large ones.
      for (let i = 0; i < count; i++) {
        sockets.push(
          NetlinkExchangeSocket.open(C.NETLINK_GENERIC, { ...where, receiveBytes: DEST_DUMP_RECEIVE_BYTES }),
        );
      }
      servicesSocket = NetlinkExchangeSocket.open(C.NETLINK_GENERIC, where);
    } catch {
      // The socket path still works: use it.
      for (const s of sockets) s.close();
      this.exchange = null;
      return null;
    }
    this.exchange = {
      familyId: this.familyId,
      timeoutMs: this.timeoutMs,
      sockets,
      servicesSocket,
      // 1 to 2^30 - 1: any u32 would do for the kernel, but past 2^30 a number is no longer a
      // small integer to V8, and every request's seq would be a heap number (a daemon dumping
      // 5,000 services every 5 s gets there in 12 days).
      nextSeq: () => {
        this.exchangeSeq = (this.exchangeSeq % 0x3ffffffe) + 1;
        return this.exchangeSeq;
      },
    };
    return this.exchange;
  }

  private dumpPeers(): Promise<IpvsClient[]> {
    const n = (this.openOptions?.parallelDumps ?? 4) - 1;
    if (!this.openOptions || n <= 0) return Promise.resolve([]);
    this.peers ??= Promise.all(
      Array.from({ length: n }, () => IpvsClient.open({ ...this.openOptions, parallelDumps: 1 })),
    );
    return this.peers;
  }

  addService(s: Service): Promise<void> {
    return this.ack(Msg.newService(s), "SERVICE", describeService(s)).catch((err) => {
      throw namingScheduler(err, s);
    });
  }
  editService(s: Service): Promise<void> {
    return this.ack(Msg.setService(s), "SERVICE", describeService(s)).catch((err) => {
      throw namingScheduler(err, s);
    });
  }
  delService(k: ServiceKey): Promise<void> {
    return this.ack(Msg.delService(k), "SERVICE", describeService(k));
  }
  addDest(k: ServiceKey, d: Destination): Promise<void> {
    return this.ack(Msg.newDest(k, d), "DEST", describeDest(k, d));
  }
  editDest(k: ServiceKey, d: Destination): Promise<void> {
    return this.ack(Msg.setDest(k, d), "DEST", describeDest(k, d));
  }
  delDest(k: ServiceKey, d: DestinationKey): Promise<void> {
    return this.ack(Msg.delDest(k, d), "DEST", describeDest(k, d));
  }
  async timeouts(): Promise<Timeouts> {
    const [reply] = await this.request(Msg.getConfig(), "CONFIG", undefined);
    if (!reply) throw new IpvsError("IPVS_BAD_MESSAGE", "GET_CONFIG: no reply", { command: "GET_CONFIG" });
    return timeoutsFromMessage(reply);
  }
  setTimeouts(t: Timeouts): Promise<void> {
    return this.ack(Msg.setConfig(t), "CONFIG", undefined);
  }
  async daemons(): Promise<Daemon[]> {
    const parts = await this.dump(Msg.dumpDaemons(), "DAEMON", undefined);
    return parts.filter((m) => m.daemon).map((m) => daemonFromAttrs(m.daemon ?? {}));
  }
  startDaemon(d: Daemon): Promise<void> {
    return this.ack(Msg.newDaemon(d), "DAEMON", C.DAEMON_STATE_NAMES[d.state]);
  }
  stopDaemon(state: number): Promise<void> {
    return this.ack(Msg.delDaemon(state), "DAEMON", C.DAEMON_STATE_NAMES[state]);
  }
  /** Zeroes one service's counters, or all. */
  zero(k?: ServiceKey): Promise<void> {
    return this.ack(Msg.zero(k), k ? "SERVICE" : "TABLE", k ? describeService(k) : undefined);
  }
  flush(): Promise<void> {
    return this.ack(Msg.flush(), "TABLE", undefined);
  }

  /**
   * Sends many mutations pipelined (several per write, NLM_F_ACK each) and reports each one's
   * outcome. A failure does not stop the rest: the kernel goes on with the next message.
   */
  async batch(ops: readonly Operation[]): Promise<OperationResult[]> {
    const exchange = ops.length > 1 ? this.exchangeContext() : null;
    if (exchange) {
      const items: BatchItem[] = ops.map((op) => ({
        message: operationMessage(op),
        kind: op.op.endsWith("Service") ? "SERVICE" : "DEST",
        object: () => describeOperation(op).object,
      }));
      const errors = await runBatch(exchange, items);
      return ops.map((op, i) => {
        const err = errors[i];
        if (err === undefined) return { operation: op, error: undefined };
        const named =
          op.op === "addService" || op.op === "editService" ? namingScheduler(err, op.service) : err;
        return { operation: op, error: toIpvsError(named) };
      });
    }
    const results: OperationResult[] = new Array(ops.length);
    // Only the last message of each write asks for an ACK: the kernel handles a write's
    // messages in order and always answers a failure (netlink_rcv_skb), so the tail's ACK
    // proves every earlier message of the write succeeded unless its error came first.
    const chunkSize = Math.max(1, Math.min(128, this.window));
    const maxChunks = Math.max(1, Math.floor(this.window / chunkSize));
    let next = 0;
    const inFlight = new Set<Promise<unknown>>();
    while (next < ops.length || inFlight.size > 0) {
      while (next < ops.length && inFlight.size < maxChunks) {
        const writer = new Writer(256 * chunkSize);
        const members: Pending[] = [];
        const waits: Promise<void>[] = [];
        const end = Math.min(ops.length, next + chunkSize);
        for (let i = next; i < end; i++) {
          const op = ops[i] as Operation;
          const kind: IpvsObjectKind = op.op.endsWith("Service") ? "SERVICE" : "DEST";
          const object = () => describeOperation(op).object;
          const tail = i === end - 1;
          const { done, pending } = this.prepare(
            operationMessage(op),
            kind,
            object,
            tail ? "ack" : "silent",
            writer,
          );
          if (tail && pending) pending.chunk = members;
          else if (pending) members.push(pending);
          waits.push(
            done.then(
              () => {
                results[i] = { operation: op, error: undefined };
              },
              (err: unknown) => {
                const named =
                  op.op === "addService" || op.op === "editService" ? namingScheduler(err, op.service) : err;
                results[i] = { operation: op, error: toIpvsError(named) };
              },
            ),
          );
        }
        next = end;
        this.write([writer.finish()]);
        const all = Promise.all(waits);
        inFlight.add(all);
        void all.finally(() => inFlight.delete(all));
      }
      if (inFlight.size > 0) await Promise.race(inFlight);
    }
    return results;
  }

  // ------------------------------------------------------------------ plumbing
  private async ack(msg: IpvsMessage, kind: IpvsObjectKind, object: string | undefined): Promise<void> {
    await this.request(msg, kind, object);
  }

  private request(
    msg: IpvsMessage,
    kind: IpvsObjectKind,
    object: string | undefined,
  ): Promise<IpvsMessage[]> {
    const { bytes, done } = this.prepare(msg, kind, object, "ack");
    this.write([bytes]);
    return done;
  }

  private async dump(
    msg: IpvsMessage,
    kind: IpvsObjectKind,
    object: string | undefined,
    decode?: (payload: Uint8Array) => unknown,
  ): Promise<IpvsMessage[]> {
    for (let attempt = 0; ; attempt++) {
      const { bytes, done, pending } = this.prepare(msg, kind, object, "dump");
      if (pending && decode) pending.decode = decode;
      this.write([bytes]);
      try {
        return await done;
      } catch (err) {
        if (err instanceof IpvsError && err.code === "IPVS_DUMP_INTERRUPTED" && attempt < this.dumpRetries)
          continue;
        throw err;
      }
    }
  }

  private nextSeq(): number {
    do {
      this.seq = (this.seq % 0xfffffffe) + 1;
    } while (this.pending.has(this.seq));
    return this.seq;
  }

  private prepare(
    msg: IpvsMessage,
    kind: IpvsObjectKind,
    object: string | undefined | (() => string),
    mode: "ack" | "silent" | "dump",
    into?: Writer,
  ): { bytes: Uint8Array; done: Promise<IpvsMessage[]>; pending: Pending | undefined } {
    if (this.closed) {
      return {
        bytes: new Uint8Array(0),
        done: Promise.reject(new IpvsError("IPVS_CLOSED", "client is closed")),
        pending: undefined,
      };
    }
    const command = C.IPVS_CMD_NAMES[msg.cmd] ?? `cmd${msg.cmd}`;
    const seq = this.nextSeq();
    const flags = C.NLM_F_REQUEST | (mode === "dump" ? C.NLM_F_DUMP : mode === "ack" ? C.NLM_F_ACK : 0);
    let bytes: Uint8Array = EMPTY;
    if (into) appendIpvsRequest(into, msg, this.familyId, flags, seq);
    else bytes = encodeIpvsRequest(msg, this.familyId, flags, seq);
    let pending: Pending | undefined;
    const done = new Promise<IpvsMessage[]>((resolve, reject) => {
      pending = {
        seq,
        kind,
        command,
        object,
        dump: mode === "dump",
        parts: [],
        interrupted: false,
        deadline: Number.POSITIVE_INFINITY,
        resolve,
        reject,
      };
      this.pending.set(seq, pending);
      // a silent member is answered (or timed out) through its write's tail
      if (mode !== "silent") this.arm(pending);
    });
    if (this.pending.size === 1) this.socket.ref();
    return { bytes, done, pending };
  }

  private arm(p: Pending): void {
    p.deadline = this.clock.now() + this.timeoutMs;
    if (p.deadline < this.deadlineAt) this.scheduleDeadline(p.deadline);
  }

  private scheduleDeadline(at: number): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    const timer = this.clock.setTimeout(() => this.expire(), Math.max(0, at - this.clock.now()));
    // The timer alone never keeps the process alive: a pending request refs the socket.
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.deadlineTimer = timer;
  }

  /** Fails every request past its deadline, then waits for the next deadline. */
  private expire(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const p of [...this.pending.values()]) {
      if (this.pending.get(p.seq) !== p) continue;
      if (p.deadline > now) {
        next = Math.min(next, p.deadline);
        continue;
      }
      this.settle(p);
      for (const q of p.chunk ?? []) {
        if (this.pending.get(q.seq) !== q) continue;
        this.settle(q);
        q.reject(
          new IpvsError(
            "IPVS_TIMEOUT",
            `${q.command} ${objectOf(q) ?? ""}: no answer from the kernel in ${this.timeoutMs} ms`,
            { command: q.command },
          ),
        );
      }
      p.reject(
        new IpvsError(
          "IPVS_TIMEOUT",
          `${p.command}${objectOf(p) ? ` ${objectOf(p)}` : ""}: no answer from the kernel in ${this.timeoutMs} ms`,
          {
            command: p.command,
            ...(objectOf(p) !== undefined ? { object: objectOf(p) } : {}),
          },
        ),
      );
    }
    if (next !== Number.POSITIVE_INFINITY && !this.closed) this.scheduleDeadline(next);
  }

  private settle(p: Pending): void {
    p.deadline = Number.POSITIVE_INFINITY;
    this.pending.delete(p.seq);
    if (this.pending.size === 0 && !this.closed) this.socket.unref();
  }

  private write(chunk: Uint8Array[]): void {
    // One datagram carrying several netlink messages: the kernel handles them in order
    // (netlink_rcv_skb) and acknowledges each.
    const total = chunk.reduce((n, b) => n + b.length, 0);
    const buf = chunk.length === 1 ? (chunk[0] as Uint8Array) : Buffer.concat(chunk, total);
    this.socket.send(buf, { port: 0 }, (err) => {
      if (!err) return;
      // every request in the datagram failed to go out
      for (const m of parseNlMsgs(buf)) {
        const p = this.pending.get(m.seq);
        if (!p) continue;
        this.settle(p);
        p.reject(
          new IpvsError("IPVS_SOCKET", `sendmsg failed: ${err.code}`, {
            errno: err.errno < 0 ? -err.errno : err.errno,
            command: p.command,
            cause: err,
          }),
        );
      }
    });
  }

  private onSocketError(err: { errno?: number; code?: string; message?: string }): void {
    // ENOBUFS: replies were dropped; nobody can know which. Fail everything pending.
    const errno = err.errno === undefined ? undefined : Math.abs(err.errno);
    for (const p of [...this.pending.values()]) {
      this.settle(p);
      p.reject(
        new IpvsError("IPVS_SOCKET", `${p.command}: socket error ${err.code ?? err.message}`, {
          ...(errno !== undefined ? { errno } : {}),
          command: p.command,
          ...(objectOf(p) !== undefined ? { object: objectOf(p) } : {}),
        }),
      );
    }
  }

  private onDatagram(buf: Uint8Array): void {
    // Called from the socket's event handler: nothing may throw out of here. The whole messages
    // before a bad length are still answered; the rest of the datagram is dropped and counted.
    const { messages, error } = splitNlMsgs(buf);
    if (error) this.stats.malformed++;
    for (const m of messages) {
      try {
        this.onMessage(m);
      } catch {
        this.stats.malformed++;
      }
    }
  }

  private onMessage(m: NlMsg): void {
    const p = this.pending.get(m.seq);
    if (!p) return;
    if (m.flags & C.NLM_F_DUMP_INTR) p.interrupted = true;
    if (m.type === C.NLMSG_ERROR) {
      if (m.payload.length < 4) {
        // No errno to read: not an answer. The request waits for one or times out.
        this.stats.malformed++;
        return;
      }
      const { errno } = parseNlError(m);
      this.settle(p);
      if (errno === 0) p.resolve(p.parts);
      else p.reject(kernelError(errno, p.kind, p.command, objectOf(p)));
      // The tail of a write answered: its silent members without an error succeeded.
      for (const q of p.chunk ?? []) {
        if (this.pending.get(q.seq) !== q) continue;
        this.settle(q);
        q.resolve([]);
      }
      return;
    }
    if (m.type === C.NLMSG_DONE) {
      this.settle(p);
      const errno =
        m.payload.length >= 4 ? -new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(0, true) : 0;
      if (errno > 0) p.reject(kernelError(errno, p.kind, p.command, objectOf(p)));
      else if (p.interrupted) {
        p.reject(
          new IpvsError(
            "IPVS_DUMP_INTERRUPTED",
            `${p.command}: the table changed during the dump (NLM_F_DUMP_INTR)`,
            {
              command: p.command,
            },
          ),
        );
      } else p.resolve(p.parts);
      return;
    }
    if (m.type === this.familyId || (this.familyId === 0 && m.type === C.GENL_ID_CTRL)) {
      try {
        p.parts.push(
          this.familyId === 0
            ? ({ cmd: 0, $ctrl: m.payload } as unknown as IpvsMessage)
            : p.decode
              ? (p.decode(m.payload) as IpvsMessage)
              : decodeIpvsMessage(m.payload),
        );
      } catch (err) {
        // A part the codec refuses: counted, and its request fails naming why (a dump missing a
        // part must not be trusted).
        this.stats.malformed++;
        this.settle(p);
        p.reject(toIpvsError(err));
        return;
      }
      // A dump's part re-arms its inactivity timeout (a ctrl GETFAMILY reply is followed by its ACK).
      if (p.dump) this.arm(p);
    }
  }

  private async resolveFamily(): Promise<number> {
    const w = new Writer();
    w.attr(C.CTRL_ATTR_FAMILY_NAME, (x) => {
      x.bytes(new Uint8Array(Buffer.from(C.IPVS_GENL_NAME)));
      x.u8(0);
    });
    const payload = encodeGenl(
      { cmd: C.CTRL_CMD_GETFAMILY, version: C.CTRL_VERSION, reserved: 0 },
      w.finish(),
    );
    const seq = this.nextSeq();
    const bytes = encodeNlMsg({
      type: C.GENL_ID_CTRL,
      flags: C.NLM_F_REQUEST | C.NLM_F_ACK,
      seq,
      pid: 0,
      payload,
    });
    const done = new Promise<IpvsMessage[]>((resolve, reject) => {
      const p: Pending = {
        seq,
        kind: "INFO",
        command: "CTRL_GETFAMILY",
        object: C.IPVS_GENL_NAME,
        dump: false,
        parts: [],
        interrupted: false,
        deadline: Number.POSITIVE_INFINITY,
        resolve,
        reject,
      };
      this.pending.set(seq, p);
      this.arm(p);
    });
    this.socket.ref();
    this.write([bytes]);
    let parts: IpvsMessage[];
    try {
      parts = await done;
    } catch (err) {
      if (err instanceof IpvsError && err.errno === C.Errno.ENOENT) {
        throw new IpvsError(
          "IPVS_NO_FAMILY",
          "the kernel has no IPVS generic netlink family (is ip_vs loaded?)",
          {
            errno: C.Errno.ENOENT,
            object: C.IPVS_GENL_NAME,
            cause: err,
          },
        );
      }
      throw err;
    }
    for (const part of parts) {
      const raw = (part as unknown as { $ctrl: Uint8Array }).$ctrl;
      const { attrs } = parseGenl(raw);
      for (const a of parseAttrs(attrs)) {
        if (a.type === C.CTRL_ATTR_FAMILY_ID && a.data.length >= 2) {
          return new DataView(a.data.buffer, a.data.byteOffset).getUint16(0, true);
        }
      }
    }
    throw new IpvsError("IPVS_NO_FAMILY", "nlctrl reply without a family id", { object: C.IPVS_GENL_NAME });
  }
}

/** ENOENT on NEW/SET_SERVICE means the scheduler (or PE) module is missing: say which. */
export function namingScheduler(err: unknown, s: Service): unknown {
  if (!(err instanceof IpvsError) || err.errno !== C.Errno.ENOENT) return err;
  const what = `scheduler "${s.scheduler ?? "wlc"}"${s.peName ? ` or persistence engine "${s.peName}"` : ""}`;
  return new IpvsError(
    err.code,
    `${err.command} service ${err.object}: ENOENT (${what} not found: no ip_vs_${s.scheduler ?? "wlc"} module?)`,
    {
      errno: C.Errno.ENOENT,
      ...(err.command !== undefined ? { command: err.command } : {}),
      ...(err.object !== undefined ? { object: err.object } : {}),
      cause: err,
    },
  );
}

function objectOf(p: Pending): string | undefined {
  return typeof p.object === "function" ? p.object() : p.object;
}

function toIpvsError(err: unknown): IpvsError {
  if (err instanceof IpvsError) return err;
  return new IpvsError("IPVS_SOCKET", String((err as Error)?.message ?? err), { cause: err });
}
