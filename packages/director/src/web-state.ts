// `GET /api/state`: what the status page renders from, versioned (schema/state-v1.json in this
// package describes it; a change that removes or retypes a field is version 2). It is the
// `/status` document (status-report.ts) plus what an operator looks at on a page: rates, the
// history (history.ts), the dataplane in use, the health verdict of `/healthz`, and the caller's
// access. Paths on the host (config file, state file) and the pid are left out: this document is
// readable without the token on the TCP listener.

import type { CheckProgress } from "@lvs/healthcheck";
import {
  destId,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  type Stats,
} from "@lvs/ipvs";
import type { SyncDaemonConfig } from "@lvs/sync";
import type { BgpAnnouncementStatus, BgpSessionStatus } from "./bgp.js";
import { destFor, type PlannedVirtualServer } from "./compile.js";
import type { CheckRecord, DirectorHistory, TransitionRecord, VrrpTransitionRecord } from "./history.js";
import type { ObservedTable } from "./observed.js";
import type { CheckStatus, DirectorStatus, RealServerStatus, VirtualServerStatus } from "./status.js";
import type { VrrpInstanceStatus } from "./vrrp.js";

export const STATE_SCHEMA_VERSION = 1;
export const STATE_SCHEMA_ID = "https://lvs.invalid/schema/state-v1.json";

export interface Rates {
  /** New connections per second (the dataplane's rate estimator). */
  cps: number;
  inBps: number;
  outBps: number;
}

export interface WebCheck extends CheckStatus {
  /** Rise/fall progress (null: the health runner doesn't know the check yet). */
  progress: CheckProgress | null;
}

export interface WebRealServer extends Omit<RealServerStatus, "override" | "checks" | "inhibit"> {
  rates: Rates;
  checks: WebCheck[];
  drain: { phase: "draining" | "drained"; since: number; deadline: number | null } | null;
  disabled: boolean;
  weightOverride: number | null;
  history: { checks: CheckRecord[]; transitions: TransitionRecord[] };
}

export interface WebVirtualServer extends Omit<VirtualServerStatus, "realServers"> {
  /** `persistent`, `one-packet`, `sched1`… of its first kernel service. */
  flags: string[];
  rates: Rates;
  realServers: WebRealServer[];
}

export interface WebVrrpInstance extends VrrpInstanceStatus {
  transitions: VrrpTransitionRecord[];
}

export interface HealthVerdict {
  ok: boolean;
  /** Why not ok: `VI_1 is FAULT`, `dataplane: …`. Empty when ok. */
  reasons: string[];
}

export interface WebState {
  $schema: string;
  version: 1;
  /** Epoch ms when this was built. */
  generatedAt: number;
  /** `write`: the caller may drain, weight, enable, disable (it holds the token, or uses the socket). */
  access: "read" | "write";
  daemon: { startedAt: number; mode: "all" | "check" | "vrrp" };
  /** `ipvs`, `proxy`, another dataplane's own name, or `none` (VRRP only). */
  dataplane: string;
  health: HealthVerdict;
  config: { loadedAt: number; warnings: string[] };
  reconcile: DirectorStatus["reconcile"] & { refusals: number; readErrors: number };
  vrrp: { running: boolean; instances: WebVrrpInstance[] };
  syncDaemons: SyncDaemonConfig[];
  virtualServers: WebVirtualServer[];
  /** The `bgp:` section's sessions and what they announce (null without one). */
  bgp?: { sessions: BgpSessionStatus[]; announcement: BgpAnnouncementStatus } | null;
  /** The whole director is drained (`lvsctl drain --director`) since then; null: not drained. */
  directorDrain?: { since: number } | null;
}

export interface WebStateSources {
  status: DirectorStatus;
  plan: readonly PlannedVirtualServer[];
  table: ObservedTable | undefined;
  history: DirectorHistory;
  dataplane: string;
  health: HealthVerdict;
  counters: { refusals: number; readErrors: number };
  /** The health runner's rise/fall progress of a check. */
  progress(checkId: string): CheckProgress | undefined;
  now: number;
  access: "read" | "write";
}

const n = (v: bigint | undefined): number => (v === undefined ? 0 : Number(v));

function addRates(r: Rates, st: Stats | undefined): void {
  r.cps += n(st?.cps);
  r.inBps += n(st?.inBps);
  r.outBps += n(st?.outBps);
}

/** include/uapi/linux/ip_vs.h IP_VS_SVC_F_* as ipvsadm -L names them (HASHED is internal). */
function flagNames(flags: number, scheduler: string): string[] {
  const out: string[] = [];
  if (flags & IP_VS_SVC_F_PERSISTENT) out.push("persistent");
  if (flags & IP_VS_SVC_F_ONEPACKET) out.push("ops");
  const sched = scheduler === "mh" ? "mh" : "sh";
  if (flags & IP_VS_SVC_F_SCHED1) out.push(`${sched}-fallback`);
  if (flags & IP_VS_SVC_F_SCHED2) out.push(`${sched}-port`);
  if (flags & IP_VS_SVC_F_SCHED3) out.push("flag-3");
  return out;
}

function realServer(
  src: WebStateSources,
  vs: VirtualServerStatus,
  planned: PlannedVirtualServer | undefined,
  rs: RealServerStatus,
): WebRealServer {
  const rates: Rates = { cps: 0, inBps: 0, outBps: 0 };
  const prs = planned?.realServers.find((r) => r.key === rs.key);
  for (const s of planned?.services ?? []) {
    if (!prs) break;
    const want = destId(destFor(s, prs, 0));
    const d = src.table?.get(s.id)?.dests.find((x) => destId(x) === want);
    addRates(rates, d?.stats64 ?? d?.stats);
  }
  const { override, checks, inhibit: _inhibit, ...rest } = rs;
  const drain = override?.drain
    ? { phase: override.drain.phase, since: override.drain.since, deadline: override.drain.deadline ?? null }
    : null;
  return {
    ...rest,
    rates,
    checks: checks.map((c) => ({ ...c, progress: src.progress(c.id) ?? null })),
    drain,
    disabled: override?.disabled ?? false,
    weightOverride: override?.weight ?? null,
    history: {
      checks: src.history.checksOf(vs.key, rs.key),
      transitions: src.history.transitionsOf(vs.key, rs.key),
    },
  };
}

function virtualServer(src: WebStateSources, vs: VirtualServerStatus): WebVirtualServer {
  const planned = src.plan.find((p) => p.key === vs.key);
  const rates: Rates = { cps: 0, inBps: 0, outBps: 0 };
  let flags: string[] = [];
  planned?.services.forEach((s, i) => {
    const entry = src.table?.get(s.id)?.service;
    addRates(rates, entry?.stats64 ?? entry?.stats);
    if (i === 0) flags = flagNames(entry?.flags ?? s.service.flags ?? 0, vs.scheduler);
  });
  const { realServers, ...rest } = vs;
  return { ...rest, flags, rates, realServers: realServers.map((r) => realServer(src, vs, planned, r)) };
}

/** `GET /api/state`. */
export function buildWebState(src: WebStateSources): WebState {
  const { status } = src;
  return {
    $schema: STATE_SCHEMA_ID,
    version: STATE_SCHEMA_VERSION,
    generatedAt: src.now,
    access: src.access,
    daemon: { startedAt: status.daemon.startedAt, mode: status.daemon.mode },
    dataplane: src.dataplane,
    health: src.health,
    config: { loadedAt: status.config.loadedAt, warnings: status.config.warnings },
    reconcile: { ...status.reconcile, ...src.counters },
    vrrp: {
      running: status.vrrp.running,
      instances: status.vrrp.instances.map((i) => ({
        ...i,
        transitions: src.history.vrrpTransitionsOf(i.name),
      })),
    },
    syncDaemons: status.syncDaemons,
    virtualServers: status.virtualServers.map((vs) => virtualServer(src, vs)),
    bgp:
      status.bgp && status.bgpAnnouncement
        ? { sessions: status.bgp, announcement: status.bgpAnnouncement }
        : null,
    directorDrain: status.directorDrain ?? null,
  };
}

/** `/healthz`'s verdict: every VRRP instance MASTER or BACKUP, and the dataplane answering. */
export function healthVerdict(
  instances: readonly VrrpInstanceStatus[],
  dataplaneError: string | undefined,
): HealthVerdict {
  const reasons: string[] = [];
  for (const i of instances) {
    if (i.state !== "MASTER" && i.state !== "BACKUP") reasons.push(`${i.name} is ${i.state}`);
  }
  if (dataplaneError !== undefined) reasons.push(`dataplane: ${dataplaneError}`);
  return { ok: reasons.length === 0, reasons };
}
