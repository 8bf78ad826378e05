/**
 * The hot path of a table dump: GET_DEST replies straight into `DestinationEntry` objects.
 *
 * A full table read decodes every real server of every service (20 counters each): one hand loop
 * per part, without what only byte-exact re-encoding needs (attribute order, unknown attributes,
 * copies of the address bytes) and without the codec's intermediate objects. The result equals
 * `destEntryFromAttrs(decodeIpvsMessage(payload).dest)`; property tests hold the two paths
 * together, on kernel captures, generated replies and mutated bytes. Pure.
 */
import { formatAddress } from "@lvs/inet";
import * as C from "./constants.js";
import { IpvsError } from "./errors.js";
import type { DestinationEntry, Stats } from "./types.js";

/**
 * One GET_DEST dump part (genl header + attributes) → its destination, or undefined when the
 * part carries none. `svcAf` is the service's family, used when IPVS_DEST_ATTR_ADDR_FAMILY is
 * absent (kernels before 4.9).
 */
export function decodeDestEntry(
  payload: Uint8Array,
  svcAf: number,
  counters = true,
): DestinationEntry | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return decodeDestEntryAt(payload, view, 0, payload.length, svcAf, counters);
}

function badAttribute(off: number, nestStart: number, len: number, nestLength: number): IpvsError {
  return new IpvsError(
    "IPVS_BAD_MESSAGE",
    `GET_DEST: attribute at offset ${off - nestStart} has length ${len} (nest ${nestLength})`,
  );
}

function short(len: number, n: number): IpvsError {
  return new IpvsError("IPVS_BAD_MESSAGE", `GET_DEST: ${len} bytes, need ${n}`);
}

/**
 * decodeDestEntry of the part at `start` (`length` bytes) of a receive buffer, read through
 * `view` (the buffer's): the exchange path decodes every part of a call from one buffer. One hand
 * loop over the attributes into the entry, no intermediate objects: a table read decodes every
 * real server of the table, so this is most of its JavaScript. `counters: false` (a reconcile's
 * read) skips the two counter nests. Same result, and the same IpvsError for every malformation
 * the codec checks in what it reads (property tests hold the two together).
 */
export function decodeDestEntryAt(
  buf: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  svcAf: number,
  counters = true,
): DestinationEntry | undefined {
  if (length < C.GENL_HDRLEN) {
    throw new IpvsError("IPVS_BAD_MESSAGE", `generic netlink payload of ${length} bytes`);
  }
  const top = start + C.GENL_HDRLEN;
  const end = start + length;
  let entry: DestinationEntry | undefined;
  for (let off = top; off + C.NLA_HDRLEN <= end; ) {
    const len = view.getUint16(off, true);
    if (len < C.NLA_HDRLEN || off + len > end) throw badAttribute(off, top, len, end - top);
    // The last dest nest wins, as in the table decoder; other top-level attributes are skipped.
    if ((view.getUint16(off + 2, true) & C.NLA_TYPE_MASK) === C.IPVS_CMD_ATTR_DEST) {
      entry = destAt(buf, view, off + C.NLA_HDRLEN, len - C.NLA_HDRLEN, svcAf, counters);
    }
    off += (len + 3) & ~3;
  }
  return entry;
}

function destAt(
  buf: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  svcAf: number,
  counters: boolean,
): DestinationEntry {
  const end = start + length;
  let addrFamily: number | undefined;
  // The address attribute's place in `buf` (no subarray per real server: a table read has 20,000).
  let addrAt = -1;
  let addrSize = 0;
  let port = 0;
  let fwdMethod = 0;
  let weight = 0;
  let upperThreshold = 0;
  let lowerThreshold = 0;
  let activeConns = 0;
  let inactiveConns = 0;
  let persistConns = 0;
  let tunnelType = 0;
  let tunnelPort = 0;
  let tunnelFlags = 0;
  let stats: Stats | undefined;
  let stats64: Stats | undefined;
  for (let off = start; off + C.NLA_HDRLEN <= end; ) {
    const len = view.getUint16(off, true);
    if (len < C.NLA_HDRLEN || off + len > end) throw badAttribute(off, start, len, length);
    const at = off + C.NLA_HDRLEN;
    const size = len - C.NLA_HDRLEN;
    switch (view.getUint16(off + 2, true) & C.NLA_TYPE_MASK) {
      case C.IPVS_DEST_ATTR_ADDR_FAMILY:
        if (size < 2) throw short(size, 2);
        addrFamily = view.getUint16(at, true);
        break;
      case C.IPVS_DEST_ATTR_ADDR:
        addrAt = at;
        addrSize = size;
        break;
      case C.IPVS_DEST_ATTR_PORT:
        if (size < 2) throw short(size, 2);
        port = view.getUint16(at, false);
        break;
      case C.IPVS_DEST_ATTR_TUN_TYPE:
        if (size < 1) throw short(size, 1);
        tunnelType = view.getUint8(at);
        break;
      case C.IPVS_DEST_ATTR_TUN_PORT:
        if (size < 2) throw short(size, 2);
        tunnelPort = view.getUint16(at, false);
        break;
      case C.IPVS_DEST_ATTR_TUN_FLAGS:
        if (size < 2) throw short(size, 2);
        tunnelFlags = view.getUint16(at, true);
        break;
      case C.IPVS_DEST_ATTR_FWD_METHOD:
      case C.IPVS_DEST_ATTR_WEIGHT:
      case C.IPVS_DEST_ATTR_U_THRESH:
      case C.IPVS_DEST_ATTR_L_THRESH:
      case C.IPVS_DEST_ATTR_ACTIVE_CONNS:
      case C.IPVS_DEST_ATTR_INACT_CONNS:
      case C.IPVS_DEST_ATTR_PERSIST_CONNS: {
        if (size < 4) throw short(size, 4);
        const v = view.getUint32(at, true);
        const type = view.getUint16(off + 2, true) & C.NLA_TYPE_MASK;
        if (type === C.IPVS_DEST_ATTR_FWD_METHOD) fwdMethod = v;
        else if (type === C.IPVS_DEST_ATTR_WEIGHT) weight = v;
        else if (type === C.IPVS_DEST_ATTR_U_THRESH) upperThreshold = v;
        else if (type === C.IPVS_DEST_ATTR_L_THRESH) lowerThreshold = v;
        else if (type === C.IPVS_DEST_ATTR_ACTIVE_CONNS) activeConns = v;
        else if (type === C.IPVS_DEST_ATTR_INACT_CONNS) inactiveConns = v;
        else persistConns = v;
        break;
      }
      case C.IPVS_DEST_ATTR_STATS:
        if (counters) stats = statsAt(view, at, size, false);
        break;
      case C.IPVS_DEST_ATTR_STATS64:
        if (counters) stats64 = statsAt(view, at, size, true);
        break;
      // Anything newer is not read.
    }
    off += (len + 3) & ~3;
  }
  // IPVS_DEST_ATTR_ADDR_FAMILY is absent on kernels before 4.9: the service's family then.
  const af = addrFamily ?? svcAf;
  // Field for field what destEntryFromAttrs builds (same keys, same order: one object shape).
  return {
    af,
    address: addressAt(buf, af, addrAt, addrSize),
    port,
    forward: fwdMethod & C.IP_VS_CONN_F_FWD_MASK,
    weight,
    upperThreshold,
    lowerThreshold,
    activeConns,
    inactiveConns,
    persistConns,
    tunnelType,
    tunnelPort,
    tunnelFlags,
    stats,
    stats64,
  };
}

/** The text of the address attribute (16 bytes from the kernel, read as 4 for IPv4); "" if absent. */
function addressAt(buf: Uint8Array, af: number, at: number, size: number): string {
  if (at < 0) return "";
  // A short attribute formats what it has, as the codec's path does.
  if (size < (af === C.AF_INET6 ? 16 : 4)) return formatAddress(af, buf.subarray(at, at + size));
  return formatAddress(af, buf, at);
}

const ZERO = 0n;

/**
 * One counters nest (IPVS_*_ATTR_STATS or STATS64) straight into a Stats object, the table
 * decoder's checks kept: STATS carries 32-bit counters (kept as bigint like their STATS64 twins)
 * except the byte counts, which are 64-bit in both.
 */
function statsAt(view: DataView, start: number, length: number, wide: boolean): Stats {
  const end = start + length;
  let conns = ZERO;
  let inPkts = ZERO;
  let outPkts = ZERO;
  let inBytes = ZERO;
  let outBytes = ZERO;
  let cps = ZERO;
  let inPps = ZERO;
  let outPps = ZERO;
  let inBps = ZERO;
  let outBps = ZERO;
  for (let off = start; off + C.NLA_HDRLEN <= end; ) {
    const len = view.getUint16(off, true);
    if (len < C.NLA_HDRLEN || off + len > end) throw badAttribute(off, start, len, length);
    const type = view.getUint16(off + 2, true) & C.NLA_TYPE_MASK;
    if (type >= C.IPVS_STATS_ATTR_CONNS && type <= C.IPVS_STATS_ATTR_OUTBPS) {
      const at = off + C.NLA_HDRLEN;
      const size = len - C.NLA_HDRLEN;
      const bytes = type === C.IPVS_STATS_ATTR_INBYTES || type === C.IPVS_STATS_ATTR_OUTBYTES;
      let v: bigint;
      if (wide || bytes) {
        if (size < 8) throw short(size, 8);
        v = view.getBigUint64(at, true);
      } else {
        if (size < 4) throw short(size, 4);
        v = BigInt(view.getUint32(at, true));
      }
      if (type === C.IPVS_STATS_ATTR_CONNS) conns = v;
      else if (type === C.IPVS_STATS_ATTR_INPKTS) inPkts = v;
      else if (type === C.IPVS_STATS_ATTR_OUTPKTS) outPkts = v;
      else if (type === C.IPVS_STATS_ATTR_INBYTES) inBytes = v;
      else if (type === C.IPVS_STATS_ATTR_OUTBYTES) outBytes = v;
      else if (type === C.IPVS_STATS_ATTR_CPS) cps = v;
      else if (type === C.IPVS_STATS_ATTR_INPPS) inPps = v;
      else if (type === C.IPVS_STATS_ATTR_OUTPPS) outPps = v;
      else if (type === C.IPVS_STATS_ATTR_INBPS) inBps = v;
      else outBps = v;
    }
    off += (len + 3) & ~3;
  }
  // Field for field what statsFromAttrs builds (same keys, same order).
  return { conns, inPkts, outPkts, inBytes, outBytes, cps, inPps, outPps, inBps, outBps };
}
