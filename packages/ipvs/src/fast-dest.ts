/**
 * The hot path of a table dump: GET_DEST replies straight into `DestinationEntry` objects.
 *
 * A full table read decodes every real server of every service (20 counters each). The codec's
 * DEST table drives it (decodeDestReply: the same readers and checks, compiled once), without
 * what only byte-exact re-encoding needs (attribute order, unknown attributes, copies of the
 * address bytes). The result equals `destEntryFromAttrs(decodeIpvsMessage(payload).dest)`; a
 * property test holds the two paths together. Pure.
 */
import { formatAddress } from "@lvs/inet";
import { decodeDestReply, decodeDestReplyAt } from "./codec.js";
import * as C from "./constants.js";
import { IpvsError } from "./errors.js";
import { destEntryFromAttrs } from "./model.js";
import type { DestinationEntry } from "./types.js";

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
  if (!counters) {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    return decodeDestEntryLeanAt(payload, view, 0, payload.length, svcAf);
  }
  const dest = decodeDestReply(payload, counters);
  return dest ? destEntryFromAttrs(dest, svcAf) : undefined;
}

/**
 * decodeDestEntry of the part at `start` (`length` bytes) of a receive buffer, read through
 * `view` (the buffer's): the exchange path decodes every part of a call from one buffer.
 */
export function decodeDestEntryAt(
  buf: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  svcAf: number,
  counters = true,
): DestinationEntry | undefined {
  if (!counters) return decodeDestEntryLeanAt(buf, view, start, length, svcAf);
  const dest = decodeDestReplyAt(buf, view, start, length, counters);
  return dest ? destEntryFromAttrs(dest, svcAf) : undefined;
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
 * A reconcile's read of one GET_DEST part: decodeDestEntryAt(…, counters false) as one hand loop
 * over the attributes, with no intermediate objects. A no-op reconcile decodes every real server
 * of the table and nothing else, so this is its JavaScript. Same result and the same IpvsError
 * for every malformation the table decoder checks (a property test holds the two together).
 */
export function decodeDestEntryLeanAt(
  buf: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  svcAf: number,
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
      entry = leanDest(buf, view, off + C.NLA_HDRLEN, len - C.NLA_HDRLEN, svcAf);
    }
    off += (len + 3) & ~3;
  }
  return entry;
}

function leanDest(
  buf: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  svcAf: number,
): DestinationEntry {
  const end = start + length;
  let addrFamily: number | undefined;
  let addr: Uint8Array | undefined;
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
        addr = buf.subarray(at, at + size);
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
      // The counter nests (and anything newer) are not read.
    }
    off += (len + 3) & ~3;
  }
  // IPVS_DEST_ATTR_ADDR_FAMILY is absent on kernels before 4.9: the service's family then.
  const af = addrFamily ?? svcAf;
  // Field for field what destEntryFromAttrs builds (same keys, same order: one object shape).
  return {
    af,
    address: addr ? formatAddress(af, addr) : "",
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
    stats: undefined,
    stats64: undefined,
  };
}
