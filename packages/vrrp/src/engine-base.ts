/**
 * What every VRRP instance engine holds and does mechanically: its state, priorities and
 * intervals, the main timer (RFC 9568 §6.1's timers as keepalived computes them), the effects it
 * emits, and its status. The decisions — when to change state, send, take or drop addresses —
 * are engine.ts's.
 */
import { VRRP_PRIORITY_OWNER, VRRP_PRIORITY_STOP } from "./constants.js";
import {
  type EngineDeps,
  type EngineParams,
  type GroupLink,
  type InstanceEffect,
  type InstanceParams,
  type InstanceStatus,
  normalizeParams,
  type TrackingStatus,
  type VrrpState,
} from "./engine-types.js";
import { GarpSchedule } from "./garp.js";
import { emptyStats, type VrrpStats } from "./stats.js";

export abstract class EngineBase {
  protected _name: string;
  protected _params: EngineParams;
  readonly stats: VrrpStats = emptyStats();
  /** Set by VrrpSyncGroup. */
  group: GroupLink<this> | undefined;

  protected _state: VrrpState = "init";
  /** keepalived `wantstate`: the state this instance would be in disregarding its sync group. */
  wantState: VrrpState;
  protected basePriority: number;
  protected _effectivePriority: number;
  protected tracking: TrackingStatus = { faults: 0, initPending: 0, priorityDelta: 0 };
  protected masterAdverIntCs: number;
  protected msDownMs: number;
  protected deadline: number | undefined;
  protected timer: unknown;
  protected readonly garp: GarpSchedule;
  /** keepalived preempt_time: 0 = not running. */
  protected preemptTime = 0;
  protected master: { address: string; priority: number } | undefined;
  protected vipsSet = false;
  protected notifiesSent = false;
  protected lastTransition: number | undefined;
  protected _started = false;

  constructor(
    params: InstanceParams,
    protected readonly deps: EngineDeps,
  ) {
    const p = normalizeParams(params);
    this._name = p.name;
    this._params = p;
    this.garp = new GarpSchedule(
      deps.clock,
      (e) => this.emit(e),
      () => ({ master: this._state === "master", addresses: this.vipsSet }),
    );
    const owner = p.priority === VRRP_PRIORITY_OWNER;
    this.basePriority = p.priority;
    this._effectivePriority = p.priority;
    // keepalived: no `state` → MASTER for the owner, BACKUP otherwise
    this.wantState = p.initialState ?? (owner ? "master" : "backup");
    this.masterAdverIntCs = p.intervalCs;
    this.msDownMs = this.downIntervalMs();
  }

  /** The instance name (a reload may rename an instance it keeps, as keepalived matches by VRID). */
  get name(): string {
    return this._name;
  }
  get params(): EngineParams {
    return this._params;
  }
  /** start() was called. */
  get started(): boolean {
    return this._started;
  }
  /** The virtual addresses are installed (keepalived `vipset`): MASTER, or on the way out of it. */
  get addressesSet(): boolean {
    return this.vipsSet;
  }

  get state(): VrrpState {
    return this._state;
  }
  get effectivePriority(): number {
    return this._effectivePriority;
  }
  get isOwner(): boolean {
    return this.basePriority === VRRP_PRIORITY_OWNER;
  }
  /** This instance's own tracked faults (not the group's). */
  get ownFaults(): number {
    return this.tracking.faults;
  }
  get initPending(): number {
    return this.tracking.initPending;
  }

  // ---- timing (RFC 9568 §6.1; keepalived vrrp.h VRRP_TIMER_SKEW / VRRP_MS_DOWN_TIMER) ----

  /**
   * Skew_Time in ms. Version 3: ((256 − Priority) × Master_Adver_Interval) / 256 (RFC 9568 §6.1).
   * Version 2: (256 − Priority) / 256 seconds, whatever the interval (RFC 3768 §6.1; keepalived
   * does the same).
   */
  skewMs(priorityValue = 256 - this._effectivePriority): number {
    if (this.params.version === 3) return (priorityValue * this.masterAdverIntCs * 10) / 256;
    return (priorityValue * 1000) / 256;
  }

  /** Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time, in ms. */
  downIntervalMs(): number {
    return this.params.downTimerAdverts * this.masterAdverIntCs * 10 + this.skewMs();
  }

  protected adverIntMs(): number {
    return this.params.intervalCs * 10;
  }

  protected arm(ms: number): void {
    this.disarm();
    const { clock } = this.deps;
    this.deadline = clock.now() + ms;
    this.timer = clock.setTimeout(() => this.onTimer(), ms);
  }

  protected disarm(): void {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.deadline = undefined;
  }

  /** keepalived vrrp_init_instance_sands(): Master → now + Advertisement_Interval; Backup → now + ms_down_timer. */
  protected armForState(): void {
    if (this._state === "master") this.arm(this.adverIntMs());
    else if (this._state === "backup") this.arm(this.msDownMs);
    else this.disarm();
  }

  /** The main timer fired (Adver_Timer as MASTER, Master_Down_Timer as BACKUP). */
  protected abstract onTimer(): void;

  protected emit(e: InstanceEffect): void {
    this.deps.onEffect(e);
  }

  protected setState(to: VrrpState, reason: string): void {
    const from = this._state;
    this._state = to;
    this.emitTransition(from, to, reason);
  }

  protected emitTransition(from: VrrpState, to: VrrpState, reason: string): void {
    this.lastTransition = this.deps.clock.now();
    // keepalived send_instance_notifies(): no notify when a sync group already put us there
    const notify = !(this.notifiesSent && this.group && this.group.state === to);
    this.notifiesSent = true;
    this.emit({ type: "state", from, to, priority: this._effectivePriority, reason, notify });
  }

  protected sendAdvert(priority: number): void {
    this.stats.advert_sent++;
    if (priority === VRRP_PRIORITY_STOP) this.stats.pri_zero_sent++;
    this.emit({ type: "send", priority });
  }

  /** keepalived vrrp_restore_interface(): optional priority-0 advert, then the addresses go. */
  protected restoreInterface(sendStop: boolean): void {
    if (sendStop) this.sendAdvert(VRRP_PRIORITY_STOP);
    this.garp.cancel();
    if (this.vipsSet) {
      this.emit({ type: "remove-addresses" });
      this.vipsSet = false;
    }
  }

  status(): InstanceStatus {
    return {
      name: this.name,
      vrid: this.params.vrid,
      state: this._state,
      wantState: this.wantState,
      basePriority: this.basePriority,
      effectivePriority: this._effectivePriority,
      masterAdverIntervalCs: this.masterAdverIntCs,
      masterDownIntervalMs: this.msDownMs,
      ...(this.master ? { master: { ...this.master } } : {}),
      tracking: { ...this.tracking },
      ...(this.deadline !== undefined ? { timerDeadline: this.deadline } : {}),
      ...(this.lastTransition !== undefined ? { lastTransition: this.lastTransition } : {}),
      stats: this.stats,
    };
  }
}
