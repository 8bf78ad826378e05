/**
 * The receive path, pure: a received IP packet → an advert for one instance, or a counted drop.
 * The checks and their order are RFC 9568 §7.1 / RFC 3768 §7.1 as keepalived 2.2.7 applies them
 * (vrrp.c vrrp_check_packet()), each drop counted under keepalived's counter name. It never
 * throws: fuzzed input ends as a counted drop (test/fuzz.test.ts).
 */
import { canonicalAddress, isMulticast } from "@lvs/inet";
import {
  type AddressFamily,
  advertLength,
  type ChecksumKind,
  tryDecodeAdvert,
  type V3Ipv4Checksum,
  type VrrpAdvert,
  verifyChecksum,
} from "./codec.js";
import {
  IPPROTO_VRRP,
  VRRP_AUTH_NONE,
  VRRP_AUTH_PASS,
  VRRP_HEADER_LENGTH,
  VRRP_IPV4_GROUP,
  VRRP_IPV6_GROUP,
  VRRP_TTL,
  VRRP_TYPE_ADVERTISEMENT,
} from "./constants.js";
import type { IpPacket } from "./ip.js";
import type { VrrpCounter } from "./stats.js";

/** What the receive path needs to know about one instance. */
export interface RxInstance {
  name: string;
  vrid: number;
  version: 2 | 3;
  family: AddressFamily;
  /** The virtual addresses the instance advertises (canonical text). */
  addresses: readonly string[];
  /** Configured interval, centiseconds (version 2 requires an exact match). */
  intervalCs: number;
  /** Version 2: 0 (none) or 1 (simple password). */
  authType: number;
  /** Version 2 simple password: the 8 octets. */
  authData?: Uint8Array;
  /** Unicast peers; empty = multicast instance. */
  unicastPeers: readonly string[];
  /** keepalived check_unicast_src: drop unicast adverts from non-peers. */
  checkUnicastSource: boolean;
  /**
   * keepalived skip_check_adv_addr: in Backup, skip the address-list check for adverts from the
   * master already heard. (The caller decides; true → skip.)
   */
  skipAddressCheck?: boolean;
  /** Local addresses an advert may be addressed to (unicast), for the raw IPv6 path's checksum. */
  localAddresses?: readonly string[];
  v3Ipv4Checksum?: V3Ipv4Checksum;
}

export type RxDrop = {
  ok: false;
  /** The instance's counter to increment, when the packet belongs to an instance. */
  counter?: VrrpCounter;
  /** An interface-level counter (no instance). */
  interfaceCounter?: "malformed" | "vrid_err";
  reason: string;
  /** The drop came after the packet counted as a received advert (advert_rcvd). */
  counted?: boolean;
};
export type RxAccept = { ok: true; advert: VrrpAdvert; source: string; checksum: ChecksumKind };
export type RxResult = RxAccept | RxDrop;

const drop = (counter: VrrpCounter, reason: string): RxDrop => ({ ok: false, counter, reason });

/** Reads the VRID of a VRRP message without decoding it (undefined when too short). */
export function peekVrid(payload: Uint8Array): number | undefined {
  return payload.length >= VRRP_HEADER_LENGTH ? payload[1] : undefined;
}

function sameAuth(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const x = a ?? new Uint8Array(8);
  const y = b ?? new Uint8Array(8);
  if (x.length !== y.length) return false;
  // constant time, as keepalived memcmp_constant_time()
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

/** VRRPv2 over IPv4, RFC 3768 §7.1: "MUST perform authentication specified by Auth Type" (AH is not supported here). */
function checkAuth(a: VrrpAdvert, inst: RxInstance): RxDrop | undefined {
  if (a.authType !== VRRP_AUTH_NONE && a.authType !== VRRP_AUTH_PASS)
    return drop("invalid_authtype", `auth type ${a.authType}`);
  if (a.authType !== inst.authType)
    return drop("authtype_mismatch", `auth type ${a.authType}, expected ${inst.authType}`);
  if (a.authType === VRRP_AUTH_PASS && !sameAuth(a.authData, inst.authData))
    return drop("auth_failure", "wrong password");
  return undefined;
}

/**
 * Which checksum form the message carries (undefined: none matches). Without the packet's
 * destination (an IPv6 raw socket), the group or, for a unicast instance, each local address.
 */
function checksumOf(pkt: IpPacket, inst: RxInstance): ChecksumKind | undefined {
  const destinations = pkt.destination
    ? [pkt.destination]
    : inst.unicastPeers.length > 0
      ? [...(inst.localAddresses ?? [])]
      : [pkt.family === 4 ? VRRP_IPV4_GROUP : VRRP_IPV6_GROUP];
  for (const destination of destinations.length > 0 ? destinations : [undefined]) {
    const kind = verifyChecksum(pkt.payload, {
      family: pkt.family,
      source: pkt.source,
      ...(destination !== undefined ? { destination } : {}),
    });
    if (kind) return kind;
  }
  return undefined;
}

/**
 * Checks one packet for one instance (already selected by VRID and interface). The order is
 * keepalived's: length, TTL, version, authentication, interval (v2), type, address count,
 * IPv4 total length, checksum, multicast vs unicast, then (counted as received) the address
 * list and the unicast source.
 */
export function checkAdvert(pkt: IpPacket, inst: RxInstance): RxResult {
  const p = pkt.payload;
  if (pkt.protocol !== IPPROTO_VRRP)
    return { ok: false, interfaceCounter: "malformed", reason: `IP protocol ${pkt.protocol}` };
  if (p.length < VRRP_HEADER_LENGTH)
    return { ok: false, interfaceCounter: "malformed", reason: "shorter than a VRRP header" };
  const version = (p[0] as number) >> 4;
  const count = p[3] as number;
  // RFC 9568 §7.1: "MUST verify that the received packet contains the complete VRRP packet"
  const expectVersion = version === 2 || version === 3 ? version : inst.version;
  if (p.length !== advertLength(expectVersion, pkt.family, count)) {
    return drop("packet_len_err", `length ${p.length} for ${count} address(es)`);
  }
  const unicast = inst.unicastPeers.length > 0;
  // RFC 9568 §7.1: "MUST verify that the IPv4 TTL/IPv6 Hop Limit is 255" (keepalived: not for unicast)
  if (!unicast && pkt.ttl !== undefined && pkt.ttl !== VRRP_TTL) return drop("ip_ttl_err", `TTL ${pkt.ttl}`);
  // "MUST verify the VRRP version"
  if (version !== inst.version) return drop("version_err", `version ${version}, expected ${inst.version}`);
  const decoded = tryDecodeAdvert(p, pkt.family);
  if (!decoded.ok) return drop("packet_len_err", decoded.error.message);
  const a = decoded.advert;
  if (inst.version === 2 && pkt.family === 4) {
    const bad = checkAuth(a, inst);
    if (bad) return bad;
  }
  if (inst.version === 2 && a.intervalCs !== inst.intervalCs) {
    // RFC 3768 §7.1: "MUST verify that the Adver Interval in the packet is the same as the locally
    // configured for this virtual router"
    return drop(
      "advert_interval_err",
      `interval ${a.intervalCs / 100} s, expected ${inst.intervalCs / 100} s`,
    );
  }
  if (a.type !== VRRP_TYPE_ADVERTISEMENT) return drop("invalid_type_rcvd", `type ${a.type}`);
  const checkAddresses = !inst.skipAddressCheck;
  if (checkAddresses && a.addresses.length !== inst.addresses.length) {
    return drop("addr_list_err", `${a.addresses.length} address(es), expected ${inst.addresses.length}`);
  }
  if (
    pkt.family === 4 &&
    pkt.totalLength !== undefined &&
    pkt.totalLength !== (pkt.headerLength ?? 20) + p.length
  ) {
    return drop("packet_len_err", `IPv4 total length ${pkt.totalLength}`);
  }
  // RFC 9568 §7.1: "MUST verify the VRRP checksum"
  const kind = checksumOf(pkt, inst);
  if (!kind) return drop("checksum_err", "bad checksum");
  if (pkt.destination) {
    const mcast = isMulticast(pkt.destination);
    if (mcast === unicast)
      return drop(
        "addr_list_err",
        `${mcast ? "multicast" : "unicast"} advert for a ${unicast ? "unicast" : "multicast"} instance`,
      );
  }
  // from here the packet counts as a received advert (keepalived ++advert_rcvd)
  const source = canonicalAddress(pkt.source);
  if (checkAddresses) {
    const want = new Set(inst.addresses);
    for (const addr of a.addresses) {
      if (!want.has(addr))
        return { ...drop("addr_list_err", `address ${addr} not configured`), counted: true };
    }
    // keepalived looks for each configured VIP in the advert (vrrp_in_chk_vips): with the count
    // equal, an advert repeating one address lacks another ("not present in MASTER advert").
    const got = new Set(a.addresses);
    for (const addr of inst.addresses) {
      if (!got.has(addr))
        return { ...drop("addr_list_err", `address ${addr} missing from the advert`), counted: true };
    }
  }
  if (unicast && inst.checkUnicastSource && !inst.unicastPeers.includes(source)) {
    return { ...drop("unknown_peer", `unicast source ${source} is not a peer`), counted: true };
  }
  return { ok: true, advert: a, source, checksum: kind };
}

/** True when a drop happened after the packet already counted as a received advert. */
export function countedAsReceived(r: RxResult): boolean {
  return r.ok || r.counted === true;
}
