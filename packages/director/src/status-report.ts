// `GET /status` assembled from the engine's views, the table as the last passes saw it and the
// health runner's last results (and the real servers as the metrics show them).
import type { TargetStatus } from "@lvs/healthcheck";
import { describeService, destId } from "@lvs/ipvs";
import type { SyncDaemonConfig } from "@lvs/sync";
import { destFor, type Plan, type PlannedCheck, type PlannedVirtualServer } from "./compile.js";
import type { DirectorEngine } from "./engine.js";
import type { RealServerView } from "./engine-state.js";
import { operationLine } from "./format.js";
import type { PassLoop } from "./loop.js";
import type { RealServerMetric } from "./metrics.js";
import type { ObservedTable } from "./observed.js";
import type {
  CheckStatus,
  DirectorStatus,
  DrainStatus,
  RealServerStatus,
  VirtualServerStatus,
} from "./status.js";

/** What the status is made of. */
export interface StatusSources {
  plan: Plan | undefined;
  engine: DirectorEngine;
  /** The table as the passes saw it (undefined: no pass yet, or VRRP only). */
  table: ObservedTable | undefined;
  loop: PassLoop | undefined;
  /** The health runner's status of a target. */
  checkStatus(id: string): TargetStatus | undefined;
  daemon: DirectorStatus["daemon"];
  config: DirectorStatus["config"];
  intervalMs: number;
  vrrp: DirectorStatus["vrrp"];
  syncDaemons(): Promise<SyncDaemonConfig[]>;
}

const FORWARD_NAME: Record<number, "NAT" | "DR" | "TUN"> = { 0: "NAT", 2: "TUN", 3: "DR" };

function checkStatuses(src: StatusSources, checks: readonly PlannedCheck[]): CheckStatus[] {
  return checks.map((c) => {
    const h = src.engine.healthOf(c.id);
    const st = src.checkStatus(c.id);
    return {
      id: c.id,
      kind: c.kind,
      up: h?.up ?? st?.up ?? !c.target.policy?.alpha,
      reason: h?.reason ?? st?.lastResult?.reason ?? null,
      latencyMs: h?.latencyMs ?? st?.lastResult?.latencyMs ?? null,
      at: h?.at ?? null,
    };
  });
}

/** `up`, `down`, `draining`, `drained`, `disabled`, or `sorry` (out while the sorry server serves). */
function stateOf(v: RealServerView, sorryActive: boolean): string {
  const o = v.override;
  if (o?.drain) return o.drain.phase;
  if (o?.disabled) return "disabled";
  if (sorryActive) return v.alive ? "sorry" : "down";
  return v.alive ? "up" : "down";
}

/** Each real server's state and effective weight (the history's timeline follows these). */
export function realServerStates(
  engine: DirectorEngine,
  vs: PlannedVirtualServer,
): Array<[string, { state: string; weight: number }]> {
  const sorryActive = engine.sorryActive(vs);
  return engine
    .realServerViews(vs)
    .map((v) => [v.rs.key, { state: stateOf(v, sorryActive), weight: v.effectiveWeight }]);
}

function realServerStatus(
  src: StatusSources,
  vs: PlannedVirtualServer,
  v: RealServerView,
  sorryActive: boolean,
): RealServerStatus {
  let active = 0;
  let inactive = 0;
  let kernelWeight: number | null = null;
  vs.services.forEach((s, i) => {
    const want = destId(destFor(s, v.rs, 0));
    const d = src.table?.get(s.id)?.dests.find((x) => destId(x) === want);
    if (!d) return;
    active += d.activeConns;
    inactive += d.inactiveConns;
    if (i === 0 || kernelWeight === null) kernelWeight = d.weight;
  });
  return {
    key: v.rs.key,
    label: v.rs.label,
    address: v.rs.address,
    port: v.rs.port,
    forward: FORWARD_NAME[v.rs.fwd.forward] ?? "DR",
    configWeight: v.rs.weight,
    effectiveWeight: v.effectiveWeight,
    kernelWeight,
    desiredWeight: v.desiredWeight ?? null,
    alive: v.alive,
    inhibit: v.rs.inhibit,
    activeConns: active,
    inactiveConns: inactive,
    state: stateOf(v, sorryActive),
    checks: checkStatuses(src, v.rs.checks),
    override: v.override ?? null,
  };
}

function virtualServerStatus(src: StatusSources, vs: PlannedVirtualServer): VirtualServerStatus {
  const { engine } = src;
  const sorryActive = engine.sorryActive(vs);
  const first = vs.services[0];
  return {
    key: vs.key,
    label: vs.label,
    services: vs.services.map((s) => describeService(s.service)),
    scheduler: first?.service.scheduler ?? "wlc",
    persistence: first?.service.timeout ? first.service.timeout : null,
    forward: vs.realServers[0] ? (FORWARD_NAME[vs.realServers[0].fwd.forward] ?? "DR") : "-",
    quorum: {
      up: engine.quorumUp(vs.key),
      quorum: vs.quorum,
      hysteresis: vs.hysteresis,
      liveWeight: engine.liveWeightOf(vs),
    },
    sorry: vs.sorry ? { key: vs.sorry.key, active: sorryActive, inhibit: vs.sorry.inhibit } : null,
    checksSuspended: engine.checksSuspended(vs.key),
    inKernel: vs.services.every((s) => src.table?.has(s.id) ?? false),
    realServers: engine.realServerViews(vs).map((v) => realServerStatus(src, vs, v, sorryActive)),
  };
}

function drainStatuses(
  engine: DirectorEngine,
  virtualServers: readonly VirtualServerStatus[],
): DrainStatus[] {
  const drains: DrainStatus[] = [];
  for (const [k, o] of engine.allOverrides()) {
    if (!o.drain) continue;
    const [vsKey, rsKey] = [k.slice(0, k.indexOf(" ")), k.slice(k.indexOf(" ") + 1)];
    const rs = virtualServers.find((v) => v.key === vsKey)?.realServers.find((r) => r.key === rsKey);
    drains.push({
      virtualServer: vsKey,
      realServer: rsKey,
      phase: o.drain.phase,
      since: o.drain.since,
      deadline: o.drain.deadline ?? null,
      doneAt: o.drain.doneAt ?? null,
      doneReason: o.drain.doneReason ?? null,
      activeConns: rs?.activeConns ?? 0,
    });
  }
  return drains;
}

function reconcileStatus(loop: PassLoop | undefined, intervalMs: number): DirectorStatus["reconcile"] {
  const last = loop?.lastPass;
  return {
    intervalMs,
    passes: loop?.passes ?? 0,
    lastPassAt: last?.startedAt ?? null,
    lastDurationMs: last ? Math.round(last.readMs + last.applyMs) : null,
    lastOperations: last?.operations ?? 0,
    driftRepairs: loop?.driftRepairs ?? 0,
    failures: (last?.failed ?? []).map((f) => ({
      operation: operationLine(f.operation),
      object: f.object ?? null,
      code: f.code,
      errno: f.errnoName ?? null,
      message: f.message,
    })),
    lastReadError: loop?.lastReadError ?? null,
  };
}

/** `GET /status`. */
export async function buildStatus(src: StatusSources): Promise<DirectorStatus> {
  const virtualServers = (src.plan?.virtualServers ?? []).map((vs) => virtualServerStatus(src, vs));
  return {
    daemon: src.daemon,
    config: src.config,
    reconcile: reconcileStatus(src.loop, src.intervalMs),
    virtualServers,
    drains: drainStatuses(src.engine, virtualServers),
    vrrp: src.vrrp,
    syncDaemons: await src.syncDaemons(),
  };
}

/** The configured real servers as the metrics show them. */
export function realServerMetrics(plan: Plan | undefined, engine: DirectorEngine): RealServerMetric[] {
  const out: RealServerMetric[] = [];
  for (const vs of plan?.virtualServers ?? []) {
    for (const v of engine.realServerViews(vs)) {
      out.push({
        virtualServer: vs.key,
        realServer: v.rs.key,
        alive: v.alive,
        effectiveWeight: v.effectiveWeight,
        drain: v.override?.drain ? (v.override.drain.phase === "draining" ? 1 : 2) : 0,
        disabled: v.override?.disabled ?? false,
        checks: v.rs.checks.map((c) => {
          const h = engine.healthOf(c.id);
          return { check: c.kind, up: h?.up ?? !c.target.policy?.alpha, latencyMs: h?.latencyMs };
        }),
      });
    }
  }
  return out;
}
