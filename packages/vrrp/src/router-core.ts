/**
 * The state every part of the router reads: the running instances, scripts and sync groups, the
 * links and addresses last read, the injected I/O, and the router's events. The parts (links.ts,
 * wire.ts, effects.ts, script-timers.ts, instances.ts, reload.ts) hold the behaviour.
 */
import type { EventEmitter } from "node:events";
import type { Clock } from "@lvs/inet";
import type { AcceptFilter } from "./accept.js";
import type { TrackingStatus, VrrpInstanceEngine, VrrpState } from "./engine.js";
import type { VrrpError } from "./errors.js";
import type { AddressState, LinkState, NetOps } from "./netops.js";
import type { Notifier } from "./notify.js";
import type { ResolvedInstance, ResolvedScript, VrrpRouterOptions } from "./options.js";
import { allVips, type GroupPlan } from "./router-plan.js";
import type { RxInstance } from "./rx.js";
import type { ScriptCommand, ScriptOutcome } from "./scripts.js";
import type { VrrpSyncGroup } from "./sync-group.js";
import { aggregateTracking, type ScriptResult, type TrackRef, type TrackState } from "./tracking.js";
import type { VrrpTransport } from "./transport.js";

/** One running vrrp_instance. */
export interface InstanceRuntime {
  r: ResolvedInstance;
  engine: VrrpInstanceEngine;
  /** The source address of our adverts (undefined while the interface has none). */
  primary: string | undefined;
  ipId: number;
  /** Address, announce and notify work of this instance, one after the other. */
  queue: Promise<void>;
  rx: RxInstance;
  /** Removed by a reload: its STOP is notified as keepalived notifies a deleted instance. */
  removed?: boolean;
}

/** One running vrrp_script. */
export interface ScriptRuntime {
  s: ResolvedScript;
  result: ScriptResult;
  running: boolean;
  runs: number;
  timer: unknown;
  /** Replaced or removed by a reload: a run still going is ignored. */
  retired?: boolean;
}

/** A state transition of an instance or a sync group, with its reason ("state" event). */
export interface StateChange {
  kind: "INSTANCE" | "GROUP";
  name: string;
  from: VrrpState;
  to: VrrpState;
  priority: number;
  reason: string;
  at: number;
}

/** An advert accepted by the receive path ("advert" event). */
export interface AdvertSeen {
  instance: string;
  priority: number;
  source: string;
}

export interface CoreIo {
  clock: Clock;
  transport: VrrpTransport;
  net: NetOps;
  notifier: Notifier;
  runScript: (cmd: ScriptCommand, timeoutMs: number) => Promise<ScriptOutcome>;
  /** Given by the caller (else made on first need in the router's namespace). */
  acceptFilter: AcceptFilter | undefined;
}

export class RouterCore {
  opts: VrrpRouterOptions;
  readonly instances: InstanceRuntime[] = [];
  groups: VrrpSyncGroup[] = [];
  groupPlans = new Map<string, GroupPlan>();
  /** Sync-group tracking by member instance name. */
  groupTracks = new Map<string, TrackRef[]>();
  readonly scripts = new Map<string, ScriptRuntime>();
  links = new Map<string, LinkState>();
  addrs: AddressState[] = [];
  started = false;
  stopped = false;
  /** no_accept masters' drop rules (nftables), only once an instance has accept off. */
  acceptFilter: AcceptFilter | undefined;

  constructor(
    options: VrrpRouterOptions,
    readonly io: CoreIo,
    private readonly events: EventEmitter,
  ) {
    this.opts = options;
  }

  get clock(): Clock {
    return this.io.clock;
  }

  warn(msg: string): void {
    if (this.events.listenerCount("warning") > 0) this.events.emit("warning", msg);
  }

  fail(err: VrrpError): void {
    if (this.events.listenerCount("error") > 0) this.events.emit("error", err);
  }

  emitState(change: StateChange): void {
    this.events.emit("state", change);
  }

  emitAdvert(seen: AdvertSeen): void {
    this.events.emit("advert", seen);
  }

  /** Our VIPs (never a source address). */
  ours(instances: readonly ResolvedInstance[] = this.instances.map((rt) => rt.r)): Set<string> {
    return new Set(instances.flatMap((r) => allVips(r).map((v) => v.address)));
  }

  private trackState(rt: InstanceRuntime, ref: TrackRef): TrackState {
    if (ref.kind === "script") return this.scripts.get(ref.name)?.result.state ?? "down";
    const up = this.links.get(ref.name)?.up === true;
    // the instance's own interface also needs an address to send from
    if (ref.name === rt.r.interface && ref.weight === 0 && rt.primary === undefined) return "down";
    return up ? "up" : "down";
  }

  /** The instance's tracked objects (its own and its sync group's) as the engine takes them. */
  trackingOf(rt: InstanceRuntime): TrackingStatus {
    const refs = [...rt.r.tracks, ...(this.groupTracks.get(rt.r.name) ?? [])];
    const t = aggregateTracking(refs, (ref) => this.trackState(rt, ref));
    if (rt.r.configFault) t.faults++;
    if (rt.r.trackSourceIp && !this.hasAddress(rt.r.interface, rt.r.sourceIp)) t.faults++;
    return t;
  }

  /** Is `address` on `dev` (as last read from the kernel)? */
  private hasAddress(dev: string, address: string | undefined): boolean {
    return this.addrs.some((a) => a.dev === dev && a.address === address);
  }

  /** Gives every instance its tracking again (after links, addresses or a script moved). */
  retrack(except?: ReadonlySet<InstanceRuntime>): void {
    for (const rt of this.instances) if (!except?.has(rt)) rt.engine.setTracking(this.trackingOf(rt));
  }

  /** The engines that belong to a sync group (the group starts and stops them). */
  groupedEngines(): Set<VrrpInstanceEngine> {
    return new Set(this.groups.flatMap((g) => g.members));
  }
}
