/**
 * The hot path of a table dump: GET_DEST replies straight into `DestinationEntry` objects.
 *
 * A full table read decodes every real server of every service (20 counters each). The lossless
 * codec (codec.ts) keeps attribute order and unknown attributes for byte-exact re-encoding,
 * which a dump never needs, and turns every counter into a BigInt at once. Here the fields are
 * read in one pass and the two counter nests are decoded only when `stats` / `stats64` is first
 * read. The result equals `destEntryFromAttrs(decodeIpvsMessage(payload).dest)` (a property test
 * holds the two paths together). Pure.
 */
import { formatAddress } from "@lvs/inet";
import * as C from "./constants.js";
import { IpvsError } from "./errors.js";
import type { DestinationEntry, Stats } from "./types.js";

const STATS_KEYS = [
  "conns",
  "inPkts",
  "outPkts",
  "inBytes",
  "outBytes",
  "cps",
  "inPps",
  "outPps",
  "inBps",
  "outBps",
] as const;

/** Wire width of each counter: IPVS_*_ATTR_STATS has 32-bit counters but 64-bit byte counts. */
function width(type: number, is64: boolean): 4 | 8 {
  return is64 || type === C.IPVS_STATS_ATTR_INBYTES || type === C.IPVS_STATS_ATTR_OUTBYTES ? 8 : 4;
}

/**
 * Walks one IPVS_*_ATTR_STATS(64) nest with the codec's checks; builds the counters (32-bit ones
 * widened to bigint, like the codec) only when `build` is set.
 */
function walkStats(
  view: DataView,
  start: number,
  end: number,
  is64: boolean,
  build: boolean,
  where: string,
): Stats | undefined {
  const s: Record<string, bigint> | undefined = build
    ? {
        conns: 0n,
        inPkts: 0n,
        outPkts: 0n,
        inBytes: 0n,
        outBytes: 0n,
        cps: 0n,
        inPps: 0n,
        outPps: 0n,
        inBps: 0n,
        outBps: 0n,
      }
    : undefined;
  let off = start;
  while (off + C.NLA_HDRLEN <= end) {
    const len = view.getUint16(off, true);
    const type = view.getUint16(off + 2, true) & C.NLA_TYPE_MASK;
    if (len < C.NLA_HDRLEN || off + len > end) {
      throw new IpvsError(
        "IPVS_BAD_MESSAGE",
        `${where}: attribute at offset ${off - start} has length ${len} (nest ${end - start})`,
      );
    }
    if (type >= C.IPVS_STATS_ATTR_CONNS && type <= C.IPVS_STATS_ATTR_OUTBPS) {
      const w = width(type, is64);
      need(len - C.NLA_HDRLEN, w, where);
      if (s) {
        const at = off + C.NLA_HDRLEN;
        s[STATS_KEYS[type - 1] as string] =
          w === 8 ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true));
      }
    }
    off += (len + 3) & ~3;
  }
  return s as unknown as Stats | undefined;
}

function need(len: number, n: number, where: string): void {
  if (len < n) throw new IpvsError("IPVS_BAD_MESSAGE", `${where}: ${len} bytes, need ${n}`);
}

/**
 * One GET_DEST dump part (genl header + attributes) → its destination, or undefined when the
 * part carries none. `svcAf` is the service's family, used when IPVS_DEST_ATTR_ADDR_FAMILY is
 * absent (kernels before 4.9).
 */
export function decodeDestEntry(payload: Uint8Array, svcAf: number): DestinationEntry | undefined {
  if (payload.length < C.GENL_HDRLEN) {
    throw new IpvsError("IPVS_BAD_MESSAGE", `generic netlink payload of ${payload.length} bytes`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const end = payload.length;
  let off = C.GENL_HDRLEN;
  let nestStart = -1;
  let nestEnd = -1;
  while (off + C.NLA_HDRLEN <= end) {
    const len = view.getUint16(off, true);
    const type = view.getUint16(off + 2, true) & C.NLA_TYPE_MASK;
    if (len < C.NLA_HDRLEN || off + len > end) {
      throw new IpvsError(
        "IPVS_BAD_MESSAGE",
        `GET_DEST: attribute at offset ${off - C.GENL_HDRLEN} has length ${len}`,
      );
    }
    if (type === C.IPVS_CMD_ATTR_DEST) {
      nestStart = off + C.NLA_HDRLEN;
      nestEnd = off + len;
    }
    off += (len + 3) & ~3;
  }
  if (nestStart < 0) return undefined;

  let af = -1;
  let addrOff = -1;
  let addrLen = 0;
  let port = 0;
  let fwd = 0;
  let weight = 0;
  let uThresh = 0;
  let lThresh = 0;
  let active = 0;
  let inact = 0;
  let persist = 0;
  let tunType = 0;
  let tunPort = 0;
  let tunFlags = 0;
  let stats: [number, number] | undefined;
  let stats64: [number, number] | undefined;
  off = nestStart;
  const where = "dest";
  while (off + C.NLA_HDRLEN <= nestEnd) {
    const len = view.getUint16(off, true);
    const type = view.getUint16(off + 2, true) & C.NLA_TYPE_MASK;
    if (len < C.NLA_HDRLEN || off + len > nestEnd) {
      throw new IpvsError(
        "IPVS_BAD_MESSAGE",
        `${where}: attribute at offset ${off - nestStart} has length ${len} (nest ${nestEnd - nestStart})`,
      );
    }
    const v = off + C.NLA_HDRLEN;
    const n = len - C.NLA_HDRLEN;
    switch (type) {
      case C.IPVS_DEST_ATTR_ADDR_FAMILY:
        need(n, 2, where);
        af = view.getUint16(v, true);
        break;
      case C.IPVS_DEST_ATTR_ADDR:
        addrOff = v;
        addrLen = n;
        break;
      case C.IPVS_DEST_ATTR_PORT:
        need(n, 2, where);
        port = view.getUint16(v, false);
        break;
      case C.IPVS_DEST_ATTR_FWD_METHOD:
        need(n, 4, where);
        fwd = view.getUint32(v, true);
        break;
      case C.IPVS_DEST_ATTR_WEIGHT:
        need(n, 4, where);
        weight = view.getUint32(v, true);
        break;
      case C.IPVS_DEST_ATTR_U_THRESH:
        need(n, 4, where);
        uThresh = view.getUint32(v, true);
        break;
      case C.IPVS_DEST_ATTR_L_THRESH:
        need(n, 4, where);
        lThresh = view.getUint32(v, true);
        break;
      case C.IPVS_DEST_ATTR_ACTIVE_CONNS:
        need(n, 4, where);
        active = view.getUint32(v, true);
        break;
      case C.IPVS_DEST_ATTR_INACT_CONNS:
        need(n, 4, where);
        inact = view.getUint32(v, true);
        break;
      case C.IPVS_DEST_ATTR_PERSIST_CONNS:
        need(n, 4, where);
        persist = view.getUint32(v, true);
        break;
      case C.IPVS_DEST_ATTR_TUN_TYPE:
        need(n, 1, where);
        tunType = view.getUint8(v);
        break;
      case C.IPVS_DEST_ATTR_TUN_PORT:
        need(n, 2, where);
        tunPort = view.getUint16(v, false);
        break;
      case C.IPVS_DEST_ATTR_TUN_FLAGS:
        need(n, 2, where);
        tunFlags = view.getUint16(v, true);
        break;
      case C.IPVS_DEST_ATTR_STATS:
        stats = [v, v + n];
        break;
      case C.IPVS_DEST_ATTR_STATS64:
        stats64 = [v, v + n];
        break;
    }
    off += (len + 3) & ~3;
  }
  if (af < 0) af = svcAf;
  // Validate the counter nests now (a malformed reply must fail the dump, not a later read).
  if (stats) walkStats(view, stats[0], stats[1], false, false, where);
  if (stats64) walkStats(view, stats64[0], stats64[1], true, false, where);
  let statsCache: Stats | undefined;
  let stats64Cache: Stats | undefined;
  const entry = {
    af,
    address: addrOff >= 0 ? formatAddress(af, payload.subarray(addrOff, addrOff + addrLen)) : "",
    port,
    forward: fwd & C.IP_VS_CONN_F_FWD_MASK,
    weight,
    upperThreshold: uThresh,
    lowerThreshold: lThresh,
    activeConns: active,
    inactiveConns: inact,
    persistConns: persist,
    tunnelType: tunType,
    tunnelPort: tunPort,
    tunnelFlags: tunFlags,
    get stats(): Stats | undefined {
      if (!stats) return undefined;
      statsCache ??= walkStats(view, stats[0], stats[1], false, true, where);
      return statsCache;
    },
    get stats64(): Stats | undefined {
      if (!stats64) return undefined;
      stats64Cache ??= walkStats(view, stats64[0], stats64[1], true, true, where);
      return stats64Cache;
    },
  };
  return entry as DestinationEntry;
}
