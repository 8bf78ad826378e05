// Configuration → plan: what keepalived 2.2.7 derives from the LVS part of keepalived.conf before
// it touches the kernel (check/check_parser.c vs_end_handler, check/check_data.c
// validate_check_config, check/ipwrapper.c link_vsg_to_vs, check/ipvswrapper.c ipvs_set_srule,
// ipvs_set_drule, ipvs_group_cmd). Pure: no I/O, no clock.
//
// Each virtual server becomes one or more kernel services (a `group` expands its address ranges
// and fwmarks), real servers with their forwarding settings, the sorry server, the quorum
// settings and the health-check targets (in @lvs/healthcheck's TargetConfig shape).
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type {
  LvsConfig,
  LvsMethod,
  LvsSyncDaemon,
  LvsTimeouts,
  RealServer,
  Script,
  VirtualServer,
  VirtualServerGroup,
} from "@lvs/config";
import { type CheckDefinition, stableKey, type TargetConfig } from "@lvs/healthcheck";
import { addressToBytes, parseNetmask } from "@lvs/inet";
import {
  AF_INET,
  AF_INET6,
  canonicalAddress,
  type Destination,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_CONN_F_TUNNEL_TYPE_GRE,
  IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
  IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type Service,
  serviceId,
} from "@lvs/ipvs";
import { IPVS_DEF_SCHED, IPVS_SVC_PERSISTENT_TIMEOUT, IPVS_WEIGHT_LIMIT } from "./constants.js";
import { addressVsKey, fwmarkVsKey, groupVsKey, hostPort, type ProtoName, trio } from "./keys.js";

/** Forwarding of a real (or sorry) server, in @lvs/ipvs's terms. */
export interface ForwardSpec {
  /** IP_VS_CONN_F_MASQ / DROUTE / TUNNEL. */
  forward: number;
  tunnelType: number;
  tunnelPort: number;
  tunnelFlags: number;
}

/** One kernel service a virtual server stands for. */
export interface PlannedService {
  /** @lvs/ipvs serviceId (canonical). */
  id: string;
  service: Service;
  /** The port non-NAT destinations take (the service's port; 0 for a fwmark). */
  port: number;
}

/** One health check of a real server. */
export interface PlannedCheck {
  /** Runner target id: stable across reloads while the check and its server stay the same. */
  id: string;
  /** keepalived block name (TCP_CHECK…). */
  kind: string;
  target: TargetConfig;
}

/** What a real or sorry server contributes to each kernel service. */
export interface PlannedDest {
  /** `10.0.0.2:80` — the operator's name for it (RIP:PORT). */
  key: string;
  /** keepalived's `[10.0.0.2]:tcp:80`. */
  label: string;
  address: string;
  /** Port as configured (after keepalived's corrections). */
  port: number;
  af: number;
  fwd: ForwardSpec;
  upperThreshold: number;
  lowerThreshold: number;
}

export interface PlannedRealServer extends PlannedDest {
  /** `weight` (keepalived's iweight). */
  weight: number;
  inhibit: boolean;
  checks: PlannedCheck[];
  notifyUp?: Script;
  notifyDown?: Script;
}

export interface PlannedSorryServer extends PlannedDest {
  /** `sorry_server_inhibit`: kept with weight 0 while not in use. */
  inhibit: boolean;
}

export interface PlannedVirtualServer {
  /** Stable key: `TCP/10.0.0.1:80`, `FWM/5`, `GROUP/WEB/TCP`. */
  key: string;
  /** keepalived's FMT_VS: `[10.0.0.1]:tcp:80`, `FWM 5`, `[WEB]:0`. */
  label: string;
  protocol: ProtoName | undefined;
  services: PlannedService[];
  realServers: PlannedRealServer[];
  sorry: PlannedSorryServer | undefined;
  quorum: number;
  hysteresis: number;
  quorumUp: Script | undefined;
  quorumDown: Script | undefined;
  omega: boolean;
  /** Checks run only while one of `vips` is on a local interface. */
  haSuspend: boolean;
  vips: string[];
}

export interface Plan {
  virtualServers: PlannedVirtualServer[];
  /** keepalived's "correcting" messages (ports reset, quorum reduced…), in config order. */
  warnings: string[];
  lvsFlush: boolean;
  lvsFlushOnStop: "RS" | "VS" | undefined;
  lvsTimeouts: LvsTimeouts | undefined;
  lvsSyncDaemon: LvsSyncDaemon | undefined;
}

const PROTO: Record<ProtoName, number> = { TCP: IPPROTO_TCP, UDP: IPPROTO_UDP, SCTP: IPPROTO_SCTP };

/** Largest expansion of one group address range (an IPv6 range moves the last 16 bits only). */
const MAX_RANGE = 65_536;

function familyOf(address: string): number {
  return isIP(address) === 6 ? AF_INET6 : AF_INET;
}

/** `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` (check_parser.c forwarding_handler). */
export function forwardOf(m: LvsMethod): ForwardSpec {
  if (m.method === "NAT") return { forward: IP_VS_CONN_F_MASQ, tunnelType: 0, tunnelPort: 0, tunnelFlags: 0 };
  if (m.method === "DR")
    return { forward: IP_VS_CONN_F_DROUTE, tunnelType: 0, tunnelPort: 0, tunnelFlags: 0 };
  const tunnelType =
    m.tunnelType === "gue"
      ? IP_VS_CONN_F_TUNNEL_TYPE_GUE
      : m.tunnelType === "gre"
        ? IP_VS_CONN_F_TUNNEL_TYPE_GRE
        : IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
  const tunnelFlags =
    m.tunnelChecksum === "csum"
      ? IP_VS_TUNNEL_ENCAP_FLAG_CSUM
      : m.tunnelChecksum === "remcsum"
        ? IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
        : IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
  return { forward: IP_VS_CONN_F_TUNNEL, tunnelType, tunnelPort: m.tunnelPort ?? 0, tunnelFlags };
}

/** keepalived's real_weight(): clamp to [0, IPVS_WEIGHT_LIMIT]. */
export function realWeight(w: number): number {
  if (!(w > 0)) return 0;
  return w > IPVS_WEIGHT_LIMIT ? IPVS_WEIGHT_LIMIT : Math.floor(w);
}

/** `255.255.255.0` or `24` (IPv4), `64` (IPv6) → prefix length; undefined when not contiguous. */
export function granularityPrefix(text: string, af: number): number | undefined {
  try {
    return parseNetmask(text, af);
  } catch {
    return undefined;
  }
}

/** The destination a planned real/sorry server becomes in one kernel service (ipvs_set_drule + ipvs_cmd's port rule). */
export function destFor(svc: PlannedService, d: PlannedDest, weight: number): Destination {
  const dest: Destination = {
    address: d.address,
    // ipvs_cmd / ipvs_group_cmd: a non-NAT destination takes the service's port (0 for a fwmark).
    port: d.fwd.forward === IP_VS_CONN_F_MASQ ? d.port : svc.port,
    af: d.af,
    forward: d.fwd.forward,
    weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
  };
  if (d.fwd.forward === IP_VS_CONN_F_TUNNEL) {
    dest.tunnelType = d.fwd.tunnelType;
    dest.tunnelPort = d.fwd.tunnelPort;
    dest.tunnelFlags = d.fwd.tunnelFlags;
  }
  return dest;
}

function shortHash(value: unknown): string {
  return createHash("sha1").update(stableKey(value)).digest("hex").slice(0, 12);
}

/** IPv4 range by whole address; IPv6 by the last 16 bits (ipvs_group_range_cmd). */
function expandRange(first: string, last: string | undefined, warn: (m: string) => void): string[] {
  if (!last) return [canonicalAddress(first)];
  if (isIP(first) === 4) {
    const toInt = (s: string) => new DataView(addressToBytes(s).buffer).getUint32(0);
    const a = toInt(first);
    const b = toInt(last);
    if (b < a) {
      warn(`address range ${first}-${last} is reversed - using ${first} only`);
      return [canonicalAddress(first)];
    }
    const out: string[] = [];
    for (let n = a; n <= b && out.length < MAX_RANGE; n++) {
      out.push([24, 16, 8, 0].map((s) => (n >>> s) & 255).join("."));
    }
    return out;
  }
  const full = canonicalAddress(first);
  const parts = expandV6(full);
  const lastParts = expandV6(canonicalAddress(last));
  const lo = parts[7] as number;
  const hi = lastParts[7] as number;
  if (hi < lo) {
    warn(`address range ${first}-${last} is reversed - using ${first} only`);
    return [full];
  }
  const out: string[] = [];
  for (let n = lo; n <= hi; n++) {
    const p = [...parts];
    p[7] = n;
    out.push(canonicalAddress(p.map((x) => x.toString(16)).join(":")));
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 address. */
function expandV6(a: string): number[] {
  const b = addressToBytes(a);
  return Array.from({ length: 8 }, (_, i) => ((b[2 * i] as number) << 8) | (b[2 * i + 1] as number));
}

interface VsContext {
  vs: VirtualServer;
  group: VirtualServerGroup | undefined;
  warn: (m: string) => void;
}

/** The address family of the virtual server (vs_end_handler + link_vsg_to_vs). */
function vsFamily({ vs, group }: VsContext): number | undefined {
  if (vs.ipFamily) return vs.ipFamily === "inet6" ? AF_INET6 : AF_INET;
  if ("address" in vs.key) return familyOf(vs.key.address);
  const sorry = vs.sorryServer;
  // The sorry server sets the family unless it is tunnelled (vs_end_handler).
  if (sorry && (sorry.lvsMethod ?? vs.lvsMethod).method !== "TUN") return familyOf(sorry.address);
  if (group) {
    let v4 = false;
    let v6 = false;
    for (const e of group.entries) {
      if ("fwmark" in e) {
        if (e.family === "inet") v4 = true;
        if (e.family === "inet6") v6 = true;
      } else if (familyOf(e.address) === AF_INET6) v6 = true;
      else v4 = true;
    }
    if (v4 !== v6) return v4 ? AF_INET : AF_INET6;
    return undefined;
  }
  // fwmark: from the real servers when they agree, else IPv4.
  let af: number | undefined = sorry ? familyOf(sorry.address) : undefined;
  for (const rs of vs.realServers) {
    const f = familyOf(rs.address);
    if (af === undefined) af = f;
    else if (af !== f) return AF_INET;
  }
  return af ?? AF_INET;
}

function planServices(
  ctx: VsContext,
  settings: Omit<Service, "af" | "protocol" | "address" | "port" | "fwmark">,
  af: number | undefined,
): PlannedService[] {
  const { vs, group, warn } = ctx;
  const protocol = PROTO[vs.protocol ?? "TCP"];
  const out: PlannedService[] = [];
  const push = (service: Service, port: number) => out.push({ id: serviceId(service), service, port });
  if ("address" in vs.key) {
    push(
      { protocol, address: canonicalAddress(vs.key.address), port: vs.key.port, ...settings },
      vs.key.port,
    );
  } else if ("fwmark" in vs.key) {
    push({ af: af ?? AF_INET, fwmark: vs.key.fwmark, ...settings }, 0);
  } else if (group) {
    // ipvs_group_range_cmd / ipvs_group_cmd reset the netmask to a full one for every group
    // member, so persistence_granularity does not reach the kernel for groups (keepalived 2.2.7).
    const groupSettings = { ...settings };
    delete groupSettings.netmask;
    for (const e of group.entries) {
      if ("fwmark" in e) {
        const fam = e.family ? (e.family === "inet6" ? AF_INET6 : AF_INET) : (af ?? AF_INET);
        push({ af: fam, fwmark: e.fwmark, ...groupSettings }, 0);
      } else {
        for (const address of expandRange(e.address, e.lastAddress, warn)) {
          push({ protocol, address, port: e.port, ...groupSettings }, e.port);
        }
      }
    }
  }
  return out;
}

function planRealServer(
  ctx: VsContext,
  vsKey: string,
  rs: RealServer,
  port: number,
  protoName: ProtoName | undefined,
): PlannedRealServer {
  const { vs } = ctx;
  const key = hostPort(rs.address, port);
  const checks: PlannedCheck[] = [];
  const seen = new Map<string, number>();
  for (const c of rs.checkers) {
    let check = c.check as unknown as CheckDefinition;
    if ((check.type === "http" || check.type === "https") && !check.virtualhost) {
      const vh = rs.virtualhost ?? vs.virtualhost;
      if (vh) check = { ...check, virtualhost: vh };
    }
    const h = shortHash({ check, policy: c.policy });
    const n = seen.get(h) ?? 0;
    seen.set(h, n + 1);
    const id = `${vsKey} ${key} ${c.kind}:${h}${n ? `#${n}` : ""}`;
    checks.push({ id, kind: c.kind, target: { id, check, policy: { ...c.policy } } });
  }
  const planned: PlannedRealServer = {
    key,
    label: trio(rs.address, protoName, port),
    address: canonicalAddress(rs.address),
    port,
    af: familyOf(rs.address),
    fwd: forwardOf(rs.lvsMethod ?? vs.lvsMethod),
    upperThreshold: rs.uthreshold ?? 0,
    lowerThreshold: rs.lthreshold ?? 0,
    weight: realWeight(rs.weight),
    // keepalived: a real server without its own inhibit_on_failure takes the virtual server's.
    inhibit: rs.inhibitOnFailure || vs.inhibitOnFailure,
    checks,
  };
  if (rs.notifyUp) planned.notifyUp = rs.notifyUp;
  if (rs.notifyDown) planned.notifyDown = rs.notifyDown;
  return planned;
}

/** Compile the LVS part of a configuration into a plan. */
export function compilePlan(config: LvsConfig): Plan {
  const warnings: string[] = [];
  const groups = new Map(config.virtualServerGroups.map((g) => [g.name, g]));
  const out: PlannedVirtualServer[] = [];
  const groupSeq = new Map<string, number>();
  const usedKeys = new Set<string>();

  for (const vs of config.virtualServers) {
    const group = "group" in vs.key ? groups.get(vs.key.group) : undefined;
    let label: string;
    if ("group" in vs.key) {
      const seq = groupSeq.get(vs.key.group) ?? 0;
      groupSeq.set(vs.key.group, seq + 1);
      label = `[${vs.key.group}]:${seq}`;
    } else if ("fwmark" in vs.key) label = `FWM ${vs.key.fwmark}`;
    else label = trio(vs.key.address, vs.protocol, vs.key.port);
    const warn = (m: string) => warnings.push(`Virtual server ${label}: ${m}`);
    const ctx: VsContext = { vs, group, warn };

    if ("group" in vs.key && !group) {
      warn(`virtual server group ${vs.key.group} specified but not configured - ignoring`);
      continue;
    }
    if (vs.realServers.length === 0) {
      warn("has no real servers - ignoring");
      continue;
    }
    const hasAddresses = "address" in vs.key || (group?.entries.some((e) => !("fwmark" in e)) ?? false);
    const onlyFwmarks = "fwmark" in vs.key || (group !== undefined && !hasAddresses);
    const protoName: ProtoName | undefined = onlyFwmarks ? undefined : (vs.protocol ?? "TCP");
    const af = vsFamily(ctx);

    // Service flags (validate_check_config): ops only for UDP or fwmark services.
    let flags = 0;
    if (vs.ops) {
      if (hasAddresses && protoName !== "UDP") warn("one packet scheduling requires UDP - resetting");
      else flags |= IP_VS_SVC_F_ONEPACKET;
    }
    for (const f of vs.schedFlags) {
      if (f === "flag-1" || f === "sh-fallback" || f === "mh-fallback") flags |= IP_VS_SVC_F_SCHED1;
      else if (f === "flag-2" || f === "sh-port" || f === "mh-port") flags |= IP_VS_SVC_F_SCHED2;
      else if (f === "flag-3") flags |= IP_VS_SVC_F_SCHED3;
    }
    let persistence = vs.persistenceTimeout;
    if (persistence === undefined) {
      const zeroPort =
        ("address" in vs.key && vs.key.port === 0) ||
        (group?.entries.some((e) => !("fwmark" in e) && e.port === 0) ?? false);
      if (zeroPort) {
        warn("zero port only valid for persistent services - setting");
        persistence = IPVS_SVC_PERSISTENT_TIMEOUT;
      }
    }
    const settings: Omit<Service, "af" | "protocol" | "address" | "port" | "fwmark"> = {
      scheduler: vs.lvsSched || IPVS_DEF_SCHED,
      flags,
    };
    // ipvs_set_srule: timeout, the PERSISTENT flag, granularity and the PE only with persistence.
    if (persistence) {
      settings.flags = flags | IP_VS_SVC_F_PERSISTENT;
      settings.timeout = persistence;
      if (vs.persistenceGranularity !== undefined) {
        const prefix = granularityPrefix(vs.persistenceGranularity, af ?? AF_INET);
        if (prefix === undefined)
          warn(`persistence_granularity ${vs.persistenceGranularity} is not a contiguous mask - ignoring`);
        else settings.netmask = prefix;
      }
      if (vs.persistenceEngine) settings.peName = vs.persistenceEngine;
    }
    const services = planServices(ctx, settings, af);

    let key: string;
    if ("address" in vs.key) key = addressVsKey(protoName ?? "TCP", vs.key.address, vs.key.port);
    else if ("fwmark" in vs.key) key = fwmarkVsKey(vs.key.fwmark, af === AF_INET6);
    else key = groupVsKey(vs.key.group, protoName);
    if (usedKeys.has(key)) {
      let n = 2;
      while (usedKeys.has(`${key}#${n}`)) n++;
      warn(`duplicates virtual server ${key}`);
      key = `${key}#${n}`;
    }
    usedKeys.add(key);

    // Real server ports (validate_check_config): without a group, a non-NAT real server takes the
    // virtual server's port (0 for a fwmark); a NAT one without a port takes it too.
    const fixPort = (address: string, port: number, method: LvsMethod, what: string): number => {
      if (group) return port;
      const nat = method.method === "NAT";
      if ("fwmark" in vs.key) {
        if (!nat && port !== 0) {
          warn(`${what} ${address} has port specified - clearing`);
          return 0;
        }
        return port;
      }
      const vsPort = (vs.key as { port: number }).port;
      if (nat) return port || vsPort;
      if (port && port !== vsPort) warn(`${what} ${address} port ${port} doesn't match - resetting`);
      return vsPort;
    };

    const realServers: PlannedRealServer[] = [];
    const seenRs = new Set<string>();
    let weightSum = 0;
    for (const rs of vs.realServers) {
      const port = fixPort(rs.address, rs.port, rs.lvsMethod ?? vs.lvsMethod, "real server");
      const rsKey = hostPort(rs.address, port);
      if (seenRs.has(rsKey)) {
        warn(`real server ${rsKey} is duplicated - removing second rs`);
        continue;
      }
      seenRs.add(rsKey);
      const p = planRealServer(ctx, key, rs, port, protoName);
      weightSum += p.weight;
      realServers.push(p);
    }

    let sorry: PlannedSorryServer | undefined;
    if (vs.sorryServer) {
      const s = vs.sorryServer;
      const method = s.lvsMethod ?? vs.lvsMethod;
      if (method.method !== "TUN" && af !== undefined && familyOf(s.address) !== af && "address" in vs.key) {
        warn(`address family of sorry server ${s.address} doesn't match - skipping sorry server`);
      } else {
        const port = fixPort(s.address, s.port, method, "sorry server");
        const sKey = hostPort(s.address, port);
        const dup = realServers.find((r) => r.key === sKey);
        let inhibit = s.inhibit;
        if (dup && dup.inhibit !== inhibit) {
          warn(
            `real server ${sKey} matches sorry server, but inhibit setting differs - ${dup.inhibit ? "setting" : "clearing"} on sorry server`,
          );
          inhibit = dup.inhibit;
        }
        sorry = {
          key: sKey,
          label: trio(s.address, protoName, port),
          address: canonicalAddress(s.address),
          port,
          af: familyOf(s.address),
          fwd: forwardOf(method),
          upperThreshold: 0,
          lowerThreshold: 0,
          inhibit,
        };
      }
    }

    // Quorum sanity (validate_check_config).
    let quorum = vs.quorum;
    if (quorum > weightSum) {
      warn(
        `quorum ${quorum} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`,
      );
      quorum = weightSum;
    }
    let hysteresis = vs.hysteresis;
    if (hysteresis >= quorum && hysteresis > 0) {
      const h = Math.max(0, quorum - 1);
      warn(`hysteresis ${hysteresis} >= quorum ${quorum}; setting hysteresis to ${h}`);
      hysteresis = h;
    }

    let haSuspend = vs.haSuspend;
    if (haSuspend && ("fwmark" in vs.key || group?.entries.some((e) => "fwmark" in e))) {
      warn("cannot use ha_suspend with fwmarks - clearing ha_suspend");
      haSuspend = false;
    }
    const vips = [
      ...new Set(services.filter((s) => s.service.address).map((s) => s.service.address as string)),
    ];

    out.push({
      key,
      label,
      protocol: protoName,
      services,
      realServers,
      sorry,
      quorum,
      hysteresis,
      quorumUp: vs.quorumUp,
      quorumDown: vs.quorumDown,
      omega: vs.omega,
      haSuspend,
      vips,
    });
  }

  return {
    virtualServers: out,
    warnings,
    lvsFlush: config.globalDefs.lvsFlush,
    lvsFlushOnStop: config.globalDefs.lvsFlushOnStop,
    lvsTimeouts: config.globalDefs.lvsTimeouts,
    lvsSyncDaemon: config.globalDefs.lvsSyncDaemon,
  };
}

/** Every health-check target of a plan (what HealthCheckRunner.configure takes). */
export function planTargets(plan: Plan): TargetConfig[] {
  const out: TargetConfig[] = [];
  for (const vs of plan.virtualServers)
    for (const rs of vs.realServers) for (const c of rs.checks) out.push(c.target);
  return out;
}
