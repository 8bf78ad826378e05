// `GET /api/explain` / `lvsctl explain CLIENT[:PORT] VIP:PORT`: which real server a new
// connection from that client gets right now, and why. The service is rebuilt in @lvs/scheduler
// (the kernel's decisions, list order, overload rule) from one fresh read of the dataplane —
// weights, thresholds and the live connection counters — and asked to schedule the client's
// first packet. What the dataplane does not report (rr/wrr's position, lblc/lblcr's caches,
// persistence templates, twos' random draw) is said, not guessed.
import {
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  type ServiceWithDests,
} from "@lvs/ipvs";
import { type ForwardMethod, Service } from "@lvs/scheduler";

export interface ExplainCandidate {
  realServer: string;
  weight: number;
  activeConns: number;
  inactiveConns: number;
  persistConns: number;
  /** ip_vs_dest_conn_overhead(): active × 256 + inactive. */
  overhead: number;
  overloaded: boolean;
  /** Weight > 0 and not overloaded: the scheduler may pick it. */
  usable: boolean;
}

export interface Explanation {
  service: string;
  scheduler: string;
  client: string;
  /** The real server the scheduler picks now, or null (none usable). */
  realServer: string | null;
  /** The scheduler's rule, in words. */
  rule: string;
  /** true when the answer depends only on what the dataplane reports. */
  exact: boolean;
  /** What could make the dataplane answer differently. */
  caveats: string[];
  persistence: { timeout: number; netmask: number } | null;
  /** In the kernel's list order (newest first). */
  candidates: ExplainCandidate[];
}

const RULES: Record<string, string> = {
  rr: "round robin over usable servers, from the kernel's current position",
  wrr: "weighted round robin from the kernel's current position and current weight",
  lc: "fewest connections: lowest active × 256 + inactive (first in list order on a tie)",
  wlc: "lowest (active × 256 + inactive) / weight",
  sed: "lowest (active + 1) × 256 / weight",
  nq: "a server with no active connection if any, else lowest (active + 1) × 256 / weight",
  fo: "the usable server with the highest weight",
  ovf: "the highest-weight server whose active connections are below its weight",
  sh: "hash of the client address (and port with sh-port) into a weighted table",
  dh: "hash of the destination address into a weighted table",
  mh: "Maglev hash of the client address (and port with mh-port)",
  lblc: "the server last used for this destination, unless overloaded; else weighted least-connection",
  lblcr: "the least-loaded server of this destination's set; the set grows under load",
  twos: "the less loaded of two servers drawn at random, by weight",
};

/** Schedulers whose pick depends on what the dataplane reports and the packet alone. */
const EXACT = new Set(["lc", "wlc", "sed", "nq", "fo", "ovf", "sh", "dh", "mh"]);

function forwardOf(f: number): ForwardMethod {
  return f === IP_VS_CONN_F_DROUTE ? "route" : f === IP_VS_CONN_F_TUNNEL ? "tunnel" : "masq";
}

/** The kernel keeps an IPv4 persistence netmask as a mask, an IPv6 one as a prefix length. */
function prefixOf(af: number, netmask: number): number {
  if (af !== 2) return netmask;
  let bits = 0;
  for (let m = netmask >>> 0; m; m >>>= 1) bits += m & 1;
  return bits;
}

const PROTO: Record<number, "tcp" | "udp" | "sctp"> = { 6: "tcp", 17: "udp", 132: "sctp" };

/** Rebuild `entry` in @lvs/scheduler and schedule a first packet from `client`. */
export function explainPick(
  entry: ServiceWithDests,
  client: { address: string; port: number },
  name: string,
  /** The address the client connects to (a fwmark service has none of its own). */
  target?: { address: string; port: number },
): Explanation {
  const s = entry.service;
  const persistent = (s.flags & IP_VS_SVC_F_PERSISTENT) !== 0;
  const svc = new Service({
    scheduler: s.scheduler as never,
    flags: s.flags & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3),
    ...(s.fwmark
      ? { fwmark: s.fwmark, family: s.af === 10 ? (6 as const) : (4 as const) }
      : { protocol: PROTO[s.protocol] ?? "tcp", address: s.address, port: s.port }),
    ...(persistent ? { persistent: { timeout: s.timeout, netmask: prefixOf(s.af, s.netmask) } } : {}),
  });
  // The dump lists the kernel's order (newest first); addDest links at the head: add oldest first.
  for (const d of [...entry.dests].reverse()) {
    svc.addDest({
      address: d.address,
      port: d.port,
      weight: d.weight,
      upperThreshold: d.upperThreshold,
      lowerThreshold: d.lowerThreshold,
      forward: forwardOf(d.forward),
    });
  }
  const candidates = entry.dests.map((d): ExplainCandidate => {
    const v = svc.observeCounters(d.address, d.port, {
      active: d.activeConns,
      inactive: d.inactiveConns,
      persistent: d.persistConns,
    });
    return {
      realServer: v.endpoint,
      weight: d.weight,
      activeConns: d.activeConns,
      inactiveConns: d.inactiveConns,
      persistConns: d.persistConns,
      overhead: d.activeConns * 256 + d.inactiveConns,
      overloaded: v.overloaded,
      usable: d.weight > 0 && !v.overloaded,
    };
  });
  const pick = svc.schedule({
    clientAddress: client.address,
    clientPort: client.port,
    ...(target ? { virtualAddress: target.address, virtualPort: target.port } : {}),
  });
  const caveats: string[] = [];
  if (!EXACT.has(s.scheduler))
    caveats.push(
      `${s.scheduler} keeps state the dataplane does not report (${s.scheduler === "twos" ? "a random draw" : s.scheduler.startsWith("lblc") ? "its destination cache" : "its round-robin position"}): the real pick may be another usable server`,
    );
  if (persistent)
    caveats.push(
      "persistent service: a template left by an earlier connection from this client's network (netmask) sends it to that server instead; templates are not read here",
    );
  if (candidates.some((c) => c.overloaded))
    caveats.push("OVERLOAD between the thresholds depends on history; taken as set only at ≥ the upper one");
  return {
    service: name,
    scheduler: s.scheduler,
    client: `${client.address.includes(":") ? `[${client.address}]` : client.address}:${client.port}`,
    realServer: pick?.endpoint ?? null,
    rule: RULES[s.scheduler] ?? s.scheduler,
    exact: EXACT.has(s.scheduler) && !persistent,
    caveats,
    persistence: persistent ? { timeout: s.timeout, netmask: prefixOf(s.af, s.netmask) } : null,
    candidates,
  };
}
