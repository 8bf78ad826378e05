/**
 * IP address text ↔ bytes, pure. Parsing follows inet_pton(3): a strict dotted quad for IPv4
 * (no leading zeros, no short forms) and RFC 4291 §2.2 for IPv6 (no zone, no brackets). Output is
 * canonical: the dotted quad, and RFC 5952 for IPv6, so equal addresses have equal text.
 */
import { type AddressFamily, AF_INET, AF_INET6, type IpVersion } from "./constants.js";
import { InetError } from "./errors.js";

/** A parsed address: both numbers the kernel and the configs use, its bytes and canonical text. */
export interface IpAddress {
  /** AF_INET (2) or AF_INET6 (10). */
  readonly af: AddressFamily;
  /** 4 or 6. */
  readonly version: IpVersion;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** Canonical text (dotted quad; RFC 5952 for IPv6). Also the identity key. */
  readonly text: string;
}

const DOT = 46;
const COLON = 58;

/**
 * Writes dotted-quad `text` as 4 bytes at `out[offset]`; false (and `out` partly written) if it is
 * not one. A hand loop: codecs call it for every address of every message.
 */
export function writeIPv4(text: string, out: Uint8Array, offset = 0): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : DOT; // the end closes the last part
    if (c === DOT) {
      if (digits === 0 || value > 255 || part > 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // inet_pton(AF_INET) refuses "010": inet_aton would read it as octal 8.
      if (digits === 1 && value === 0) return false;
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
    } else return false;
  }
  return part === 4;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const words = new Uint16Array(8);
const quad = new Uint8Array(4);
const sixteen = new Uint8Array(16);

/**
 * Writes IPv6 `text` as 16 bytes at `out[offset]`; false if it is not RFC 4291 §2.2 text: up to
 * eight groups of 1–4 hex digits, at most one "::" standing for one or more zero groups, and
 * optionally the last 32 bits as a dotted quad (form 3).
 */
export function writeIPv6(text: string, out: Uint8Array, offset = 0): boolean {
  const n = text.length;
  // "::" is the shortest; eight full groups with a dotted tail the longest (45 characters).
  if (n < 2 || n > 45) return false;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let value = 0;
    while (i < n && i - start < 5) {
      const d = hexValue(text.charCodeAt(i));
      if (d < 0) break;
      value = (value << 4) | d;
      i++;
    }
    if (i < n && text.charCodeAt(i) === DOT) {
      if (count > 6 || !writeIPv4(text.slice(start), quad)) return false;
      words[count++] = ((quad[0] as number) << 8) | (quad[1] as number);
      words[count++] = ((quad[2] as number) << 8) | (quad[3] as number);
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4 || count === 8) return false;
    words[count++] = value;
    if (i === n) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i === n) return false; // one trailing colon
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false; // a second "::"
      gap = count;
      i++;
    }
  }
  if (gap < 0) {
    if (count !== 8) return false;
  } else {
    if (count > 7) return false; // "::" must stand for at least one group
    const tail = count - gap;
    for (let k = 0; k < tail; k++) words[7 - k] = words[count - 1 - k] as number;
    for (let k = gap; k < 8 - tail; k++) words[k] = 0;
  }
  for (let k = 0; k < 8; k++) {
    const w = words[k] as number;
    out[offset + 2 * k] = w >> 8;
    out[offset + 2 * k + 1] = w & 0xff;
  }
  return true;
}

/** Dotted quad → 4 bytes, or undefined (inet_pton(AF_INET) rules). */
export function parseIPv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return typeof text === "string" && writeIPv4(text, out) ? out : undefined;
}

/** IPv6 text → 16 bytes, or undefined (inet_pton(AF_INET6) rules; no zone, no brackets). */
export function parseIPv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return typeof text === "string" && writeIPv6(text, out) ? out : undefined;
}

/** The dotted quad of 4 bytes at `offset`. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * RFC 5952 text of 16 bytes at `offset`: hex in lower case (§4.3) without leading zeros (§4.1);
 * "::" for the longest run of two or more zero groups (§4.2.1, §4.2.2: never for one group), the
 * first run when two are equally long (§4.2.3). The last 32 bits print as a dotted quad where
 * inet_ntop(3) prints them so (glibc's and libuv's rule, hence what ipvsadm, keepalived and
 * node's sockets print): IPv4-mapped addresses (::ffff:a.b.c.d, RFC 4291 §2.5.5.2, as RFC 5952 §5
 * recommends) and the deprecated IPv4-compatible ones (::a.b.c.d, all but the last two groups zero
 * and the seventh not).
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  for (let k = 0; k < 8; k++) {
    words[k] = ((bytes[offset + 2 * k] as number) << 8) | (bytes[offset + 2 * k + 1] as number);
  }
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0) {
    if (words[5] === 0xffff) return `::ffff:${formatIPv4(bytes, offset + 12)}`;
    if (words[5] === 0 && words[6] !== 0) return `::${formatIPv4(bytes, offset + 12)}`;
  }
  let best = -1;
  let bestLen = 1; // a run must be longer than this to be compressed
  for (let k = 0; k < 8; ) {
    if (words[k] !== 0) {
      k++;
      continue;
    }
    let end = k;
    while (end < 8 && words[end] === 0) end++;
    if (end - k > bestLen) {
      best = k;
      bestLen = end - k;
    }
    k = end;
  }
  let out = "";
  for (let k = 0; k < 8; k++) {
    if (k === best) {
      out += "::";
      k += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += (words[k] as number).toString(16);
  }
  return out;
}

/** Text of an address of family `af` stored at `bytes[offset]` (as in union nf_inet_addr). */
export function formatAddress(af: number, bytes: Uint8Array, offset = 0): string {
  return af === AF_INET6 ? formatIPv6(bytes, offset) : formatIPv4(bytes, offset);
}

function badAddress(text: unknown): InetError {
  return new InetError(
    "INET_BAD_ADDRESS",
    `not an IPv4 or IPv6 address: ${JSON.stringify(text)} (write e.g. 10.0.0.1 or 2001:db8::1)`,
    { object: String(text) },
  );
}

/** 4 or 16 bytes → an IpAddress (the bytes are copied). Throws INET_BAD_ADDRESS for other lengths. */
export function addressFromBytes(bytes: Uint8Array): IpAddress {
  if (bytes.length === 4) return { af: AF_INET, version: 4, bytes: bytes.slice(), text: formatIPv4(bytes) };
  if (bytes.length === 16) return { af: AF_INET6, version: 6, bytes: bytes.slice(), text: formatIPv6(bytes) };
  throw new InetError("INET_BAD_ADDRESS", `an IP address has 4 or 16 bytes, not ${bytes.length}`, {
    object: `${bytes.length} bytes`,
  });
}

/** Parses IPv4 or IPv6 text; undefined if it is neither. */
export function tryParseAddress(text: string): IpAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { af: AF_INET, version: 4, bytes: v4, text: formatIPv4(v4) };
  const v6 = parseIPv6(text);
  if (v6) return { af: AF_INET6, version: 6, bytes: v6, text: formatIPv6(v6) };
  return undefined;
}

/** Parses IPv4 or IPv6 text. Throws INET_BAD_ADDRESS (with the text as `object`). */
export function parseAddress(text: string): IpAddress {
  const a = tryParseAddress(text);
  if (!a) throw badAddress(text);
  return a;
}

/** Canonical text of an address ("2001:DB8:0::1" → "2001:db8::1"). Throws INET_BAD_ADDRESS. */
export function canonicalAddress(text: string): string {
  // A dotted quad inet_pton accepts (no leading zeros, four parts) is its own canonical text: no
  // allocation on the path a table diff takes for every address.
  if (typeof text === "string" && writeIPv4(text, quad)) return text;
  return parseAddress(text).text;
}

/** Network-order bytes of an address (4 or 16). Throws INET_BAD_ADDRESS. */
export function addressToBytes(text: string): Uint8Array {
  return parseAddress(text).bytes;
}

/** Canonical text of 4 or 16 network-order bytes. Throws INET_BAD_ADDRESS for other lengths. */
export function bytesToAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  if (bytes.length === 16) return formatIPv6(bytes);
  return addressFromBytes(bytes).text; // throws the length error
}

/** 4 for IPv4 text, 6 for IPv6 text, 0 otherwise (what node:net isIP answers, without node:net). */
export function ipVersion(text: string): 0 | IpVersion {
  // Into scratch bytes: asked for every service of a diff, so no arrays are allocated.
  if (typeof text !== "string") return 0;
  return writeIPv4(text, quad) ? 4 : writeIPv6(text, sixteen) ? 6 : 0;
}

/** AF_INET for 4, AF_INET6 for 6. */
export function familyOfVersion(version: IpVersion): AddressFamily {
  return version === 6 ? AF_INET6 : AF_INET;
}

function bytesOf(a: string | Uint8Array): Uint8Array {
  return typeof a === "string" ? addressToBytes(a) : a;
}

/**
 * Orders two addresses as unsigned numbers (IPv4 before IPv6): negative, 0 or positive. VRRP's
 * tie-break needs it (RFC 9568 §6.4.3: the sender's primary address "is greater than" ours).
 */
export function compareAddresses(a: string | Uint8Array, b: string | Uint8Array): number {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** True for 224.0.0.0/4 (RFC 5771) and ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(address: string | Uint8Array): boolean {
  const b = bytesOf(address);
  return b.length === 4 ? ((b[0] as number) & 0xf0) === 0xe0 : b[0] === 0xff;
}

/** True for IPv6 link-local unicast, fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal6(address: string | Uint8Array): boolean {
  const b = bytesOf(address);
  return b.length === 16 && b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80;
}

/** Splits "10.0.0.1, 2001:db8::1" (commas or white space; arrays are flattened) and parses each. */
export function parseAddressList(text: string | readonly string[]): IpAddress[] {
  const items = typeof text === "string" ? [text] : text;
  return items
    .flatMap((t) => String(t).split(/[\s,]+/))
    .filter(Boolean)
    .map(parseAddress);
}
