/**
 * The VRRP state machine of one virtual router (RFC 3768 §6, RFC 9568 §6), pure: driven by
 * events (start, a validated advert, timer expiry, tracking changes, stop) and an injected
 * clock; everything it wants done comes out as ordered effects. Where the RFCs leave room, it
 * does what keepalived 2.2.7 does (vrrp.c, vrrp_scheduler.c, vrrp_track.c), so the two elect the
 * same master on one link. Its vocabulary (parameters, effects, status) is engine-types.ts.
 */
import { compareAddresses } from "@lvs/inet";
import { VRRP_PRIORITY_OWNER, VRRP_PRIORITY_STOP } from "./constants.js";
import { EngineBase } from "./engine-base.js";
import {
  clampPriority,
  type InstanceParams,
  normalizeParams,
  type ReceivedAdvert,
  type TrackingStatus,
  type VrrpState,
} from "./engine-types.js";
import { VrrpError } from "./errors.js";

export type {
  EngineDeps,
  EngineParams,
  GroupLink,
  InstanceEffect,
  InstanceParams,
  InstanceStatus,
  ReceivedAdvert,
  TrackingStatus,
  VrrpState,
} from "./engine-types.js";

export class VrrpInstanceEngine extends EngineBase {
  /** Runs an event handler and, for sync-group members, keepalived's transition matrix after it. */
  protected event(fn: () => void): void {
    const before = this._state;
    fn();
    if (this.group && this._state !== "stop") this.group.afterTransition(this, before, this._state);
  }
  // ---- events ----

  /** RFC 9568 §6.4.1 Initialize, as keepalived vrrp_init_state(). */
  start(): void {
    if (this._started) return;
    this._started = true;
    const groupState = this.group?.state;
    const newState = groupState ?? this.wantState;
    const up = this.tracking.faults === 0;
    if (
      up &&
      newState === "master" &&
      this.tracking.initPending === 0 &&
      this.isOwner &&
      this.wantState === "master"
    ) {
      // "The simplest way to become master is to timeout from the backup state very quickly"
      this._state = "backup";
      this.arm(0);
      return;
    }
    if (newState === "backup" && this.wantState === "master") {
      // a sync group member that wants MASTER: one advert interval to make sure there is no other master
      this.msDownMs = this.masterAdverIntCs * 10 + this.skewMs(1);
    } else {
      this.msDownMs = this.downIntervalMs();
    }
    if (up && newState !== "fault" && this.tracking.initPending === 0) {
      this.setState("backup", "init");
      this.armForState();
    } else {
      this._state = "fault";
      this.disarm();
      if (this.tracking.faults > 0) this.setState("fault", "init");
    }
  }

  protected onTimer(): void {
    this.timer = undefined;
    this.deadline = undefined;
    this.event(() => {
      if (this._state === "backup") {
        // RFC 9568 §6.4.2: "If the Master_Down_Timer fires" → transition to Master
        this.wantState = "master";
        this.gotoMaster("master down timer expired");
      } else if (this._state === "master") {
        // RFC 9568 §6.4.3: "If the Adver_Timer fires" → send an ADVERTISEMENT, reset the timer
        this.masterTx();
        this.armForState();
      }
    });
  }

  /** A validated advert for this VRID (the receive path already dropped and counted bad ones). */
  receive(adv: ReceivedAdvert): void {
    if (this._state !== "backup" && this._state !== "master") return;
    if (adv.priority === VRRP_PRIORITY_STOP) this.stats.pri_zero_rcvd++;
    this.event(() => {
      if (this._state === "backup") this.backupRx(adv);
      else this.masterRx(adv);
    });
  }

  /** RFC 9568 §6.4.2 Backup, receiving an ADVERTISEMENT (keepalived vrrp_state_backup()). */
  private backupRx(adv: ReceivedAdvert): void {
    const now = this.deps.clock.now();
    const p = this.params;
    if (adv.priority === VRRP_PRIORITY_STOP) {
      // "If the Priority in the ADVERTISEMENT is zero, then: Set the Master_Down_Timer to Skew_Time"
      this.msDownMs = this.skewMs();
      this.arm(this.msDownMs);
      return;
    }
    const delaying = p.preemptDelayMs > 0 && (this.preemptTime === 0 || this.preemptTime > now);
    if (!p.preempt || adv.priority >= this._effectivePriority || delaying) {
      // "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater than or equal
      // to the local Priority": (v3) set Master_Adver_Interval to Max Adver Interval contained in the
      // ADVERTISEMENT, recompute Master_Down_Interval, reset the Master_Down_Timer
      if (p.version === 3) this.masterAdverIntCs = adv.intervalCs;
      this.msDownMs = this.downIntervalMs();
      this.master = { address: adv.source, priority: adv.priority };
      if (p.preemptDelayMs > 0) {
        if (adv.priority >= this._effectivePriority) this.preemptTime = 0;
        else if (this.preemptTime === 0) this.preemptTime = now + p.preemptDelayMs;
      }
      this.wantState = "backup";
      this.arm(this.msDownMs);
      return;
    }
    // "Otherwise: Discard the ADVERTISEMENT" — the timer keeps running
    this.master = { address: adv.source, priority: adv.priority };
  }

  private compareWithSender(source: string): number {
    const mine = this.deps.primaryAddress();
    if (!mine) return 0;
    try {
      return compareAddresses(source, mine);
    } catch {
      return 0;
    }
  }

  /** RFC 9568 §6.4.3 Master, receiving an ADVERTISEMENT (keepalived vrrp_state_master_rx()). */
  private masterRx(adv: ReceivedAdvert): void {
    const p = this.params;
    const cmp = this.compareWithSender(adv.source);
    const eff = this._effectivePriority;
    const higher = adv.priority > eff || (adv.priority === eff && cmp > 0);
    if (adv.priority === VRRP_PRIORITY_STOP || (p.higherPrioSendAdvert && higher)) {
      // "If the Priority in the ADVERTISEMENT is zero, then: Send an ADVERTISEMENT, Reset the Adver_Timer"
      this.sendAdvert(eff);
      if (adv.priority === VRRP_PRIORITY_STOP) {
        this.armForState();
        return;
      }
    }
    if (adv.priority === eff && cmp !== 0 && eff === VRRP_PRIORITY_OWNER) {
      // keepalived: two address owners on one VRID is a configuration error; step down to 254
      this.basePriority = VRRP_PRIORITY_OWNER - 1;
      this._effectivePriority = VRRP_PRIORITY_OWNER - 1;
    }
    const e2 = this._effectivePriority;
    if (adv.priority < e2 || (adv.priority === e2 && cmp < 0)) {
      // a lower-priority master: keepalived forces a new election by answering with an advert
      if (!p.lowerPrioNoAdvert) this.sendAdvert(e2);
      this.garp.lowerPriority(p);
      this.emit({ type: "master-rx-lower-priority", priority: adv.priority, source: adv.source });
      if (!p.lowerPrioNoAdvert) this.armForState();
      return;
    }
    if (adv.priority > e2 || (adv.priority === e2 && cmp > 0)) {
      // "If the Priority in the ADVERTISEMENT is greater than the local Priority, or [equal and] the
      // primary IPvX Address of the sender is greater than the local primary IPvX Address":
      // cancel Adver_Timer, (v3) learn Master_Adver_Interval, set Master_Down_Timer, → Backup
      if (p.version === 3) this.masterAdverIntCs = adv.intervalCs;
      this.master = { address: adv.source, priority: adv.priority };
      this.wantState = "backup";
      this.leaveMaster(false, `higher priority ${adv.priority} from ${adv.source}`);
      return;
    }
    // equal priority and our own address: keepalived warns and ignores; keep advertising
    if (!p.lowerPrioNoAdvert) this.armForState();
  }

  /** Applies new tracking figures (interfaces, scripts): FAULT in/out, effective priority. */
  setTracking(t: TrackingStatus): void {
    const prev = this.tracking;
    this.tracking = { ...t };
    if (!this._started) {
      this.applyPriority();
      return;
    }
    if (this._state === "stop") return;
    this.event(() => {
      this.applyPriority();
      if (prev.faults === 0 && t.faults > 0) this.down();
      else if ((prev.faults > 0 || prev.initPending > 0) && t.faults === 0 && t.initPending === 0)
        this.tryUp();
    });
  }

  /** keepalived vrrp_set_effective_priority(): base + weights, clamped to 1..254; never for the owner. */
  private applyPriority(): void {
    const next =
      this.basePriority === VRRP_PRIORITY_OWNER
        ? VRRP_PRIORITY_OWNER
        : clampPriority(this.basePriority + this.tracking.priorityDelta);
    if (next === this._effectivePriority) return;
    const from = this._effectivePriority;
    const oldDown = this.msDownMs;
    this._effectivePriority = next;
    this.msDownMs = this.downIntervalMs();
    if (this._state === "backup" && this.deadline !== undefined) {
      // move the running Master_Down_Timer by the change of its interval
      const remaining = this.deadline - this.deps.clock.now() + (this.msDownMs - oldDown);
      this.arm(Math.max(0, remaining));
    }
    this.emit({
      type: "priority",
      from,
      to: next,
      state: this._state,
      notify: this.params.notifyPriorityChanges,
    });
  }

  /**
   * Reload (keepalived reload_vrrp_thread(): vrrp_complete_init() and clear_diff_vrrp() keep the
   * state of an instance found again with the same VRID, family and interface): new parameters
   * and tracking for a running instance, which keeps its state, its learnt master, its counters
   * and its addresses. A running Master_Down_Timer is moved by the change of the interval; the
   * effective priority is recomputed (a `priority` effect when it moves); tracked faults take it
   * in or out of FAULT as they would at any time; a MASTER then sends an advert at once with the
   * new priority, addresses and interval (keepalived's `reload_master` sets its timer to now).
   * The VRID cannot change in place: keepalived treats that as a removal and an addition.
   */
  reconfigure(params: InstanceParams, tracking: TrackingStatus): void {
    const p = normalizeParams(params);
    const old = this._params;
    if (p.vrid !== old.vrid) {
      throw new VrrpError(
        "VRRP_BAD_CONFIG",
        `${p.name}: virtual_router_id ${old.vrid} cannot change in place (remove the instance and add a new one)`,
        { object: p.name },
      );
    }
    const now = this.deps.clock.now();
    const oldFull = this.downIntervalMs();
    this._name = p.name;
    this._params = p;
    // an owner that stepped down to 254 on meeting another owner takes its configured priority again
    this.basePriority = p.priority;
    if (p.preemptDelayMs === 0) this.preemptTime = 0;
    // a version 3 Backup keeps the Master_Adver_Interval it learnt from the master's adverts
    if (!(this._state === "backup" && p.version === 3 && old.version === 3))
      this.masterAdverIntCs = p.intervalCs;
    if (p.garpMasterRefreshMs !== old.garpMasterRefreshMs) this.garp.refreshChanged(p, this.vipsSet, now);
    const newFull = this.downIntervalMs();
    if (this.msDownMs === oldFull) {
      // the full Master_Down_Interval (not a Skew_Time after priority 0): follow the new interval
      this.msDownMs = newFull;
      if (this._state === "backup" && this.deadline !== undefined && newFull !== oldFull)
        this.arm(Math.max(0, this.deadline - now + (newFull - oldFull)));
    }
    if (!this._started || this._state === "stop") {
      this.tracking = { ...tracking };
      if (!this._started) this.wantState = p.initialState ?? (this.isOwner ? "master" : "backup");
      this.applyPriority();
      return;
    }
    this.event(() => {
      const prev = this.tracking;
      this.tracking = { ...tracking };
      this.applyPriority();
      if (prev.faults === 0 && tracking.faults > 0) this.down();
      else if (
        (prev.faults > 0 || prev.initPending > 0) &&
        tracking.faults === 0 &&
        tracking.initPending === 0
      )
        this.tryUp();
      else if (this._state === "master") {
        this.sendAdvert(this._effectivePriority);
        this.armForState();
      }
    });
  }

  /**
   * A reloaded sync group that is not MASTER while this member is (keepalived vrrp_init_state()):
   * the addresses go without a priority-0 advert, the member enters BACKUP still wanting MASTER
   * and waits one advert interval + the minimum skew before it tries again.
   */
  demoteForGroup(reason: string): void {
    if (this._state !== "master") return;
    this.restoreInterface(false);
    this.setState("backup", reason);
    this.wantState = "master";
    this.msDownMs = this.masterAdverIntCs * 10 + this.skewMs(1);
    this.arm(this.msDownMs);
    this.stats.release_master++;
  }

  /** keepalived down_instance(): the first fault takes the instance (and its sync group) to FAULT. */
  private down(): void {
    this.wantState = "fault";
    if (this._state === "master") this.leaveMaster(true, "tracked object down");
    else this.leaveFault("tracked object down");
    this.group?.memberDown(this);
  }

  /** keepalived try_up_instance(): back from FAULT when nothing tracked is down. */
  private tryUp(): void {
    // keepalived try_up_instance(): MASTER again at once only for an owner that never left for FAULT
    this.wantState = this.wantState === "master" && this.isOwner ? "master" : "backup";
    this.masterAdverIntCs = this.params.intervalCs;
    this.msDownMs =
      this.wantState === "master" && this.isOwner
        ? this.masterAdverIntCs * 10 + this.skewMs()
        : this.downIntervalMs();
    if (this.group?.otherMemberFaulty(this)) return;
    const want = this.wantState;
    this.leaveFault("tracked objects up");
    this.wantState = want;
    this.group?.memberUp(this);
  }

  /** keepalived vrrp_state_goto_master(). */
  gotoMaster(reason: string): void {
    if (this.group && !this.group.canGotoMaster(this)) {
      // wait for the other members: keep MASTER wanted, rearm a full Master_Down_Interval
      this.wantState = "master";
      this.msDownMs = this.downIntervalMs();
      this.arm(this.msDownMs);
      return;
    }
    const from = this._state;
    this._state = "master";
    this.masterTx(reason, from);
    this.armForState();
  }

  /**
   * keepalived vrrp_state_master_tx(): the advert goes first ("the old master needs to remove the
   * VIPs before we send the gratuitous ARPs"), then on the transition the addresses, GARP/NA,
   * the notifies and the delayed second GARP round.
   */
  private masterTx(reason = "master down timer expired", from: VrrpState = "backup"): void {
    const p = this.params;
    this.sendAdvert(this._effectivePriority);
    const now = this.deps.clock.now();
    if (!this.vipsSet) {
      this.stats.become_master++;
      this.masterAdverIntCs = p.intervalCs;
      this.msDownMs = this.downIntervalMs();
      this.emit({ type: "add-addresses" });
      this.vipsSet = true;
      this.emit({ type: "announce", repeat: p.garpMasterRepeat, reason: "master" });
      this.garp.startRefresh(p, now);
      // the notifies come after the addresses, as in keepalived vrrp_state_become_master()
      this.emitTransition(from, "master", reason);
      this.garp.scheduleDelayed(p);
    } else this.garp.refreshIfDue(p, now);
  }

  /** keepalived vrrp_state_leave_master(): to `wantState` (BACKUP or FAULT). */
  leaveMaster(sendStop: boolean, reason: string): void {
    const to = this.wantState === "fault" ? "fault" : "backup";
    if (to === "backup") this.preemptTime = 0;
    // "Entering FAULT STATE" sends a priority-0 advert so backups take over after Skew_Time
    this.restoreInterface(sendStop || to === "fault");
    this.setState(to, reason);
    this.msDownMs = this.downIntervalMs();
    this.armForState();
    this.stats.release_master++;
  }

  /** keepalived vrrp_state_leave_fault(): to `wantState`. */
  leaveFault(reason: string): void {
    if (this.wantState === "master") {
      this.gotoMaster(reason);
    } else {
      const to = this.wantState === "fault" ? "fault" : "backup";
      if (to === "fault" && this._state === "master") this.restoreInterface(true);
      this.setState(to, reason);
      if (to === "backup") this.preemptTime = 0;
      this.masterAdverIntCs = this.params.intervalCs;
      this.msDownMs = this.downIntervalMs();
      this.armForState();
      return;
    }
    this.masterAdverIntCs = this.params.intervalCs;
  }

  /** Forces FAULT from a sync group (keepalived vrrp_sync_fault()). */
  forceFault(reason: string): void {
    this.wantState = "fault";
    if (this._state === "master") this.leaveMaster(false, reason);
    else if (this._state === "backup" || this._state === "init") this.leaveFault(reason);
  }

  /** Forces BACKUP from a sync group (keepalived vrrp_sync_backup()). */
  forceBackup(reason: string): void {
    this.wantState = "backup";
    if (this._state === "fault" || this._state === "init") this.leaveFault(reason);
    else if (this._state === "master") this.leaveMaster(false, reason);
  }

  /** Forces MASTER from a sync group (keepalived vrrp_sync_master()). */
  forceMaster(reason: string): void {
    this.wantState = "master";
    const from = this._state;
    this._state = "master";
    this.masterTx(reason, from);
    this.armForState();
  }

  /** Shutdown (keepalived shutdown_vrrp_instances() + notify_shutdown()): a priority-0 advert if master, addresses removed, STOP. */
  stop(): void {
    if (this._state === "stop") return;
    this.disarm();
    if (this.vipsSet || this._state === "master") this.restoreInterface(true);
    this.garp.cancel();
    this.setState("stop", "shutdown");
  }
}
