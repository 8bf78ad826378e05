/**
 * The no-op fast path of a reconcile: a table read's replies compared with the desired table in
 * their bytes, so that what already matches is never decoded into entries and address strings.
 *
 * A plan (compileReconcilePlan) keys every desired service by its identity in bytes (a number for
 * an IPv4 or firewall-mark service, a string for IPv6) and its real servers by address and port
 * (`addr u32 * 65536 + port`). A GET_SERVICE part that links to a desired service (linkService)
 * gets no ServiceEntry: its settings are compared here with sameService's rules (compare.ts).
 * Its GET_DEST parts are then compared one by one with the desired real servers (matchDestPart)
 * with sameDest's rules; when every kernel real server matches one desired and none is missing,
 * the service gives no operation and nothing of it is decoded.
 *
 * Anything else answers "not here": a difference, an extra or missing real server, a duplicate, an
 * unknown family or protocol, a malformation. The caller then decodes that service as a full read
 * does (codec.ts, fast-dest.ts) and the diff compares the decoded objects, so operations are always
 * those of `diff(desired, await client.table({ counters: false }))`. Every check the decoders make
 * on what they read is made here first: what links or matches here decodes without error there.
 * Pure: no I/O.
 */
import { writeIPv4, writeIPv6 } from "@lvs/inet";
import { defaultNetmask, sameDest } from "./compare.js";
import * as C from "./constants.js";
import { ServiceKeyIndex } from "./key-index.js";
import { decodeNetmask } from "./model.js";
import type { DesiredService, DestinationEntry, Service, ServiceEntry } from "./types.js";

/** Real servers of a service up to which matching scans its slots instead of indexing them. */
const LINEAR_MAX = 16;

/**
 * The desired table, indexed for comparing kernel replies in their bytes. One per reconcile: it
 * records which desired service a kernel service linked to and which real servers were seen.
 */
export interface ReconcilePlan {
  readonly desired: readonly DesiredService[];
  /** Each desired service's family (serviceFamily). */
  readonly afs: readonly number[];
  /**
   * Kernel service key (serviceKeyOf) → desired index; -1 for a key two desired services share
   * an identity on (the diff then compares each with the decoded kernel service).
   */
  readonly byKey: ServiceKeyIndex;
  /** Desired services a kernel service has linked to (a second kernel service with the key is decoded). */
  readonly claimed: Uint8Array;
  /** Per desired service: its first real-server slot, or -1 when they are compared decoded only. */
  readonly slotStart: Int32Array;
  readonly slotCount: Int32Array;
  /** Per slot: `addr u32 * 65536 + port` (IPv4) or `hash(addr) * 65536 + port` (IPv6). */
  readonly slotKey: Float64Array;
  /** Per slot: 1 for an IPv6 address (its four words in slotWords), 0 for IPv4. */
  readonly slotV6: Uint8Array;
  readonly slotWords: Uint32Array;
  /** Per slot: the index of its real server in the desired service's `dests`. */
  readonly slotDest: Int32Array;
  /** Per slot: a kernel real server has matched it. */
  readonly slotSeen: Uint8Array;
  /** Per slot: the next slot of its service with the same key (-1), for services over LINEAR_MAX. */
  readonly slotNext: Int32Array;
  /** Per desired service over LINEAR_MAX real servers: key → first slot, built on first use. */
  readonly slotIndex: (Map<number, number> | undefined)[];
}

/**
 * What a reconcile's read gives the diff: per kernel service (the kernel's order), its entry and
 * real servers as decoded, or, for one linked to a desired service, the comparison already made.
 */
export interface TableRead {
  /** Decoded entries; undefined for a linked service (linked[i] >= 0). */
  readonly services: readonly (ServiceEntry | undefined)[];
  /** Decoded real servers; undefined for a linked service whose real servers all matched. */
  readonly dests: readonly (DestinationEntry[] | undefined)[];
  /** The desired service each kernel service linked to, or -1; undefined when none did. */
  readonly linked: readonly number[] | undefined;
  /** For a linked service: sameService(desired, kernel). */
  readonly same: readonly boolean[] | undefined;
}

// ---------------------------------------------------------------- keys

const scratch16 = new Uint8Array(16);
const scratchView = new DataView(scratch16.buffer);

/** Service protocols a key carries: TCP, UDP, SCTP (ip_vs_genl_parse_service accepts no other). */
function protocolIndex(protocol: unknown): number {
  return protocol === C.IPPROTO_TCP
    ? 0
    : protocol === C.IPPROTO_UDP
      ? 1
      : protocol === C.IPPROTO_SCTP
        ? 2
        : -1;
}

const isU16 = (v: unknown): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffff;

/** A firewall-mark service: negative, so never an address key. */
const fwmarkKey = (af: number, fwmark: number): number => -(fwmark * 2 + (af === C.AF_INET6 ? 1 : 0)) - 1;
/** An IPv4 service: below 2^50, exact in a double. */
const v4ServiceKey = (addr: number, port: number, protocol: number): number =>
  (addr * 65536 + port) * 4 + protocol;

/** An IPv6 service: its eight address words, port and protocol as ten UTF-16 units. */
function v6ServiceKey(view: DataView, at: number, port: number, protocol: number): string {
  return String.fromCharCode(
    view.getUint16(at, false),
    view.getUint16(at + 2, false),
    view.getUint16(at + 4, false),
    view.getUint16(at + 6, false),
    view.getUint16(at + 8, false),
    view.getUint16(at + 10, false),
    view.getUint16(at + 12, false),
    view.getUint16(at + 14, false),
    port,
    protocol,
  );
}

/**
 * The key of a desired service, or undefined when it has none: then no kernel service links to it
 * and the diff compares it decoded. A key exists only where equal keys mean equal identities
 * (serviceIdOf): a mark from 1 to 2^32-1, or TCP/UDP/SCTP with a port from 0 to 65535 and an
 * address whose text is of the service's family (the kernel formats it by that family).
 */
export function desiredServiceKey(service: Service, af: number): number | string | undefined {
  if (af !== C.AF_INET && af !== C.AF_INET6) return undefined;
  const fwmark = service.fwmark;
  // serviceIdOf: `if (k.fwmark)`.
  if (fwmark) {
    if (typeof fwmark !== "number" || !Number.isInteger(fwmark) || fwmark < 1 || fwmark > 0xffffffff)
      return undefined;
    return fwmarkKey(af, fwmark);
  }
  const protocol = protocolIndex(service.protocol);
  const { address, port } = service;
  if (protocol < 0 || !isU16(port) || typeof address !== "string") return undefined;
  if (writeIPv4(address, scratch16, 0)) {
    return af === C.AF_INET ? v4ServiceKey(scratchView.getUint32(0, false), port, protocol) : undefined;
  }
  if (af !== C.AF_INET6 || !writeIPv6(address, scratch16, 0)) return undefined;
  return v6ServiceKey(scratchView, 0, port, protocol);
}

const v6Hash = (w0: number, w1: number, w2: number, w3: number): number => (w0 ^ w1 ^ w2 ^ w3) >>> 0;

// ---------------------------------------------------------------- the plan

/**
 * Indexes `desired` (with its families and identities, diff.ts's desiredIdsOf, or what makes
 * them) for comparison in
 * bytes. Never throws: a desired service it cannot key is left to the decoded comparison, which
 * reports whatever is wrong with it where the full diff does.
 */
export function compileReconcilePlan(
  desired: readonly DesiredService[],
  afs: readonly number[],
  ids: readonly string[] | (() => readonly string[]),
): ReconcilePlan {
  const n = desired.length;
  const keys: (number | string | undefined)[] = new Array(n);
  const byKey = new ServiceKeyIndex(n);
  let keyless = false;
  let slotsMax = 0;
  for (let k = 0; k < n; k++) {
    let key: number | string | undefined;
    try {
      const want = desired[k] as DesiredService;
      key = desiredServiceKey(want.service, afs[k] as number);
      if (Array.isArray(want.dests)) slotsMax += want.dests.length;
    } catch {
      key = undefined;
    }
    keys[k] = key;
    if (key === undefined) keyless = true;
    else byKey.set(key, byKey.has(key) ? -1 : k);
  }
  // Equal keys mean equal identities and, between keyed services, the converse holds too. A
  // keyless service may still share an identity with a keyed one: then neither links.
  // The identities are only asked for then (a function: made on demand, what a table of keyed
  // services, the usual one, never needs).
  if (keyless) {
    const idList = typeof ids === "function" ? ids() : ids;
    const count = new Map<string, number>();
    for (const id of idList) count.set(id, (count.get(id) ?? 0) + 1);
    for (let k = 0; k < n; k++) {
      const key = keys[k];
      if (key !== undefined && (count.get(idList[k] as string) ?? 0) > 1) byKey.set(key, -1);
    }
  }
  const plan: ReconcilePlan = {
    desired,
    afs,
    byKey,
    claimed: new Uint8Array(n),
    slotStart: new Int32Array(n).fill(-1),
    slotCount: new Int32Array(n),
    slotKey: new Float64Array(slotsMax),
    slotV6: new Uint8Array(slotsMax),
    slotWords: new Uint32Array(slotsMax * 4),
    slotDest: new Int32Array(slotsMax),
    slotSeen: new Uint8Array(slotsMax),
    slotNext: new Int32Array(slotsMax).fill(-1),
    slotIndex: new Array(n),
  };
  let used = 0;
  for (let k = 0; k < n; k++) {
    const key = keys[k];
    if (key === undefined || byKey.get(key) !== k) continue;
    const count = slotsOf(plan, (desired[k] as DesiredService).dests, used);
    if (count < 0) continue;
    plan.slotStart[k] = used;
    plan.slotCount[k] = count;
    used += count;
  }
  return plan;
}

/**
 * Writes the slots of one desired service's real servers from `at`; their count, or -1 when one
 * cannot be compared in bytes (not an object, a port that is not 0-65535, an address that is
 * neither IPv4 nor IPv6 text: the decoded comparison handles, or reports, those).
 */
function slotsOf(plan: ReconcilePlan, dests: unknown, at: number): number {
  if (!Array.isArray(dests)) return -1;
  try {
    for (let j = 0; j < dests.length; j++) {
      const d: unknown = dests[j];
      if (typeof d !== "object" || d === null) return -1;
      const { address, port } = d as { address: unknown; port: unknown };
      if (!isU16(port) || typeof address !== "string") return -1;
      const slot = at + j;
      // canonicalAddress's text is the dotted quad itself or the formatted IPv6 bytes, and the
      // kernel's text is its bytes formatted by the real server's family: equal texts, equal bytes.
      if (writeIPv4(address, scratch16, 0)) {
        plan.slotKey[slot] = scratchView.getUint32(0, false) * 65536 + port;
        plan.slotV6[slot] = 0;
      } else if (writeIPv6(address, scratch16, 0)) {
        const w0 = scratchView.getUint32(0, false);
        const w1 = scratchView.getUint32(4, false);
        const w2 = scratchView.getUint32(8, false);
        const w3 = scratchView.getUint32(12, false);
        plan.slotKey[slot] = v6Hash(w0, w1, w2, w3) * 65536 + port;
        plan.slotV6[slot] = 1;
        plan.slotWords[slot * 4] = w0;
        plan.slotWords[slot * 4 + 1] = w1;
        plan.slotWords[slot * 4 + 2] = w2;
        plan.slotWords[slot * 4 + 3] = w3;
      } else return -1;
      plan.slotDest[slot] = j;
    }
    return dests.length;
  } catch {
    // A getter that throws: the decoded comparison meets it where the full diff does.
    return -1;
  }
}

// ---------------------------------------------------------------- services

/** What parseServicePart read of one GET_SERVICE part (offsets into its buffer; -1: absent). */
export interface ServicePart {
  af: number;
  fwmark: number;
  protocol: number;
  port: number;
  addrAt: number;
  addrSize: number;
  schedAt: number;
  schedSize: number;
  peAt: number;
  peSize: number;
  flags: number;
  timeout: number;
  /** As serviceEntryFromAttrs reports it: a prefix length. */
  netmask: number;
}

export const newServicePart = (): ServicePart => ({
  af: 0,
  fwmark: 0,
  protocol: 0,
  port: 0,
  addrAt: -1,
  addrSize: 0,
  schedAt: -1,
  schedSize: 0,
  peAt: -1,
  peSize: 0,
  flags: 0,
  timeout: 0,
  netmask: 0,
});

/** onlyNest: the part has no attribute of that type. */
const NO_NEST = -1;
/** onlyNest: a malformed attribute header, or more than one attribute of that type. */
const BAD_NESTS = -2;

/**
 * Where the payload of the one top-level attribute of `type` starts in a dump part (genl header
 * + attributes, `length` bytes at `start`, at least GENL_HDRLEN), its end being that attribute's
 * own length on from its header; NO_NEST or BAD_NESTS otherwise. What both decoders walk first.
 */
function onlyNest(view: DataView, start: number, length: number, type: number): number {
  const end = start + length;
  let nestAt = NO_NEST;
  for (let off = start + C.GENL_HDRLEN; off + C.NLA_HDRLEN <= end; ) {
    const len = view.getUint16(off, true);
    if (len < C.NLA_HDRLEN || off + len > end) return BAD_NESTS;
    if ((view.getUint16(off + 2, true) & C.NLA_TYPE_MASK) === type) {
      if (nestAt !== NO_NEST) return BAD_NESTS;
      nestAt = off + C.NLA_HDRLEN;
    }
    off += (len + 3) & ~3;
  }
  return nestAt;
}

/**
 * Reads one GET_SERVICE dump part (genl header + attributes, `length` bytes at `start`) into
 * `out`, with every check decodeServiceReplyAt (without counters) and serviceEntryFromAttrs
 * make. false when the part is not the usual one service of a known family, or when the decoder
 * would refuse it: the caller decodes it (and meets the error there).
 */
export function parseServicePart(view: DataView, start: number, length: number, out: ServicePart): boolean {
  if (length < C.GENL_HDRLEN) return false;
  const nestAt = onlyNest(view, start, length, C.IPVS_CMD_ATTR_SERVICE);
  if (nestAt < 0) return false;
  const nestEnd = nestAt - C.NLA_HDRLEN + view.getUint16(nestAt - C.NLA_HDRLEN, true);
  let af = -1;
  let fwmark = 0;
  let protocol = 0;
  let port = 0;
  let flags = 0;
  let timeout = 0;
  let netmaskRaw = -1;
  out.addrAt = -1;
  out.schedAt = -1;
  out.peAt = -1;
  for (let off = nestAt; off + C.NLA_HDRLEN <= nestEnd; ) {
    const len = view.getUint16(off, true);
    if (len < C.NLA_HDRLEN || off + len > nestEnd) return false;
    const at = off + C.NLA_HDRLEN;
    const size = len - C.NLA_HDRLEN;
    switch (view.getUint16(off + 2, true) & C.NLA_TYPE_MASK) {
      case C.IPVS_SVC_ATTR_AF:
        if (size < 2) return false;
        af = view.getUint16(at, true);
        break;
      case C.IPVS_SVC_ATTR_FWMARK:
        if (size < 4) return false;
        fwmark = view.getUint32(at, true);
        break;
      case C.IPVS_SVC_ATTR_PROTOCOL:
        if (size < 2) return false;
        protocol = view.getUint16(at, true);
        break;
      case C.IPVS_SVC_ATTR_ADDR:
        out.addrAt = at;
        out.addrSize = size;
        break;
      case C.IPVS_SVC_ATTR_PORT:
        if (size < 2) return false;
        port = view.getUint16(at, false);
        break;
      case C.IPVS_SVC_ATTR_SCHED_NAME:
        out.schedAt = at;
        out.schedSize = size;
        break;
      case C.IPVS_SVC_ATTR_PE_NAME:
        out.peAt = at;
        out.peSize = size;
        break;
      case C.IPVS_SVC_ATTR_FLAGS:
        if (size < 8) return false;
        flags = view.getUint32(at, true);
        break;
      case C.IPVS_SVC_ATTR_TIMEOUT:
        if (size < 4) return false;
        timeout = view.getUint32(at, true);
        break;
      case C.IPVS_SVC_ATTR_NETMASK:
        if (size < 4) return false;
        netmaskRaw = view.getUint32(at, true);
        break;
      // Counters and anything newer: not read without counters.
    }
    off += (len + 3) & ~3;
  }
  // serviceEntryFromAttrs would take AF_INET for a missing family: not the kernel's way, decoded.
  if (af !== C.AF_INET && af !== C.AF_INET6) return false;
  let netmask = defaultNetmask(af);
  if (netmaskRaw >= 0) {
    try {
      netmask = decodeNetmask(af, netmaskRaw);
    } catch {
      return false; // a non-contiguous IPv4 mask: the decoder refuses it
    }
  }
  out.af = af;
  out.fwmark = fwmark;
  out.protocol = protocol;
  out.port = port;
  out.flags = flags;
  out.timeout = timeout;
  out.netmask = netmask;
  return true;
}

/** The key of a parsed kernel service (as desiredServiceKey keys a desired one), or undefined. */
export function serviceKeyOf(part: ServicePart, view: DataView): number | string | undefined {
  if (part.fwmark !== 0) return fwmarkKey(part.af, part.fwmark);
  const protocol = protocolIndex(part.protocol);
  if (protocol < 0 || part.addrAt < 0) return undefined;
  if (part.af === C.AF_INET6) {
    return part.addrSize < 16 ? undefined : v6ServiceKey(view, part.addrAt, part.port, protocol);
  }
  return part.addrSize < 4
    ? undefined
    : v4ServiceKey(view.getUint32(part.addrAt, false), part.port, protocol);
}

/**
 * The desired service a parsed kernel service links to, or -1 (no such key, a key desired
 * services share, or a second kernel service with it). Links at most one kernel service each.
 */
export function linkService(plan: ReconcilePlan, part: ServicePart, view: DataView): number {
  const key = serviceKeyOf(part, view);
  if (key === undefined) return -1;
  const k = plan.byKey.get(key);
  if (k === undefined || k < 0 || plan.claimed[k]) return -1;
  plan.claimed[k] = 1;
  return k;
}

/** The text of a string attribute (up to its NUL, latin1, as the codec reads it) equals `s`. */
function textIs(s: unknown, buf: Uint8Array, at: number, size: number): boolean {
  if (typeof s !== "string") return false;
  let n = 0;
  if (at >= 0) while (n < size && buf[at + n] !== 0) n++;
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== buf[at + i]) return false;
  return true;
}

/**
 * sameService(want, kernel entry, af) for a parsed kernel service, without its entry: the
 * kernel's scheduler is "" and its persistence engine "" when absent, as serviceEntryFromAttrs
 * gives them.
 */
export function sameServiceInBytes(want: Service, af: number, part: ServicePart, buf: Uint8Array): boolean {
  return (
    textIs(want.scheduler ?? "wlc", buf, part.schedAt, part.schedSize) &&
    ((want.flags ?? 0) & ~C.IP_VS_SVC_F_HASHED) === (part.flags & ~C.IP_VS_SVC_F_HASHED) &&
    (want.timeout ?? 0) === part.timeout &&
    (want.netmask ?? defaultNetmask(af)) === part.netmask &&
    textIs(want.peName ?? "", buf, part.peAt, part.peSize)
  );
}

// ---------------------------------------------------------------- real servers

/** The settings of the real server matchDestPart read last (what sameDest compares). */
const kernelDest = {
  forward: 0,
  weight: 0,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnelType: 0,
  tunnelPort: 0,
  tunnelFlags: 0,
};

/** Outcome of matchDestPart when the part differs or is anything but plain: decode the service. */
export const DEST_DIFFERS = -1;

/**
 * Compares one GET_DEST dump part of a kernel service linked to desired service `k` (whose
 * family is `svcAf`) with `k`'s real servers. Returns how many of its slots the part's real
 * server newly matched (sameDest holding for each), 0 for a part without a real server (the
 * decoder skips it too), or DEST_DIFFERS: no desired real server has its address and port, one it
 * matched was matched before (a duplicate), its settings differ, or the part is not what
 * decodeDestEntryAt reads without error (checked here as there). The service matches as a whole
 * when the counts of its parts add up to `plan.slotCount[k]`.
 */
export function matchDestPart(
  plan: ReconcilePlan,
  k: number,
  svcAf: number,
  view: DataView,
  start: number,
  length: number,
): number {
  if (length < C.GENL_HDRLEN) return DEST_DIFFERS;
  const nestAt = onlyNest(view, start, length, C.IPVS_CMD_ATTR_DEST);
  if (nestAt === NO_NEST) return 0;
  if (nestAt < 0) return DEST_DIFFERS;
  const nestEnd = nestAt - C.NLA_HDRLEN + view.getUint16(nestAt - C.NLA_HDRLEN, true);
  let addrFamily = -1;
  let addrAt = -1;
  let addrSize = 0;
  let port = 0;
  let fwdMethod = 0;
  let weight = 0;
  let upperThreshold = 0;
  let lowerThreshold = 0;
  let tunnelType = 0;
  let tunnelPort = 0;
  let tunnelFlags = 0;
  for (let off = nestAt; off + C.NLA_HDRLEN <= nestEnd; ) {
    const len = view.getUint16(off, true);
    if (len < C.NLA_HDRLEN || off + len > nestEnd) return DEST_DIFFERS;
    const at = off + C.NLA_HDRLEN;
    const size = len - C.NLA_HDRLEN;
    switch (view.getUint16(off + 2, true) & C.NLA_TYPE_MASK) {
      case C.IPVS_DEST_ATTR_ADDR_FAMILY:
        if (size < 2) return DEST_DIFFERS;
        addrFamily = view.getUint16(at, true);
        break;
      case C.IPVS_DEST_ATTR_ADDR:
        addrAt = at;
        addrSize = size;
        break;
      case C.IPVS_DEST_ATTR_PORT:
        if (size < 2) return DEST_DIFFERS;
        port = view.getUint16(at, false);
        break;
      case C.IPVS_DEST_ATTR_TUN_TYPE:
        if (size < 1) return DEST_DIFFERS;
        tunnelType = view.getUint8(at);
        break;
      case C.IPVS_DEST_ATTR_TUN_PORT:
        if (size < 2) return DEST_DIFFERS;
        tunnelPort = view.getUint16(at, false);
        break;
      case C.IPVS_DEST_ATTR_TUN_FLAGS:
        if (size < 2) return DEST_DIFFERS;
        tunnelFlags = view.getUint16(at, true);
        break;
      case C.IPVS_DEST_ATTR_FWD_METHOD:
        if (size < 4) return DEST_DIFFERS;
        fwdMethod = view.getUint32(at, true);
        break;
      case C.IPVS_DEST_ATTR_WEIGHT:
        if (size < 4) return DEST_DIFFERS;
        weight = view.getUint32(at, true);
        break;
      case C.IPVS_DEST_ATTR_U_THRESH:
        if (size < 4) return DEST_DIFFERS;
        upperThreshold = view.getUint32(at, true);
        break;
      case C.IPVS_DEST_ATTR_L_THRESH:
        if (size < 4) return DEST_DIFFERS;
        lowerThreshold = view.getUint32(at, true);
        break;
      case C.IPVS_DEST_ATTR_ACTIVE_CONNS:
      case C.IPVS_DEST_ATTR_INACT_CONNS:
      case C.IPVS_DEST_ATTR_PERSIST_CONNS:
        // Connection counts take no part, but the decoder checks their size.
        if (size < 4) return DEST_DIFFERS;
        break;
      // Counter nests and anything newer: not read without counters.
    }
    off += (len + 3) & ~3;
  }
  // IPVS_DEST_ATTR_ADDR_FAMILY is absent on kernels before 4.9: the service's family then.
  const af = addrFamily >= 0 ? addrFamily : svcAf;
  let key: number;
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  const v6 = af === C.AF_INET6 ? 1 : 0;
  if (addrAt < 0) return DEST_DIFFERS;
  if (v6) {
    if (addrSize < 16) return DEST_DIFFERS;
    w0 = view.getUint32(addrAt, false);
    w1 = view.getUint32(addrAt + 4, false);
    w2 = view.getUint32(addrAt + 8, false);
    w3 = view.getUint32(addrAt + 12, false);
    key = v6Hash(w0, w1, w2, w3) * 65536 + port;
  } else {
    // formatAddress prints any other family as IPv4: not a kernel's; decoded.
    if (af !== C.AF_INET || addrSize < 4) return DEST_DIFFERS;
    key = view.getUint32(addrAt, false) * 65536 + port;
  }
  kernelDest.forward = fwdMethod & C.IP_VS_CONN_F_FWD_MASK;
  kernelDest.weight = weight;
  kernelDest.upperThreshold = upperThreshold;
  kernelDest.lowerThreshold = lowerThreshold;
  kernelDest.tunnelType = tunnelType;
  kernelDest.tunnelPort = tunnelPort;
  kernelDest.tunnelFlags = tunnelFlags;

  const first = plan.slotStart[k] as number;
  const count = plan.slotCount[k] as number;
  const dests = (plan.desired[k] as DesiredService).dests;
  let matched = 0;
  let slot: number;
  let stop: number;
  if (count > LINEAR_MAX) {
    slot = slotIndexOf(plan, k, first, count).get(key) ?? -1;
    stop = -1;
  } else {
    slot = first;
    stop = first + count;
  }
  while (slot >= 0 && slot !== stop) {
    if (
      plan.slotKey[slot] === key &&
      plan.slotV6[slot] === v6 &&
      (!v6 ||
        (plan.slotWords[slot * 4] === w0 &&
          plan.slotWords[slot * 4 + 1] === w1 &&
          plan.slotWords[slot * 4 + 2] === w2 &&
          plan.slotWords[slot * 4 + 3] === w3))
    ) {
      // A kernel real server seen twice (the diff would pick one of them): decoded.
      if (plan.slotSeen[slot]) return DEST_DIFFERS;
      if (!sameDest(dests[plan.slotDest[slot] as number] as DestinationEntry, kernelDest as DestinationEntry))
        return DEST_DIFFERS;
      plan.slotSeen[slot] = 1;
      matched++;
    }
    slot = stop < 0 ? (plan.slotNext[slot] as number) : slot + 1;
  }
  return matched > 0 ? matched : DEST_DIFFERS;
}

/** Key → first slot of a large service, each slot chained to the next with its key. */
function slotIndexOf(plan: ReconcilePlan, k: number, first: number, count: number): Map<number, number> {
  let index = plan.slotIndex[k];
  if (index) return index;
  index = new Map();
  // Backwards, so each chain runs in slot order.
  for (let slot = first + count - 1; slot >= first; slot--) {
    const key = plan.slotKey[slot] as number;
    plan.slotNext[slot] = index.get(key) ?? -1;
    index.set(key, slot);
  }
  plan.slotIndex[k] = index;
  return index;
}
