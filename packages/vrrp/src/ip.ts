/**
 * The IP layer under VRRP, pure: the IPv4 header keepalived builds (IP_HDRINCL) and the IPv4 /
 * IPv6 / Ethernet headers the receive path reads.
 */
import { addressToBytes, bytesToAddress } from "@lvs/inet";
import { internetChecksum } from "./codec.js";
import {
  ETH_HEADER_LENGTH,
  ETH_P_IP,
  ETH_P_IPV6,
  IPPROTO_VRRP,
  IPV4_MIN_HEADER_LENGTH,
  IPV6_EXT_DEST_OPTS,
  IPV6_EXT_FRAGMENT,
  IPV6_EXT_HOP_BY_HOP,
  IPV6_EXT_ROUTING,
  IPV6_HEADER_LENGTH,
  VRRP_TOS,
  VRRP_TTL,
} from "./constants.js";
import { VrrpError } from "./errors.js";

export interface Ipv4PacketInput {
  source: string;
  destination: string;
  payload: Uint8Array;
  /** Default 255 (RFC 9568 §5.1.1.3). */
  ttl?: number;
  /** Default 0xc0, internetwork control (keepalived vrrp_build_ip4()). */
  tos?: number;
  /** IP identification; keepalived counts from 1 and skips 0 (the kernel would fill 0 in). */
  id?: number;
  protocol?: number;
}

/** An IPv4 packet with a 20-byte header, as keepalived sends it through IP_HDRINCL (DF clear). */
export function encodeIpv4Packet(p: Ipv4PacketInput): Uint8Array {
  const total = IPV4_MIN_HEADER_LENGTH + p.payload.length;
  const b = new Uint8Array(total);
  b[0] = 0x45;
  b[1] = p.tos ?? VRRP_TOS;
  b[2] = total >> 8;
  b[3] = total & 0xff;
  const id = p.id ?? 0;
  b[4] = (id >> 8) & 0xff;
  b[5] = id & 0xff;
  b[8] = p.ttl ?? VRRP_TTL;
  b[9] = p.protocol ?? IPPROTO_VRRP;
  b.set(addressToBytes(p.source), 12);
  b.set(addressToBytes(p.destination), 16);
  const sum = internetChecksum([b.subarray(0, IPV4_MIN_HEADER_LENGTH)]);
  b[10] = sum >> 8;
  b[11] = sum & 0xff;
  b.set(p.payload, IPV4_MIN_HEADER_LENGTH);
  return b;
}

/** A received IP packet reduced to what the VRRP receive path looks at. */
export interface IpPacket {
  family: 4 | 6;
  source: string;
  destination: string;
  /** IPv4 TTL / IPv6 Hop Limit; undefined when the socket could not tell (raw IPv6 without ancillary data). */
  ttl: number | undefined;
  /** IP protocol / final next header. */
  protocol: number;
  /** IPv4 total length field (to compare with what arrived). */
  totalLength?: number;
  /** IPv4 header length (IHL × 4). */
  headerLength?: number;
  /** The VRRP message. */
  payload: Uint8Array;
}

/** Parses an IPv4 packet as a raw IPv4 socket returns it (header included). */
export function decodeIpv4Packet(bytes: Uint8Array): IpPacket {
  if (bytes.length < IPV4_MIN_HEADER_LENGTH || (bytes[0] as number) >> 4 !== 4) {
    throw new VrrpError("VRRP_BAD_IP_HEADER", `not an IPv4 packet (${bytes.length} bytes)`, { offset: 0 });
  }
  const ihl = ((bytes[0] as number) & 0x0f) * 4;
  if (ihl < IPV4_MIN_HEADER_LENGTH || bytes.length < ihl) {
    throw new VrrpError("VRRP_BAD_IP_HEADER", `IPv4 header length ${ihl} in a ${bytes.length}-byte packet`, {
      offset: 0,
    });
  }
  return {
    family: 4,
    source: bytesToAddress(bytes.subarray(12, 16)),
    destination: bytesToAddress(bytes.subarray(16, 20)),
    ttl: bytes[8] as number,
    protocol: bytes[9] as number,
    totalLength: ((bytes[2] as number) << 8) | (bytes[3] as number),
    headerLength: ihl,
    payload: bytes.subarray(ihl),
  };
}

/** Parses an IPv6 packet (fixed header first), skipping hop-by-hop, routing and destination options. */
export function decodeIpv6Packet(bytes: Uint8Array): IpPacket {
  if (bytes.length < IPV6_HEADER_LENGTH || (bytes[0] as number) >> 4 !== 6) {
    throw new VrrpError("VRRP_BAD_IP_HEADER", `not an IPv6 packet (${bytes.length} bytes)`, { offset: 0 });
  }
  const payloadLength = ((bytes[4] as number) << 8) | (bytes[5] as number);
  const end = Math.min(bytes.length, IPV6_HEADER_LENGTH + payloadLength);
  let next = bytes[6] as number;
  let off = IPV6_HEADER_LENGTH;
  // RFC 8200 §4.1: at most a handful of extension headers; bounded loop.
  for (let i = 0; i < 8; i++) {
    if (next !== IPV6_EXT_HOP_BY_HOP && next !== IPV6_EXT_ROUTING && next !== IPV6_EXT_DEST_OPTS) break;
    if (off + 2 > end)
      throw new VrrpError("VRRP_BAD_IP_HEADER", "truncated IPv6 extension header", { offset: off });
    const len = ((bytes[off + 1] as number) + 1) * 8;
    next = bytes[off] as number;
    off += len;
  }
  if (next === IPV6_EXT_FRAGMENT) {
    throw new VrrpError("VRRP_BAD_IP_HEADER", "fragmented IPv6 packet", { offset: off });
  }
  if (off > end)
    throw new VrrpError("VRRP_BAD_IP_HEADER", "truncated IPv6 extension header", { offset: off });
  return {
    family: 6,
    source: bytesToAddress(bytes.subarray(8, 24)),
    destination: bytesToAddress(bytes.subarray(24, 40)),
    ttl: bytes[7] as number,
    protocol: next,
    payload: bytes.subarray(off, end),
  };
}

export interface EthernetFrame {
  destinationMac: string;
  sourceMac: string;
  ethertype: number;
  payload: Uint8Array;
}

const mac = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");

/** Parses an Ethernet II frame (one 802.1Q tag is skipped). */
export function decodeEthernetFrame(frame: Uint8Array): EthernetFrame {
  if (frame.length < ETH_HEADER_LENGTH) {
    throw new VrrpError("VRRP_BAD_IP_HEADER", `Ethernet frame of ${frame.length} bytes`, { offset: 0 });
  }
  let type = ((frame[12] as number) << 8) | (frame[13] as number);
  let off = ETH_HEADER_LENGTH;
  if (type === 0x8100 && frame.length >= ETH_HEADER_LENGTH + 4) {
    type = ((frame[16] as number) << 8) | (frame[17] as number);
    off += 4;
  }
  return {
    destinationMac: mac(frame.subarray(0, 6)),
    sourceMac: mac(frame.subarray(6, 12)),
    ethertype: type,
    payload: frame.subarray(off),
  };
}

/** The IP packet inside an Ethernet frame, or undefined when it is neither IPv4 nor IPv6. */
export function decodeFrameIp(frame: Uint8Array): IpPacket | undefined {
  const eth = decodeEthernetFrame(frame);
  if (eth.ethertype === ETH_P_IP) return decodeIpv4Packet(eth.payload);
  if (eth.ethertype === ETH_P_IPV6) return decodeIpv6Packet(eth.payload);
  return undefined;
}
