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
import { appendIpvsRequest, decodeServiceReplyAt, encodeIpvsRequest } from "./codec.js";
import * as C from "./constants.js";
import { IpvsError, type IpvsObjectKind, kernelError } from "./errors.js";
import { decodeDestEntryAt } from "./fast-dest.js";
import { describeService, keyOf, Msg, serviceEntryFromAttrs, serviceFamily } from "./model.js";
import { Writer } from "./netlink.js";
import type { DestinationEntry, ServiceEntry } from "./types.js";

/** Requests per exchange call in a table read: enough to amortise the crossing, small enough to overlap. */
const DUMPS_PER_EXCHANGE = 64;
/** Mutations per write (one ACK each: the tail's) and writes per exchange call in a batch. */
const OPS_PER_WRITE = 128;
const WRITES_PER_EXCHANGE = 8;

export interface ExchangeContext {
  familyId: number;
  timeoutMs: number;
  sockets: readonly NetlinkExchangeSocket[];
  nextSeq: () => number;
}

/**
 * The services dump over the first socket; null when it was interrupted (the caller redoes it).
 * `onDecoded`, when given, is called with the list so far each time DUMPS_PER_EXCHANGE more
 * services are decoded: a table read starts their destination dumps while the rest decode.
 */
export async function dumpServices(
  ctx: ExchangeContext,
  counters = true,
  onDecoded?: (decoded: readonly ServiceEntry[]) => void,
): Promise<ServiceEntry[] | null> {
  const seq = ctx.nextSeq();
  const request = encodeIpvsRequest(Msg.dumpServices(), ctx.familyId, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  const r = await (ctx.sockets[0] as NetlinkExchangeSocket).exchange([request], [seq], ctx.timeoutMs);
  if (r.error) throw exchangeFailure(r, "GET_SERVICE", "SERVICE", undefined);
  const out: ServiceEntry[] = [];
  let interrupted = false;
  const data = r.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off + 16 <= data.length; ) {
    const len = view.getUint32(off, true);
    if (len < 16 || off + len > data.length) break;
    if (view.getUint32(off + 8, true) === seq) {
      const type = view.getUint16(off + 4, true);
      if (view.getUint16(off + 6, true) & C.NLM_F_DUMP_INTR) interrupted = true;
      if (type === ctx.familyId) {
        const a = decodeServiceReplyAt(data, view, off + 16, len - 16, counters);
        if (a) {
          out.push(serviceEntryFromAttrs(a));
          if (onDecoded && out.length % DUMPS_PER_EXCHANGE === 0) onDecoded(out);
        }
      } else if ((type === C.NLMSG_DONE || type === C.NLMSG_ERROR) && len >= 20) {
        const errno = -view.getInt32(off + 16, true);
        if (errno > 0) throw kernelError(errno, "SERVICE", "GET_SERVICE", undefined);
      }
    }
    off += (len + 3) & ~3;
  }
  return interrupted ? null : out;
}

/** What one service's destination dump gave. */
export type DestDump =
  | { kind: "ok"; dests: DestinationEntry[] }
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
  services: readonly ServiceEntry[],
  counters = true,
): Promise<DestDump[]> {
  const reader = new DestDumpReader(ctx, counters);
  reader.feed(services, true);
  return reader.done();
}

/**
 * The destination dumps of a table read, started DUMPS_PER_EXCHANGE services at a time as the
 * services become known (`feed`), so the kernel dumps the first services' real servers while the
 * rest of the services dump is still being decoded.
 */
export class DestDumpReader {
  private readonly out: DestDump[] = [];
  private readonly calls: Promise<void>[] = [];
  private fed = 0;
  private socketIndex = 0;

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly counters: boolean,
  ) {}

  /** Starts the dumps of `services` not started yet, in whole exchanges unless `all`. */
  feed(services: readonly ServiceEntry[], all = false): void {
    const { ctx } = this;
    while (this.fed < services.length && (all || services.length - this.fed >= DUMPS_PER_EXCHANGE)) {
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
        const service = services[i] as ServiceEntry;
        let next = writeDestDumpRequest(block, blockView, at, service, ctx.familyId, seq);
        if (next < 0) {
          // Not an address this writer knows: the codec's encoder, which throws the right error.
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
        decodeDestDumps(ctx, r, { services, start, seqs, counters: this.counters }, this.out);
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

  /** Waits for the started dumps, whatever their outcome (a read given up). */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.calls);
  }
}

/** The longest GET_DEST dump request: headers, the service nest, AF, PROTOCOL, ADDR (16), PORT. */
export const DEST_DUMP_REQUEST_MAX = 16 + 4 + 4 + 8 + 8 + 20 + 8;

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
  const fwmark = service.fwmark !== undefined && service.fwmark !== 0;
  const af = service.af ?? serviceFamily(keyOf(service));
  const length = fwmark ? 16 + 4 + 4 + 8 + 8 : DEST_DUMP_REQUEST_MAX;
  let at = off + 16 + 4 + 4 + 8; // headers, nest header, AF
  if (fwmark) {
    attrHeader(view, at, 8, C.IPVS_SVC_ATTR_FWMARK);
    view.setUint32(at + 4, (service.fwmark as number) >>> 0, true);
  } else {
    const address = service.address as string;
    const addrAt = at + 8 + C.NLA_HDRLEN;
    if (!writeIPv4(address, buf, addrAt) && !writeIPv6(address, buf, addrAt)) return -1;
    attrHeader(view, at, 6, C.IPVS_SVC_ATTR_PROTOCOL);
    view.setUint16(at + 4, service.protocol as number, true);
    at += 8;
    attrHeader(view, at, 20, C.IPVS_SVC_ATTR_ADDR);
    at += 20;
    attrHeader(view, at, 6, C.IPVS_SVC_ATTR_PORT);
    view.setUint16(at + 4, service.port as number, false);
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

function decodeDestDumps(
  ctx: ExchangeContext,
  r: NetlinkExchangeResult,
  call: { services: readonly ServiceEntry[]; start: number; seqs: readonly number[]; counters: boolean },
  out: DestDump[],
): void {
  const { services, start, seqs, counters } = call;
  const firstSeq = seqs[0] as number;
  const state: { dests: DestinationEntry[]; interrupted: boolean; settled: boolean; af: number }[] = seqs.map(
    (_, k) => ({
      dests: [],
      interrupted: false,
      settled: false,
      af:
        (services[start + k] as ServiceEntry).af ?? serviceFamily(keyOf(services[start + k] as ServiceEntry)),
    }),
  );
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
    const s = state[k];
    if (s !== undefined && !s.settled) {
      const i = start + k;
      const service = services[i] as ServiceEntry;
      if (flags & C.NLM_F_DUMP_INTR) s.interrupted = true;
      if (type === ctx.familyId) {
        const d = decodeDestEntryAt(data, view, off + 16, len - 16, s.af, counters);
        if (d) s.dests.push(d);
      } else if (type === C.NLMSG_DONE || type === C.NLMSG_ERROR) {
        s.settled = true;
        const errno = len >= 20 ? -view.getInt32(off + 16, true) : 0;
        if (errno === C.Errno.ESRCH) out[i] = { kind: "gone" };
        else if (errno > 0) throw kernelError(errno, "SERVICE", "GET_DEST", describeService(keyOf(service)));
        else out[i] = s.interrupted ? { kind: "interrupted" } : { kind: "ok", dests: s.dests };
      }
    }
    off += (len + 3) & ~3;
  }
  if (r.error) {
    const i = start + r.completed;
    const service = services[i] as ServiceEntry;
    throw exchangeFailure(r, "GET_DEST", "SERVICE", describeService(keyOf(service)));
  }
  for (let k = 0; k < seqs.length; k++) {
    if (out[start + k] === undefined) {
      throw new IpvsError(
        "IPVS_BAD_MESSAGE",
        `GET_DEST: no end to the dump of ${describeService(keyOf(services[start + k] as ServiceEntry))}`,
        {
          command: "GET_DEST",
          object: describeService(keyOf(services[start + k] as ServiceEntry)),
        },
      );
    }
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
