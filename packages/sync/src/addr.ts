/** Address text <-> bytes, pure. IPv6 text is RFC 5952 canonical (lowercase, longest zero run as ::). */
import { SyncError } from "./errors.js";

export function formatIPv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function formatIPv6(b: Uint8Array, off: number): string {
  const w = scratch;
  for (let i = 0; i < 8; i++) w[i] = ((b[off + 2 * i] as number) << 8) | (b[off + 2 * i + 1] as number);
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero words, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += (w[i] as number).toString(16);
  }
  return out;
}

/** Writes dotted-quad `text` into `out` at `off`; false if it is not an IPv4 address. */
export function writeIPv4(text: string, out: Uint8Array, off: number): boolean {
  let part = 0;
  let digits = 0;
  let idx = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; /* '.' terminates the last part */
    if (c === 46) {
      if (digits === 0 || part > 255 || idx > 3) return false;
      out[off + idx++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return false; // no leading zeros ("010" is ambiguous)
      part = part * 10 + (c - 48);
      if (++digits > 3) return false;
    } else return false;
  }
  return idx === 4;
}

const scratch = new Uint16Array(8);

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Writes IPv6 `text` (with ::, optionally an embedded dotted quad) as 16 bytes; false if invalid. */
export function writeIPv6(text: string, out: Uint8Array, off: number): boolean {
  const n = text.length;
  if (n < 2 || n > 45) return false;
  const words = scratch;
  let wi = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let v = 0;
    let digits = 0;
    while (i < n) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      v = (v << 4) | d;
      if (++digits > 4) return false;
      i++;
    }
    if (i < n && text.charCodeAt(i) === 46 /* . */) {
      // embedded IPv4 (RFC 4291 §2.2 form 3): the last 32 bits
      if (wi > 6) return false;
      const v4 = new Uint8Array(4);
      if (!writeIPv4(text.slice(start), v4, 0)) return false;
      words[wi++] = ((v4[0] as number) << 8) | (v4[1] as number);
      words[wi++] = ((v4[2] as number) << 8) | (v4[3] as number);
      i = n;
      break;
    }
    if (digits === 0 || wi >= 8) return false;
    words[wi++] = v;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = wi;
      i++;
    } else if (i === n) return false; // a single trailing colon
  }
  if (gap < 0) {
    if (wi !== 8) return false;
  } else {
    if (wi > 7) return false;
    const tail = wi - gap;
    for (let k = 0; k < tail; k++) words[7 - k] = words[wi - 1 - k] as number;
    for (let k = gap; k < 8 - tail; k++) words[k] = 0;
  }
  for (let k = 0; k < 8; k++) {
    const w = words[k] as number;
    out[off + 2 * k] = w >> 8;
    out[off + 2 * k + 1] = w & 0xff;
  }
  return true;
}

/** Canonical text of an address (IPv4 dotted quad or RFC 5952 IPv6); throws SYNC_BAD_FIELD. */
export function canonicalAddress(text: string): { af: 2 | 10; address: string } {
  const b = new Uint8Array(16);
  if (writeIPv4(text, b, 0)) return { af: 2, address: formatIPv4(b, 0) };
  if (writeIPv6(text, b, 0)) return { af: 10, address: formatIPv6(b, 0) };
  throw new SyncError("SYNC_BAD_FIELD", `not an IP address: ${JSON.stringify(text)}`, { object: text });
}
