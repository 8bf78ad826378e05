/**
 * Prefixes and netmasks: prefix length ↔ IPv4 mask, masking an address to its network, "is this
 * address inside that prefix", and "10.0.0.1/24" text.
 */
import { addressFromBytes, type IpAddress, parseAddress, parseIPv4 } from "./addr.js";
import { AF_INET6 } from "./constants.js";
import { InetError } from "./errors.js";

/** 32 for IPv4, 128 for IPv6 (takes an address family or an IP version). */
export function maxPrefixLength(afOrVersion: number): 32 | 128 {
  return afOrVersion === AF_INET6 || afOrVersion === 6 ? 128 : 32;
}

/** An IPv4 prefix length (0..32) → the netmask as a big-endian u32 (24 → 0xffffff00). */
export function prefixToMask(prefixLength: number): number {
  return prefixLength <= 0 ? 0 : prefixLength >= 32 ? 0xffffffff : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** A big-endian u32 netmask → its prefix length, or undefined if its one bits are not contiguous. */
export function maskToPrefix(mask: number): number | undefined {
  const inverse = ~mask >>> 0;
  // The host part of a contiguous mask is 2^k - 1: adding one carries through all of it.
  if ((inverse & (inverse + 1)) !== 0) return undefined;
  return Math.clz32(inverse);
}

/**
 * A netmask as ipvsadm's `-M` and keepalived's `persistence_granularity` take it: a prefix length
 * (0..32 for IPv4, 0..128 for IPv6) or, for IPv4, a dotted mask with contiguous one bits.
 * Returns the prefix length. Throws INET_BAD_NETMASK.
 */
export function parseNetmask(mask: string | number, af: number): number {
  const bad = (why: string) =>
    new InetError("INET_BAD_NETMASK", `bad netmask ${JSON.stringify(String(mask))}: ${why}`, {
      object: String(mask),
    });
  const max = maxPrefixLength(af);
  if (typeof mask === "number" || /^\d+$/.test(mask)) {
    const n = Number(mask);
    if (!Number.isInteger(n) || n < 0 || n > max) throw bad(`write a prefix length 0..${max}`);
    return n;
  }
  if (af === AF_INET6) throw bad("IPv6 takes a prefix length 0..128");
  const b = parseIPv4(mask);
  if (!b) throw bad("write a dotted mask such as 255.255.255.0 or a prefix length");
  const prefix = maskToPrefix(new DataView(b.buffer).getUint32(0));
  if (prefix === undefined) throw bad("the mask's one bits must be contiguous (e.g. 255.255.255.0)");
  return prefix;
}

/** The network of `address`: its first `prefixLength` bits kept, the rest zero. */
export function maskAddress(address: IpAddress, prefixLength: number): IpAddress {
  const out = address.bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    out[i] = (out[i] as number) & ((0xff00 >> bits) & 0xff);
  }
  return addressFromBytes(out);
}

/** True if `address` lies in `network`/`prefixLength` (same family, same first bits). */
export function prefixContains(network: IpAddress, prefixLength: number, address: IpAddress): boolean {
  if (network.af !== address.af) return false;
  const a = network.bytes;
  const b = address.bytes;
  for (let i = 0; i < a.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    const m = (0xff00 >> bits) & 0xff;
    if ((((a[i] as number) ^ (b[i] as number)) & m) !== 0) return false;
  }
  return true;
}

/** True if `n` is a whole prefix length for the family (0..32 or 0..128). */
export function isPrefixLength(n: unknown, afOrVersion: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= maxPrefixLength(afOrVersion);
}

/**
 * "10.0.0.1/24", "2001:db8::1/64" or a bare address (prefixLength undefined). Throws
 * INET_BAD_ADDRESS for the address part, INET_BAD_PREFIX for the length.
 */
export function parseCidr(text: string): IpAddress & { prefixLength: number | undefined } {
  const slash = typeof text === "string" ? text.indexOf("/") : -1;
  if (slash < 0) return { ...parseAddress(text), prefixLength: undefined };
  const address = parseAddress(text.slice(0, slash));
  const digits = text.slice(slash + 1);
  const n = /^\d{1,3}$/.test(digits) ? Number(digits) : Number.NaN;
  if (!isPrefixLength(n, address.af)) {
    throw new InetError(
      "INET_BAD_PREFIX",
      `prefix length ${JSON.stringify(digits)} of ${text} is not in 0..${maxPrefixLength(address.af)}`,
      { object: text },
    );
  }
  return { ...address, prefixLength: n };
}
