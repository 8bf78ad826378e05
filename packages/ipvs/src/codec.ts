/**
 * Pure codec for IPVS generic-netlink message bodies (genlmsghdr + attributes).
 *
 * Table-driven: each nest (command level, service, dest, daemon, stats, info) is a list of
 * attribute specs from include/uapi/linux/ip_vs.h with the wire type the kernel uses
 * (net/netfilter/ipvs/ip_vs_ctl.c: ip_vs_genl_fill_service/_dest/_daemon, the nla_policy tables).
 * Decoding keeps unknown attributes and the order/flag bits seen, so decode → encode is
 * byte-exact; encoding without a recorded layout uses ipvsadm 1.31's order (libipvs.c).
 */
import * as C from "./constants.js";
import { IpvsError } from "./errors.js";
import { encodeGenl, parseGenl, type RawAttr, Writer } from "./netlink.js";

type Kind = "u8" | "u16" | "u16be" | "u32" | "u64" | "string" | "bytes" | "flags" | { nest: NestSpec };

interface AttrSpec {
  type: number;
  key: string;
  kind: Kind;
}
type NestSpec = readonly AttrSpec[];

/** Order and flag bits of the attributes as decoded, plus those we do not know. */
export interface Layout {
  /** Raw nla_type values (type | NLA_F_* bits) in wire order. */
  order: number[];
  unknown: RawAttr[];
}

export interface IpvsFlags {
  flags: number;
  mask: number;
}

export interface StatsAttrs {
  conns?: bigint;
  inPkts?: bigint;
  outPkts?: bigint;
  inBytes?: bigint;
  outBytes?: bigint;
  cps?: bigint;
  inPps?: bigint;
  outPps?: bigint;
  inBps?: bigint;
  outBps?: bigint;
  $layout?: Layout;
}

export interface ServiceAttrs {
  af?: number;
  protocol?: number;
  /** 4 or 16 bytes as sent (ipvsadm and the kernel send the 16-byte union nf_inet_addr). */
  addr?: Uint8Array;
  port?: number;
  fwmark?: number;
  schedName?: string;
  flags?: IpvsFlags;
  timeout?: number;
  /** Raw u32: an IPv4 mask in network byte order read as host u32, or an IPv6 prefix length. */
  netmask?: number;
  stats?: StatsAttrs;
  peName?: string;
  stats64?: StatsAttrs;
  $layout?: Layout;
}

export interface DestAttrs {
  addr?: Uint8Array;
  port?: number;
  fwdMethod?: number;
  weight?: number;
  uThresh?: number;
  lThresh?: number;
  activeConns?: number;
  inactConns?: number;
  persistConns?: number;
  stats?: StatsAttrs;
  addrFamily?: number;
  stats64?: StatsAttrs;
  tunType?: number;
  tunPort?: number;
  tunFlags?: number;
  $layout?: Layout;
}

export interface DaemonAttrs {
  state?: number;
  mcastIfn?: string;
  syncId?: number;
  syncMaxLen?: number;
  /** 4 bytes, network order. */
  mcastGroup?: Uint8Array;
  mcastGroup6?: Uint8Array;
  mcastPort?: number;
  mcastTtl?: number;
  $layout?: Layout;
}

export interface InfoAttrs {
  version?: number;
  connTabSize?: number;
  $layout?: Layout;
}

/** One IPVS generic-netlink message body. */
export interface IpvsMessage {
  cmd: number;
  version?: number;
  reserved?: number;
  service?: ServiceAttrs;
  dest?: DestAttrs;
  daemon?: DaemonAttrs;
  timeoutTcp?: number;
  timeoutTcpFin?: number;
  timeoutUdp?: number;
  /** GET_INFO reply attributes (they share numbers with the command level, hence apart). */
  info?: InfoAttrs;
  $layout?: Layout;
}

// ---------------------------------------------------------------- spec tables (ip_vs.h)
const STATS32: NestSpec = [
  { type: C.IPVS_STATS_ATTR_CONNS, key: "conns", kind: "u32" },
  { type: C.IPVS_STATS_ATTR_INPKTS, key: "inPkts", kind: "u32" },
  { type: C.IPVS_STATS_ATTR_OUTPKTS, key: "outPkts", kind: "u32" },
  { type: C.IPVS_STATS_ATTR_INBYTES, key: "inBytes", kind: "u64" },
  { type: C.IPVS_STATS_ATTR_OUTBYTES, key: "outBytes", kind: "u64" },
  { type: C.IPVS_STATS_ATTR_CPS, key: "cps", kind: "u32" },
  { type: C.IPVS_STATS_ATTR_INPPS, key: "inPps", kind: "u32" },
  { type: C.IPVS_STATS_ATTR_OUTPPS, key: "outPps", kind: "u32" },
  { type: C.IPVS_STATS_ATTR_INBPS, key: "inBps", kind: "u32" },
  { type: C.IPVS_STATS_ATTR_OUTBPS, key: "outBps", kind: "u32" },
];
// ip_vs_genl_fill_stats64: every counter is nla_put_u64_64bit (with IPVS_STATS_ATTR_PAD).
const STATS64: NestSpec = STATS32.map((s) => ({ ...s, kind: "u64" as const }));

const SERVICE: NestSpec = [
  { type: C.IPVS_SVC_ATTR_AF, key: "af", kind: "u16" },
  { type: C.IPVS_SVC_ATTR_FWMARK, key: "fwmark", kind: "u32" },
  { type: C.IPVS_SVC_ATTR_PROTOCOL, key: "protocol", kind: "u16" },
  { type: C.IPVS_SVC_ATTR_ADDR, key: "addr", kind: "bytes" },
  { type: C.IPVS_SVC_ATTR_PORT, key: "port", kind: "u16be" },
  { type: C.IPVS_SVC_ATTR_SCHED_NAME, key: "schedName", kind: "string" },
  { type: C.IPVS_SVC_ATTR_PE_NAME, key: "peName", kind: "string" },
  { type: C.IPVS_SVC_ATTR_FLAGS, key: "flags", kind: "flags" },
  { type: C.IPVS_SVC_ATTR_TIMEOUT, key: "timeout", kind: "u32" },
  { type: C.IPVS_SVC_ATTR_NETMASK, key: "netmask", kind: "u32" },
  { type: C.IPVS_SVC_ATTR_STATS, key: "stats", kind: { nest: STATS32 } },
  { type: C.IPVS_SVC_ATTR_STATS64, key: "stats64", kind: { nest: STATS64 } },
];

const DEST: NestSpec = [
  { type: C.IPVS_DEST_ATTR_ADDR_FAMILY, key: "addrFamily", kind: "u16" },
  { type: C.IPVS_DEST_ATTR_ADDR, key: "addr", kind: "bytes" },
  { type: C.IPVS_DEST_ATTR_PORT, key: "port", kind: "u16be" },
  { type: C.IPVS_DEST_ATTR_FWD_METHOD, key: "fwdMethod", kind: "u32" },
  { type: C.IPVS_DEST_ATTR_WEIGHT, key: "weight", kind: "u32" },
  { type: C.IPVS_DEST_ATTR_TUN_TYPE, key: "tunType", kind: "u8" },
  { type: C.IPVS_DEST_ATTR_TUN_PORT, key: "tunPort", kind: "u16be" },
  { type: C.IPVS_DEST_ATTR_TUN_FLAGS, key: "tunFlags", kind: "u16" },
  { type: C.IPVS_DEST_ATTR_U_THRESH, key: "uThresh", kind: "u32" },
  { type: C.IPVS_DEST_ATTR_L_THRESH, key: "lThresh", kind: "u32" },
  { type: C.IPVS_DEST_ATTR_ACTIVE_CONNS, key: "activeConns", kind: "u32" },
  { type: C.IPVS_DEST_ATTR_INACT_CONNS, key: "inactConns", kind: "u32" },
  { type: C.IPVS_DEST_ATTR_PERSIST_CONNS, key: "persistConns", kind: "u32" },
  { type: C.IPVS_DEST_ATTR_STATS, key: "stats", kind: { nest: STATS32 } },
  { type: C.IPVS_DEST_ATTR_STATS64, key: "stats64", kind: { nest: STATS64 } },
];

const DAEMON: NestSpec = [
  { type: C.IPVS_DAEMON_ATTR_STATE, key: "state", kind: "u32" },
  { type: C.IPVS_DAEMON_ATTR_MCAST_IFN, key: "mcastIfn", kind: "string" },
  { type: C.IPVS_DAEMON_ATTR_SYNC_ID, key: "syncId", kind: "u32" },
  { type: C.IPVS_DAEMON_ATTR_SYNC_MAXLEN, key: "syncMaxLen", kind: "u16" },
  { type: C.IPVS_DAEMON_ATTR_MCAST_PORT, key: "mcastPort", kind: "u16" },
  { type: C.IPVS_DAEMON_ATTR_MCAST_TTL, key: "mcastTtl", kind: "u8" },
  { type: C.IPVS_DAEMON_ATTR_MCAST_GROUP6, key: "mcastGroup6", kind: "bytes" },
  { type: C.IPVS_DAEMON_ATTR_MCAST_GROUP, key: "mcastGroup", kind: "bytes" },
];

const COMMAND: NestSpec = [
  { type: C.IPVS_CMD_ATTR_SERVICE, key: "service", kind: { nest: SERVICE } },
  { type: C.IPVS_CMD_ATTR_DEST, key: "dest", kind: { nest: DEST } },
  { type: C.IPVS_CMD_ATTR_DAEMON, key: "daemon", kind: { nest: DAEMON } },
  { type: C.IPVS_CMD_ATTR_TIMEOUT_TCP, key: "timeoutTcp", kind: "u32" },
  { type: C.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, key: "timeoutTcpFin", kind: "u32" },
  { type: C.IPVS_CMD_ATTR_TIMEOUT_UDP, key: "timeoutUdp", kind: "u32" },
];

const INFO: NestSpec = [
  { type: C.IPVS_INFO_ATTR_VERSION, key: "version", kind: "u32" },
  { type: C.IPVS_INFO_ATTR_CONN_TAB_SIZE, key: "connTabSize", kind: "u32" },
];

/**
 * NLA_F_NESTED on nests we originate. libnl 3.7 (ipvsadm on bookworm) sets it in
 * nla_nest_start(); the kernel ignores it for IPVS's NLA_NESTED policy.
 */
export const NEST_FLAG_ON_ENCODE = C.NLA_F_NESTED;

// ---------------------------------------------------------------- decode
type Obj = Record<string, unknown> & { $layout?: Layout };

/** Spec lookup by attribute type (dense arrays; the encoder follows a recorded layout with it). */
const byType = new Map<NestSpec, (AttrSpec | undefined)[]>();
function specIndex(spec: NestSpec): (AttrSpec | undefined)[] {
  let idx = byType.get(spec);
  if (!idx) {
    idx = [];
    for (const a of spec) idx[a.type] = a;
    byType.set(spec, idx);
  }
  return idx;
}

/** Reads one attribute's value at [off, off+len) of `buf` (viewed by `view`). */
type Reader = (buf: Uint8Array, view: DataView, off: number, len: number, where: string) => unknown;
/** Decodes the attributes at [start, start+length) of `buf` into an object keyed by the spec. */
type NestDecoder = (buf: Uint8Array, view: DataView, start: number, length: number, where: string) => Obj;

function need(len: number, n: number, where: string): void {
  if (len < n) throw new IpvsError("IPVS_BAD_MESSAGE", `${where}: ${len} bytes, need ${n}`);
}

/**
 * The reader of one attribute kind, chosen once per spec entry. `widen`: a 32-bit STATS counter,
 * typed bigint like its STATS64 twin. `lossless`: "bytes" are copied (the decoded message
 * outlives the datagram); otherwise they are views into it, read before the datagram goes.
 */
function readerFor(kind: Kind, widen: boolean, lossless: boolean): Reader {
  if (typeof kind === "object") return nestDecoder(kind.nest, lossless);
  switch (kind) {
    case "u8":
      return (_b, view, off, len, where) => {
        need(len, 1, where);
        return view.getUint8(off);
      };
    case "u16":
      return (_b, view, off, len, where) => {
        need(len, 2, where);
        return view.getUint16(off, true);
      };
    case "u16be":
      return (_b, view, off, len, where) => {
        need(len, 2, where);
        return view.getUint16(off, false);
      };
    case "u32":
      return widen
        ? (_b, view, off, len, where) => {
            need(len, 4, where);
            return BigInt(view.getUint32(off, true));
          }
        : (_b, view, off, len, where) => {
            need(len, 4, where);
            return view.getUint32(off, true);
          };
    case "u64":
      return (_b, view, off, len, where) => {
        need(len, 8, where);
        return view.getBigUint64(off, true);
      };
    case "string":
      return (buf, _v, off, len) => {
        let end = off;
        while (end < off + len && buf[end] !== 0) end++;
        return Buffer.from(buf.buffer, buf.byteOffset + off, end - off).toString("latin1");
      };
    case "bytes":
      return lossless
        ? (buf, _v, off, len) => buf.slice(off, off + len)
        : (buf, _v, off, len) => buf.subarray(off, off + len);
    case "flags":
      return (_b, view, off, len, where) => {
        need(len, 8, where);
        return { flags: view.getUint32(off, true), mask: view.getUint32(off + 4, true) };
      };
  }
}

const compiled = { lossless: new Map<NestSpec, NestDecoder>(), fast: new Map<NestSpec, NestDecoder>() };

/**
 * Compiles a spec table into its decoder, once: a loop over the attributes dispatching through
 * a table of readers indexed by attribute type. Lossless decoders also record the wire order
 * and keep unknown attributes ($layout); the others skip both (a table dump needs neither).
 */
function nestDecoder(spec: NestSpec, lossless: boolean): NestDecoder {
  const cache = lossless ? compiled.lossless : compiled.fast;
  const known = cache.get(spec);
  if (known) return known;
  const size = Math.max(...spec.map((a) => a.type)) + 1;
  const readers: (Reader | undefined)[] = new Array(size).fill(undefined);
  const keys: string[] = new Array(size).fill("");
  for (const a of spec) {
    readers[a.type] = readerFor(a.kind, spec === STATS32, lossless);
    keys[a.type] = a.key;
  }
  // Fast decoders start from every key present (undefined), so their objects share one shape.
  const blank: Obj = {};
  if (!lossless) for (const a of spec) blank[a.key] = undefined;
  const decode: NestDecoder = (buf, view, start, length, where) => {
    const out: Obj = lossless ? {} : { ...blank };
    const layout: Layout | undefined = lossless ? { order: [], unknown: [] } : undefined;
    const end = start + length;
    let off = start;
    while (off + C.NLA_HDRLEN <= end) {
      const len = view.getUint16(off, true);
      const rawType = view.getUint16(off + 2, true);
      if (len < C.NLA_HDRLEN || off + len > end) {
        throw new IpvsError(
          "IPVS_BAD_MESSAGE",
          `${where}: attribute at offset ${off - start} has length ${len} (nest ${length})`,
        );
      }
      const type = rawType & C.NLA_TYPE_MASK;
      const read = type < size ? readers[type] : undefined;
      if (read) out[keys[type] as string] = read(buf, view, off + C.NLA_HDRLEN, len - C.NLA_HDRLEN, where);
      else if (layout) {
        const flagBits = rawType & ~C.NLA_TYPE_MASK & 0xffff;
        layout.unknown.push({ type, flagBits, data: buf.slice(off + C.NLA_HDRLEN, off + len) });
      }
      layout?.order.push(rawType);
      off += (len + 3) & ~3;
    }
    if (layout) out.$layout = layout;
    return out;
  };
  cache.set(spec, decode);
  return decode;
}

/** A nest's spec without its counter nests (stats, stats64): what a read without counters decodes. */
const withoutCounters = (spec: NestSpec): NestSpec =>
  spec.filter((a) => a.key !== "stats" && a.key !== "stats64");

/**
 * The genl header checked, then the reply's top-level attributes through a fast decoder. Reads
 * in place: a table read decodes thousands of parts from one buffer, so no view or copy each.
 */
function decodeReplyNest(
  buf: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  spec: NestSpec,
  command: string,
): Obj {
  if (length < C.GENL_HDRLEN) {
    throw new IpvsError("IPVS_BAD_MESSAGE", `generic netlink payload of ${length} bytes`);
  }
  return nestDecoder(spec, false)(buf, view, start + C.GENL_HDRLEN, length - C.GENL_HDRLEN, command);
}

/** The top level of a GET_SERVICE dump part, reduced to what a table read needs: the service. */
const SERVICE_REPLY: NestSpec = [{ type: C.IPVS_CMD_ATTR_SERVICE, key: "service", kind: { nest: SERVICE } }];
const SERVICE_REPLY_NO_COUNTERS: NestSpec = [
  { type: C.IPVS_CMD_ATTR_SERVICE, key: "service", kind: { nest: withoutCounters(SERVICE) } },
];

/**
 * The service of a GET_SERVICE dump part, or undefined when it has none: the same tables and
 * checks as decodeIpvsMessage, without the layout. `addr` and `pe_name` bytes are views into
 * `payload`. `counters: false` skips the two counter nests (`stats`/`stats64` undefined).
 */
export function decodeServiceReply(payload: Uint8Array, counters = true): ServiceAttrs | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return decodeServiceReplyAt(payload, view, 0, payload.length, counters);
}

/** decodeServiceReply of the payload at `start` (`length` bytes) of a receive buffer and its view. */
export function decodeServiceReplyAt(
  buf: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  counters = true,
): ServiceAttrs | undefined {
  const spec = counters ? SERVICE_REPLY : SERVICE_REPLY_NO_COUNTERS;
  return decodeReplyNest(buf, view, start, length, spec, "GET_SERVICE").service as ServiceAttrs | undefined;
}

/** Decodes a genl payload (header + attributes) into an IpvsMessage. */
export function decodeIpvsMessage(payload: Uint8Array): IpvsMessage {
  const { header, attrs } = parseGenl(payload);
  const isInfo = header.cmd === C.IpvsCmd.SET_INFO || header.cmd === C.IpvsCmd.GET_INFO;
  const msg: IpvsMessage = { cmd: header.cmd, version: header.version, reserved: header.reserved };
  const view = new DataView(attrs.buffer, attrs.byteOffset, attrs.byteLength);
  if (isInfo && attrs.length > 0) {
    const info = nestDecoder(INFO, true)(attrs, view, 0, attrs.length, "info") as InfoAttrs;
    msg.info = info;
    return msg;
  }
  const top = nestDecoder(COMMAND, true)(
    attrs,
    view,
    0,
    attrs.length,
    C.IPVS_CMD_NAMES[header.cmd] ?? `cmd${header.cmd}`,
  );
  Object.assign(msg, top);
  return msg;
}

// ---------------------------------------------------------------- encode
function encodeValue(w: Writer, kind: Kind, v: unknown): void {
  if (typeof kind === "object") {
    encodeNest(w, kind.nest, v as Obj);
    return;
  }
  switch (kind) {
    case "u8":
      w.u8(v as number);
      return;
    case "u16":
      w.u16(v as number);
      return;
    case "u16be":
      w.u16(v as number, true);
      return;
    case "u32":
      w.u32(v as number);
      return;
    case "u64":
      w.u64(BigInt(v as bigint));
      return;
    case "string":
      w.bytes(new Uint8Array(Buffer.from(v as string, "latin1")));
      w.u8(0);
      return;
    case "bytes":
      w.bytes(v as Uint8Array);
      return;
    case "flags": {
      const f = v as IpvsFlags;
      w.u32(f.flags);
      w.u32(f.mask);
      return;
    }
  }
}

function encodeNest(w: Writer, spec: NestSpec, obj: Obj): void {
  const layout = obj.$layout;
  const emitted = new Set<number>();
  const unknown = layout ? [...layout.unknown] : [];
  const emit = (s: AttrSpec, flagBits: number): void => {
    const v = obj[s.key];
    if (v === undefined || emitted.has(s.type)) return;
    emitted.add(s.type);
    const kind = s.kind;
    // 32-bit STATS counters are kept as bigint like STATS64 ones; they go out as u32.
    const value = kind === "u32" && typeof v === "bigint" ? Number(v) : v;
    w.attr(s.type | flagBits, (x) => encodeValue(x, kind, value));
  };
  if (layout) {
    for (const raw of layout.order) {
      const type = raw & C.NLA_TYPE_MASK;
      const flagBits = raw & ~C.NLA_TYPE_MASK & 0xffff;
      const s = specIndex(spec)[type];
      if (s && obj[s.key] !== undefined && !emitted.has(type)) {
        emit(s, flagBits);
        continue;
      }
      const idx = unknown.findIndex((u) => u.type === type);
      if (idx !== -1) {
        const u = unknown.splice(idx, 1)[0] as RawAttr;
        w.attr(u.type | u.flagBits, (x) => x.bytes(u.data));
      }
    }
  }
  for (const s of spec) emit(s, typeof s.kind === "object" ? NEST_FLAG_ON_ENCODE : 0);
  for (const u of unknown) w.attr(u.type | u.flagBits, (x) => x.bytes(u.data));
}

/**
 * A whole request datagram part in one buffer: nlmsghdr + genlmsghdr + attributes
 * (what encodeNlMsg(encodeIpvsMessage()) gives, without the intermediate copies).
 */
export function encodeIpvsRequest(msg: IpvsMessage, type: number, flags: number, seq: number): Uint8Array {
  const w = new Writer(256);
  appendIpvsRequest(w, msg, type, flags, seq);
  return w.finish();
}

/** Appends one request to a writer (several per datagram in a batch). */
export function appendIpvsRequest(
  w: Writer,
  msg: IpvsMessage,
  type: number,
  flags: number,
  seq: number,
): void {
  w.pad();
  const start = w.length;
  w.u32(0); // nlmsg_len, patched below
  w.u16(type);
  w.u16(flags);
  w.u32(seq);
  w.u32(0); // nlmsg_pid: the kernel fills in ours
  w.u8(msg.cmd);
  w.u8(msg.version ?? C.IPVS_GENL_VERSION);
  w.u16(msg.reserved ?? 0);
  const isInfo = msg.cmd === C.IpvsCmd.SET_INFO || msg.cmd === C.IpvsCmd.GET_INFO;
  if (isInfo && msg.info) encodeNest(w, INFO, msg.info as Obj);
  else encodeNest(w, COMMAND, msg as unknown as Obj);
  w.pad();
  w.patchU32(start, w.length - start);
}

/** Encodes an IpvsMessage into a genl payload (header + attributes). */
export function encodeIpvsMessage(msg: IpvsMessage): Uint8Array {
  const w = new Writer();
  const isInfo = msg.cmd === C.IpvsCmd.SET_INFO || msg.cmd === C.IpvsCmd.GET_INFO;
  if (isInfo && msg.info) encodeNest(w, INFO, msg.info as Obj);
  else encodeNest(w, COMMAND, msg as unknown as Obj);
  return encodeGenl(
    { cmd: msg.cmd, version: msg.version ?? C.IPVS_GENL_VERSION, reserved: msg.reserved ?? 0 },
    w.finish(),
  );
}
