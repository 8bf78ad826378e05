/**
 * The pure part of profiles: what a director or real server needs (sysctls, VIPs, links up), and
 * the plan that takes a snapshot of the current state there. No I/O: apply.ts reads the snapshot,
 * runs the plan and records it.
 *
 * Recipes (LVS HOWTO; the seeds' scripts):
 * - director, NAT: net.ipv4.ip_forward=1 (the real servers route their replies through it),
 *   send_redirects=0 on all/default/each given interface (a director on the same segment as its
 *   real servers would otherwise tell them to bypass it); IPv6 services: net.ipv6.conf.all.forwarding=1.
 * - director, DR and TUN: send_redirects=0 as above. No ip_forward: IPVS takes VIP traffic at
 *   LOCAL_IN and transmits it itself. (One seed script turns send_redirects *on* for DR; the
 *   HOWTO says off, which we follow.)
 * - real server, DR: each VIP on lo as /32 (/128), and for IPv4 arp_ignore=1 (reply only for
 *   addresses of the receiving interface) and arp_announce=2 (never source ARP from the VIP) on
 *   "all" and "lo": the successor of the old `hidden` patch. IPv6 needs no sysctl: Linux answers a
 *   neighbour solicitation only for addresses of the receiving interface (ndisc_recv_ns()).
 * - real server, TUN: tunl0 (ipip) up with the IPv4 VIPs as /32, ip6tnl0 for IPv6 VIPs, the same
 *   ARP sysctls on "all" and "tunl0", and rp_filter relaxed: decapsulated packets arrive on tunl0
 *   from a client routed via another interface, which strict reverse-path filtering (1) drops.
 *   tunl0 → 0, all → 2 (loose) when it is 1 (the effective value is max(all, dev)).
 */
import type { IpVersion as Family } from "@lvs/inet";
import { NetconfError } from "./errors.js";
import { parseIp } from "./input.js";
import type { AddressEntry, LinkEntry } from "./rtnl.js";
import { confKey } from "./sysctl.js";

export type DirectorMode = "nat" | "dr" | "tun";
export type RealServerMode = "dr" | "tun";

export interface DesiredSysctl {
  key: string;
  /** Value written when the current one is not acceptable. */
  to: string;
  /** Current values that already satisfy the profile (default: just `to`). */
  accept?: string[];
  /** Skip (with a note) when the key does not exist, e.g. net.ipv4.vs.* without ip_vs loaded. */
  optional?: boolean;
}

export interface DesiredAddress {
  dev: string;
  address: string;
  family: Family;
  prefixLength: number;
  label?: string;
}

export interface Desired {
  sysctls: DesiredSysctl[];
  addresses: DesiredAddress[];
  /** Links to bring up (IFF_UP), in order, before the addresses go on them. */
  linksUp: string[];
}

export interface Snapshot {
  sysctl: (key: string) => string | undefined;
  addresses: AddressEntry[];
  links: LinkEntry[];
}

export type Change =
  | { kind: "sysctl"; key: string; from: string; to: string }
  | { kind: "address-add"; dev: string; address: string; prefixLength: number; label?: string }
  | { kind: "address-del"; dev: string; address: string; prefixLength: number }
  | { kind: "link-up"; dev: string }
  | { kind: "link-down"; dev: string };

export interface Plan {
  changes: Change[];
  /** What already matched ("net.ipv4.ip_forward = 1", "10.0.0.1/32 on lo"). */
  unchanged: string[];
  /** What was left out, and why (a missing optional key). */
  skipped: Array<{ object: string; reason: string }>;
}

export interface RealServerSpec {
  mode: RealServerMode;
  /** VIPs (IPv4 and/or IPv6), at least one. */
  vips: string[];
  /** IPv4 label for the VIPs (e.g. "lo:vip"); default none. */
  label?: string;
}

export interface DirectorSpec {
  mode: DirectorMode;
  /** Interfaces that get send_redirects=0 besides all/default (e.g. the one facing the real servers). */
  devices?: string[];
  /** NAT with IPv6 services: net.ipv6.conf.all.forwarding=1. */
  ipv6?: boolean;
  /** More key=value settings (net.ipv4.vs.* are skipped when IPVS is not loaded). */
  sysctls?: Record<string, string | number>;
}

/** lo, tunl0, ip6tnl0: the interfaces profiles put VIPs on. */
export const TUNL0 = "tunl0";
export const IP6TNL0 = "ip6tnl0";

function vipList(vips: string[]): Array<{ text: string; family: Family }> {
  if (!Array.isArray(vips) || vips.length === 0) {
    throw new NetconfError(
      "NETCONF_BAD_OPTION",
      "a real server needs at least one VIP (--vip 10.0.0.100[,…])",
      {
        object: "vips",
      },
    );
  }
  const seen = new Set<string>();
  const out: Array<{ text: string; family: Family }> = [];
  for (const v of vips) {
    const ip = parseIp(v);
    if (seen.has(ip.text)) continue;
    seen.add(ip.text);
    out.push({ text: ip.text, family: ip.version });
  }
  return out;
}

const arpHiding = (devs: string[]): DesiredSysctl[] =>
  devs.flatMap((d) => [
    // arp_ignore 1 and 2 both keep quiet about addresses of other interfaces.
    { key: confKey("ipv4", d, "arp_ignore"), to: "1", accept: ["1", "2"] },
    { key: confKey("ipv4", d, "arp_announce"), to: "2" },
  ]);

export function desiredRealServer(spec: RealServerSpec): Desired {
  if (spec.mode !== "dr" && spec.mode !== "tun") {
    throw new NetconfError(
      "NETCONF_BAD_OPTION",
      `real-server mode ${JSON.stringify(spec.mode)} is not dr or tun`,
      {
        object: "mode",
      },
    );
  }
  const vips = vipList(spec.vips);
  const has4 = vips.some((v) => v.family === 4);
  const has6 = vips.some((v) => v.family === 6);
  const devFor = (f: Family): string => (spec.mode === "dr" ? "lo" : f === 4 ? TUNL0 : IP6TNL0);
  const addresses: DesiredAddress[] = vips.map((v) => ({
    dev: devFor(v.family),
    address: v.text,
    family: v.family,
    prefixLength: v.family === 4 ? 32 : 128,
    ...(spec.label !== undefined && v.family === 4 ? { label: spec.label } : {}),
  }));
  const sysctls: DesiredSysctl[] = [];
  const linksUp: string[] = [];
  if (spec.mode === "dr") {
    if (has4) sysctls.push(...arpHiding(["all", "lo"]));
    linksUp.push("lo");
  } else {
    if (has4) {
      linksUp.push(TUNL0);
      sysctls.push(...arpHiding(["all", TUNL0]));
      sysctls.push({ key: confKey("ipv4", TUNL0, "rp_filter"), to: "0", accept: ["0", "2"] });
      sysctls.push({ key: confKey("ipv4", "all", "rp_filter"), to: "2", accept: ["0", "2"] });
    }
    if (has6) linksUp.push(IP6TNL0);
  }
  return { sysctls, addresses, linksUp };
}

export function desiredDirector(spec: DirectorSpec): Desired {
  if (spec.mode !== "nat" && spec.mode !== "dr" && spec.mode !== "tun") {
    throw new NetconfError(
      "NETCONF_BAD_OPTION",
      `director mode ${JSON.stringify(spec.mode)} is not nat, dr or tun`,
      {
        object: "mode",
      },
    );
  }
  const sysctls: DesiredSysctl[] = [];
  if (spec.mode === "nat") {
    sysctls.push({ key: "net.ipv4.ip_forward", to: "1" });
    if (spec.ipv6) sysctls.push({ key: "net.ipv6.conf.all.forwarding", to: "1" });
  }
  for (const d of ["all", "default", ...(spec.devices ?? [])]) {
    sysctls.push({ key: confKey("ipv4", d, "send_redirects"), to: "0" });
  }
  for (const [key, value] of Object.entries(spec.sysctls ?? {})) {
    const existing = sysctls.findIndex((s) => s.key === key);
    const entry: DesiredSysctl = {
      key,
      to: String(value),
      ...(key.startsWith("net.ipv4.vs.") ? { optional: true } : {}),
    };
    if (existing >= 0) sysctls[existing] = entry;
    else sysctls.push(entry);
  }
  return { sysctls, addresses: [], linksUp: [] };
}

/** sysctl prints some values with tabs ("32768\t60999"): compare them by their tokens. */
export function sameValue(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.trim().split(/\s+/).join(" ") === b.trim().split(/\s+/).join(" ");
}

/** The changes that take `snap` to `want`, in order: links up, sysctls, then addresses. */
export function planUp(want: Desired, snap: Snapshot): Plan {
  const plan: Plan = { changes: [], unchanged: [], skipped: [] };
  const links = new Map(snap.links.map((l) => [l.name, l]));
  for (const dev of want.linksUp) {
    const l = links.get(dev);
    if (!l) {
      if (dev === TUNL0 || dev === IP6TNL0) {
        throw new NetconfError(
          "NETCONF_NO_TUNL0",
          `${dev} does not exist: load the ${dev === TUNL0 ? "ipip" : "ip6_tunnel"} module (modprobe ${dev === TUNL0 ? "ipip" : "ip6_tunnel"}) for a TUN real server`,
          { object: dev },
        );
      }
      throw new NetconfError("NETCONF_NO_INTERFACE", `no interface ${dev}`, { object: dev });
    }
    if (l.up) plan.unchanged.push(`${dev} up`);
    else plan.changes.push({ kind: "link-up", dev });
  }
  for (const s of want.sysctls) {
    const cur = snap.sysctl(s.key);
    if (cur === undefined) {
      if (s.optional) {
        plan.skipped.push({ object: s.key, reason: "not present (module not loaded?)" });
        continue;
      }
      throw new NetconfError("NETCONF_SYSCTL_MISSING", `no sysctl ${s.key} (interface or module missing?)`, {
        object: s.key,
      });
    }
    const ok = (s.accept ?? [s.to]).some((a) => sameValue(a, cur));
    if (ok) plan.unchanged.push(`${s.key} = ${cur}`);
    else plan.changes.push({ kind: "sysctl", key: s.key, from: cur, to: s.to });
  }
  for (const a of want.addresses) {
    const exists = snap.addresses.some(
      (e) => e.dev === a.dev && e.family === a.family && sameAddress(e.address, a.address),
    );
    if (exists) plan.unchanged.push(`${a.address}/${a.prefixLength} on ${a.dev}`);
    else {
      plan.changes.push({
        kind: "address-add",
        dev: a.dev,
        address: a.address,
        prefixLength: a.prefixLength,
        ...(a.label !== undefined ? { label: a.label } : {}),
      });
    }
  }
  return plan;
}

function sameAddress(a: string, b: string): boolean {
  return parseIp(a).text === parseIp(b).text;
}

/** One line per change, as the dry run prints them (sysctl(8)'s and ip(8)'s words). */
export function describeChange(c: Change): string {
  switch (c.kind) {
    case "sysctl":
      return `sysctl ${c.key}: ${c.from} -> ${c.to}`;
    case "address-add":
      return `ip address add ${c.address}/${c.prefixLength} dev ${c.dev}${c.label ? ` label ${c.label}` : ""}`;
    case "address-del":
      return `ip address del ${c.address}/${c.prefixLength} dev ${c.dev}`;
    case "link-up":
      return `ip link set ${c.dev} up`;
    case "link-down":
      return `ip link set ${c.dev} down`;
  }
}
