/**
 * Pure, byte-exact codec of the IPVS sync protocol (net/netfilter/ipvs/ip_vs_sync.c, Linux 6.1):
 * v0 (4-byte header, 24/48-byte IPv4 entries) and v1 (8-byte header, 36-byte IPv4 / 72-byte IPv6
 * entries followed by type-length options). Validation mirrors ip_vs_process_message(): what the
 * kernel drops as a whole buffer is a SyncError here. No I/O, no clock.
 */
import { formatIPv4, formatIPv6, writeIPv4, writeIPv6 } from "@lvs/inet";
import {
  AF_INET,
  AF_INET6,
  FULL_CONN_SIZE,
  IP_VS_CONN_F_SEQ_MASK,
  IP_VS_PENAME_MAXLEN,
  IPVS_OPT_F_PARAM,
  IPVS_OPT_PE_DATA,
  IPVS_OPT_PE_NAME,
  IPVS_OPT_SEQ_DATA,
  MASTER_SYNC_MAXLEN_V4,
  MAX_CONNS_PER_MESSAGE,
  SIMPLE_CONN_SIZE,
  STYPE_F_INET6,
  SVER_MASK,
  SVER_SHIFT,
  SYNC_CONN_OPTIONS_SIZE,
  SYNC_MESG_HEADER_SIZE,
  SYNC_MESG_V0_HEADER_SIZE,
  SYNC_PROTO_VER,
  SYNC_V4_SIZE,
  SYNC_V6_SIZE,
} from "./constants.js";
import { SyncError } from "./errors.js";

/** struct ip_vs_seq: TCP sequence adjustment of an application helper (e.g. FTP). */
export interface SeqData {
  initSeq: number;
  delta: number;
  previousDelta: number;
}

/** An option the codec does not interpret, kept so decode → encode round-trips. */
export interface SyncOption {
  type: number;
  data: Uint8Array;
}

/** One connection entry of a sync message. */
export interface SyncConnection {
  /** AF_INET (2) or AF_INET6 (10). v0 carries IPv4 only. */
  af: number;
  /** IP protocol number (6 TCP, 17 UDP, 132 SCTP...). */
  protocol: number;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  destAddress: string;
  destPort: number;
  /** IP_VS_CONN_F_* bits exactly as sent (16 bits in v0, 32 in v1), unknown bits kept. */
  flags: number;
  /** Protocol state number (IP_VS_TCP_S_*, ...); see stateName(). */
  state: number;
  /** Firewall mark of the service (v1; 0 in v0). */
  fwmark: number;
  /** Seconds until expiry as the master saw it (v1; 0 in v0, meaning "the backup's own timeout"). */
  timeout: number;
  inSeq?: SeqData;
  outSeq?: SeqData;
  /** Persistence-engine data (v1 IPVS_OPT_PE_DATA), e.g. a SIP Call-ID. */
  peData?: Uint8Array;
  /** Persistence-engine name (v1 IPVS_OPT_PE_NAME), e.g. "sip". */
  peName?: string;
  /** Options the codec does not know, in wire order (their type byte kept as is). */
  unknownOptions?: SyncOption[];
}

export interface SyncMessage {
  version: 0 | 1;
  /** The master's syncid (0..255); a kernel backup with syncid 0 accepts every syncid. */
  syncId: number;
  connections: SyncConnection[];
}

export type DecodeResult = { ok: true; message: SyncMessage } | { ok: false; error: SyncError };

const be16 = (b: Uint8Array, o: number): number => ((b[o] as number) << 8) | (b[o + 1] as number);
const be32 = (b: Uint8Array, o: number): number =>
  (((b[o] as number) << 24) |
    ((b[o + 1] as number) << 16) |
    ((b[o + 2] as number) << 8) |
    (b[o + 3] as number)) >>>
  0;
const put16 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
};
const put32 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
};

function readSeq(b: Uint8Array, o: number): SeqData {
  return { initSeq: be32(b, o), delta: be32(b, o + 4), previousDelta: be32(b, o + 8) };
}

function writeSeq(b: Uint8Array, o: number, s: SeqData | undefined): void {
  put32(b, o, s ? s.initSeq >>> 0 : 0);
  put32(b, o + 4, s ? s.delta >>> 0 : 0);
  put32(b, o + 8, s ? s.previousDelta >>> 0 : 0);
}

/** True when ip_vs_process_message() would read `b` as a v1 message. */
function isV1(b: Uint8Array): boolean {
  return (
    b.length >= SYNC_MESG_HEADER_SIZE && b[5] === SYNC_PROTO_VER && b[0] === 0 && b[6] === 0 && b[7] === 0
  );
}

/**
 * Decodes one datagram. Throws SyncError where the kernel would drop the whole buffer; an entry
 * the kernel merely skips (unknown protocol, bad state, unknown mandatory option) is returned.
 */
export function decodeMessage(b: Uint8Array): SyncMessage {
  // ip_vs_process_message(): "message header too short", "bogus message size"
  if (b.length < SYNC_MESG_V0_HEADER_SIZE) {
    throw new SyncError(
      "SYNC_TRUNCATED_HEADER",
      `sync message of ${b.length} bytes is shorter than its 4-byte header`,
      {
        offset: 0,
      },
    );
  }
  const size = be16(b, 2);
  if (size !== b.length) {
    throw new SyncError(
      "SYNC_SIZE_MISMATCH",
      `sync header says ${size} bytes but the datagram has ${b.length}`,
      {
        offset: 2,
      },
    );
  }
  const syncId = b[1] as number;
  return isV1(b)
    ? { version: 1, syncId, connections: decodeV1(b) }
    : { version: 0, syncId, connections: decodeV0(b) };
}

/** decodeMessage() that never throws: the form every receive path uses. */
export function tryDecodeMessage(b: Uint8Array): DecodeResult {
  try {
    return { ok: true, message: decodeMessage(b) };
  } catch (err) {
    if (err instanceof SyncError) return { ok: false, error: err };
    // A codec bug must not take the receive loop down either; keep it visible through the message.
    return { ok: false, error: new SyncError("SYNC_BAD_FIELD", `decoder failure: ${String(err)}`) };
  }
}

function decodeV0(b: Uint8Array): SyncConnection[] {
  const count = b[0] as number;
  const out: SyncConnection[] = new Array(count);
  let p = SYNC_MESG_V0_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    // ip_vs_process_message_v0(): "BACKUP v0, bogus conn"
    if (p + SIMPLE_CONN_SIZE > b.length) {
      throw new SyncError("SYNC_TRUNCATED_CONN", `v0 entry ${i} at offset ${p} runs past the end`, {
        offset: p,
        entry: i,
      });
    }
    const flags = be16(b, p + 20);
    const conn: SyncConnection = {
      af: AF_INET,
      protocol: b[p + 1] as number,
      clientAddress: formatIPv4(b, p + 8),
      clientPort: be16(b, p + 2),
      virtualAddress: formatIPv4(b, p + 12),
      virtualPort: be16(b, p + 4),
      destAddress: formatIPv4(b, p + 16),
      destPort: be16(b, p + 6),
      flags,
      state: be16(b, p + 22),
      fwmark: 0,
      timeout: 0,
    };
    if (flags & IP_VS_CONN_F_SEQ_MASK) {
      // "BACKUP v0, Dropping buffer bogus conn options"
      if (p + FULL_CONN_SIZE > b.length) {
        throw new SyncError("SYNC_TRUNCATED_CONN", `v0 entry ${i} sequence options run past the end`, {
          offset: p + SIMPLE_CONN_SIZE,
          entry: i,
        });
      }
      conn.inSeq = readSeq(b, p + SIMPLE_CONN_SIZE);
      conn.outSeq = readSeq(b, p + SIMPLE_CONN_SIZE + 12);
      p += FULL_CONN_SIZE;
    } else {
      p += SIMPLE_CONN_SIZE;
    }
    out[i] = conn;
  }
  return out;
}

function decodeV1(b: Uint8Array): SyncConnection[] {
  const count = b[4] as number;
  const out: SyncConnection[] = new Array(count);
  let next = SYNC_MESG_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const p = next;
    // ip_vs_process_message(): "Dropping buffer, too small" / "msg > buffer" / "Unknown version"
    if (p + SYNC_V4_SIZE > b.length) {
      throw new SyncError("SYNC_TRUNCATED_CONN", `entry ${i} at offset ${p} runs past the end`, {
        offset: p,
        entry: i,
      });
    }
    const verSize = be16(b, p + 2);
    const size = verSize & SVER_MASK;
    const end = p + size;
    if (end > b.length) {
      throw new SyncError(
        "SYNC_TRUNCATED_CONN",
        `entry ${i} claims ${size} bytes past the end of the message`,
        {
          offset: p + 2,
          entry: i,
        },
      );
    }
    if (verSize >> SVER_SHIFT) {
      throw new SyncError(
        "SYNC_BAD_CONN_VERSION",
        `entry ${i} has unknown entry version ${verSize >> SVER_SHIFT}`,
        {
          offset: p + 2,
          entry: i,
        },
      );
    }
    out[i] = decodeV1Conn(b, p, end, i);
    // "Make sure we have 32 bit alignment"
    next = p + ((size + 3) & ~3);
  }
  return out;
}

function decodeV1Conn(b: Uint8Array, p: number, end: number, i: number): SyncConnection {
  const type = b[p] as number;
  let base: number;
  let af: number;
  // ip_vs_proc_sync_conn(): type bit STYPE_F_INET6, else type must be 0 (error -10)
  if (type & STYPE_F_INET6) {
    af = AF_INET6;
    base = SYNC_V6_SIZE;
  } else if (type === 0) {
    af = AF_INET;
    base = SYNC_V4_SIZE;
  } else {
    throw new SyncError("SYNC_BAD_CONN_TYPE", `entry ${i} has unknown type ${type}`, { offset: p, entry: i });
  }
  // error -20: entry shorter than its fixed part
  if (p + base > end) {
    throw new SyncError(
      "SYNC_BAD_CONN_SIZE",
      `entry ${i} size ${end - p} is below the ${base}-byte fixed part`,
      {
        offset: p + 2,
        entry: i,
      },
    );
  }
  const v6 = af === AF_INET6;
  const conn: SyncConnection = {
    af,
    protocol: b[p + 1] as number,
    clientAddress: v6 ? formatIPv6(b, p + 24) : formatIPv4(b, p + 24),
    clientPort: be16(b, p + 10),
    virtualAddress: v6 ? formatIPv6(b, p + 40) : formatIPv4(b, p + 28),
    virtualPort: be16(b, p + 12),
    destAddress: v6 ? formatIPv6(b, p + 56) : formatIPv4(b, p + 32),
    destPort: be16(b, p + 14),
    flags: be32(b, p + 4),
    state: be16(b, p + 8),
    fwmark: be32(b, p + 16),
    timeout: be32(b, p + 20),
  };
  let q = p + base;
  while (q < end) {
    // errors -30 / -40: option header or data past the entry, or a zero length
    if (q + 2 > end) {
      throw new SyncError("SYNC_BAD_OPTION", `entry ${i}: option header truncated`, { offset: q, entry: i });
    }
    const ptype = b[q] as number;
    const plen = b[q + 1] as number;
    q += 2;
    if (plen === 0 || q + plen > end) {
      throw new SyncError("SYNC_BAD_OPTION", `entry ${i}: option ${ptype} of length ${plen} does not fit`, {
        offset: q - 1,
        entry: i,
      });
    }
    switch (ptype & ~IPVS_OPT_F_PARAM) {
      case IPVS_OPT_SEQ_DATA:
        // ip_vs_proc_seqopt(): exact length, at most once (error -50)
        if (plen !== SYNC_CONN_OPTIONS_SIZE || conn.inSeq) {
          throw new SyncError(
            "SYNC_BAD_SEQ_OPTION",
            conn.inSeq
              ? `entry ${i}: sequence option twice`
              : `entry ${i}: sequence option of ${plen} bytes (need 24)`,
            { offset: q - 2, entry: i },
          );
        }
        conn.inSeq = readSeq(b, q);
        conn.outSeq = readSeq(b, q + 12);
        break;
      case IPVS_OPT_PE_DATA:
        // ip_vs_proc_str(): at most IP_VS_PEDATA_MAXLEN (the u8 length already ensures it), once (-60)
        if (conn.peData) {
          throw new SyncError("SYNC_BAD_PE_OPTION", `entry ${i}: PE data twice`, { offset: q - 2, entry: i });
        }
        conn.peData = b.slice(q, q + plen);
        break;
      case IPVS_OPT_PE_NAME:
        // ip_vs_proc_str(): at most IP_VS_PENAME_MAXLEN, once (-70)
        if (plen > IP_VS_PENAME_MAXLEN || conn.peName !== undefined) {
          throw new SyncError(
            "SYNC_BAD_PE_OPTION",
            conn.peName !== undefined
              ? `entry ${i}: PE name twice`
              : `entry ${i}: PE name of ${plen} bytes (max 16)`,
            { offset: q - 2, entry: i },
          );
        }
        conn.peName = String.fromCharCode(...b.subarray(q, q + plen));
        break;
      default:
        // The kernel skips this entry when the option is mandatory (no IPVS_OPT_F_PARAM bit); kept.
        if (!conn.unknownOptions) conn.unknownOptions = [];
        conn.unknownOptions.push({ type: ptype, data: b.slice(q, q + plen) });
    }
    q += plen;
  }
  return conn;
}

/** Bytes one connection occupies in a message of `version` (without v1 alignment padding). */
export function entrySize(conn: SyncConnection, version: 0 | 1): number {
  if (version === 0) return conn.flags & IP_VS_CONN_F_SEQ_MASK ? FULL_CONN_SIZE : SIMPLE_CONN_SIZE;
  let len = conn.af === AF_INET6 ? SYNC_V6_SIZE : SYNC_V4_SIZE;
  if (conn.inSeq || conn.outSeq) len += SYNC_CONN_OPTIONS_SIZE + 2;
  if (conn.peData) len += conn.peData.length + 2;
  if (conn.peName !== undefined) len += conn.peName.length + 2;
  if (conn.unknownOptions) for (const o of conn.unknownOptions) len += o.data.length + 2;
  return len;
}

function badField(entry: number, object: string, why: string): SyncError {
  return new SyncError("SYNC_BAD_FIELD", `connection ${entry}: ${object} ${why}`, { entry, object });
}

function checkUint(v: number, max: number, entry: number, object: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw badField(entry, object, `must be an integer 0..${max}, got ${v}`);
}

function writeAddr(af: number, text: string, b: Uint8Array, o: number, entry: number, object: string): void {
  const ok = af === AF_INET6 ? writeIPv6(text, b, o) : writeIPv4(text, b, o);
  if (!ok)
    throw badField(
      entry,
      object,
      `is not an ${af === AF_INET6 ? "IPv6" : "IPv4"} address: ${JSON.stringify(text)}`,
    );
}

/** Writes one entry at `o`; returns its length. Validates every field (SyncError SYNC_BAD_FIELD). */
function writeEntry(
  c: SyncConnection,
  version: 0 | 1,
  b: Uint8Array,
  o: number,
  entry: number,
  len: number,
): void {
  checkUint(c.protocol, 255, entry, "protocol");
  checkUint(c.clientPort, 0xffff, entry, "clientPort");
  checkUint(c.virtualPort, 0xffff, entry, "virtualPort");
  checkUint(c.destPort, 0xffff, entry, "destPort");
  checkUint(c.state, 0xffff, entry, "state");
  if (version === 0) {
    if (c.af !== AF_INET) {
      throw new SyncError(
        "SYNC_V0_IPV6",
        `connection ${entry}: protocol v0 carries IPv4 only (the kernel skips it)`,
        {
          entry,
        },
      );
    }
    checkUint(c.flags, 0xffff, entry, "flags");
    b[o] = 0;
    b[o + 1] = c.protocol;
    put16(b, o + 2, c.clientPort);
    put16(b, o + 4, c.virtualPort);
    put16(b, o + 6, c.destPort);
    writeAddr(AF_INET, c.clientAddress, b, o + 8, entry, "clientAddress");
    writeAddr(AF_INET, c.virtualAddress, b, o + 12, entry, "virtualAddress");
    writeAddr(AF_INET, c.destAddress, b, o + 16, entry, "destAddress");
    put16(b, o + 20, c.flags);
    put16(b, o + 22, c.state);
    if (c.flags & IP_VS_CONN_F_SEQ_MASK) {
      writeSeq(b, o + SIMPLE_CONN_SIZE, c.inSeq);
      writeSeq(b, o + SIMPLE_CONN_SIZE + 12, c.outSeq);
    }
    return;
  }
  if (c.af !== AF_INET && c.af !== AF_INET6)
    throw badField(entry, "af", `must be 2 (AF_INET) or 10 (AF_INET6), got ${c.af}`);
  checkUint(c.flags, 0xffffffff, entry, "flags");
  checkUint(c.fwmark, 0xffffffff, entry, "fwmark");
  checkUint(c.timeout, 0xffffffff, entry, "timeout");
  if (len > SVER_MASK) throw badField(entry, "options", `make the entry ${len} bytes (max ${SVER_MASK})`);
  const v6 = c.af === AF_INET6;
  b[o] = v6 ? STYPE_F_INET6 : 0;
  b[o + 1] = c.protocol;
  put16(b, o + 2, len); // version 0 of the entry format in the top 4 bits
  put32(b, o + 4, c.flags);
  put16(b, o + 8, c.state);
  put16(b, o + 10, c.clientPort);
  put16(b, o + 12, c.virtualPort);
  put16(b, o + 14, c.destPort);
  put32(b, o + 16, c.fwmark);
  put32(b, o + 20, c.timeout);
  writeAddr(c.af, c.clientAddress, b, o + 24, entry, "clientAddress");
  writeAddr(c.af, c.virtualAddress, b, v6 ? o + 40 : o + 28, entry, "virtualAddress");
  writeAddr(c.af, c.destAddress, b, v6 ? o + 56 : o + 32, entry, "destAddress");
  let q = o + (v6 ? SYNC_V6_SIZE : SYNC_V4_SIZE);
  // Option order as ip_vs_sync_conn() writes them: sequence data, PE data, PE name.
  if (c.inSeq || c.outSeq) {
    b[q] = IPVS_OPT_SEQ_DATA;
    b[q + 1] = SYNC_CONN_OPTIONS_SIZE;
    writeSeq(b, q + 2, c.inSeq);
    writeSeq(b, q + 14, c.outSeq);
    q += 2 + SYNC_CONN_OPTIONS_SIZE;
  }
  if (c.peData) {
    if (c.peData.length < 1 || c.peData.length > 255) throw badField(entry, "peData", "must be 1..255 bytes");
    b[q] = IPVS_OPT_PE_DATA;
    b[q + 1] = c.peData.length;
    b.set(c.peData, q + 2);
    q += 2 + c.peData.length;
  }
  if (c.peName !== undefined) {
    const n = c.peName;
    if (n.length < 1 || n.length > IP_VS_PENAME_MAXLEN || /[^\x01-\xff]/.test(n)) {
      throw badField(entry, "peName", `must be 1..${IP_VS_PENAME_MAXLEN} 8-bit characters`);
    }
    b[q] = IPVS_OPT_PE_NAME;
    b[q + 1] = n.length;
    for (let k = 0; k < n.length; k++) b[q + 2 + k] = n.charCodeAt(k);
    q += 2 + n.length;
  }
  if (c.unknownOptions) {
    for (const opt of c.unknownOptions) {
      if (opt.data.length < 1 || opt.data.length > 255)
        throw badField(entry, "unknownOptions", "data must be 1..255 bytes");
      checkUint(opt.type, 255, entry, "unknownOptions.type");
      b[q] = opt.type;
      b[q + 1] = opt.data.length;
      b.set(opt.data, q + 2);
      q += 2 + opt.data.length;
    }
  }
}

export interface EncodeOptions {
  version?: 0 | 1;
  syncId?: number;
  /**
   * Largest datagram payload; default 1472, what a kernel master uses with an IPv4 group
   * (start_sync_thread(): mtu 1500 minus IP and UDP headers). Use MASTER_SYNC_MAXLEN_V6 for IPv6.
   */
  maxLength?: number;
}

/**
 * Packs connections into as few messages as fit `maxLength`, the way ip_vs_sync_conn() /
 * ip_vs_sync_conn_v0() fill their sync buffers: entries in order, v1 entries 4-byte aligned,
 * a new message when the next entry does not fit (or 255 entries are reached).
 */
export function encodeMessages(conns: readonly SyncConnection[], opts: EncodeOptions = {}): Uint8Array[] {
  const version = opts.version ?? 1;
  const syncId = opts.syncId ?? 0;
  const maxLength = opts.maxLength ?? MASTER_SYNC_MAXLEN_V4;
  if (!Number.isInteger(syncId) || syncId < 0 || syncId > 255) {
    throw new SyncError("SYNC_BAD_FIELD", `syncId must be 0..255, got ${syncId}`, { object: "syncId" });
  }
  const hdr = version === 1 ? SYNC_MESG_HEADER_SIZE : SYNC_MESG_V0_HEADER_SIZE;
  const out: Uint8Array[] = [];
  let buf: Uint8Array | undefined;
  let pos = 0;
  let count = 0;
  const flush = (): void => {
    if (!buf) return;
    const msg = buf.subarray(0, pos);
    put16(msg, 2, pos);
    if (version === 1) {
      msg[0] = 0;
      msg[1] = syncId;
      msg[4] = count;
      msg[5] = SYNC_PROTO_VER;
      msg[6] = 0;
      msg[7] = 0;
    } else {
      msg[0] = count;
      msg[1] = syncId;
    }
    out.push(msg);
    buf = undefined;
  };
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i] as SyncConnection;
    const len = entrySize(c, version);
    let pad = version === 1 ? (4 - pos) & 3 : 0;
    if (buf && (pos + pad + len > buf.length || count === MAX_CONNS_PER_MESSAGE)) flush();
    if (!buf) {
      // ip_vs_sync_buff_create(): max(len + header, sync_maxlen)
      const size = Math.max(len + hdr, maxLength);
      if (size > 0xffff)
        throw new SyncError("SYNC_TOO_LARGE", `a message cannot exceed 65535 bytes (asked ${size})`);
      buf = new Uint8Array(size);
      pos = hdr;
      count = 0;
      pad = 0;
    }
    writeEntry(c, version, buf, pos + pad, i, len); // pad bytes are already zero
    pos += pad + len;
    count++;
  }
  flush();
  return out;
}

/** Encodes exactly one message holding all of `message.connections` (no size limit but 65535). */
export function encodeMessage(message: SyncMessage): Uint8Array {
  if (message.connections.length > MAX_CONNS_PER_MESSAGE) {
    throw new SyncError(
      "SYNC_TOO_LARGE",
      `a message holds at most 255 connections (got ${message.connections.length})`,
    );
  }
  let total = message.version === 1 ? SYNC_MESG_HEADER_SIZE : SYNC_MESG_V0_HEADER_SIZE;
  for (const c of message.connections)
    total = (message.version === 1 ? (total + 3) & ~3 : total) + entrySize(c, message.version);
  const msgs = encodeMessages(message.connections, {
    version: message.version,
    syncId: message.syncId,
    maxLength: total,
  });
  return msgs[0] ?? emptyMessage(message);
}

function emptyMessage(message: SyncMessage): Uint8Array {
  if (message.version === 1) {
    const b = new Uint8Array(SYNC_MESG_HEADER_SIZE);
    b[1] = message.syncId;
    put16(b, 2, SYNC_MESG_HEADER_SIZE);
    b[5] = SYNC_PROTO_VER;
    return b;
  }
  const b = new Uint8Array(SYNC_MESG_V0_HEADER_SIZE);
  b[1] = message.syncId;
  put16(b, 2, SYNC_MESG_V0_HEADER_SIZE);
  return b;
}
