/**
 * IPv6 Neighbor Advertisement frames (RFC 4861 §4.4) and the unsolicited form a new owner of an
 * address multicasts (§7.2.6): pure encode/decode, no I/O.
 *
 * As Linux's ndisc_send_unsol_na() builds it (and keepalived 2.2 likewise): Ethernet to
 * 33:33:00:00:00:01, IPv6 from the announced address to ff02::1 with hop limit 255, ICMPv6 type
 * 136 code 0, Override set, Solicited clear (§7.2.6: "the Solicited flag MUST be zero"), Router
 * set when the interface forwards, and a Target Link-Layer Address option carrying the MAC.
 */
import {
  ETH_HLEN,
  ETH_P_IPV6,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  IPPROTO_ICMPV6,
  IPV6_ALL_NODES,
  IPV6_ALL_NODES_MAC,
  IPV6_HEADER_LEN,
  ND_HOP_LIMIT,
  ND_NA_FLAG_OVERRIDE,
  ND_NA_FLAG_ROUTER,
  ND_NA_FLAG_SOLICITED,
  ND_NA_LEN,
  ND_OPT_TARGET_LL_ADDR,
  ND_OPT_TLLA_LEN,
} from "../constants.js";
import { NetconfError } from "../errors.js";
import { checkMac, readEthernet, writeEthernet } from "./ethernet.js";

export interface NdOption {
  type: number;
  /** The option's bytes after type and length (length × 8 − 2 bytes). */
  data: Uint8Array;
}

export interface NeighborAdvertisement {
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** The 29 reserved bits after R/S/O, kept as received (senders write 0). */
  reserved: number;
  target: Uint8Array;
  options: NdOption[];
}

export interface NaFrame {
  dst: Uint8Array;
  src: Uint8Array;
  ipv6: { src: Uint8Array; dst: Uint8Array; hopLimit: number; trafficClass: number; flowLabel: number };
  na: NeighborAdvertisement;
  /** ICMPv6 checksum as received (encode computes it). */
  checksum: number;
}

export interface UnsolicitedNaSpec {
  /** Interface MAC: Ethernet source and Target Link-Layer Address. */
  mac: Uint8Array;
  /** The IPv6 address announced (16 bytes): the target, and the IPv6 source as Linux sends it. */
  ip: Uint8Array;
  /** R flag: set when the sender is a router (Linux: the interface's `forwarding`). Default false. */
  router?: boolean;
}

/** 14 + 40 + 24 + 8 = 86 bytes. */
export const UNSOLICITED_NA_FRAME_LEN = ETH_HLEN + IPV6_HEADER_LEN + ND_NA_LEN + ND_OPT_TLLA_LEN;

export function encodeUnsolicitedNa(spec: UnsolicitedNaSpec): Uint8Array {
  checkMac(spec.mac, "source MAC");
  checkIpv6(spec.ip, "target");
  return encodeNaFrame({
    dst: IPV6_ALL_NODES_MAC,
    src: spec.mac,
    ipv6: { src: spec.ip, dst: IPV6_ALL_NODES, hopLimit: ND_HOP_LIMIT, trafficClass: 0, flowLabel: 0 },
    na: {
      router: spec.router === true,
      solicited: false,
      override: true,
      reserved: 0,
      target: spec.ip,
      options: [{ type: ND_OPT_TARGET_LL_ADDR, data: spec.mac }],
    },
    checksum: 0,
  });
}

/** Encodes a whole frame; the ICMPv6 checksum is computed (the `checksum` field is ignored). */
export function encodeNaFrame(frame: Omit<NaFrame, "checksum"> & { checksum?: number }): Uint8Array {
  const { ipv6, na } = frame;
  checkIpv6(ipv6.src, "IPv6 source");
  checkIpv6(ipv6.dst, "IPv6 destination");
  checkIpv6(na.target, "target");
  let optLen = 0;
  for (const o of na.options) {
    const total = o.data.length + 2;
    if (total % 8 !== 0 || total > 255 * 8) {
      throw new NetconfError(
        "NETCONF_BAD_OPTION",
        `ND option ${o.type} with ${o.data.length} data bytes is not a multiple of 8 octets in all (RFC 4861 §4.6)`,
      );
    }
    optLen += total;
  }
  const icmpLen = ND_NA_LEN + optLen;
  const out = new Uint8Array(ETH_HLEN + IPV6_HEADER_LEN + icmpLen);
  writeEthernet(out, { dst: frame.dst, src: frame.src, etherType: ETH_P_IPV6 });
  const v = new DataView(out.buffer);
  const ip = ETH_HLEN;
  v.setUint32(ip, (6 << 28) | ((ipv6.trafficClass & 0xff) << 20) | (ipv6.flowLabel & 0xfffff));
  v.setUint16(ip + 4, icmpLen); // payload length
  out[ip + 6] = IPPROTO_ICMPV6; // next header
  out[ip + 7] = ipv6.hopLimit;
  out.set(ipv6.src, ip + 8);
  out.set(ipv6.dst, ip + 24);
  const icmp = ip + IPV6_HEADER_LEN;
  out[icmp] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  out[icmp + 1] = 0; // code
  const flags =
    ((na.router ? ND_NA_FLAG_ROUTER : 0) |
      (na.solicited ? ND_NA_FLAG_SOLICITED : 0) |
      (na.override ? ND_NA_FLAG_OVERRIDE : 0)) *
      0x1000000 +
    (na.reserved & 0x1fffffff);
  v.setUint32(icmp + 4, flags);
  out.set(na.target, icmp + 8);
  let off = icmp + ND_NA_LEN;
  for (const o of na.options) {
    out[off] = o.type;
    out[off + 1] = (o.data.length + 2) / 8;
    out.set(o.data, off + 2);
    off += o.data.length + 2;
  }
  v.setUint16(icmp + 2, icmpv6Checksum(ipv6.src, ipv6.dst, out.subarray(icmp)));
  return out;
}

/**
 * Decodes an Ethernet/IPv6/ICMPv6 Neighbor Advertisement. Throws NETCONF_BAD_FRAME for what
 * RFC 4861 §7.1.2 says a receiver MUST silently discard (hop limit ≠ 255, bad checksum, code ≠ 0,
 * ICMP length < 24, an option of length 0, Solicited set on a multicast destination) and for
 * frames that are not an NA at all (including IPv6 extension headers, which NAs do not use).
 */
export function decodeNaFrame(bytes: Uint8Array): NaFrame {
  const eth = readEthernet(bytes);
  const bad = (why: string): never => {
    throw new NetconfError("NETCONF_BAD_FRAME", `not a valid neighbor advertisement: ${why}`);
  };
  if (eth.etherType !== ETH_P_IPV6) bad(`ethertype 0x${eth.etherType.toString(16)}`);
  if (bytes.length < ETH_HLEN + IPV6_HEADER_LEN + ND_NA_LEN) bad(`${bytes.length} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ip = ETH_HLEN;
  const w0 = v.getUint32(ip);
  if (w0 >>> 28 !== 6) bad(`IP version ${w0 >>> 28}`);
  const payloadLen = v.getUint16(ip + 4);
  if (bytes[ip + 6] !== IPPROTO_ICMPV6) bad(`next header ${bytes[ip + 6]}`);
  const hopLimit = bytes[ip + 7] as number;
  if (hopLimit !== ND_HOP_LIMIT) bad(`hop limit ${hopLimit} (RFC 4861 §7.1.2 requires 255)`);
  const icmp = ip + IPV6_HEADER_LEN;
  if (payloadLen < ND_NA_LEN || icmp + payloadLen > bytes.length) bad(`payload length ${payloadLen}`);
  if (bytes[icmp] !== ICMPV6_NEIGHBOR_ADVERTISEMENT) bad(`ICMPv6 type ${bytes[icmp]}`);
  if (bytes[icmp + 1] !== 0) bad(`ICMPv6 code ${bytes[icmp + 1]}`);
  const src = bytes.slice(ip + 8, ip + 24);
  const dst = bytes.slice(ip + 24, ip + 40);
  const icmpBytes = bytes.subarray(icmp, icmp + payloadLen);
  const checksum = v.getUint16(icmp + 2);
  if (icmpv6Checksum(src, dst, icmpBytes, true) !== 0) bad("ICMPv6 checksum");
  const flags = v.getUint32(icmp + 4);
  const na: NeighborAdvertisement = {
    router: (flags & (ND_NA_FLAG_ROUTER << 24)) !== 0,
    solicited: (flags & (ND_NA_FLAG_SOLICITED << 24)) !== 0,
    override: (flags & (ND_NA_FLAG_OVERRIDE << 24)) !== 0,
    reserved: flags & 0x1fffffff,
    target: bytes.slice(icmp + 8, icmp + 24),
    options: [],
  };
  if (na.solicited && dst[0] === 0xff) bad("Solicited flag on a multicast destination (§7.1.2)");
  let off = icmp + ND_NA_LEN;
  const end = icmp + payloadLen;
  while (off < end) {
    if (off + 2 > end) bad("truncated option");
    const len8 = bytes[off + 1] as number;
    if (len8 === 0) bad("option of length 0 (§4.6)");
    if (off + len8 * 8 > end) bad("option overruns the packet");
    na.options.push({ type: bytes[off] as number, data: bytes.slice(off + 2, off + len8 * 8) });
    off += len8 * 8;
  }
  return {
    dst: eth.dst,
    src: eth.src,
    ipv6: { src, dst, hopLimit, trafficClass: (w0 >>> 20) & 0xff, flowLabel: w0 & 0xfffff },
    na,
    checksum,
  };
}

export function tryDecodeNaFrame(
  bytes: Uint8Array,
): { ok: true; frame: NaFrame } | { ok: false; error: NetconfError } {
  try {
    return { ok: true, frame: decodeNaFrame(bytes) };
  } catch (err) {
    return { ok: false, error: err as NetconfError };
  }
}

/** The MAC in a Target Link-Layer Address option, if the NA carries one. */
export function targetLinkLayerAddress(na: NeighborAdvertisement): Uint8Array | undefined {
  const o = na.options.find((x) => x.type === ND_OPT_TARGET_LL_ADDR);
  return o ? o.data.slice(0, 6) : undefined;
}

/**
 * RFC 4443 §2.3: the 16-bit one's complement of the one's complement sum over the RFC 8200 §8.1
 * pseudo-header (source, destination, upper-layer length, 3 zero bytes, next header 58) and the
 * ICMPv6 message with its checksum field taken as zero. With `verify`, the checksum field is
 * summed as received: a correct packet yields 0.
 */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array, verify = false): number {
  let sum = 0;
  const add16 = (b: Uint8Array, i: number): void => {
    sum += ((b[i] as number) << 8) | (i + 1 < b.length ? (b[i + 1] as number) : 0);
  };
  for (let i = 0; i < 16; i += 2) {
    add16(src, i);
    add16(dst, i);
  }
  sum += (icmp.length >>> 16) + (icmp.length & 0xffff) + IPPROTO_ICMPV6;
  for (let i = 0; i < icmp.length; i += 2) {
    if (!verify && i === 2) continue; // the checksum field itself
    add16(icmp, i);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function checkIpv6(ip: Uint8Array, what: string): void {
  if (!(ip instanceof Uint8Array) || ip.length !== 16) {
    throw new NetconfError("NETCONF_BAD_ADDRESS", `the ${what} address must be 16 bytes (IPv6)`);
  }
}
