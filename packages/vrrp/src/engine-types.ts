/**
 * The VRRP engine's vocabulary: the parameters of one instance with keepalived's defaults and
 * checks (vrrp.c vrrp_complete_instance()), the effects it asks for, what it receives, its
 * status, and the sync-group link. The state machine itself is engine.ts.
 */

import type { Clock } from "@lvs/inet";
import {
  KEEPALIVED_GARP_MASTER_DELAY_MS,
  KEEPALIVED_GARP_MASTER_REFRESH_MS,
  KEEPALIVED_GARP_MASTER_REFRESH_REPEAT,
  KEEPALIVED_GARP_MASTER_REPEAT,
  VRRP_DOWN_TIMER_ADVERTS,
  VRRP_PRIORITY_OWNER,
} from "./constants.js";
import { VrrpError } from "./errors.js";
import type { VrrpStats } from "./stats.js";

export type VrrpState = "init" | "backup" | "master" | "fault" | "stop";

/** The resolved parameters of one instance (durations in ms, interval in centiseconds). */
export interface InstanceParams {
  name: string;
  vrid: number;
  version: 2 | 3;
  /** Base priority 1..255; 255 = address owner (RFC 9568 §5.2.4). */
  priority: number;
  /** keepalived `state`: the wanted state at start. MASTER takes effect at once only for the owner. */
  initialState?: "master" | "backup";
  /** Advertisement_Interval in centiseconds (v2: whole seconds × 100). */
  intervalCs: number;
  /** Preempt_Mode (RFC 9568 §6.1); keepalived `nopreempt` = false. Default true. */
  preempt?: boolean;
  /** keepalived `preempt_delay`: a lower-priority master is tolerated this long once seen. */
  preemptDelayMs?: number;
  /** keepalived `down_timer_adverts` (RFC: 3). */
  downTimerAdverts?: number;
  /** keepalived `vrrp_lower_prio_no_advert`: a master does not answer a lower-priority advert. */
  lowerPrioNoAdvert?: boolean;
  /** keepalived `vrrp_higher_prio_send_advert`: a master sends one advert before yielding. */
  higherPrioSendAdvert?: boolean;
  /** Accept_Mode (RFC 9568 §6.1): carried to the I/O layer; the owner always accepts. */
  accept?: boolean;
  garpMasterDelayMs?: number;
  garpMasterRepeat?: number;
  garpMasterRefreshMs?: number;
  garpMasterRefreshRepeat?: number;
  /** After a lower-priority advert reached the master: a GARP/NA round now and one this much later (default 5 s). */
  garpLowerPrioDelayMs?: number;
  /** Default 5, as keepalived (vrrp_garp_lower_prio_repeat = vrrp_garp_master_repeat). */
  garpLowerPrioRepeat?: number;
  /** keepalived `notify_priority_changes`: report effective priority changes. */
  notifyPriorityChanges?: boolean;
}

/** What the engine asks its I/O layer to do, in order. */
export type InstanceEffect =
  | { type: "send"; priority: number }
  | { type: "add-addresses" }
  | { type: "remove-addresses" }
  | { type: "announce"; repeat: number; reason: "master" | "delayed" | "refresh" | "lower-priority" }
  | { type: "state"; from: VrrpState; to: VrrpState; priority: number; reason: string; notify: boolean }
  | { type: "priority"; from: number; to: number; state: VrrpState; notify: boolean }
  | { type: "master-rx-lower-priority"; priority: number; source: string };

/** A received advert that passed the receive path's checks. */
export interface ReceivedAdvert {
  priority: number;
  /** The sender's advertisement interval, centiseconds (used by version 3 in Backup). */
  intervalCs: number;
  /** The sender's (canonical) source address. */
  source: string;
}

/** Aggregated tracking of one instance (see tracking.ts). */
export interface TrackingStatus {
  /** Tracked objects without weight that are down (interface down, script failing): > 0 → FAULT. */
  faults: number;
  /** Weightless scripts that have not reported yet: the instance waits in FAULT/INIT. */
  initPending: number;
  /** Sum of the weights in effect, added to the base priority (clamped 1..254). */
  priorityDelta: number;
}

export interface InstanceStatus {
  name: string;
  vrid: number;
  state: VrrpState;
  wantState: VrrpState;
  basePriority: number;
  effectivePriority: number;
  /** Master_Adver_Interval in centiseconds (the master's, learnt in Backup for version 3). */
  masterAdverIntervalCs: number;
  /** Master_Down_Interval in milliseconds. */
  masterDownIntervalMs: number;
  /** Last master heard (Backup), with its priority. */
  master?: { address: string; priority: number };
  tracking: TrackingStatus;
  /** When the main timer fires next (clock ms), if armed. */
  timerDeadline?: number;
  lastTransition?: number;
  stats: VrrpStats;
}

export interface EngineDeps {
  clock: Clock;
  /** Receives every effect, synchronously, in order. */
  onEffect: (effect: InstanceEffect) => void;
  /** The local primary address (the source of our adverts) for the equal-priority tie-break. */
  primaryAddress: () => string | undefined;
}

/**
 * The sync-group side the engine calls (implemented by VrrpSyncGroup for VrrpInstanceEngine; the
 * member type is a parameter so these types don't import the engine that imports them).
 */
export interface GroupLink<Member = unknown> {
  readonly state: VrrpState;
  canGotoMaster(member: Member): boolean;
  /** keepalived's transition matrix (VRRP_TSM_HANDLE) after an instance event. */
  afterTransition(member: Member, from: VrrpState, to: VrrpState): void;
  /** A member's own faults went 0 → > 0. */
  memberDown(member: Member): void;
  /** Another member still has faults (so this one must stay in FAULT). */
  otherMemberFaulty(member: Member): boolean;
  /** A member left FAULT by itself. */
  memberUp(member: Member): void;
}

export const clampPriority = (p: number) =>
  p < 1 ? 1 : p >= VRRP_PRIORITY_OWNER ? VRRP_PRIORITY_OWNER - 1 : p;

/** The engine's parameters with every default filled in. */
export type EngineParams = Readonly<Required<Omit<InstanceParams, "initialState">>> & {
  initialState?: "master" | "backup";
};

/** Checks one instance's parameters and fills in keepalived's defaults (vrrp_complete_instance()). */
export function normalizeParams(p: InstanceParams): EngineParams {
  if (!Number.isInteger(p.vrid) || p.vrid < 1 || p.vrid > 255) {
    throw new VrrpError("VRRP_BAD_CONFIG", `${p.name}: virtual_router_id ${p.vrid} must be 1..255`, {
      object: p.name,
    });
  }
  if (!Number.isInteger(p.priority) || p.priority < 1 || p.priority > 255) {
    throw new VrrpError("VRRP_BAD_CONFIG", `${p.name}: priority ${p.priority} must be 1..255`, {
      object: p.name,
    });
  }
  if (!(p.intervalCs > 0) || (p.version === 2 && p.intervalCs % 100 !== 0)) {
    throw new VrrpError(
      "VRRP_BAD_CONFIG",
      `${p.name}: advert_int ${p.intervalCs / 100} s is not valid for VRRPv${p.version}${p.version === 2 ? " (whole seconds)" : ""}`,
      { object: p.name },
    );
  }
  const owner = p.priority === VRRP_PRIORITY_OWNER;
  return {
    name: p.name,
    vrid: p.vrid,
    version: p.version,
    priority: p.priority,
    intervalCs: p.intervalCs,
    // keepalived vrrp_complete_instance(): nopreempt is meaningless for the owner
    preempt: owner ? true : (p.preempt ?? true),
    preemptDelayMs: p.preemptDelayMs ?? 0,
    downTimerAdverts: p.downTimerAdverts ?? VRRP_DOWN_TIMER_ADVERTS,
    lowerPrioNoAdvert: p.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: p.higherPrioSendAdvert ?? false,
    accept: owner ? true : (p.accept ?? true),
    garpMasterDelayMs: p.garpMasterDelayMs ?? KEEPALIVED_GARP_MASTER_DELAY_MS,
    garpMasterRepeat: p.garpMasterRepeat ?? KEEPALIVED_GARP_MASTER_REPEAT,
    garpMasterRefreshMs: p.garpMasterRefreshMs ?? KEEPALIVED_GARP_MASTER_REFRESH_MS,
    garpMasterRefreshRepeat: p.garpMasterRefreshRepeat ?? KEEPALIVED_GARP_MASTER_REFRESH_REPEAT,
    // keepalived vrrp_complete_init(): vrrp_garp_lower_prio_{repeat,delay} default to the
    // global vrrp_garp_master_{repeat,delay}
    garpLowerPrioDelayMs: p.garpLowerPrioDelayMs ?? KEEPALIVED_GARP_MASTER_DELAY_MS,
    garpLowerPrioRepeat: p.garpLowerPrioRepeat ?? KEEPALIVED_GARP_MASTER_REPEAT,
    notifyPriorityChanges: p.notifyPriorityChanges ?? false,
    ...(p.initialState !== undefined ? { initialState: p.initialState } : {}),
  };
}
