/**
 * Tracking, pure: what keepalived's track_interface / track_script do to an instance
 * (vrrp_track.c, vrrp_scheduler.c vrrp_script_child_thread()). A tracked object without weight
 * puts the instance in FAULT while it is down; with a weight it moves the priority instead.
 */
import type { TrackingStatus } from "./engine.js";

/** One object an instance tracks. */
export interface TrackRef {
  kind: "interface" | "script";
  /** Interface name or vrrp_script name. */
  name: string;
  /** 0 = FAULT while down. Positive: added while up. Negative: added while down (keepalived). */
  weight: number;
  /** keepalived `reverse`: the sense of up/down is inverted. */
  reverse?: boolean;
}

/** Up/down of a tracked object; "init" = a script that has not reported yet. */
export type TrackState = "up" | "down" | "init";

/**
 * The contribution of one tracked object (keepalived process_script_update_priority() and
 * initialise_interface_tracking_priorities()): weight > 0 counts while up, weight < 0 while down,
 * `reverse` flips the sign; weight 0 is a FAULT while down (or while up when reversed).
 */
export function trackContribution(
  ref: TrackRef,
  state: TrackState,
): { fault: boolean; init: boolean; delta: number } {
  const m = ref.reverse ? -1 : 1;
  if (state === "init") return { fault: false, init: ref.weight === 0 && ref.kind === "script", delta: 0 };
  const ok = state === "up";
  if (ref.weight === 0) return { fault: ok !== (m === 1), init: false, delta: 0 };
  if (ref.weight > 0) return { fault: false, init: false, delta: ok ? ref.weight * m : 0 };
  return { fault: false, init: false, delta: ok ? 0 : ref.weight * m };
}

/** Sums an instance's tracked objects into the figures the engine takes. */
export function aggregateTracking(
  refs: readonly TrackRef[],
  stateOf: (ref: TrackRef) => TrackState,
): TrackingStatus {
  const t: TrackingStatus = { faults: 0, initPending: 0, priorityDelta: 0 };
  for (const r of refs) {
    const c = trackContribution(r, stateOf(r));
    if (c.fault) t.faults++;
    if (c.init) t.initPending++;
    t.priorityDelta += c.delta;
  }
  return t;
}

/**
 * A vrrp_script's rise/fall counter, as keepalived keeps it: `result` runs from 0 to
 * rise + fall − 1 and the script is up when result ≥ rise. It starts at rise − 1 ("one success is
 * enough") or at 0 with `init_fail`. Returns the new state when it changes.
 */
export class ScriptResult {
  private result: number;
  private _state: TrackState;

  constructor(
    readonly rise: number,
    readonly fall: number,
    initFail = false,
  ) {
    this.result = initFail ? 0 : rise - 1;
    this._state = initFail ? "down" : "init";
  }

  get state(): TrackState {
    return this._state;
  }

  /** keepalived's counter, 0 .. rise + fall − 1 (up from `rise`). */
  get value(): number {
    return this.result;
  }

  /**
   * The counter a reloaded vrrp_script starts from (keepalived vrrp.c clear_diff_script()): a
   * script that never reported starts over; a failing one stays down as many successes away
   * from `rise` as it was (at least 0); a succeeding one stays up as many failures away from
   * going down as it was (at most rise + fall − 1).
   */
  static reloaded(prev: ScriptResult, rise: number, fall: number, initFail = false): ScriptResult {
    const next = new ScriptResult(rise, fall, initFail);
    if (prev._state === "init") return next;
    const max = rise + fall - 1;
    if (prev.result < prev.rise) {
      next.result = prev.result === 0 ? 0 : Math.max(0, rise - (prev.rise - prev.result));
      next._state = "down";
    } else {
      next.result =
        prev.result === prev.rise + prev.fall - 1 ? max : Math.min(max, rise + (prev.result - prev.rise));
      next._state = "up";
    }
    return next;
  }

  /** Feeds one run's outcome; returns the new state if it changed. */
  update(ok: boolean): TrackState | undefined {
    const before = this._state;
    const { rise, fall } = this;
    if (ok) {
      if (this.result < rise - 1) this.result++;
      else if (this.result !== rise + fall - 1) {
        if (this.result < rise) this._state = "up";
        this.result = rise + fall - 1;
      } else if (this._state === "init") this._state = "up";
    } else {
      if (this.result > rise) this.result--;
      else {
        if (this.result === rise || this._state === "init") this._state = "down";
        this.result = 0;
      }
    }
    return this._state !== before ? this._state : undefined;
  }
}
