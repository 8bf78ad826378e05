import { AF_INET, AF_INET6 } from "./constants.js";
import { IpvsError } from "./errors.js";

/** Parses a dotted quad strictly (like inet_pton(AF_INET)); undefined if it is not one. */
export function parseIPv4(text: string): Uint8Array | undefined {
  // A hand loop: this runs for every address of every request in a batch.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 3) return undefined;
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && part < 3) {
      if (value > 255) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else return undefined;
  }
  if (part !== 3 || digits === 0 || value > 255) return undefined;
  out[3] = value;
  return out;
}

/** Parses an IPv6 address (inet_pton(AF_INET6) rules, embedded IPv4 allowed). */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (!text.includes(":")) return undefined;
  let head = text;
  let v4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = head.indexOf("::");
  if (dbl !== -1 && head.indexOf("::", dbl + 1) !== -1) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const groups = s.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let words: number[];
  if (dbl === -1) {
    const g = parseGroups(head);
    if (!g || g.length !== 8) return undefined;
    words = g;
  } else {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right || left.length + right.length > 7) return undefined;
    words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  }
  if (v4) out.set(v4, 12);
  return out;
}

/** Address text → (family, bytes). Throws IPVS_BAD_ADDRESS. */
export function parseAddress(text: string, object?: string): { af: number; bytes: Uint8Array } {
  const v4 = parseIPv4(text);
  if (v4) return { af: AF_INET, bytes: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { af: AF_INET6, bytes: v6 };
  throw new IpvsError("IPVS_BAD_ADDRESS", `not an IPv4 or IPv6 address: ${JSON.stringify(text)}`, {
    ...(object !== undefined ? { object } : {}),
  });
}

export function formatIPv4(b: Uint8Array, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/** inet_ntop(AF_INET6) as glibc prints it (longest zero run compressed, embedded IPv4 forms). */
export function formatIPv6(b: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++)
    words.push(((b[offset + i * 2] as number) << 8) | (b[offset + i * 2 + 1] as number));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    // glibc: an embedded IPv4 address for ::a.b.c.d and ::ffff:a.b.c.d
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIPv4(b, offset + 12);
      break;
    }
    out += (words[i] as number).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

export function formatAddress(af: number, b: Uint8Array, offset = 0): string {
  return af === AF_INET6 ? formatIPv6(b, offset) : formatIPv4(b, offset);
}

/** Canonical text of an address (so "10.0.0.01"-style or uncompressed IPv6 compare equal). */
export function canonicalAddress(text: string): string {
  const { af, bytes } = parseAddress(text);
  return formatAddress(af, bytes);
}

/** IPv4 prefix length → the mask as a big-endian u32. */
export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Big-endian u32 mask → prefix length, or undefined if the mask is not contiguous. */
export function maskToPrefix(mask: number): number | undefined {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return undefined;
  return 32 - Math.clz32(inv) === 0 ? 32 : Math.clz32(inv);
}
