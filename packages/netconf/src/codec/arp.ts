/**
 * ARP over Ethernet for IPv4 (RFC 826), and its gratuitous forms (RFC 5227 §3 "ARP Announcement",
 * RFC 5944 §4.6): pure encode/decode, no I/O.
 *
 * Gratuitous ARP, as Linux receives it (net/ipv4/arp.c arp_is_garp()): sender IP == target IP; a
 * *reply* counts only if the target hardware address equals the sender's. A request's target
 * hardware address is ignored; RFC 5227 §2.3 says it SHOULD be zero, which is what the kernel
 * itself sends (arp_notify); keepalived 2.2 writes ff:ff:ff:ff:ff:ff there. Both are offered.
 */
import {
  ARP_PACKET_LEN,
  ARPHRD_ETHER,
  ARPOP_REPLY,
  ARPOP_REQUEST,
  ETH_ALEN,
  ETH_BROADCAST,
  ETH_HLEN,
  ETH_P_ARP,
  ETH_P_IP,
} from "../constants.js";
import { NetconfError } from "../errors.js";
import { bytesEqual, checkMac, readEthernet, writeEthernet } from "./ethernet.js";

export interface ArpPacket {
  /** ar_op: 1 request, 2 reply (others are kept as numbers). */
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

export interface ArpFrame {
  dst: Uint8Array;
  src: Uint8Array;
  arp: ArpPacket;
  /** Bytes after the ARP packet (Ethernet padding to 60 bytes), kept so re-encoding is exact. */
  trailer: Uint8Array;
}

export type GarpForm = "request" | "reply";

export interface GratuitousArpSpec {
  /** The interface's MAC: Ethernet source and ARP sender hardware address. */
  mac: Uint8Array;
  /** The IPv4 address being announced (4 bytes). */
  ip: Uint8Array;
  /** Default "request" (what keepalived and the kernel send). */
  form?: GarpForm;
  /**
   * Target hardware address of the request form: "zero" (RFC 5227 §2.3, the kernel's choice;
   * default) or "broadcast" (keepalived's). The reply form always carries the sender's MAC there.
   */
  requestTarget?: "zero" | "broadcast";
}

/** Ethernet + ARP header, no padding: 42 bytes (the NIC pads to 60 on the wire). */
export const GARP_FRAME_LEN = ETH_HLEN + ARP_PACKET_LEN;

/** One gratuitous ARP frame, broadcast. */
export function encodeGratuitousArp(spec: GratuitousArpSpec): Uint8Array {
  checkIpv4(spec.ip);
  const form = spec.form ?? "request";
  const targetMac =
    form === "reply"
      ? spec.mac
      : spec.requestTarget === "broadcast"
        ? ETH_BROADCAST
        : new Uint8Array(ETH_ALEN);
  return encodeArpFrame({
    dst: ETH_BROADCAST,
    src: spec.mac,
    arp: {
      op: form === "reply" ? ARPOP_REPLY : ARPOP_REQUEST,
      senderMac: spec.mac,
      senderIp: spec.ip,
      targetMac,
      targetIp: spec.ip,
    },
    trailer: new Uint8Array(0),
  });
}

export function encodeArpFrame(frame: ArpFrame): Uint8Array {
  const a = frame.arp;
  checkMac(a.senderMac, "ARP sender MAC");
  checkMac(a.targetMac, "ARP target MAC");
  checkIpv4(a.senderIp);
  checkIpv4(a.targetIp);
  const out = new Uint8Array(GARP_FRAME_LEN + frame.trailer.length);
  writeEthernet(out, { dst: frame.dst, src: frame.src, etherType: ETH_P_ARP });
  const v = new DataView(out.buffer);
  v.setUint16(14, ARPHRD_ETHER); // ar_hrd
  v.setUint16(16, ETH_P_IP); // ar_pro
  out[18] = ETH_ALEN; // ar_hln
  out[19] = 4; // ar_pln
  v.setUint16(20, a.op); // ar_op
  out.set(a.senderMac, 22);
  out.set(a.senderIp, 28);
  out.set(a.targetMac, 32);
  out.set(a.targetIp, 38);
  out.set(frame.trailer, GARP_FRAME_LEN);
  return out;
}

/** Decodes an Ethernet/IPv4 ARP frame. Throws NETCONF_BAD_FRAME for anything else. */
export function decodeArpFrame(bytes: Uint8Array): ArpFrame {
  const eth = readEthernet(bytes);
  if (eth.etherType !== ETH_P_ARP) {
    throw new NetconfError("NETCONF_BAD_FRAME", `ethertype 0x${eth.etherType.toString(16)} is not ARP`);
  }
  if (bytes.length < GARP_FRAME_LEN) {
    throw new NetconfError("NETCONF_BAD_FRAME", `ARP frame of ${bytes.length} bytes, need ${GARP_FRAME_LEN}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hrd = v.getUint16(14);
  const pro = v.getUint16(16);
  if (hrd !== ARPHRD_ETHER || pro !== ETH_P_IP || bytes[18] !== ETH_ALEN || bytes[19] !== 4) {
    throw new NetconfError(
      "NETCONF_BAD_FRAME",
      `ARP for hardware ${hrd}/${bytes[18]} and protocol 0x${pro.toString(16)}/${bytes[19]} is not Ethernet/IPv4`,
    );
  }
  return {
    dst: eth.dst,
    src: eth.src,
    arp: {
      op: v.getUint16(20),
      senderMac: bytes.slice(22, 28),
      senderIp: bytes.slice(28, 32),
      targetMac: bytes.slice(32, 38),
      targetIp: bytes.slice(38, 42),
    },
    trailer: bytes.slice(GARP_FRAME_LEN),
  };
}

export function tryDecodeArpFrame(
  bytes: Uint8Array,
): { ok: true; frame: ArpFrame } | { ok: false; error: NetconfError } {
  try {
    return { ok: true, frame: decodeArpFrame(bytes) };
  } catch (err) {
    return { ok: false, error: err as NetconfError };
  }
}

/**
 * Which gratuitous form a packet is, as Linux judges it (arp_is_garp()): sender IP == target IP,
 * and for a reply also target MAC == sender MAC. undefined when it is not gratuitous.
 */
export function gratuitousForm(arp: ArpPacket): GarpForm | undefined {
  if (!bytesEqual(arp.senderIp, arp.targetIp)) return undefined;
  if (arp.op === ARPOP_REQUEST) return "request";
  if (arp.op === ARPOP_REPLY && bytesEqual(arp.targetMac, arp.senderMac)) return "reply";
  return undefined;
}

function checkIpv4(ip: Uint8Array): void {
  if (!(ip instanceof Uint8Array) || ip.length !== 4) {
    throw new NetconfError("NETCONF_BAD_ADDRESS", "an ARP protocol address must be 4 bytes (IPv4)");
  }
}
