// One event loop for thousands of targets: staggered start, bounded concurrency, identical
// checks deduplicated (one probe fanned out to every target sharing it), cancellation on
// reconfiguration. Timers go through the injected Clock.

import { createHash } from "node:crypto";
import { type Clock, systemClock } from "@lvs/inet";
import { type RunProbeOptions, probe as realProbe } from "./checkers/index.js";
import { CheckCancel } from "./checkers/util.js";
import {
  type CheckProgress,
  type NormalizedPolicy,
  normalizePolicy,
  type StateEvent,
  TargetEngine,
  type TargetPolicy,
} from "./engine.js";
import { HealthcheckError } from "./errors.js";
import type { CheckDefinition, ProbeResult } from "./types.js";

export interface TargetConfig {
  /** Stable identity of the target (e.g. "10.0.0.1:80 via VS 192.0.2.1:80"). */
  id: string;
  check: CheckDefinition;
  policy?: TargetPolicy;
}

export interface TargetEvent extends StateEvent {
  id: string;
  /** Effective weight right after the transition. */
  weight: number;
}

export interface TargetStatus {
  id: string;
  up: boolean;
  weight: number;
  lastResult: ProbeResult | undefined;
  /** Rise/fall progress (consecutive passes and failed rounds against `rise`/`fall`). */
  progress?: CheckProgress;
}

export type ProbeFn = (def: CheckDefinition, opts: RunProbeOptions) => Promise<ProbeResult>;

export interface RunnerOptions {
  clock?: Clock;
  /** Max probes in flight at once (default 512). */
  concurrency?: number;
  /** Random source in [0,1) for warmup (default Math.random). */
  random?: () => number;
  /** The prober (default: the real checkers). Tests inject one to drive the logic. */
  probe?: ProbeFn;
  onEvent?: (ev: TargetEvent) => void;
  /** Every probe outcome, with the target's status right after it (state and weight). */
  onResult?: (id: string, result: ProbeResult, status: TargetStatus) => void;
}

export interface RunnerStats {
  probesStarted: number;
  probesCompleted: number;
  /** Targets served by a probe they shared with another target (dedup hits). */
  fannedOut: number;
  /** Start delay vs schedule (ms) of recent probes, for jitter figures. */
  jitterMs: number[];
}

/** What HealthCheckRunner and WorkerCheckRunner both offer: a caller can take either. */
export interface CheckRunner {
  configure(targets: TargetConfig[]): void;
  status(id: string): TargetStatus | undefined;
  statuses(): TargetStatus[];
  setWeight(id: string, weight: number | undefined): void;
  stop(): void;
  readonly stats: RunnerStats;
  readonly uniqueChecks: number;
  readonly inFlight: number;
}

/** Deterministic JSON with sorted keys: the identity of a check definition. */
export function stableKey(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "undefined";
  if (Array.isArray(value)) return `[${value.map(stableKey).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableKey(obj[k])}`)
    .join(",")}}`;
}

/**
 * What makes two targets share one probe: the full check definition plus the timing that drives
 * its schedule. The worker runner shards on it too, so shared probes stay in one thread.
 */
export function probeIdentity(t: TargetConfig): string {
  const p = t.policy ?? {};
  return stableKey({
    check: t.check,
    delayLoop: p.delayLoop,
    retry: p.retry,
    delayBeforeRetry: p.delayBeforeRetry,
    warmup: p.warmup,
  });
}

/**
 * The key a unit is kept under: a digest of probeIdentity. The identity is ~150 bytes of JSON per
 * check (and V8 keeps it as a tree of its parts), held for the runner's lifetime: ~4.5 MiB at
 * 20,000 checks, against ~1 MiB for 44-character digests (heap snapshot, director's
 * bench/memory-host.mjs).
 */
function unitKey(t: TargetConfig): string {
  return createHash("sha256").update(probeIdentity(t)).digest("base64");
}

export function duplicateTarget(id: string): HealthcheckError {
  return new HealthcheckError("HC_DUPLICATE_TARGET", `duplicate target id "${id}"`);
}

interface Member {
  id: string;
  config: TargetConfig;
  policyKey: string;
  engine: TargetEngine;
}

interface Unit {
  key: string;
  check: CheckDefinition;
  /** Targets sharing this probe (usually one; an array costs far less than a Map per unit). */
  members: Member[];
  /** Cancels the unit's probes (a flag and the attempts in flight, no EventTarget). */
  cancel: CheckCancel;
  /** Only made when an injected probe function reads `signal` (UnitProbeOptions). */
  abort: AbortController | undefined;
  /** When the next probe is due (clock ms), while it waits in the timer heap. */
  scheduledAt: number;
  /** Insertion order among equal deadlines (FIFO, as timers fire). */
  seq: number;
  /** Position in the timer heap, -1 when not scheduled. */
  heapIndex: number;
  queued: boolean;
  running: boolean;
  cancelled: boolean;
  /** Made at the unit's first probe (and again after configure() changes its members). */
  probeOptions: RunProbeOptions | undefined;
  /** Takes the probe's result, or what a rejecting (injected) prober threw. */
  onSettled: ((outcome: unknown) => void) | undefined;
}

const JITTER_SAMPLES = 100_000;

/**
 * A unit's probe options, made once per unit: the built-in checkers watch `cancel`; a probe
 * function that reads `signal` gets an AbortSignal made then, aborted with the unit. (One class,
 * one object shape for every unit.)
 */
class UnitProbeOptions implements RunProbeOptions {
  constructor(
    private readonly unit: Unit,
    readonly miscDefaultTimeout: number | undefined,
  ) {}

  get cancel(): CheckCancel {
    return this.unit.cancel;
  }

  get signal(): AbortSignal {
    if (!this.unit.abort) {
      this.unit.abort = new AbortController();
      if (this.unit.cancel.isCancelled) this.unit.abort.abort();
    }
    return this.unit.abort.signal;
  }
}

/** A probe's outcome as a result: a rejection (only an injected prober rejects) is a DOWN. */
function asResult(outcome: unknown): ProbeResult {
  const r = outcome as ProbeResult | null;
  if (r !== null && typeof r === "object" && typeof r.up === "boolean") return r;
  return { up: false, reason: String(outcome), latencyMs: 0 };
}

export class HealthCheckRunner implements CheckRunner {
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly probeFn: ProbeFn;
  private readonly opts: RunnerOptions;
  private units = new Map<string, Unit>();
  /** Target id → its member. */
  private byTarget = new Map<string, Member>();
  /** One policy object and one key string per distinct policy, shared by every target using it. */
  private policies = new Map<string, { key: string; normalized: NormalizedPolicy }>();
  /**
   * Due probes wait in one min-heap under one clock timer: a timer per target would cost a
   * Timeout (and, for distinct delays, a timer list) each, and a heap push per schedule.
   */
  private heap: Unit[] = [];
  private heapTimer: unknown;
  private heapTimerAt = Number.POSITIVE_INFINITY;
  private seq = 0;
  private queue: Unit[] = [];
  private queueHead = 0;
  private running = 0;
  private stopped = false;
  readonly stats: RunnerStats = { probesStarted: 0, probesCompleted: 0, fannedOut: 0, jitterMs: [] };

  constructor(opts: RunnerOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.concurrency = Math.max(1, opts.concurrency ?? 512);
    this.random = opts.random ?? Math.random;
    this.probeFn = opts.probe ?? realProbe;
  }

  /**
   * Apply a new target set. Unchanged targets keep their state and schedule; removed or
   * changed checks are cancelled (in-flight probes aborted); new ones start staggered.
   */
  configure(targets: TargetConfig[]): void {
    if (this.stopped) throw new HealthcheckError("HC_RUNNER_STOPPED", "runner stopped");
    const wanted = new Map<string, TargetConfig[]>();
    const seen = new Set<string>();
    for (const t of targets) {
      if (seen.has(t.id)) throw duplicateTarget(t.id);
      seen.add(t.id);
      const key = unitKey(t);
      let list = wanted.get(key);
      if (!list) {
        list = [];
        wanted.set(key, list);
      }
      list.push(t);
    }
    for (const [key, unit] of this.units) {
      if (!wanted.has(key)) this.cancelUnit(unit);
    }
    const previous = this.byTarget;
    this.byTarget = new Map();
    const policies = new Map<string, { key: string; normalized: NormalizedPolicy }>();
    const fresh: Unit[] = [];
    for (const [key, list] of wanted) {
      let unit = this.units.get(key);
      if (!unit) {
        unit = {
          key,
          check: list[0]!.check,
          members: [],
          cancel: new CheckCancel(),
          abort: undefined,
          scheduledAt: 0,
          seq: 0,
          heapIndex: -1,
          queued: false,
          running: false,
          cancelled: false,
          probeOptions: undefined,
          onSettled: undefined,
        };
        this.units.set(key, unit);
        fresh.push(unit);
      }
      // map, not push: an array grown by push keeps room for 17 (~180 bytes per unit).
      unit.members = list.map((t) => {
        const computed = stableKey(t.policy ?? {});
        let policy = policies.get(computed) ?? this.policies.get(computed);
        if (!policy) policy = { key: computed, normalized: Object.freeze(normalizePolicy(t.policy)) };
        policies.set(policy.key, policy);
        const old = previous.get(t.id);
        const member: Member =
          old && old.policyKey === policy.key && unit.members.includes(old)
            ? { ...old, config: t }
            : {
                id: t.id,
                config: t,
                policyKey: policy.key,
                engine: new TargetEngine(t.policy, policy.normalized),
              };
        this.byTarget.set(t.id, member);
        return member;
      });
      // The MISC default timeout follows the first member's delay_loop: rebuilt at the next probe.
      if (unit.probeOptions) unit.probeOptions = undefined;
    }
    this.policies = policies;
    // Thousands of targets must not fire at once. With a `warmup` (keepalived's default is the
    // delay_loop) the first probe comes after a random part of it, as keepalived does: that
    // spreads them already. Without one, new units are staggered evenly across their delay_loop.
    // (Both at once put a first probe up to two delay_loops away.)
    fresh.forEach((unit, i) => {
      const engine = unit.members[0]!.engine;
      if (engine.policy.warmup > 0) {
        this.schedule(unit, engine.firstDelayMs(this.random()));
        return;
      }
      this.schedule(unit, Math.floor((engine.policy.delayLoop * 1000 * i) / fresh.length));
    });
  }

  private cancelUnit(unit: Unit): void {
    unit.cancelled = true;
    this.heapRemove(unit);
    unit.cancel.cancel();
    unit.abort?.abort();
    this.units.delete(unit.key);
  }

  private schedule(unit: Unit, delayMs: number): void {
    unit.scheduledAt = this.clock.now() + Math.max(0, delayMs);
    unit.seq = ++this.seq;
    this.heapPush(unit);
    this.arm();
  }

  /** The clock timer follows the heap's earliest deadline. */
  private arm(): void {
    const first = this.heap[0];
    if (!first) {
      if (this.heapTimer !== undefined) this.clock.clearTimeout(this.heapTimer);
      this.heapTimer = undefined;
      this.heapTimerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.heapTimer !== undefined && this.heapTimerAt <= first.scheduledAt) return;
    if (this.heapTimer !== undefined) this.clock.clearTimeout(this.heapTimer);
    this.heapTimerAt = first.scheduledAt;
    this.heapTimer = this.clock.setTimeout(() => this.fire(), first.scheduledAt - this.clock.now());
  }

  private fire(): void {
    this.heapTimer = undefined;
    this.heapTimerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due: Unit[] = [];
    while (this.heap.length && this.heap[0]!.scheduledAt <= now) due.push(this.heapPop()!);
    for (const unit of due) this.enqueue(unit);
    this.arm();
  }

  private enqueue(unit: Unit): void {
    if (unit.cancelled) return;
    unit.queued = true;
    this.queue.push(unit);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queueHead < this.queue.length) {
      const unit = this.queue[this.queueHead++]!;
      unit.queued = false;
      if (unit.cancelled) continue;
      this.start(unit);
    }
    // Compact now and then: shift() on a long backlog moves the whole array each time.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    } else if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  private before(a: Unit, b: Unit): boolean {
    return a.scheduledAt < b.scheduledAt || (a.scheduledAt === b.scheduledAt && a.seq < b.seq);
  }

  private heapPush(unit: Unit): void {
    unit.heapIndex = this.heap.length;
    this.heap.push(unit);
    this.siftUp(unit.heapIndex);
  }

  private heapPop(): Unit | undefined {
    const top = this.heap[0];
    if (top) this.heapRemove(top);
    return top;
  }

  private heapRemove(unit: Unit): void {
    const i = unit.heapIndex;
    if (i < 0) return;
    unit.heapIndex = -1;
    const last = this.heap.pop()!;
    if (last === unit) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.siftDown(i);
    this.siftUp(last.heapIndex);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < h.length && this.before(h[l]!, h[best]!)) best = l;
      if (r < h.length && this.before(h[r]!, h[best]!)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  private start(unit: Unit): void {
    this.running++;
    unit.running = true;
    this.stats.probesStarted++;
    // Start jitter is taken here, right before the checker makes its socket and calls connect().
    const jitter = this.clock.now() - unit.scheduledAt;
    if (this.stats.jitterMs.length < JITTER_SAMPLES) this.stats.jitterMs.push(jitter);
    // The options object and the settle callback are made once per unit, not per probe.
    if (!unit.probeOptions) {
      const miscDefault = unit.members[0]?.engine.policy.delayLoop;
      unit.probeOptions = new UnitProbeOptions(unit, miscDefault);
      unit.onSettled = (outcome) => this.done(unit, asResult(outcome));
    }
    let pending: Promise<ProbeResult>;
    try {
      pending = this.probeFn(unit.check, unit.probeOptions);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(unit.onSettled, unit.onSettled);
  }

  private done(unit: Unit, result: ProbeResult): void {
    this.running--;
    unit.running = false;
    this.stats.probesCompleted++;
    if (!unit.cancelled && !this.stopped) this.finish(unit, result);
    this.pump();
  }

  private finish(unit: Unit, result: ProbeResult): void {
    const now = this.clock.now();
    let nextDelay: number | undefined;
    this.stats.fannedOut += Math.max(0, unit.members.length - 1);
    for (const m of unit.members) {
      const id = m.id;
      const step = m.engine.onResult(result, now);
      nextDelay ??= step.nextDelayMs;
      this.opts.onResult?.(id, result, {
        id,
        up: m.engine.up,
        weight: m.engine.weightAt(now),
        lastResult: m.engine.lastResult,
        progress: m.engine.progress,
      });
      if (step.event) this.opts.onEvent?.({ ...step.event, id, weight: m.engine.weightAt(now) });
    }
    if (nextDelay !== undefined) this.schedule(unit, nextDelay);
  }

  status(id: string): TargetStatus | undefined {
    const m = this.byTarget.get(id);
    if (!m) return undefined;
    return {
      id,
      up: m.engine.up,
      weight: m.engine.weightAt(this.clock.now()),
      lastResult: m.engine.lastResult,
      progress: m.engine.progress,
    };
  }

  statuses(): TargetStatus[] {
    return [...this.byTarget.keys()].map((id) => this.status(id)!);
  }

  /** Load hook: set a target's dynamic weight (e.g. from an agent reporting load). */
  setWeight(id: string, weight: number | undefined): void {
    this.byTarget.get(id)?.engine.setDynamicWeight(weight);
  }

  /** Number of distinct probes scheduled (after dedup). */
  get uniqueChecks(): number {
    return this.units.size;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Cancel everything; in-flight probes are aborted. */
  stop(): void {
    this.stopped = true;
    for (const unit of [...this.units.values()]) this.cancelUnit(unit);
    this.queue = [];
    this.queueHead = 0;
    this.byTarget.clear();
    this.arm();
  }
}
