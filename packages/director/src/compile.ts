// Configuration → plan: what keepalived 2.2.7 derives from the LVS part of keepalived.conf before
// it touches the kernel (check/check_parser.c vs_end_handler, check/check_data.c
// validate_check_config, check/ipwrapper.c link_vsg_to_vs, check/ipvswrapper.c ipvs_set_srule,
// ipvs_set_drule, ipvs_group_cmd). Pure: no I/O, no clock.
//
// Each virtual server becomes one or more kernel services (a `group` expands its address ranges
// and fwmarks), real servers with their forwarding settings, the sorry server, the quorum
// settings and the health-check targets (in @lvs/healthcheck's TargetConfig shape).
import type { LvsConfig, LvsMethod, RealServer, VirtualServer, VirtualServerGroup } from "@lvs/config";
import type { TargetConfig } from "@lvs/healthcheck";
import {
  AF_INET,
  AF_INET6,
  canonicalAddress,
  type Destination,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type Service,
  serviceId,
} from "@lvs/ipvs";
import { checkDefinitionOf, shortHash } from "./check-def.js";
import { IPVS_DEF_SCHED, IPVS_SVC_PERSISTENT_TIMEOUT } from "./constants.js";
import type { DestinationOption } from "./dataplane.js";
import { addressVsKey, flat, fwmarkVsKey, groupVsKey, hostPort, type ProtoName, trio } from "./keys.js";
import type {
  Plan,
  PlannedCheck,
  PlannedDest,
  PlannedRealServer,
  PlannedService,
  PlannedSorryServer,
  PlannedVirtualServer,
} from "./plan.js";
import {
  expandRange,
  familyOf,
  forwardOf,
  granularityPrefix,
  PolicyPool,
  realWeight,
} from "./plan-values.js";

export type {
  Plan,
  PlannedCheck,
  PlannedDest,
  PlannedRealServer,
  PlannedService,
  PlannedSorryServer,
  PlannedVirtualServer,
} from "./plan.js";
export { type ForwardSpec, forwardOf, granularityPrefix, realWeight } from "./plan-values.js";

const PROTO: Record<ProtoName, number> = { TCP: IPPROTO_TCP, UDP: IPPROTO_UDP, SCTP: IPPROTO_SCTP };

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

interface VsContext {
  vs: VirtualServer;
  group: VirtualServerGroup | undefined;
  warn: (m: string) => void;
  policies: PolicyPool;
  /** global_defs checker_log_all_failures. */
  logAllFailures?: boolean;
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
  const key = flat(hostPort(rs.address, port));
  const checks: PlannedCheck[] = [];
  const seen = new Map<string, number>();
  for (const c of rs.checkers) {
    const check = checkDefinitionOf(c, rs.virtualhost ?? vs.virtualhost);
    const h = shortHash({ check, policy: c.policy });
    const n = seen.get(h) ?? 0;
    seen.set(h, n + 1);
    const id = flat(`${vsKey} ${key} ${c.kind}:${h}${n ? `#${n}` : ""}`);
    const target = { id, check, policy: ctx.policies.intern(c.policy) };
    const logAll = c.logAllFailures ?? ctx.logAllFailures ?? false;
    checks.push({ id, kind: c.kind, target, ...(logAll ? { logAllFailures: true } : {}) });
  }
  const planned: PlannedRealServer = {
    key,
    label: trio(rs.address, protoName, port),
    address: flat(canonicalAddress(rs.address)),
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
  if (rs.proxyProtocol) planned.proxyProtocol = rs.proxyProtocol;
  const smtpAlert = rs.smtpAlert ?? vs.smtpAlert;
  if (smtpAlert !== undefined) planned.smtpAlert = smtpAlert;
  return planned;
}

/**
 * Each real server's PROXY header (`proxy_protocol`, our extension) per service it is a
 * destination of, with the port the destination gets there: what the proxy dataplane needs.
 */
export function proxyHeadersOf(plan: Plan): DestinationOption[] {
  const out: DestinationOption[] = [];
  for (const vs of plan.virtualServers)
    for (const svc of vs.services)
      for (const rs of vs.realServers)
        if (rs.proxyProtocol)
          out.push({
            service: svc.service,
            address: rs.address,
            port: destFor(svc, rs, 0).port,
            proxyProtocol: rs.proxyProtocol,
          });
  return out;
}

/** keepalived's FMT_VS: `[10.0.0.1]:tcp:80`, `FWM 5`, `[WEB]:0` (the Nth use of a group). */
function vsLabel(vs: VirtualServer, groupSeq: Map<string, number>): string {
  if ("group" in vs.key) {
    const seq = groupSeq.get(vs.key.group) ?? 0;
    groupSeq.set(vs.key.group, seq + 1);
    return `[${vs.key.group}]:${seq}`;
  }
  if ("fwmark" in vs.key) return `FWM ${vs.key.fwmark}`;
  return trio(vs.key.address, vs.protocol, vs.key.port);
}

type ServiceSettings = Omit<Service, "af" | "protocol" | "address" | "port" | "fwmark">;

/** Scheduler, flags and persistence of the kernel services (validate_check_config, ipvs_set_srule). */
function serviceSettings(
  ctx: VsContext,
  hasAddresses: boolean,
  protoName: ProtoName | undefined,
  af: number | undefined,
): ServiceSettings {
  const { vs, group, warn } = ctx;
  // ops only for UDP or fwmark services.
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
  const settings: ServiceSettings = { scheduler: vs.lvsSched || IPVS_DEF_SCHED, flags };
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
  return settings;
}

/** The virtual server's stable key; a duplicate gets `#2`, `#3`… */
function uniqueKey(
  ctx: VsContext,
  protoName: ProtoName | undefined,
  af: number | undefined,
  usedKeys: Set<string>,
): string {
  const { vs } = ctx;
  let key: string;
  if ("address" in vs.key) key = addressVsKey(protoName ?? "TCP", vs.key.address, vs.key.port);
  else if ("fwmark" in vs.key) key = fwmarkVsKey(vs.key.fwmark, af === AF_INET6);
  else key = groupVsKey(vs.key.group, protoName);
  if (usedKeys.has(key)) {
    let n = 2;
    while (usedKeys.has(`${key}#${n}`)) n++;
    ctx.warn(`duplicates virtual server ${key}`);
    key = `${key}#${n}`;
  }
  usedKeys.add(key);
  return key;
}

type PortFixer = (address: string, port: number, method: LvsMethod, what: string) => number;

/**
 * Real server ports (validate_check_config): without a group, a non-NAT real server takes the
 * virtual server's port (0 for a fwmark); a NAT one without a port takes it too.
 */
function portFixer({ vs, group, warn }: VsContext): PortFixer {
  return (address, port, method, what) => {
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
}

function planRealServers(
  ctx: VsContext,
  key: string,
  protoName: ProtoName | undefined,
  fixPort: PortFixer,
): PlannedRealServer[] {
  const out: PlannedRealServer[] = [];
  const seen = new Set<string>();
  for (const rs of ctx.vs.realServers) {
    const port = fixPort(rs.address, rs.port, rs.lvsMethod ?? ctx.vs.lvsMethod, "real server");
    const rsKey = hostPort(rs.address, port);
    if (seen.has(rsKey)) {
      ctx.warn(`real server ${rsKey} is duplicated - removing second rs`);
      continue;
    }
    seen.add(rsKey);
    out.push(planRealServer(ctx, key, rs, port, protoName));
  }
  return out;
}

/** The sorry server (vs_end_handler: skipped when its family doesn't match). */
function planSorry(
  ctx: VsContext,
  af: number | undefined,
  protoName: ProtoName | undefined,
  fixPort: PortFixer,
  realServers: readonly PlannedRealServer[],
): PlannedSorryServer | undefined {
  const { vs, warn } = ctx;
  const s = vs.sorryServer;
  if (!s) return undefined;
  const method = s.lvsMethod ?? vs.lvsMethod;
  if (method.method !== "TUN" && af !== undefined && familyOf(s.address) !== af && "address" in vs.key) {
    warn(`address family of sorry server ${s.address} doesn't match - skipping sorry server`);
    return undefined;
  }
  const port = fixPort(s.address, s.port, method, "sorry server");
  const key = hostPort(s.address, port);
  const dup = realServers.find((r) => r.key === key);
  let inhibit = s.inhibit;
  if (dup && dup.inhibit !== inhibit) {
    warn(
      `real server ${key} matches sorry server, but inhibit setting differs - ${dup.inhibit ? "setting" : "clearing"} on sorry server`,
    );
    inhibit = dup.inhibit;
  }
  return {
    key,
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

/** Quorum sanity (validate_check_config): at most the total weight; hysteresis below quorum. */
function quorumOf(ctx: VsContext, weightSum: number): { quorum: number; hysteresis: number } {
  let quorum = ctx.vs.quorum;
  if (quorum > weightSum) {
    ctx.warn(
      `quorum ${quorum} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`,
    );
    quorum = weightSum;
  }
  let hysteresis = ctx.vs.hysteresis;
  if (hysteresis >= quorum && hysteresis > 0) {
    const h = Math.max(0, quorum - 1);
    ctx.warn(`hysteresis ${hysteresis} >= quorum ${quorum}; setting hysteresis to ${h}`);
    hysteresis = h;
  }
  return { quorum, hysteresis };
}

function haSuspendOf({ vs, group, warn }: VsContext): boolean {
  if (vs.haSuspend && ("fwmark" in vs.key || group?.entries.some((e) => "fwmark" in e))) {
    warn("cannot use ha_suspend with fwmarks - clearing ha_suspend");
    return false;
  }
  return vs.haSuspend;
}

/** One virtual server, or undefined when keepalived ignores it (with the warning it writes). */
function planVirtualServer(
  ctx: VsContext,
  label: string,
  usedKeys: Set<string>,
): PlannedVirtualServer | undefined {
  const { vs, group, warn } = ctx;
  if ("group" in vs.key && !group) {
    warn(`virtual server group ${vs.key.group} specified but not configured - ignoring`);
    return undefined;
  }
  if (vs.realServers.length === 0) {
    warn("has no real servers - ignoring");
    return undefined;
  }
  const hasAddresses = "address" in vs.key || (group?.entries.some((e) => !("fwmark" in e)) ?? false);
  const onlyFwmarks = "fwmark" in vs.key || (group !== undefined && !hasAddresses);
  const protoName: ProtoName | undefined = onlyFwmarks ? undefined : (vs.protocol ?? "TCP");
  const af = vsFamily(ctx);
  const services = planServices(ctx, serviceSettings(ctx, hasAddresses, protoName, af), af);
  const key = uniqueKey(ctx, protoName, af, usedKeys);
  const fixPort = portFixer(ctx);
  const realServers = planRealServers(ctx, key, protoName, fixPort);
  const sorry = planSorry(ctx, af, protoName, fixPort, realServers);
  const { quorum, hysteresis } = quorumOf(
    ctx,
    realServers.reduce((sum, r) => sum + r.weight, 0),
  );
  const haSuspend = haSuspendOf(ctx);
  const vips = [
    ...new Set(services.filter((s) => s.service.address).map((s) => s.service.address as string)),
  ];
  return {
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
    fwd: forwardOf(vs.lvsMethod),
    ...(vs.smtpAlert !== undefined ? { smtpAlert: vs.smtpAlert } : {}),
  };
}

/** Compile the LVS part of a configuration into a plan. */
export function compilePlan(config: LvsConfig): Plan {
  const warnings: string[] = [];
  const groups = new Map(config.virtualServerGroups.map((g) => [g.name, g]));
  const out: PlannedVirtualServer[] = [];
  const groupSeq = new Map<string, number>();
  const usedKeys = new Set<string>();
  const policies = new PolicyPool();
  for (const vs of config.virtualServers) {
    const group = "group" in vs.key ? groups.get(vs.key.group) : undefined;
    const label = vsLabel(vs, groupSeq);
    const warn = (m: string) => warnings.push(`Virtual server ${label}: ${m}`);
    const logAllFailures = config.globalDefs.checkerLogAllFailures;
    const planned = planVirtualServer(
      { vs, group, warn, policies, ...(logAllFailures !== undefined ? { logAllFailures } : {}) },
      label,
      usedKeys,
    );
    if (planned) out.push(planned);
  }
  return {
    virtualServers: out,
    warnings,
    lvsFlush: config.globalDefs.lvsFlush,
    lvsFlushOnStop: config.globalDefs.lvsFlushOnStop,
    ...(config.globalDefs.rsInitNotifies ? { rsInitNotifies: true } : {}),
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
