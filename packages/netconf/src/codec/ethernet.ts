/** Ethernet II header (IEEE 802.3 §3.1.1 with an ethertype ≥ 0x0600): pure. */
import { ETH_ALEN, ETH_HLEN } from "../constants.js";
import { NetconfError } from "../errors.js";

export interface EthernetHeader {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
}

export function writeEthernet(out: Uint8Array, h: EthernetHeader): void {
  checkMac(h.dst, "destination MAC");
  checkMac(h.src, "source MAC");
  out.set(h.dst, 0);
  out.set(h.src, ETH_ALEN);
  out[12] = (h.etherType >> 8) & 0xff;
  out[13] = h.etherType & 0xff;
}

export function readEthernet(frame: Uint8Array): EthernetHeader {
  if (frame.length < ETH_HLEN) {
    throw new NetconfError(
      "NETCONF_BAD_FRAME",
      `frame of ${frame.length} bytes is shorter than an Ethernet header`,
    );
  }
  return {
    dst: frame.slice(0, ETH_ALEN),
    src: frame.slice(ETH_ALEN, 2 * ETH_ALEN),
    etherType: ((frame[12] as number) << 8) | (frame[13] as number),
  };
}

export function checkMac(mac: Uint8Array, what: string): void {
  if (!(mac instanceof Uint8Array) || mac.length !== ETH_ALEN) {
    throw new NetconfError("NETCONF_BAD_ADDRESS", `${what} must be ${ETH_ALEN} bytes`, { object: what });
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
