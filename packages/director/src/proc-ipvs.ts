// /proc/net/ip_vs: the whole table as text in one read (net/netfilter/ipvs/ip_vs_ctl.c,
// ip_vs_info_seq_show, Linux 6.1). The kernel writes it far faster than a generic-netlink dump
// is decoded, so the periodic pass looks here first and reads netlink only for services that
// differ. It shows less than netlink: scheduler, ops (IPv4 and fwmark only), persistence
// (timeout — in jiffies, svc->timeout as stored —, IPv4 mask), and per destination forwarding,
// weight and connection counts — not thresholds, tunnel settings, scheduler flags, the
// persistence engine or a fwmark's family.
//
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port Forward Weight ActiveConn InActConn
//   TCP  0A000001:0050 wlc ops persistent 360 FFFFFF00
//     -> 0A000102:1F90      Masq    1      0          0
//   FWM  00000007 sh persistent 30 FFFFFFFF

// ip_vs_ctl.c ip_vs_fwd_name(): the forwarding words /proc prints (Masq, Local, Tunnel, Route).
import { forwardFlagOfName } from "@lvs/inet";
import {
  AF_INET,
  AF_INET6,
  formatIPv6,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  type ServiceWithDests,
} from "@lvs/ipvs";
import { TurnBudget } from "./turns.js";

const PROTOCOLS: Readonly<Record<string, number>> = { TCP: 6, UDP: 17, SCTP: 132 };

const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;

/** A hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** `text[from, to)` as hex (at most 8 digits), or -1 when it isn't. */
function hexAt(text: string, from: number, to: number): number {
  if (to <= from || to - from > 8) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = hexDigit(text.charCodeAt(i));
    if (v < 0) return -1;
    n = n * 16 + v;
  }
  return n;
}

/** `text[from, to)` as a decimal integer (a leading minus allowed), or NaN. */
function decimalAt(text: string, from: number, to: number): number {
  let i = from;
  const negative = i < to && text.charCodeAt(i) === 0x2d;
  if (negative) i++;
  if (i >= to) return Number.NaN;
  let n = 0;
  for (; i < to; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return Number.NaN;
    n = n * 10 + c;
  }
  return negative ? -n : n;
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function ipv6(text: string): string | undefined {
  // %pI6: eight groups of four hex digits, colon separated.
  const groups = text.split(":");
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i] as string;
    const v = hexAt(g, 0, g.length);
    if (v < 0 || v > 0xffff) return undefined;
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 255;
  }
  return formatIPv6(bytes);
}

function maskPrefix(n: number): number | undefined {
  let p = 0;
  while (p < 32 && (n & (0x80000000 >>> p)) !== 0) p++;
  const back = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return back === n ? p : undefined;
}

/** CONFIG_HZ values a kernel may have been built with (the persistence timeout is printed in jiffies). */
export const KERNEL_HZ = [100, 250, 300, 1000] as const;

/** A persistence timeout as /proc prints it (jiffies) against one in seconds. */
export function sameTimeout(jiffies: number, seconds: number): boolean {
  return KERNEL_HZ.some((hz) => jiffies === seconds * hz);
}

/**
 * Reads /proc/net/ip_vs's text in place: a line at a time, its fields by index, without splitting
 * the text into lines and the lines into words first (20,000 lines a periodic pass, whose strings
 * and arrays were a fifth of its time in the collector).
 */
class ProcScanner {
  /** Start of the next line. */
  private pos = 0;
  /** The line being read: its fields' bounds (start, end pairs). */
  private readonly fields = new Int32Array(2 * 12);
  private count = 0;

  constructor(private readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  /** Up to `lines` more lines into `out` (a destination joins the last service). */
  read(lines: number, out: ServiceWithDests[]): void {
    const text = this.text;
    for (let n = 0; n < lines && this.pos < text.length; n++) {
      let end = text.indexOf("\n", this.pos);
      if (end < 0) end = text.length;
      const start = this.pos;
      this.pos = end + 1;
      if (text.startsWith("  -> ", start)) {
        const cur = out.length ? out[out.length - 1] : undefined;
        const d = cur && this.dest(start + 5, end);
        if (cur && d) cur.dests.push(d);
        continue;
      }
      const s = this.service(start, end);
      if (s) out.push(s);
    }
  }

  /** Splits `text[from, to)` at spaces and tabs into `fields` (at most 12 kept). */
  private split(from: number, to: number): void {
    const text = this.text;
    let count = 0;
    let i = from;
    while (i < to && count < 12) {
      let c = text.charCodeAt(i);
      while (i < to && (c === SPACE || c === TAB || c === NEWLINE || c === 0x0d)) c = text.charCodeAt(++i);
      if (i >= to) break;
      const s = i;
      while (i < to && c !== SPACE && c !== TAB && c !== 0x0d) c = text.charCodeAt(++i);
      this.fields[2 * count] = s;
      this.fields[2 * count + 1] = i;
      count++;
    }
    this.count = count;
  }

  private start(k: number): number {
    return this.fields[2 * k] as number;
  }

  private end(k: number): number {
    return this.fields[2 * k + 1] as number;
  }

  private word(k: number): string {
    return this.text.slice(this.start(k), this.end(k));
  }

  private is(k: number, word: string): boolean {
    return this.end(k) - this.start(k) === word.length && this.text.startsWith(word, this.start(k));
  }

  /** Field `k` as an endpoint (`0A000001:0050`, `[2001:0db8:…:0001]:0050`), or undefined. */
  private endpoint(k: number): { af: number; address: string; port: number } | undefined {
    const text = this.text;
    const s = this.start(k);
    const e = this.end(k);
    const colon = text.lastIndexOf(":", e - 1);
    if (colon <= s) return undefined;
    const port = hexAt(text, colon + 1, e);
    if (port < 0 || port > 0xffff) return undefined;
    if (text.charCodeAt(s) === OPEN_BRACKET) {
      if (text.charCodeAt(colon - 1) !== 0x5d) return undefined;
      const address = ipv6(text.slice(s + 1, colon - 1));
      return address === undefined ? undefined : { af: AF_INET6, address, port };
    }
    const n = colon - s === 8 ? hexAt(text, s, colon) : -1;
    return n < 0 ? undefined : { af: AF_INET, address: ipv4(n), port };
  }

  /** One `  -> ` line: a destination of the service above it (undefined: the header, or unreadable). */
  private dest(from: number, to: number): ServiceWithDests["dests"][number] | undefined {
    this.split(from, to);
    if (this.count < 5 || this.is(0, "RemoteAddress:Port")) return undefined;
    const ep = this.endpoint(0);
    if (!ep) return undefined;
    return {
      af: ep.af,
      address: ep.address,
      port: ep.port,
      forward: forwardFlagOfName(this.word(1)) ?? 0,
      weight: decimalAt(this.text, this.start(2), this.end(2)),
      upperThreshold: 0,
      lowerThreshold: 0,
      activeConns: decimalAt(this.text, this.start(3), this.end(3)),
      inactiveConns: decimalAt(this.text, this.start(4), this.end(4)),
      persistConns: 0,
      tunnelType: 0,
      tunnelPort: 0,
      tunnelFlags: 0,
      stats: undefined,
      stats64: undefined,
    };
  }

  /** A service line (`TCP  0A000001:0050 wlc …`, `FWM  00000007 sh`); undefined for any other. */
  private service(from: number, to: number): ServiceWithDests | undefined {
    this.split(from, to);
    if (this.count < 2) return undefined;
    const kind = this.word(0);
    const fwm = kind === "FWM";
    if (!fwm && !(kind in PROTOCOLS)) return undefined;
    let af = AF_INET;
    let address = "0.0.0.0";
    let port = 0;
    let fwmark = 0;
    let protocol = 0;
    if (fwm) {
      fwmark = hexAt(this.text, this.start(1), this.end(1));
      if (fwmark < 0) return undefined;
    } else {
      const ep = this.endpoint(1);
      if (!ep) return undefined;
      af = ep.af;
      address = ep.address;
      port = ep.port;
      protocol = PROTOCOLS[kind] as number;
    }
    let flags = 0;
    let timeout = 0;
    let netmask = af === AF_INET6 ? 128 : 32;
    for (let i = 3; i < this.count; i++) {
      if (this.is(i, "ops")) flags |= IP_VS_SVC_F_ONEPACKET;
      else if (this.is(i, "persistent")) {
        flags |= IP_VS_SVC_F_PERSISTENT;
        timeout = i + 1 < this.count ? decimalAt(this.text, this.start(i + 1), this.end(i + 1)) : Number.NaN;
        if (af === AF_INET) {
          const mask = i + 2 < this.count ? hexAt(this.text, this.start(i + 2), this.end(i + 2)) : 0xffffffff;
          netmask = (mask < 0 ? undefined : maskPrefix(mask)) ?? 32;
        }
        i += 2;
      }
    }
    const scheduler = this.count > 2 ? this.word(2) : "";
    return {
      service: {
        af,
        protocol,
        address,
        port,
        fwmark,
        scheduler,
        flags,
        timeout,
        netmask,
        peName: undefined,
        stats: undefined,
        stats64: undefined,
      },
      dests: [],
    };
  }
}

/**
 * Parse /proc/net/ip_vs. `timeout` stays in jiffies (compare with sameTimeout). Fields /proc does
 * not show are left at their defaults (thresholds 0, no tunnel, flags only PERSISTENT/ONEPACKET,
 * fwmark family IPv4). Lines it cannot read are skipped.
 */
export function parseProcIpvs(text: string): ServiceWithDests[] {
  const out: ServiceWithDests[] = [];
  const scanner = new ProcScanner(text);
  while (!scanner.done) scanner.read(1024, out);
  return out;
}

/** Lines parsed between two looks at the clock (parseProcIpvsYielding). */
const PROC_LINES_PER_LOOK = 64;

/**
 * parseProcIpvs with the event loop getting a turn whenever `budget` is spent: 25,000 lines are
 * seconds of JavaScript under emulation, during which no check would complete and no edit be sent.
 */
export async function parseProcIpvsYielding(
  text: string,
  budget: TurnBudget = new TurnBudget(),
): Promise<ServiceWithDests[]> {
  const out: ServiceWithDests[] = [];
  const scanner = new ProcScanner(text);
  while (!scanner.done) {
    if (budget.due()) await budget.pause();
    scanner.read(PROC_LINES_PER_LOOK, out);
  }
  return out;
}

/** /proc/net/ip_vs_stats: the kernel's totals (hex), as node_exporter reads them. */
export function parseIpvsStats(
  text: string,
): { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number } | undefined {
  const lines = text.split("\n");
  const row = lines[2]?.trim().split(/\s+/);
  if (!row || row.length < 5) return undefined;
  const v = row.map((h) => Number.parseInt(h, 16));
  if (v.some((x) => !Number.isFinite(x))) return undefined;
  return {
    conns: v[0] as number,
    inPkts: v[1] as number,
    outPkts: v[2] as number,
    inBytes: v[3] as number,
    outBytes: v[4] as number,
  };
}
