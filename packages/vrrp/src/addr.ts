import { isIPv4, isIPv6 } from "node:net";
import { VrrpError } from "./errors.js";

/** 4 for an IPv4 literal, 6 for IPv6, 0 otherwise. */
export function addressFamily(addr: string): 0 | 4 | 6 {
  if (isIPv4(addr)) return 4;
  if (isIPv6(addr)) return 6;
  return 0;
}

function bad(addr: string): VrrpError {
  return new VrrpError("VRRP_BAD_FIELD", `not an IP address: ${JSON.stringify(addr)}`, { object: addr });
}

/** Network-order bytes of an IPv4 (4 bytes) or IPv6 (16 bytes) literal. A zone (%eth0) is ignored. */
export function addressToBytes(addr: string): Uint8Array {
  const a = addr.replace(/%.*$/, "");
  if (isIPv4(a)) return Uint8Array.from(a.split(".").map(Number));
  if (!isIPv6(a)) throw bad(addr);
  const out = new Uint8Array(16);
  let text = a;
  // An embedded dotted quad (::ffff:10.0.0.1) becomes two hextets.
  const dot = text.lastIndexOf(":");
  const tail = text.slice(dot + 1);
  if (tail.includes(".")) {
    const q = tail.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, dot + 1)}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = rest !== undefined && rest !== "" ? rest.split(":") : [];
  const fill = 8 - left.length - right.length;
  const groups = rest === undefined ? left : [...left, ...Array<string>(fill).fill("0"), ...right];
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** Text of 4 or 16 network-order bytes (IPv6 in RFC 5952 canonical form). */
export function bytesToAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new VrrpError("VRRP_BAD_FIELD", `address of ${bytes.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // RFC 5952 §4.2: the longest run (≥ 2) of zero groups becomes "::", the first one on a tie.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((v) => v.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** Canonical text of an address literal (lower-case, compressed IPv6). */
export function canonicalAddress(addr: string): string {
  return bytesToAddress(addressToBytes(addr));
}

/**
 * Compares two addresses of one family as unsigned numbers (RFC 9568 §6.4.3: "the primary IPvX
 * address of the sender is greater than the local primary IPvX address"). Negative, 0, positive.
 */
export function compareAddresses(a: string | Uint8Array, b: string | Uint8Array): number {
  const x = typeof a === "string" ? addressToBytes(a) : a;
  const y = typeof b === "string" ? addressToBytes(b) : b;
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** True for 224.0.0.0/4 and ff00::/8. */
export function isMulticast(addr: string | Uint8Array): boolean {
  const b = typeof addr === "string" ? addressToBytes(addr) : addr;
  return b.length === 4 ? ((b[0] as number) & 0xf0) === 0xe0 : b[0] === 0xff;
}

/** True for fe80::/10. */
export function isLinkLocal6(addr: string): boolean {
  const b = addressToBytes(addr);
  return b.length === 16 && b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80;
}
