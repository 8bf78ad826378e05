/**
 * IP and MAC text ↔ bytes (pure). IPv6 text output is RFC 5952 canonical (what `ip addr` prints).
 */
import { isIPv4, isIPv6 } from "node:net";
import { NetconfError } from "./errors.js";

export type Family = 4 | 6;

export interface ParsedIp {
  family: Family;
  bytes: Uint8Array;
  /** Canonical text (RFC 5952 for IPv6). */
  text: string;
}

/** Parses "10.0.0.1" or "2001:db8::1" (no prefix, no zone). Throws NETCONF_BAD_ADDRESS. */
export function parseIp(text: string): ParsedIp {
  const t = typeof text === "string" ? text.trim() : "";
  if (isIPv4(t)) {
    const bytes = Uint8Array.from(t.split(".").map(Number));
    return { family: 4, bytes, text: formatIp(bytes) };
  }
  if (isIPv6(t) && !t.includes("%")) {
    const bytes = ipv6Bytes(t);
    return { family: 6, bytes, text: formatIp(bytes) };
  }
  throw new NetconfError(
    "NETCONF_BAD_ADDRESS",
    `${JSON.stringify(text)} is not an IPv4 or IPv6 address (write e.g. 10.0.0.1 or 2001:db8::1)`,
    { object: String(text) },
  );
}

/** Parses "10.0.0.1/32", "2001:db8::1/128" or a bare address (prefix undefined). */
export function parseCidr(text: string): ParsedIp & { prefixLength: number | undefined } {
  const t = typeof text === "string" ? text.trim() : "";
  const slash = t.indexOf("/");
  if (slash < 0) return { ...parseIp(t), prefixLength: undefined };
  const ip = parseIp(t.slice(0, slash));
  const p = t.slice(slash + 1);
  const n = /^\d{1,3}$/.test(p) ? Number(p) : Number.NaN;
  checkPrefix(ip.family, n, t);
  return { ...ip, prefixLength: n };
}

export function checkPrefix(family: Family, prefixLength: number, object: string): void {
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw new NetconfError(
      "NETCONF_BAD_PREFIX",
      `prefix length ${prefixLength} of ${object} is not in 0..${max}`,
      { object },
    );
  }
}

function ipv6Bytes(t: string): Uint8Array {
  let text = t;
  const out = new Uint8Array(16);
  // A trailing dotted quad ("::ffff:10.0.0.1") becomes two groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const q = tail.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}${(((q[0] ?? 0) << 8) | (q[1] ?? 0)).toString(16)}:${(((q[2] ?? 0) << 8) | (q[3] ?? 0)).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const groups = (s: string): number[] => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all =
    rest === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** 4 or 16 bytes → text; IPv6 per RFC 5952 §4 (lower case, longest zero run of ≥ 2 groups as ::). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length !== 16) {
    throw new NetconfError("NETCONF_BAD_ADDRESS", `an IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(":");
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** "02:00:5e:00:01:01" (also with "-") → 6 bytes. Throws NETCONF_BAD_ADDRESS. */
export function parseMac(text: string): Uint8Array {
  const m =
    /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(
      typeof text === "string" ? text.trim() : "",
    );
  if (!m) {
    throw new NetconfError(
      "NETCONF_BAD_ADDRESS",
      `${JSON.stringify(text)} is not a MAC address (write aa:bb:cc:dd:ee:ff)`,
      {
        object: String(text),
      },
    );
  }
  return Uint8Array.from(m.slice(1).map((h) => Number.parseInt(h, 16)));
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Splits "10.0.0.1,2001:db8::1" (commas or spaces) and parses each. */
export function parseIpList(text: string | string[]): ParsedIp[] {
  const parts = (Array.isArray(text) ? text : [text])
    .flatMap((t) => String(t).split(/[\s,]+/))
    .filter(Boolean);
  return parts.map(parseIp);
}
