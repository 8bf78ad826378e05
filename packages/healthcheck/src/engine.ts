// Pure per-target state engine: rise/fall, keepalived's retry/delay_before_retry, warmup,
// alpha, slow start and dynamic weight. Inputs: probe results and `now` (ms). No I/O.
import { DEFAULT_DELAY_BEFORE_RETRY_S, DEFAULT_DELAY_LOOP_S, DEFAULT_RETRY } from "./constants.js";
import type { ProbeResult } from "./types.js";

export interface TargetPolicy {
  /** `delay_loop`, seconds between checks (default 60). */
  delayLoop?: number;
  /** `retry`: extra attempts after a failure before the round counts as failed (default 1). */
  retry?: number;
  /** `delay_before_retry`, seconds (default 1). */
  delayBeforeRetry?: number;
  /** `warmup`, seconds: first check after a random delay in [0, warmup]. */
  warmup?: number;
  /** `alpha`: start DOWN and need `rise` successes; without it the target starts UP (keepalived). */
  alpha?: boolean;
  /** Consecutive successful rounds to go UP (default 1; keepalived has only 1). */
  rise?: number;
  /** Consecutive failed rounds (each after its retries) to go DOWN (default 1). */
  fall?: number;
  /** Configured `weight` (default 1). */
  weight?: number;
  /** Slow start, seconds: after recovery the weight ramps linearly from 1 to full over this time. */
  slowStart?: number;
}

export type TransitionKind = "up" | "down";

export interface StateEvent {
  kind: TransitionKind;
  reason: string;
  latencyMs: number;
  at: number;
}

export interface EngineStep {
  event?: StateEvent;
  /** ms until the next probe of this target. */
  nextDelayMs: number;
  /** true when that next probe is a retry (delay_before_retry), not a new round. */
  retrying: boolean;
}

/** A policy with every default filled in. */
export type NormalizedPolicy = Readonly<Required<Omit<TargetPolicy, "warmup">> & { warmup: number }>;

export function normalizePolicy(policy: TargetPolicy = {}): NormalizedPolicy {
  return {
    delayLoop: policy.delayLoop ?? DEFAULT_DELAY_LOOP_S,
    retry: policy.retry ?? DEFAULT_RETRY,
    delayBeforeRetry: policy.delayBeforeRetry ?? DEFAULT_DELAY_BEFORE_RETRY_S,
    warmup: policy.warmup ?? 0,
    alpha: policy.alpha ?? false,
    rise: Math.max(1, policy.rise ?? 1),
    fall: Math.max(1, policy.fall ?? 1),
    weight: policy.weight ?? 1,
    slowStart: policy.slowStart ?? 0,
  };
}

/** Rise/fall progress of one target (TargetEngine.progress). */
export interface CheckProgress {
  /** Consecutive passes. */
  ok: number;
  /** Consecutive failed rounds (each after its retries). */
  fail: number;
  /** Retries used in the current round. */
  retries: number;
  rise: number;
  fall: number;
  retry: number;
}

export class TargetEngine {
  readonly policy: NormalizedPolicy;
  up: boolean;
  private consecutiveOk = 0;
  private consecutiveFail = 0;
  private retriesUsed = 0;
  private recoveredAt: number | undefined;
  private dynamicWeight: number | undefined;
  lastResult: ProbeResult | undefined;

  /**
   * `shared`: an already normalized policy to hold instead of a copy (the runner passes one frozen
   * object per distinct policy, so 20,000 targets with one policy hold it once).
   */
  constructor(policy: TargetPolicy = {}, shared?: NormalizedPolicy) {
    this.policy = shared ?? normalizePolicy(policy);
    this.up = !this.policy.alpha;
  }

  /**
   * Where the target stands on its way to a transition: consecutive passes (toward `rise` while
   * down), consecutive failed rounds (toward `fall` while up), retries used in this round.
   */
  get progress(): CheckProgress {
    return {
      ok: this.consecutiveOk,
      fail: this.consecutiveFail,
      retries: this.retriesUsed,
      rise: this.policy.rise,
      fall: this.policy.fall,
      retry: this.policy.retry,
    };
  }

  /** Delay before the very first probe: warmup is a random fraction (`random` in [0,1)). */
  firstDelayMs(random: number): number {
    return Math.floor(this.policy.warmup * 1000 * random);
  }

  /** Feed one probe result observed at `now`. */
  onResult(result: ProbeResult, now: number): EngineStep {
    this.lastResult = result;
    const loopMs = this.policy.delayLoop * 1000;
    if (result.up) {
      this.retriesUsed = 0;
      this.consecutiveFail = 0;
      this.consecutiveOk++;
      if (result.weight !== undefined) this.dynamicWeight = result.weight;
      if (!this.up && this.consecutiveOk >= this.policy.rise) {
        this.up = true;
        this.recoveredAt = now;
        return {
          event: { kind: "up", reason: result.reason, latencyMs: result.latencyMs, at: now },
          nextDelayMs: loopMs,
          retrying: false,
        };
      }
      return { nextDelayMs: loopMs, retrying: false };
    }
    this.consecutiveOk = 0;
    // keepalived: a failed attempt is retried `retry` times, delay_before_retry apart, before
    // the failure counts.
    if (this.retriesUsed < this.policy.retry) {
      this.retriesUsed++;
      return { nextDelayMs: this.policy.delayBeforeRetry * 1000, retrying: true };
    }
    this.retriesUsed = 0;
    this.consecutiveFail++;
    if (this.up && this.consecutiveFail >= this.policy.fall) {
      this.up = false;
      this.recoveredAt = undefined;
      return {
        event: { kind: "down", reason: result.reason, latencyMs: result.latencyMs, at: now },
        nextDelayMs: loopMs,
        retrying: false,
      };
    }
    return { nextDelayMs: loopMs, retrying: false };
  }

  /** Set weight from an external load hook (Piranha nanny style). */
  setDynamicWeight(weight: number | undefined): void {
    this.dynamicWeight = weight;
  }

  /** Effective weight at `now`: 0 when down; ramps 1→full during slow start after recovery. */
  weightAt(now: number): number {
    if (!this.up) return 0;
    const full = this.dynamicWeight ?? this.policy.weight;
    const rampMs = this.policy.slowStart * 1000;
    if (rampMs <= 0 || this.recoveredAt === undefined || full <= 0) return full;
    const elapsed = now - this.recoveredAt;
    if (elapsed >= rampMs) return full;
    return Math.max(1, Math.min(full, Math.ceil((full * elapsed) / rampMs)));
  }

  /** ms until slow start ends (0 if not ramping). */
  slowStartRemainingMs(now: number): number {
    if (!this.up || this.recoveredAt === undefined) return 0;
    return Math.max(0, this.policy.slowStart * 1000 - (now - this.recoveredAt));
  }
}
