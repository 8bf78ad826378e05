// Addresses as the schedulers see them: IPv4 as one 32-bit word, IPv6 as four (network order,
// big-endian, as the kernel's union nf_inet_addr holds them). Pure; no node:net.
import { AF_INET, AF_INET6 } from "./constants.js";
import { SchedulerError } from "./errors.js";

/** A parsed address. `w` holds 1 (IPv4) or 4 (IPv6) unsigned 32-bit words, most significant first. */
export interface Address {
  readonly af: typeof AF_INET | typeof AF_INET6;
  readonly w: readonly number[];
  /** Canonical text (dotted quad; RFC 5952 for IPv6). Also the identity key. */
  readonly text: string;
}

const V4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

function parseV4Word(s: string): number | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  let w = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return undefined;
    w = w * 256 + n;
  }
  return w;
}

function parseV6Words(s: string): number[] | undefined {
  if (s.length < 2 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const g = items[i] as string;
      if (i === items.length - 1 && g.includes(".")) {
        const v4 = parseV4Word(g);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  const w: number[] = [];
  for (let i = 0; i < 8; i += 2) w.push((((all[i] as number) << 16) | (all[i + 1] as number)) >>> 0);
  return w;
}

function formatV4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

/** RFC 5952 §4: lower case, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
function formatV6(w: readonly number[]): string {
  const g: number[] = [];
  for (const x of w) g.push(x >>> 16, x & 0xffff);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Parses IPv4 or IPv6 text (no zone, no brackets). Throws SchedulerError SCHED_BAD_ADDRESS. */
export function parseAddress(text: string): Address {
  const v4 = parseV4Word(text);
  if (v4 !== undefined) return { af: AF_INET, w: [v4], text: formatV4(v4) };
  const v6 = parseV6Words(text);
  if (v6 !== undefined) return { af: AF_INET6, w: v6, text: formatV6(v6) };
  throw new SchedulerError(
    "SCHED_BAD_ADDRESS",
    `not an IPv4 or IPv6 address: ${JSON.stringify(text)} (write e.g. 10.0.0.1 or 2001:db8::1)`,
    { object: text },
  );
}

/** Builds an address from words (used after masking). */
export function addressFromWords(af: typeof AF_INET | typeof AF_INET6, w: readonly number[]): Address {
  return af === AF_INET
    ? { af, w: [w[0] as number], text: formatV4(w[0] as number) }
    : { af, w, text: formatV6(w) };
}

/**
 * The 32-bit value ip_vs_sh/dh/mh/lblc(r)_hashkey() hash: ntohl(addr->ip) for IPv4, for IPv6
 * ntohl(ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3]) (= the XOR of the big-endian words).
 */
export function foldAddress(a: Address): number {
  const w = a.w;
  return a.af === AF_INET
    ? (w[0] as number)
    : ((w[0] as number) ^ (w[1] as number) ^ (w[2] as number) ^ (w[3] as number)) >>> 0;
}

/**
 * ip_vs_sched_persist(): the client's network. IPv4 `addr & svc->netmask`; IPv6
 * ipv6_addr_prefix(addr, plen). `prefix` is the prefix length in both cases.
 */
export function maskAddress(a: Address, prefix: number): Address {
  if (a.af === AF_INET) {
    const m = prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffff : (0xffffffff << (32 - prefix)) >>> 0;
    return addressFromWords(AF_INET, [((a.w[0] as number) & m) >>> 0]);
  }
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - i * 32));
    const m = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    out.push(((a.w[i] as number) & m) >>> 0);
  }
  return addressFromWords(AF_INET6, out);
}

/**
 * A persistence netmask as ipvsadm's `-M` takes it: IPv4 dotted mask (contiguous ones) or a prefix
 * length; IPv6 a prefix length 1..128. Returns the prefix length.
 */
export function parseNetmask(mask: string | number, af: typeof AF_INET | typeof AF_INET6): number {
  const bad = (why: string) =>
    new SchedulerError("SCHED_BAD_VALUE", `bad persistence netmask ${JSON.stringify(String(mask))}: ${why}`, {
      object: String(mask),
    });
  if (typeof mask === "number" || /^\d+$/.test(mask)) {
    const n = Number(mask);
    const max = af === AF_INET ? 32 : 128;
    if (!Number.isInteger(n) || n < (af === AF_INET ? 0 : 1) || n > max) {
      throw bad(`write a prefix length ${af === AF_INET ? 0 : 1}..${max}`);
    }
    return n;
  }
  if (af === AF_INET6) throw bad("IPv6 services take a prefix length 1..128");
  const w = parseV4Word(mask);
  if (w === undefined) throw bad("write a dotted mask such as 255.255.255.0");
  for (let p = 0; p <= 32; p++) {
    if ((p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0) === w) return p;
  }
  throw bad("the mask's one bits must be contiguous (e.g. 255.255.255.0)");
}

/** An `IP:PORT` / `[IPv6]:PORT` endpoint. */
export interface Endpoint {
  address: Address;
  port: number;
}

/** Parses `IP:PORT`, `[IPv6]:PORT`; with `allowNoPort`, a bare address gets port 0. */
export function parseEndpoint(text: string, opts: { allowNoPort?: boolean } = {}): Endpoint {
  const t = text.trim();
  let host: string;
  let portText: string | undefined;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (br) {
    host = br[1] as string;
    portText = br[2];
  } else if ((t.match(/:/g) ?? []).length === 1) {
    const i = t.indexOf(":");
    host = t.slice(0, i);
    portText = t.slice(i + 1);
  } else {
    host = t;
  }
  const address = parseAddress(host);
  if (portText === undefined) {
    if (opts.allowNoPort) return { address, port: 0 };
    throw new SchedulerError(
      "SCHED_BAD_VALUE",
      `no port in ${JSON.stringify(text)} (write IP:PORT, or [IPv6]:PORT)`,
      { object: text },
    );
  }
  return { address, port: checkPort(portText, text) };
}

export function checkPort(v: string | number, what: string): number {
  const n = typeof v === "number" ? v : /^\d{1,5}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new SchedulerError("SCHED_BAD_VALUE", `port must be 0..65535 in ${JSON.stringify(what)}`, {
      object: String(what),
    });
  }
  return n;
}

/** `ip:port` with IPv6 in brackets. */
export function formatEndpoint(a: Address, port: number): string {
  return a.af === AF_INET6 ? `[${a.text}]:${port}` : `${a.text}:${port}`;
}
