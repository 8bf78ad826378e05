// A stand-in for @lvs/sys's NetlinkExchangeSocket in front of a model kernel: GET_SERVICE and
// GET_DEST dumps answered with reply parts given as bytes (generated, mutated or captured from the
// kernel), so a table read's exchange path (src/exchange-io.ts) runs on the host.
import { EventEmitter } from "node:events";
import { parseAddress } from "@lvs/inet";
import type { NetlinkExchangeSocket } from "@lvs/sys";
import { IpvsClient, type NetlinkSocketLike } from "../src/client.js";
import { decodeIpvsMessage, decodeServiceReply, encodeIpvsRequest } from "../src/codec.js";
import * as C from "../src/constants.js";
import { IpvsError, kernelError } from "../src/errors.js";
import type { ExchangeContext, TableRedo } from "../src/exchange-io.js";
import { decodeDestEntry } from "../src/fast-dest.js";
import { describeService, keyOf, Msg, serviceEntryFromAttrs } from "../src/model.js";
import type { DestinationEntry, ServiceEntry } from "../src/types.js";

export const FAKE_FAMILY = 0x24;

/** One kernel service: its NEW_SERVICE reply, how a GET_DEST request names it, its real servers. */
export interface FakeService {
  /** NEW_SERVICE payload (genl header + attributes). */
  payload: Uint8Array;
  /** The identity a GET_DEST request for it carries (addr: 16 bytes, IPv4 in the first 4). */
  key: { af: number; fwmark: number; protocol: number; addr: Uint8Array; port: number };
  /** NEW_DEST payloads, in dump order. */
  dests: Uint8Array[];
  /** Its GET_DEST dump ends with this errno instead (ESRCH: deleted since the services dump). */
  destErrno?: number;
  /** Its GET_DEST dump's parts carry NLM_F_DUMP_INTR (the first time only). */
  destInterrupted?: boolean;
}

export interface FakeTable {
  services: FakeService[];
  /** How many services dumps come back flagged NLM_F_DUMP_INTR before one does not. */
  servicesInterrupted?: number;
}

function nlmsg(type: number, flags: number, seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + ((payload.length + 3) & ~3));
  const v = new DataView(out.buffer);
  v.setUint32(0, 16 + payload.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  out.set(payload, 16);
  return out;
}

function done(seq: number, errno = 0, flags = 0): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setInt32(0, -errno, true);
  return nlmsg(C.NLMSG_DONE, C.NLM_F_MULTI | flags, seq, p);
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The identity the kernel has for a service: what its reply says (as a table read decodes it and
 * asks for its real servers again), or the given key when the reply does not decode.
 */
function identityOf(f: FakeService): FakeService["key"] {
  try {
    const a = decodeServiceReply(f.payload, false);
    if (!a) return f.key;
    const e = serviceEntryFromAttrs(a);
    const addr = new Uint8Array(16);
    if (!e.fwmark) addr.set(parseAddress(e.address).bytes);
    return {
      af: e.af,
      fwmark: e.fwmark,
      protocol: e.fwmark ? 0 : e.protocol,
      addr,
      port: e.fwmark ? 0 : e.port,
    };
  } catch {
    return f.key;
  }
}

function findService(table: FakeTable, request: Uint8Array): FakeService | undefined {
  const s = decodeIpvsMessage(request).service ?? {};
  const addr = new Uint8Array(16);
  if (s.addr) addr.set(s.addr.subarray(0, 16));
  return table.services.find((f) => {
    const k = identityOf(f);
    return s.fwmark !== undefined
      ? k.fwmark === s.fwmark && k.af === s.af
      : k.fwmark === 0 &&
          k.af === s.af &&
          k.protocol === s.protocol &&
          k.port === s.port &&
          sameBytes(k.addr, addr);
  });
}

/** The replies to one request (nlmsghdr + payload) written by the table read. */
function answer(
  table: FakeTable,
  state: { servicesDumps: number; interruptedOnce: Set<FakeService> },
  req: Uint8Array,
): Uint8Array[] {
  const v = new DataView(req.buffer, req.byteOffset, req.byteLength);
  const seq = v.getUint32(8, true);
  const payload = req.subarray(16, v.getUint32(0, true));
  if (payload[0] === C.IpvsCmd.GET_SERVICE) {
    const intr = state.servicesDumps++ < (table.servicesInterrupted ?? 0) ? C.NLM_F_DUMP_INTR : 0;
    return [
      ...table.services.map((s) => nlmsg(FAKE_FAMILY, C.NLM_F_MULTI | intr, seq, s.payload)),
      done(seq, 0, intr),
    ];
  }
  const service = findService(table, payload);
  // ip_vs_genl_dump_dests: an unknown service ends the dump with nothing.
  if (!service) return [done(seq)];
  if (service.destErrno) return [done(seq, service.destErrno)];
  let intr = 0;
  if (service.destInterrupted && !state.interruptedOnce.has(service)) {
    state.interruptedOnce.add(service);
    intr = C.NLM_F_DUMP_INTR;
  }
  return [...service.dests.map((d) => nlmsg(FAKE_FAMILY, C.NLM_F_MULTI | intr, seq, d)), done(seq, 0, intr)];
}

type FakeState = { servicesDumps: number; interruptedOnce: Set<FakeService> };

/**
 * The client's own socket in front of `table`: each request's replies come back as datagrams of
 * at most `perDatagram` messages (the kernel fills one skb per datagram), a turn of the loop later.
 */
class FakeSocket extends EventEmitter {
  constructor(
    private readonly table: FakeTable,
    private readonly state: FakeState,
    private readonly perDatagram: number,
  ) {
    super();
  }
  send(buf: Uint8Array, _opts: unknown, cb?: (err?: unknown) => void): void {
    const data = new Uint8Array(buf);
    const v = new DataView(data.buffer);
    const replies: Uint8Array[] = [];
    for (let at = 0; at + 16 <= data.length; ) {
      const len = v.getUint32(at, true);
      replies.push(...answer(this.table, this.state, data.subarray(at, at + len)));
      at += (len + 3) & ~3;
    }
    setImmediate(() => {
      cb?.();
      for (let i = 0; i < replies.length; i += this.perDatagram) {
        this.emit("message", Buffer.concat(replies.slice(i, i + this.perDatagram)));
      }
    });
  }
  ref(): void {}
  unref(): void {}
  close(): void {}
}

/**
 * An IpvsClient over `table`: its own socket and, for table reads and batches, exchange sockets
 * (as open() sets them up where @lvs/sys has them).
 */
export function fakeClient(table: FakeTable, perDatagram = 3): IpvsClient {
  const state: FakeState = { servicesDumps: 0, interruptedOnce: new Set<FakeService>() };
  const client = IpvsClient.fromSocket(
    new FakeSocket(table, state, perDatagram) as unknown as NetlinkSocketLike,
    FAKE_FAMILY,
  );
  // As open() sets them up: the services dump on a socket of its own.
  (client as unknown as { exchange: ExchangeContext }).exchange = fakeExchange(table, 4, state, true).ctx;
  return client;
}

/** The exchange sockets of a table read over `table`, and the socket path it falls back on. */
export function fakeExchange(
  table: FakeTable,
  sockets = 4,
  state: FakeState = { servicesDumps: 0, interruptedOnce: new Set<FakeService>() },
  servicesSocket = false,
): { ctx: ExchangeContext; redo: TableRedo; sent: { socket: number; cmd: number }[] } {
  // Which socket got which command (the services socket is -1), in call order.
  const sent: { socket: number; cmd: number }[] = [];
  const makeSocket = (index: number): NetlinkExchangeSocket => {
    const exchangeJoined = async (joined: Uint8Array, lengths: Uint32Array) => {
      let at = 0;
      for (const n of lengths) {
        sent.push({ socket: index, cmd: joined[at + 16] as number });
        at += n;
      }
      // A pool thread's turn: later than now.
      await new Promise((resolve) => setImmediate(resolve));
      const parts: Uint8Array[] = [];
      at = 0;
      for (const n of lengths) {
        parts.push(...answer(table, state, joined.subarray(at, at + n)));
        at += n;
      }
      return { data: Buffer.concat(parts), completed: lengths.length, datagrams: lengths.length };
    };
    return {
      exchangeJoined,
      exchange: (writes: Uint8Array[]) =>
        exchangeJoined(
          Buffer.concat(writes),
          Uint32Array.from(writes, (w) => w.length),
        ),
    } as unknown as NetlinkExchangeSocket;
  };
  let seq = 0x7ffffff0; // wraps within a read: consecutive numbers are not assumed
  const ctx: ExchangeContext = {
    familyId: FAKE_FAMILY,
    timeoutMs: 1000,
    sockets: Array.from({ length: sockets }, (_, i) => makeSocket(i)),
    ...(servicesSocket ? { servicesSocket: makeSocket(-1) } : {}),
    nextSeq: () => {
      seq = (seq % 0xfffffffe) + 1;
      return seq;
    },
  };
  // The socket path (client.services(), client.dests()): the same answers, an interrupted dump
  // redone up to 5 times as the client's dump() does.
  const dump = (request: Uint8Array) => {
    for (let attempt = 0; ; attempt++) {
      const replies = answer(table, state, request);
      const v = (m: Uint8Array) => new DataView(m.buffer, m.byteOffset, m.byteLength);
      const last = replies[replies.length - 1] as Uint8Array;
      const errno = -v(last).getInt32(16, true);
      const interrupted = replies.some((m) => v(m).getUint16(6, true) & C.NLM_F_DUMP_INTR);
      if (errno === 0 && interrupted && attempt < 5) continue;
      return {
        errno,
        interrupted,
        parts: replies.slice(0, -1).map((m) => m.subarray(16, v(m).getUint32(0, true))),
      };
    }
  };
  const redo: TableRedo = {
    services: async () => {
      const r = dump(encodeIpvsRequest(Msg.dumpServices(), FAKE_FAMILY, C.NLM_F_REQUEST | C.NLM_F_DUMP, 1));
      if (r.interrupted) throw new IpvsError("IPVS_DUMP_INTERRUPTED", "GET_SERVICE: interrupted");
      return r.parts.flatMap((p) => {
        const a = decodeServiceReply(p, false);
        return a ? [serviceEntryFromAttrs(a)] : [];
      });
    },
    dests: async (service: ServiceEntry) => {
      const key = keyOf(service);
      const r = dump(encodeIpvsRequest(Msg.dumpDests(key), FAKE_FAMILY, C.NLM_F_REQUEST | C.NLM_F_DUMP, 1));
      if (r.errno > 0) throw kernelError(r.errno, "SERVICE", "GET_DEST", describeService(key));
      if (r.interrupted) throw new IpvsError("IPVS_DUMP_INTERRUPTED", "GET_DEST: interrupted");
      return r.parts.flatMap((d) => {
        const e = decodeDestEntry(d, service.af, false);
        return e ? [e] : ([] as DestinationEntry[]);
      });
    },
  };
  return { ctx, redo, sent };
}
