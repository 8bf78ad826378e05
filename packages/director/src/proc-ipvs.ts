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

function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function ipv6(text: string): string {
  // %pI6: eight groups of four hex digits, colon separated.
  const bytes = new Uint8Array(16);
  text.split(":").forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 255;
  });
  return formatIPv6(bytes);
}

/** `0A000001:0050` or `[2001:0db8:…:0001]:0050` → address, port. */
function endpoint(text: string): { af: number; address: string; port: number } {
  if (text.startsWith("[")) {
    const i = text.lastIndexOf("]:");
    return { af: AF_INET6, address: ipv6(text.slice(1, i)), port: Number.parseInt(text.slice(i + 2), 16) };
  }
  const [a, p] = text.split(":") as [string, string];
  return { af: AF_INET, address: ipv4(a), port: Number.parseInt(p, 16) };
}

function maskPrefix(hex: string): number | undefined {
  const n = Number.parseInt(hex, 16) >>> 0;
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

/** One `  -> ` line: a destination of the service above it (undefined: the header, or unreadable). */
function procDest(line: string): ServiceWithDests["dests"][number] | undefined {
  const f = line.slice(5).trim().split(/\s+/);
  if (f.length < 5 || f[0] === "RemoteAddress:Port") return undefined;
  const ep = endpoint(f[0] as string);
  return {
    af: ep.af,
    address: ep.address,
    port: ep.port,
    forward: forwardFlagOfName(f[1] as string) ?? 0,
    weight: Number(f[2]),
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: Number(f[3]),
    inactiveConns: Number(f[4]),
    persistConns: 0,
    tunnelType: 0,
    tunnelPort: 0,
    tunnelFlags: 0,
    stats: undefined,
    stats64: undefined,
  };
}

/** A service line (`TCP  0A000001:0050 wlc …`, `FWM  00000007 sh`); undefined for any other. */
function procService(line: string): ServiceWithDests | undefined {
  const f = line.trim().split(/\s+/);
  const kind = f[0];
  if (kind !== "FWM" && !(kind !== undefined && kind in PROTOCOLS)) return undefined;
  let af = AF_INET;
  let address = "0.0.0.0";
  let port = 0;
  let fwmark = 0;
  let protocol = 0;
  if (kind === "FWM") fwmark = Number.parseInt(f[1] as string, 16);
  else {
    const ep = endpoint(f[1] as string);
    af = ep.af;
    address = ep.address;
    port = ep.port;
    protocol = PROTOCOLS[kind as string] as number;
  }
  let flags = 0;
  let timeout = 0;
  let netmask = af === AF_INET6 ? 128 : 32;
  for (let i = 3; i < f.length; i++) {
    if (f[i] === "ops") flags |= IP_VS_SVC_F_ONEPACKET;
    else if (f[i] === "persistent") {
      flags |= IP_VS_SVC_F_PERSISTENT;
      timeout = Number(f[i + 1]);
      if (af === AF_INET) netmask = maskPrefix(f[i + 2] ?? "FFFFFFFF") ?? 32;
      i += 2;
    }
  }
  const service = { af, protocol, address, port, fwmark, scheduler: f[2] ?? "", flags, timeout, netmask };
  return { service: { ...service, peName: undefined, stats: undefined, stats64: undefined }, dests: [] };
}

/** Lines `from`…`to` of /proc/net/ip_vs into `out` (a destination joins the last service). */
function parseLines(lines: readonly string[], from: number, to: number, out: ServiceWithDests[]): void {
  for (let i = from; i < to && i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith("  -> ")) {
      const cur = out.at(-1);
      const d = cur && procDest(line);
      if (cur && d) cur.dests.push(d);
      continue;
    }
    const s = procService(line);
    if (s) out.push(s);
  }
}

/**
 * Parse /proc/net/ip_vs. `timeout` stays in jiffies (compare with sameTimeout). Fields /proc does
 * not show are left at their defaults (thresholds 0, no tunnel, flags only PERSISTENT/ONEPACKET,
 * fwmark family IPv4). Lines it cannot read are skipped.
 */
export function parseProcIpvs(text: string): ServiceWithDests[] {
  const out: ServiceWithDests[] = [];
  const lines = text.split("\n");
  parseLines(lines, 0, lines.length, out);
  return out;
}

/** Lines parsed between two looks at the clock (parseProcIpvsYielding). */
const PROC_LINES_PER_LOOK = 32;

/**
 * parseProcIpvs with the event loop getting a turn whenever `budget` is spent: 25,000 lines are
 * seconds of JavaScript under emulation, during which no check would complete and no edit be sent.
 */
export async function parseProcIpvsYielding(
  text: string,
  budget: TurnBudget = new TurnBudget(),
): Promise<ServiceWithDests[]> {
  const out: ServiceWithDests[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i += PROC_LINES_PER_LOOK) {
    await budget.check();
    parseLines(lines, i, i + PROC_LINES_PER_LOOK, out);
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
