// One event loop for thousands of targets: staggered start, bounded concurrency, identical
// checks deduplicated (one probe fanned out to every target sharing it), cancellation on
// reconfiguration. Timers go through the injected Clock.

import { type Clock, systemClock } from "@lvs/inet";
import { type RunProbeOptions, probe as realProbe } from "./checkers/index.js";
import { type StateEvent, TargetEngine, type TargetPolicy } from "./engine.js";
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

interface Member {
  config: TargetConfig;
  policyKey: string;
  engine: TargetEngine;
}

interface Unit {
  key: string;
  check: CheckDefinition;
  members: Map<string, Member>;
  timer: unknown;
  abort: AbortController;
  scheduledAt: number;
  queued: boolean;
  running: boolean;
  cancelled: boolean;
}

const JITTER_SAMPLES = 100_000;

export class HealthCheckRunner {
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly probeFn: ProbeFn;
  private readonly opts: RunnerOptions;
  private units = new Map<string, Unit>();
  private byTarget = new Map<string, Unit>();
  private queue: Unit[] = [];
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

  /** Unit key: the full check definition plus the timing that drives its schedule. */
  private unitKey(t: TargetConfig): string {
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
   * Apply a new target set. Unchanged targets keep their state and schedule; removed or
   * changed checks are cancelled (in-flight probes aborted); new ones start staggered.
   */
  configure(targets: TargetConfig[]): void {
    if (this.stopped) throw new Error("runner stopped");
    const wanted = new Map<string, TargetConfig[]>();
    const seen = new Set<string>();
    for (const t of targets) {
      if (seen.has(t.id)) throw new Error(`duplicate target id "${t.id}"`);
      seen.add(t.id);
      const key = this.unitKey(t);
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
    this.byTarget.clear();
    const fresh: Unit[] = [];
    for (const [key, list] of wanted) {
      let unit = this.units.get(key);
      if (!unit) {
        unit = {
          key,
          check: list[0]!.check,
          members: new Map(),
          timer: undefined,
          abort: new AbortController(),
          scheduledAt: 0,
          queued: false,
          running: false,
          cancelled: false,
        };
        this.units.set(key, unit);
        fresh.push(unit);
      }
      const next = new Map<string, Member>();
      for (const t of list) {
        const policyKey = stableKey(t.policy ?? {});
        const old = unit.members.get(t.id);
        next.set(
          t.id,
          old && old.policyKey === policyKey
            ? { ...old, config: t }
            : { config: t, policyKey, engine: new TargetEngine(t.policy) },
        );
        this.byTarget.set(t.id, unit);
      }
      unit.members = next;
    }
    // Stagger new units evenly across their delay_loop so thousands of targets don't fire at once.
    fresh.forEach((unit, i) => {
      const engine = unit.members.values().next().value!.engine;
      const spread = (engine.policy.delayLoop * 1000 * i) / fresh.length;
      this.schedule(unit, Math.floor(spread) + engine.firstDelayMs(this.random()));
    });
  }

  private cancelUnit(unit: Unit): void {
    unit.cancelled = true;
    this.clock.clearTimeout(unit.timer);
    unit.abort.abort();
    this.units.delete(unit.key);
  }

  private schedule(unit: Unit, delayMs: number): void {
    unit.scheduledAt = this.clock.now() + delayMs;
    unit.timer = this.clock.setTimeout(() => this.enqueue(unit), delayMs);
  }

  private enqueue(unit: Unit): void {
    if (unit.cancelled) return;
    unit.queued = true;
    this.queue.push(unit);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const unit = this.queue.shift()!;
      unit.queued = false;
      if (unit.cancelled) continue;
      this.start(unit);
    }
  }

  private start(unit: Unit): void {
    this.running++;
    unit.running = true;
    this.stats.probesStarted++;
    const jitter = this.clock.now() - unit.scheduledAt;
    if (this.stats.jitterMs.length < JITTER_SAMPLES) this.stats.jitterMs.push(jitter);
    const first = unit.members.values().next().value;
    const miscDefault = first ? first.engine.policy.delayLoop : undefined;
    this.probeFn(unit.check, {
      signal: unit.abort.signal,
      ...(miscDefault !== undefined ? { miscDefaultTimeout: miscDefault } : {}),
    })
      .catch((err: unknown): ProbeResult => ({ up: false, reason: String(err), latencyMs: 0 }))
      .then((result) => {
        this.running--;
        unit.running = false;
        this.stats.probesCompleted++;
        if (!unit.cancelled && !this.stopped) this.finish(unit, result);
        this.pump();
      });
  }

  private finish(unit: Unit, result: ProbeResult): void {
    const now = this.clock.now();
    let nextDelay: number | undefined;
    this.stats.fannedOut += Math.max(0, unit.members.size - 1);
    for (const [id, m] of unit.members) {
      const step = m.engine.onResult(result, now);
      nextDelay ??= step.nextDelayMs;
      this.opts.onResult?.(id, result, {
        id,
        up: m.engine.up,
        weight: m.engine.weightAt(now),
        lastResult: m.engine.lastResult,
      });
      if (step.event) this.opts.onEvent?.({ ...step.event, id, weight: m.engine.weightAt(now) });
    }
    if (nextDelay !== undefined) this.schedule(unit, nextDelay);
  }

  status(id: string): TargetStatus | undefined {
    const m = this.byTarget.get(id)?.members.get(id);
    if (!m) return undefined;
    return {
      id,
      up: m.engine.up,
      weight: m.engine.weightAt(this.clock.now()),
      lastResult: m.engine.lastResult,
    };
  }

  statuses(): TargetStatus[] {
    return [...this.byTarget.keys()].map((id) => this.status(id)!);
  }

  /** Load hook: set a target's dynamic weight (e.g. from an agent reporting load). */
  setWeight(id: string, weight: number | undefined): void {
    this.byTarget.get(id)?.members.get(id)?.engine.setDynamicWeight(weight);
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
    this.byTarget.clear();
  }
}
