/**
 * Pure netlink framing: nlmsghdr, genlmsghdr and attributes (include/uapi/linux/netlink.h,
 * genetlink.h). No I/O. Little-endian host (x86-64, arm64), as the kernel writes host order.
 */
import { GENL_HDRLEN, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_ERROR, NLMSG_HDRLEN } from "./constants.js";
import { IpvsError } from "./errors.js";

export interface RawAttr {
  /** Attribute type without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits. */
  type: number;
  /** Those two bits, kept so re-encoding is byte-exact. */
  flagBits: number;
  data: Uint8Array;
}

export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the 16-byte header. */
  payload: Uint8Array;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** A small growable byte writer. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 128) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u16(v: number, be = false): void {
    this.ensure(2);
    this.view.setUint16(this.length, v, !be);
    this.length += 2;
  }
  u32(v: number, be = false): void {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0, !be);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, v, true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(): void {
    const n = align4(this.length) - this.length;
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.length++] = 0;
  }
  /** Writes a u16/u32 placeholder at `at` later. */
  patchU16(at: number, v: number): void {
    this.view.setUint16(at, v, true);
  }
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }

  /** Attribute header + payload written by `fill`, padded to 4. */
  attr(type: number, fill: (w: Writer) => void): void {
    this.pad();
    const start = this.length;
    this.u16(0);
    this.u16(type);
    fill(this);
    this.patchU16(start, this.length - start);
    this.pad();
  }

  /** The bytes written (a view: the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Parses a run of attributes. Throws IPVS_BAD_MESSAGE on a length that overruns. */
export function parseAttrs(buf: Uint8Array): RawAttr[] {
  const out: RawAttr[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = view.getUint16(off, true);
    const rawType = view.getUint16(off + 2, true);
    if (len < NLA_HDRLEN || off + len > buf.length) {
      throw new IpvsError(
        "IPVS_BAD_MESSAGE",
        `attribute at offset ${off} has length ${len} (buffer ${buf.length})`,
      );
    }
    out.push({
      type: rawType & NLA_TYPE_MASK,
      flagBits: rawType & ~NLA_TYPE_MASK & 0xffff,
      data: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export function encodeNlMsg(msg: {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + align4(msg.payload.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, NLMSG_HDRLEN + msg.payload.length, true);
  view.setUint16(4, msg.type, true);
  view.setUint16(6, msg.flags, true);
  view.setUint32(8, msg.seq >>> 0, true);
  view.setUint32(12, msg.pid >>> 0, true);
  out.set(msg.payload, NLMSG_HDRLEN);
  return out;
}

/** Splits a datagram into netlink messages. Throws IPVS_BAD_MESSAGE on a truncated header. */
export function parseNlMsgs(buf: Uint8Array): NlMsg[] {
  const { messages, error } = splitNlMsgs(buf);
  if (error) throw error;
  return messages;
}

/**
 * Splits a datagram into netlink messages as far as their headers hold: the whole messages before
 * a bad length, and the error naming it (a receive path answers those and drops the rest).
 */
export function splitNlMsgs(buf: Uint8Array): { messages: NlMsg[]; error: IpvsError | undefined } {
  const out: NlMsg[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = view.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      const error = new IpvsError(
        "IPVS_BAD_MESSAGE",
        `netlink message at offset ${off} has length ${len} (datagram ${buf.length})`,
      );
      return { messages: out, error };
    }
    out.push({
      type: view.getUint16(off + 4, true),
      flags: view.getUint16(off + 6, true),
      seq: view.getUint32(off + 8, true),
      pid: view.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  if (off < buf.length) {
    const error = new IpvsError(
      "IPVS_BAD_MESSAGE",
      `netlink datagram of ${buf.length} bytes ends in ${buf.length - off} bytes, shorter than a header`,
    );
    return { messages: out, error };
  }
  return { messages: out, error: undefined };
}

export interface GenlHeader {
  cmd: number;
  version: number;
  reserved: number;
}

export function encodeGenl(hdr: GenlHeader, attrs: Uint8Array): Uint8Array {
  const out = new Uint8Array(GENL_HDRLEN + attrs.length);
  out[0] = hdr.cmd;
  out[1] = hdr.version;
  new DataView(out.buffer).setUint16(2, hdr.reserved, true);
  out.set(attrs, GENL_HDRLEN);
  return out;
}

export function parseGenl(payload: Uint8Array): { header: GenlHeader; attrs: Uint8Array } {
  if (payload.length < GENL_HDRLEN) {
    throw new IpvsError("IPVS_BAD_MESSAGE", `generic netlink payload of ${payload.length} bytes`);
  }
  return {
    header: {
      cmd: payload[0] as number,
      version: payload[1] as number,
      reserved: new DataView(payload.buffer, payload.byteOffset).getUint16(2, true),
    },
    attrs: payload.subarray(GENL_HDRLEN),
  };
}

/** NLMSG_ERROR payload: negative errno (0 = ACK) and the echoed request header. */
export function parseNlError(msg: NlMsg): { errno: number; requestSeq: number | undefined } {
  if (msg.type !== NLMSG_ERROR || msg.payload.length < 4) {
    throw new IpvsError(
      "IPVS_BAD_MESSAGE",
      `not an NLMSG_ERROR (type ${msg.type}, ${msg.payload.length} bytes)`,
    );
  }
  const view = new DataView(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength);
  const error = view.getInt32(0, true);
  const requestSeq = msg.payload.length >= 4 + NLMSG_HDRLEN ? view.getUint32(4 + 8, true) : undefined;
  return { errno: -error, requestSeq };
}

export const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
