/**
 * The bulk paths of the client over @lvs/sys's NetlinkExchangeSocket: a table's destination
 * dumps and a batch's mutations are exchanged on libuv pool threads, several hundred requests per
 * call into the addon, while this thread encodes the next requests and decodes the replies from
 * one buffer. Same requests, same kernel answers and the same IpvsError objects as the socket
 * path in client.ts (which stays for everything else and for sockets a test supplies).
 *
 * Why: a netlink socket does the kernel's work in the caller's thread (a dump part is made during
 * recvmsg, a mutation during sendmsg). On the JS thread each round trip also costs a libuv wakeup
 * and a crossing into JavaScript per datagram; here the kernel's work and ours overlap.
 */
import { writeIPv4, writeIPv6 } from "@lvs/inet";
import type { NetlinkExchangeResult, NetlinkExchangeSocket } from "@lvs/sys";
import { appendIpvsRequest, decodeServiceReplyAt, encodeIpvsRequest, type ServiceAttrs } from "./codec.js";
import * as C from "./constants.js";
import { IpvsError, type IpvsObjectKind, kernelError } from "./errors.js";
import { decodeDestEntryAt } from "./fast-dest.js";
import {
  DEST_DIFFERS,
  linkService,
  matchDestPart,
  newServicePart,
  parseServicePart,
  type ReconcilePlan,
  type ServicePart,
  sameServiceInBytes,
  type TableRead,
} from "./fast-match.js";
import { describeService, keyOf, Msg, serviceEntryFromAttrs, serviceFamily } from "./model.js";
import { Writer } from "./netlink.js";
import type { DesiredService, DestinationEntry, ServiceEntry } from "./types.js";

/** Requests per exchange call in a table read: enough to amortise the crossing, small enough to overlap. */
const DUMPS_PER_EXCHANGE = 64;
/** Mutations per write (one ACK each: the tail's) and writes per exchange call in a batch. */
const OPS_PER_WRITE = 128;
const WRITES_PER_EXCHANGE = 8;

export interface ExchangeContext {
  familyId: number;
  timeoutMs: number;
  /** The real servers' dumps and the batches (opened with DEST_DUMP_RECEIVE_BYTES). */
  sockets: readonly NetlinkExchangeSocket[];
  /** The services dump's, with the default (large) reads; without it, the first of `sockets`. */
  servicesSocket?: NetlinkExchangeSocket;
  nextSeq: () => number;
}

/**
 * The largest datagram a real-server dump socket reads. The kernel sizes each part of a dump to
 * the largest read it has seen on the socket (netlink_dump's max_recvmsg_len): with 64 KiB reads
 * every GET_DEST dump part was a 32 KiB allocation, and the VM's kernel took 0.80 s for 5,000
 * four-server dumps on one thread; with 4 KiB reads, 0.39 s (bench/dump-floor.c, FLOOR_RECV). A
 * service of 10,000 real servers then comes in ~10x more parts (its dump 82 -> 180 ms there).
 * The services dump keeps large reads: it is one dump of the whole table.
 */
export const DEST_DUMP_RECEIVE_BYTES = 4096;

/**
 * An empty array whose V8 elements kind already holds any value. A fresh `[]` starts as small
 * integers and turns general on its first push of an object or boolean; code optimized on the
 * previous read's arrays (general by then) checks for a small integer at that push and
 * deoptimized there on every read's fresh arrays (--trace-deopt: "not a Smi", each no-op),
 * leaving the rest of that read's loop to the interpreter.
 */
function anyArray<T>(): T[] {
  const a: unknown[] = [undefined];
  a.pop();
  return a as T[];
}

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY_BYTES.buffer);

/**
 * The services of a table read, in the kernel's order. Each is a decoded entry or, when a plan
 * linked it to a desired service (fast-match.ts), where its reply lies and what its GET_DEST
 * request needs: its entry is then decoded only if asked for (an error naming it, a dump redone).
 */
export class ServiceRows {
  length = 0;
  /** Decoded entries; undefined for a linked row until entry() decodes it. */
  readonly entries: (ServiceEntry | undefined)[] = anyArray();
  // The numeric columns are typed arrays grown by doubling from a capacity the reader expects
  // (the desired table's size): pushed JS arrays of 5,000 rows re-allocated themselves ~20 times
  // each, 1.9 MB of garbage per reconcile's read (heap sampling in the VM), enough to bring a
  // major GC into every second or third no-op reconcile.
  /** The desired service each row linked to, or -1. */
  linked: Int32Array;
  /** For a linked row: 1 when sameService(desired, kernel), compared in the reply's bytes. */
  same: Uint8Array;
  // A linked row's identity as its reply carries it (0 for the others), and where that reply is.
  private afs: Uint16Array;
  private fwmarks: Uint32Array;
  private protocols: Uint16Array;
  private ports: Uint16Array;
  private addrAts: Int32Array;
  private partAts: Int32Array;
  private partLengths: Int32Array;
  /** The services dump every linked row lies in (dumpServiceRows reads one). */
  private reply: Uint8Array = EMPTY_BYTES;
  private replyView: DataView = EMPTY_VIEW;

  constructor(
    private readonly counters = true,
    capacity = 64,
  ) {
    const n = Math.max(1, capacity);
    this.linked = new Int32Array(n);
    this.same = new Uint8Array(n);
    this.afs = new Uint16Array(n);
    this.fwmarks = new Uint32Array(n);
    this.protocols = new Uint16Array(n);
    this.ports = new Uint16Array(n);
    this.addrAts = new Int32Array(n);
    this.partAts = new Int32Array(n);
    this.partLengths = new Int32Array(n);
  }

  static of(entries: readonly ServiceEntry[], counters = true): ServiceRows {
    const rows = new ServiceRows(counters, entries.length);
    for (const e of entries) rows.pushEntry(e);
    return rows;
  }

  /** Room for one more row. */
  private grow(): void {
    const n = this.linked.length * 2;
    const wider = <T extends Int32Array | Uint32Array | Uint16Array | Uint8Array>(
      from: T,
      make: new (n: number) => T,
    ): T => {
      const to = new make(n);
      to.set(from);
      return to;
    };
    this.linked = wider(this.linked, Int32Array);
    this.same = wider(this.same, Uint8Array);
    this.afs = wider(this.afs, Uint16Array);
    this.fwmarks = wider(this.fwmarks, Uint32Array);
    this.protocols = wider(this.protocols, Uint16Array);
    this.ports = wider(this.ports, Uint16Array);
    this.addrAts = wider(this.addrAts, Int32Array);
    this.partAts = wider(this.partAts, Int32Array);
    this.partLengths = wider(this.partLengths, Int32Array);
  }

  pushEntry(entry: ServiceEntry): void {
    const i = this.length;
    if (i === this.linked.length) this.grow();
    this.entries.push(entry);
    this.linked[i] = -1;
    this.same[i] = 0;
    this.afs[i] = entry.af ?? serviceFamily(keyOf(entry));
    this.fwmarks[i] = 0;
    this.protocols[i] = 0;
    this.ports[i] = 0;
    this.addrAts[i] = -1;
    this.partAts[i] = -1;
    this.partLengths[i] = 0;
    this.length = i + 1;
  }

  /**
   * A row linked to desired service `k`, its reply the `partLength` bytes at `partAt` of `buf`
   * (every linked row of these rows in the same `buf`: one services dump).
   */
  pushLinked(
    k: number,
    same: boolean,
    part: ServicePart,
    buf: Uint8Array,
    view: DataView,
    partAt: number,
    partLength: number,
  ): void {
    if (this.reply !== buf) {
      if (this.reply !== EMPTY_BYTES)
        throw new IpvsError(
          "IPVS_BAD_ARGUMENT",
          "ServiceRows: linked rows of one read lie in one services reply",
          {},
        );
      this.reply = buf;
      this.replyView = view;
    }
    const i = this.length;
    if (i === this.linked.length) this.grow();
    this.entries.push(undefined);
    this.linked[i] = k;
    this.same[i] = same ? 1 : 0;
    this.afs[i] = part.af;
    this.fwmarks[i] = part.fwmark;
    this.protocols[i] = part.protocol;
    this.ports[i] = part.port;
    this.addrAts[i] = part.addrAt;
    this.partAts[i] = partAt;
    this.partLengths[i] = partLength;
    this.length = i + 1;
  }

  /** The row's family, as its destinations are decoded with. */
  af(i: number): number {
    return this.afs[i] as number;
  }

  /** The row's entry: for a linked row, decoded from its reply now (as the read would have). */
  entry(i: number): ServiceEntry {
    const known = this.entries[i];
    if (known) return known;
    const a = decodeServiceReplyAt(
      this.reply,
      this.replyView,
      this.partAts[i] as number,
      this.partLengths[i] as number,
      this.counters,
    ) as ServiceAttrs;
    const entry = serviceEntryFromAttrs(a);
    this.entries[i] = entry;
    return entry;
  }

  /**
   * The row's GET_DEST dump request at `at` of `block` (zeroed there); the offset after it, or
   * -1 when its address cannot be written (the caller uses the codec, which names the error).
   */
  writeRequest(
    block: Uint8Array,
    view: DataView,
    at: number,
    i: number,
    familyId: number,
    seq: number,
  ): number {
    const entry = this.entries[i];
    if (entry) return writeDestDumpRequest(block, view, at, entry, familyId, seq);
    // A linked row: the address as the reply has it, the bytes formatAddress reads and
    // writeIPv4/writeIPv6 write back for the entry's text (4 for IPv4, 16 for IPv6).
    const af = this.afs[i] as number;
    const fwmark = this.fwmarks[i] as number;
    if (fwmark === 0) {
      const buf = this.reply;
      const from = this.addrAts[i] as number;
      const to = at + DEST_DUMP_ADDR_OFFSET;
      for (let b = 0, n = af === C.AF_INET6 ? 16 : 4; b < n; b++) block[to + b] = buf[from + b] as number;
    }
    return writeDestDumpHeaders(
      view,
      block,
      at,
      af,
      fwmark,
      this.protocols[i] as number,
      this.ports[i] as number,
      familyId,
      seq,
    );
  }
}

/**
 * The services dump in one exchange on the services socket; null when it was interrupted (the caller
 * redoes it). With a `plan` (asked for once the reply is in), parts that link to a desired service
 * are compared in their bytes and not decoded (fast-match.ts). `progress(rows)` is called every
 * DUMPS_PER_EXCHANGE rows while the reply is read (not after an NLM_F_DUMP_INTR part): a table
 * read starts those rows' real-server dumps then, and the kernel works on them while the rest of
 * the services are read here.
 */
export async function dumpServiceRows(
  ctx: ExchangeContext,
  counters = true,
  plan?: () => ReconcilePlan | undefined,
  progress?: (rows: ServiceRows, against: ReconcilePlan | undefined) => void,
): Promise<ServiceRows | null> {
  const seq = ctx.nextSeq();
  const request = encodeIpvsRequest(Msg.dumpServices(), ctx.familyId, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  const socket = ctx.servicesSocket ?? (ctx.sockets[0] as NetlinkExchangeSocket);
  const r = await socket.exchange([request], [seq], ctx.timeoutMs);
  if (r.error) throw exchangeFailure(r, "GET_SERVICE", "SERVICE", undefined);
  let interrupted = false;
  const data = r.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const against = plan?.();
  // A reconcile expects about as many services as it wants; a read without a plan doubles from 64.
  const rows = new ServiceRows(counters, against ? against.desired.length + 1 : 64);
  const part = newServicePart();
  for (let off = 0; off + 16 <= data.length; ) {
    const len = view.getUint32(off, true);
    if (len < 16 || off + len > data.length) break;
    if (view.getUint32(off + 8, true) === seq) {
      const type = view.getUint16(off + 4, true);
      if (view.getUint16(off + 6, true) & C.NLM_F_DUMP_INTR) interrupted = true;
      if (type === ctx.familyId) {
        const k =
          against && parseServicePart(view, off + 16, len - 16, part) ? linkService(against, part, view) : -1;
        if (k >= 0 && against) {
          const want = (against.desired[k] as DesiredService).service;
          const same = sameServiceInBytes(want, against.afs[k] as number, part, data);
          rows.pushLinked(k, same, part, data, view, off + 16, len - 16);
        } else {
          const a = decodeServiceReplyAt(data, view, off + 16, len - 16, counters);
          if (a) rows.pushEntry(serviceEntryFromAttrs(a));
        }
        if (progress && !interrupted && rows.length % DUMPS_PER_EXCHANGE === 0 && rows.length > 0)
          progress(rows, against);
      } else if ((type === C.NLMSG_DONE || type === C.NLMSG_ERROR) && len >= 20) {
        const errno = -view.getInt32(off + 16, true);
        if (errno > 0) throw kernelError(errno, "SERVICE", "GET_SERVICE", undefined);
      }
    }
    off += (len + 3) & ~3;
  }
  return interrupted ? null : rows;
}

/** The services dump over the first socket, decoded; null when it was interrupted. */
export async function dumpServices(ctx: ExchangeContext, counters = true): Promise<ServiceEntry[] | null> {
  const rows = await dumpServiceRows(ctx, counters);
  return rows && (rows.entries as ServiceEntry[]);
}

/** What one service's destination dump gave. */
export type DestDump =
  | { kind: "ok"; dests: DestinationEntry[] }
  /** Linked to a desired service and equal to its real servers, in the bytes: nothing decoded. */
  | { kind: "matched" }
  /** The service went away between the services dump and this one. */
  | { kind: "gone" }
  /** NLM_F_DUMP_INTR: the caller redoes this one. */
  | { kind: "interrupted" };

/**
 * GET_DEST dumps for every service, spread over the sockets (each runs its share in order).
 * Throws the first kernel or socket failure other than ESRCH, naming the service.
 */
export async function dumpAllDests(
  ctx: ExchangeContext,
  services: ServiceRows,
  counters = true,
): Promise<DestDump[]> {
  const reader = new DestDumpReader(ctx, counters);
  reader.feed(services);
  return reader.done();
}

/**
 * The destination dumps of a table read, DUMPS_PER_EXCHANGE services per call, the calls spread
 * over the sockets (each runs its share in order). With a plan, the parts of a service linked to a
 * desired one are compared with its real servers in their bytes first, and decoded only when they
 * differ (fast-match.ts).
 */
export class DestDumpReader {
  private readonly out: DestDump[] = anyArray();
  private readonly calls: Promise<void>[] = anyArray();
  private fed = 0;
  private socketIndex = 0;

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly counters: boolean,
    private readonly plan?: ReconcilePlan,
  ) {}

  /** Starts the dumps of the `services` not started yet. */
  feed(services: ServiceRows): void {
    const { ctx } = this;
    while (this.fed < services.length) {
      const start = this.fed;
      const end = Math.min(services.length, start + DUMPS_PER_EXCHANGE);
      this.fed = end;
      // One buffer per call, the requests end to end (each at most DEST_DUMP_REQUEST_MAX bytes).
      const block = new Uint8Array(DEST_DUMP_REQUEST_MAX * (end - start));
      const blockView = new DataView(block.buffer);
      const lengths = new Uint32Array(end - start);
      const seqs: number[] = [];
      let at = 0;
      for (let i = start; i < end; i++) {
        const seq = ctx.nextSeq();
        let next = services.writeRequest(block, blockView, at, i, ctx.familyId, seq);
        if (next < 0) {
          // Not an address this writer knows: the codec's encoder, which throws the right error.
          const service = services.entry(i);
          const request = encodeIpvsRequest(
            Msg.dumpDests(keyOf(service)),
            ctx.familyId,
            C.NLM_F_REQUEST | C.NLM_F_DUMP,
            seq,
          );
          block.fill(0, at, at + DEST_DUMP_REQUEST_MAX);
          if (request.length > DEST_DUMP_REQUEST_MAX) {
            throw new IpvsError(
              "IPVS_BAD_MESSAGE",
              `GET_DEST: no request for ${describeService(keyOf(service))}`,
              { command: "GET_DEST", object: describeService(keyOf(service)) },
            );
          }
          block.set(request, at);
          next = at + request.length;
        }
        lengths[i - start] = next - at;
        at = next;
        seqs.push(seq);
      }
      const socket = ctx.sockets[this.socketIndex++ % ctx.sockets.length] as NetlinkExchangeSocket;
      const call = socket.exchangeJoined(block.subarray(0, at), lengths, seqs, ctx.timeoutMs).then((r) => {
        decodeDestDumps(
          ctx,
          r,
          { services, start, seqs, counters: this.counters, plan: this.plan },
          this.out,
        );
      });
      // Awaited in done(); until then a failure must not count as unhandled.
      call.catch(() => {});
      this.calls.push(call);
    }
  }

  /** Every started dump's outcome, by service index (throws the first failure). */
  async done(): Promise<DestDump[]> {
    await Promise.all(this.calls);
    return this.out;
  }
}

/** What a table read falls back on: the client's own socket path. */
export interface TableRedo {
  /** The services, dumped again (after an interrupted services dump). */
  services(): Promise<ServiceEntry[]>;
  /** One service's real servers, dumped again (after an interrupted GET_DEST dump). */
  dests(service: ServiceEntry): Promise<DestinationEntry[]>;
}

/**
 * A whole table read over the exchange sockets: the services dump, then the real servers' dumps,
 * 64 at a time as the services reply is read (an idle socket hands its call to a pool thread at
 * once, so the kernel dumps the first services' real servers while the rest are linked). With a plan
 * (a reconcile's read, without counters), the services and real servers that equal the desired
 * ones are compared in their bytes and not decoded: `linked`/`same` and undefined entries say so
 * (fast-match.ts's TableRead).
 */
export async function readTable(
  ctx: ExchangeContext,
  counters: boolean,
  redo: TableRedo,
  plan?: () => ReconcilePlan | undefined,
): Promise<TableRead> {
  let against: ReconcilePlan | undefined;
  // Started while the services are read (dumpServiceRows' progress), finished after.
  let reader: DestDumpReader | undefined;
  let rows = await dumpServiceRows(
    ctx,
    counters,
    plan &&
      (() => {
        against = plan();
        return against;
      }),
    (sofar, plan) => {
      reader ??= new DestDumpReader(ctx, counters, plan);
      reader.feed(sofar);
    },
  );
  let dumps: DestDump[];
  if (rows) {
    reader ??= new DestDumpReader(ctx, counters, against);
    reader.feed(rows);
    dumps = await reader.done();
  } else {
    // The services changed during their dump: read again, the services first (all decoded).
    rows = ServiceRows.of(await redo.services(), counters);
    dumps = await dumpAllDests(ctx, rows, counters);
  }
  // Sized once (the rows a service gone meanwhile leaves out are cut at the end): pushed, these
  // four re-allocated themselves as they grew, 0.6 MB of garbage per read of 5,000 services.
  const services: (ServiceEntry | undefined)[] = new Array(rows.length);
  const dests: (DestinationEntry[] | undefined)[] = new Array(rows.length);
  const linked: number[] = new Array(rows.length);
  const same: boolean[] = new Array(rows.length);
  let n = 0;
  for (let i = 0; i < rows.length; i++) {
    const d = dumps[i];
    let have: DestinationEntry[] | undefined;
    if (d?.kind === "ok") have = d.dests;
    else if (d?.kind === "interrupted") {
      // Changed while read: the socket path's dump retries it (DUMP_INTR) or finds it gone.
      try {
        have = await redo.dests(rows.entry(i));
      } catch (err) {
        if (!(err instanceof IpvsError && err.errno === C.Errno.ESRCH)) throw err;
        continue;
      }
    } else if (d?.kind !== "matched") continue;
    const k = rows.linked[i] as number;
    services[n] = k >= 0 ? undefined : rows.entry(i);
    dests[n] = have;
    linked[n] = k;
    same[n] = rows.same[i] === 1;
    n++;
  }
  if (n < rows.length) {
    services.length = n;
    dests.length = n;
    linked.length = n;
    same.length = n;
  }
  return against
    ? { services, dests, linked, same }
    : { services, dests, linked: undefined, same: undefined };
}

/** The longest GET_DEST dump request: headers, the service nest, AF, PROTOCOL, ADDR (16), PORT. */
export const DEST_DUMP_REQUEST_MAX = 16 + 4 + 4 + 8 + 8 + 20 + 8;
/** Where a GET_DEST dump request carries the service's address (the ADDR attribute's payload). */
const DEST_DUMP_ADDR_OFFSET = 16 + 4 + 4 + 8 + 8 + C.NLA_HDRLEN;

/**
 * One GET_DEST dump request for `service`, written at `off` of `buf` (zeroed there): the same
 * bytes as `encodeIpvsRequest(Msg.dumpDests(keyOf(service)), ...)` (a test holds them equal),
 * without the message object, the generic encoder's closures and a buffer per request — a table
 * read sends one per service. Returns the offset after it, or -1 when the address is neither a
 * dotted quad nor IPv6 text (the caller falls back to the codec, which throws the right error).
 */
export function writeDestDumpRequest(
  buf: Uint8Array,
  view: DataView,
  off: number,
  service: ServiceEntry,
  familyId: number,
  seq: number,
): number {
  const fwmark = service.fwmark !== undefined && service.fwmark !== 0 ? (service.fwmark as number) : 0;
  const af = service.af ?? serviceFamily(keyOf(service));
  if (fwmark === 0) {
    const address = service.address as string;
    const addrAt = off + DEST_DUMP_ADDR_OFFSET;
    if (!writeIPv4(address, buf, addrAt) && !writeIPv6(address, buf, addrAt)) return -1;
  }
  return writeDestDumpHeaders(
    view,
    buf,
    off,
    af,
    fwmark,
    service.protocol as number,
    service.port as number,
    familyId,
    seq,
  );
}

/**
 * Everything of a GET_DEST dump request at `off` but the address bytes (at
 * off + DEST_DUMP_ADDR_OFFSET, the caller's): headers, the service nest, AF, and FWMARK (`fwmark`
 * not 0) or PROTOCOL, ADDR's header and PORT. Returns the offset after it.
 */
function writeDestDumpHeaders(
  view: DataView,
  buf: Uint8Array,
  off: number,
  af: number,
  fwmark: number,
  protocol: number,
  port: number,
  familyId: number,
  seq: number,
): number {
  const length = fwmark !== 0 ? 16 + 4 + 4 + 8 + 8 : DEST_DUMP_REQUEST_MAX;
  let at = off + 16 + 4 + 4 + 8; // headers, nest header, AF
  if (fwmark !== 0) {
    attrHeader(view, at, 8, C.IPVS_SVC_ATTR_FWMARK);
    view.setUint32(at + 4, fwmark >>> 0, true);
  } else {
    attrHeader(view, at, 6, C.IPVS_SVC_ATTR_PROTOCOL);
    view.setUint16(at + 4, protocol, true);
    at += 8;
    attrHeader(view, at, 20, C.IPVS_SVC_ATTR_ADDR);
    at += 20;
    attrHeader(view, at, 6, C.IPVS_SVC_ATTR_PORT);
    view.setUint16(at + 4, port, false);
  }
  // nlmsghdr: length, type, flags, seq, pid 0 (the kernel fills in ours)
  view.setUint32(off, length, true);
  view.setUint16(off + 4, familyId, true);
  view.setUint16(off + 6, C.NLM_F_REQUEST | C.NLM_F_DUMP, true);
  view.setUint32(off + 8, seq, true);
  // genlmsghdr: cmd, version, reserved
  buf[off + 16] = C.IpvsCmd.GET_DEST;
  buf[off + 17] = C.IPVS_GENL_VERSION;
  attrHeader(view, off + 20, length - 20, C.IPVS_CMD_ATTR_SERVICE | C.NLA_F_NESTED);
  attrHeader(view, off + 24, 6, C.IPVS_SVC_ATTR_AF);
  view.setUint16(off + 28, af, true);
  return off + length;
}

function attrHeader(view: DataView, at: number, length: number, type: number): void {
  view.setUint16(at, length, true);
  view.setUint16(at + 2, type, true);
}

/** A dump whose real servers all matched in their bytes: one outcome shared by all. */
const MATCHED: DestDump = { kind: "matched" };
const GONE: DestDump = { kind: "gone" };
const INTERRUPTED: DestDump = { kind: "interrupted" };

/**
 * How each dump of one exchange call is going, by its index in the call: parallel arrays, not an
 * object per service (a read makes thousands). `desired`: the desired service whose real servers
 * its parts are compared with in bytes, or -1 (decoded); `first`: its first part's offset in the
 * call's buffer (-1: none yet), to decode them all if they differ; `matched`: desired real
 * servers matched so far.
 */
class DumpStates {
  readonly dests: (DestinationEntry[] | undefined)[];
  readonly flags: Uint8Array;
  readonly desired: Int32Array;
  readonly first: Int32Array;
  readonly matched: Int32Array;

  constructor(n: number) {
    this.dests = new Array(n);
    this.flags = new Uint8Array(n);
    this.desired = new Int32Array(n).fill(-1);
    this.first = new Int32Array(n).fill(-1);
    this.matched = new Int32Array(n);
  }

  push(k: number, d: DestinationEntry): void {
    const list = this.dests[k];
    if (list) list.push(d);
    else this.dests[k] = [d];
  }
}
const INTERRUPTED_FLAG = 1;
const SETTLED_FLAG = 2;

function decodeDestDumps(
  ctx: ExchangeContext,
  r: NetlinkExchangeResult,
  call: {
    services: ServiceRows;
    start: number;
    seqs: readonly number[];
    counters: boolean;
    plan: ReconcilePlan | undefined;
  },
  out: DestDump[],
): void {
  const { services, start, seqs, counters, plan } = call;
  const firstSeq = seqs[0] as number;
  const state = new DumpStates(seqs.length);
  if (plan) {
    for (let k = 0; k < seqs.length; k++) {
      const linked = services.linked[start + k] as number;
      if (linked >= 0 && (plan.slotStart[linked] as number) >= 0) state.desired[k] = linked;
    }
  }
  const data = r.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off + 16 <= data.length; ) {
    const len = view.getUint32(off, true);
    if (len < 16 || off + len > data.length) break; // the kernel's framing; never seen short
    const type = view.getUint16(off + 4, true);
    const flags = view.getUint16(off + 6, true);
    // Sequence numbers of one call are consecutive (nextSeq may wrap, hence the index lookup).
    let k = (view.getUint32(off + 8, true) - firstSeq) >>> 0;
    if (k >= seqs.length || seqs[k] !== view.getUint32(off + 8, true))
      k = seqs.indexOf(view.getUint32(off + 8, true));
    if (k >= 0 && !((state.flags[k] as number) & SETTLED_FLAG)) {
      const i = start + k;
      if (flags & C.NLM_F_DUMP_INTR) state.flags[k] = (state.flags[k] as number) | INTERRUPTED_FLAG;
      if (type === ctx.familyId) {
        if ((state.first[k] as number) < 0) state.first[k] = off;
        const desired = state.desired[k] as number;
        if (desired >= 0) {
          const n = matchDestPart(plan as ReconcilePlan, desired, services.af(i), view, off + 16, len - 16);
          if (n !== DEST_DIFFERS) state.matched[k] = (state.matched[k] as number) + n;
          else {
            // Different: this service is decoded, its parts so far and the rest.
            state.desired[k] = -1;
            decodeParts(data, view, off + len, seqs, k, ctx.familyId, services.af(i), state, counters);
          }
        } else {
          const d = decodeDestEntryAt(data, view, off + 16, len - 16, services.af(i), counters);
          if (d) state.push(k, d);
        }
      } else if (type === C.NLMSG_DONE || type === C.NLMSG_ERROR) {
        state.flags[k] = (state.flags[k] as number) | SETTLED_FLAG;
        const errno = len >= 20 ? -view.getInt32(off + 16, true) : 0;
        const desired = state.desired[k] as number;
        if (errno === C.Errno.ESRCH) out[i] = GONE;
        else if (errno > 0)
          throw kernelError(errno, "SERVICE", "GET_DEST", describeService(keyOf(services.entry(i))));
        else if ((state.flags[k] as number) & INTERRUPTED_FLAG) out[i] = INTERRUPTED;
        else if (desired >= 0 && state.matched[k] === (plan as ReconcilePlan).slotCount[desired])
          out[i] = MATCHED;
        else {
          // A desired real server the kernel does not have: decoded after all.
          if (desired >= 0)
            decodeParts(data, view, off, seqs, k, ctx.familyId, services.af(i), state, counters);
          out[i] = { kind: "ok", dests: state.dests[k] ?? [] };
        }
      }
    }
    off += (len + 3) & ~3;
  }
  if (r.error) {
    const i = start + r.completed;
    throw exchangeFailure(r, "GET_DEST", "SERVICE", describeService(keyOf(services.entry(i))));
  }
  for (let k = 0; k < seqs.length; k++) {
    if (out[start + k] === undefined) {
      const what = describeService(keyOf(services.entry(start + k)));
      throw new IpvsError("IPVS_BAD_MESSAGE", `GET_DEST: no end to the dump of ${what}`, {
        command: "GET_DEST",
        object: what,
      });
    }
  }
}

/**
 * Decodes the real-server parts of dump `k` of a call from its first part up to `to` (the
 * offset after the last one to decode) into its list: the parts compared in bytes until a
 * difference showed.
 */
function decodeParts(
  data: Uint8Array,
  view: DataView,
  to: number,
  seqs: readonly number[],
  k: number,
  familyId: number,
  af: number,
  state: DumpStates,
  counters: boolean,
): void {
  const seq = seqs[k] as number;
  for (let off = state.first[k] as number; off >= 0 && off + 16 <= to; ) {
    const len = view.getUint32(off, true);
    if (len < 16 || off + len > to) break;
    if (view.getUint32(off + 8, true) === seq && view.getUint16(off + 4, true) === familyId) {
      const d = decodeDestEntryAt(data, view, off + 16, len - 16, af, counters);
      if (d) state.push(k, d);
    }
    off += (len + 3) & ~3;
  }
}

function exchangeFailure(
  r: NetlinkExchangeResult,
  command: string,
  kind: IpvsObjectKind,
  object: string | undefined,
): IpvsError {
  const err = r.error as NonNullable<NetlinkExchangeResult["error"]>;
  const errno = err.context.errno;
  if (errno === C.Errno.ETIMEDOUT) {
    return new IpvsError(
      "IPVS_TIMEOUT",
      `${command}${object ? ` ${object}` : ""}: no answer from the kernel`,
      {
        command,
        ...(object !== undefined ? { object } : {}),
        cause: err,
      },
    );
  }
  return new IpvsError(
    "IPVS_SOCKET",
    `${command} ${kind.toLowerCase()}${object ? ` ${object}` : ""}: ${err.message}`,
    {
      ...(errno !== undefined ? { errno } : {}),
      command,
      ...(object !== undefined ? { object } : {}),
      cause: err,
    },
  );
}

/** One mutation as the batch path needs it. */
export interface BatchItem {
  message: Parameters<typeof encodeIpvsRequest>[0];
  kind: IpvsObjectKind;
  /** Computed only for a failure. */
  object: () => string;
}

/**
 * Mutations in order on one socket (the kernel applies IPVS changes one at a time under one
 * mutex anyway; one socket keeps their order). Writes of OPS_PER_WRITE messages, only the tail
 * asking for an ACK; the next exchange's requests are encoded while the kernel works on the
 * previous one. Returns each item's error (undefined: done).
 */
export async function runBatch(
  ctx: ExchangeContext,
  items: readonly BatchItem[],
): Promise<(IpvsError | undefined)[]> {
  const errors: (IpvsError | undefined)[] = new Array(items.length).fill(undefined);
  const socket = ctx.sockets[0] as NetlinkExchangeSocket;
  const calls: Promise<void>[] = [];
  const perCall = OPS_PER_WRITE * WRITES_PER_EXCHANGE;
  for (let start = 0; start < items.length; start += perCall) {
    const end = Math.min(items.length, start + perCall);
    const writes: Uint8Array[] = [];
    const tails: number[] = [];
    const seqOf = new Map<number, number>();
    for (let w = start; w < end; w += OPS_PER_WRITE) {
      const writer = new Writer(256 * OPS_PER_WRITE);
      const wEnd = Math.min(end, w + OPS_PER_WRITE);
      let seq = 0;
      for (let i = w; i < wEnd; i++) {
        seq = ctx.nextSeq();
        seqOf.set(seq, i);
        const flags = C.NLM_F_REQUEST | (i === wEnd - 1 ? C.NLM_F_ACK : 0);
        appendIpvsRequest(writer, (items[i] as BatchItem).message, ctx.familyId, flags, seq);
      }
      writes.push(writer.finish());
      tails.push(seq);
    }
    calls.push(
      socket.exchange(writes, tails, ctx.timeoutMs).then((r) => {
        settleBatchCall(r, items, start, end, seqOf, errors);
      }),
    );
    // Let the pool thread start on this call before encoding the next.
    if (calls.length > 1) await calls[calls.length - 2];
  }
  await Promise.all(calls);
  return errors;
}

function settleBatchCall(
  r: NetlinkExchangeResult,
  items: readonly BatchItem[],
  start: number,
  end: number,
  seqOf: Map<number, number>,
  errors: (IpvsError | undefined)[],
): void {
  const data = r.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off + 16 <= data.length; ) {
    const len = view.getUint32(off, true);
    if (len < 16 || off + len > data.length) break;
    if (view.getUint16(off + 4, true) === C.NLMSG_ERROR && len >= 20) {
      const i = seqOf.get(view.getUint32(off + 8, true));
      const errno = -view.getInt32(off + 16, true);
      if (i !== undefined && errno > 0) {
        const item = items[i] as BatchItem;
        const command = C.IPVS_CMD_NAMES[item.message.cmd] ?? `cmd${item.message.cmd}`;
        errors[i] = kernelError(errno, item.kind, command, item.object());
      }
    }
    off += (len + 3) & ~3;
  }
  if (!r.error) return;
  // Writes after the last completed one: their outcome is unknown unless an error came back.
  for (let i = start + r.completed * OPS_PER_WRITE; i < end; i++) {
    if (errors[i] !== undefined) continue;
    const item = items[i] as BatchItem;
    const command = C.IPVS_CMD_NAMES[item.message.cmd] ?? `cmd${item.message.cmd}`;
    errors[i] = exchangeFailure(r, command, item.kind, item.object());
  }
}
