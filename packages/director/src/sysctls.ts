// The sysctls the director's LVS part needs on its host, from the plan and what the host has
// loaded (pure). IPVS forwards NAT traffic through the host's IP forwarding, so a NAT real server
// needs net.ipv4.ip_forward (net.ipv6.conf.all.forwarding for IPv6), and when netfilter's
// connection tracking is loaded, net.ipv4.vs.conntrack=1 keeps IPVS's connections in it so
// stateful rules (and SNAT) see the replies as ESTABLISHED instead of INVALID
// (Documentation/networking/ipvs-sysctl.rst). DR and TUN need nothing on the director.
// sysctl-host.ts reads, warns, sets and restores them.
import { AF_INET6, IP_VS_CONN_F_MASQ } from "@lvs/ipvs";
import type { Plan, PlannedDest, PlannedVirtualServer } from "./plan.js";

/** One sysctl the configuration needs, with the first virtual server that needs it. */
export interface SysctlNeed {
  key: string;
  value: string;
  /** Why, for the operator: `NAT virtual server [10.0.0.1]:tcp:80`… */
  why: string;
}

/** What the rule needs to know of the host. */
export interface SysctlFacts {
  /** nf_conntrack is loaded in the director's namespace (net.netfilter.nf_conntrack_max exists). */
  conntrack: boolean;
}

export const IP_FORWARD = "net.ipv4.ip_forward";
export const IP6_FORWARD = "net.ipv6.conf.all.forwarding";
export const VS_CONNTRACK = "net.ipv4.vs.conntrack";
/** Present once nf_conntrack is loaded in the namespace. */
export const CONNTRACK_PROBE = "net.netfilter.nf_conntrack_max";

function natDests(vs: PlannedVirtualServer): PlannedDest[] {
  const all: PlannedDest[] = [...vs.realServers, ...(vs.sorry ? [vs.sorry] : [])];
  return all.filter((d) => d.fwd.forward === IP_VS_CONN_F_MASQ);
}

/** The sysctls `plan` needs on the IPVS dataplane, in a stable order, each once. */
export function directorSysctls(plan: Plan, facts: SysctlFacts): SysctlNeed[] {
  const out = new Map<string, SysctlNeed>();
  const need = (key: string, why: string) => {
    if (!out.has(key)) out.set(key, { key, value: "1", why });
  };
  for (const vs of plan.virtualServers) {
    const nat = natDests(vs);
    if (!nat.length) continue;
    const why = `NAT virtual server ${vs.label}`;
    if (nat.some((d) => d.af !== AF_INET6)) need(IP_FORWARD, why);
    if (nat.some((d) => d.af === AF_INET6)) need(IP6_FORWARD, why);
    if (facts.conntrack) need(VS_CONNTRACK, `${why} beside netfilter's connection tracking`);
  }
  return [...out.values()];
}
