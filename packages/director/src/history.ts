// What happened, kept for the status page and `GET /api/state`: per real server its last check
// results and its state/weight transitions, per VRRP instance its transitions. Every list is a
// ring buffer of fixed capacity, so memory is bounded by the configuration's size, not by uptime
// (none of haproxy, Envoy or keepalived keeps this; operators ask for it, keepalived #2673).
// The shell feeds it (runtime.ts): probe results as they arrive, and after each engine event
// the real servers' states and weights, compared with what it saw last.
import type { PlannedVirtualServer } from "./compile.js";
import type { DirectorEngine } from "./engine.js";
import type { DirectorEvent } from "./events.js";

/** Check results kept per real server (the page's sparkline). */
export const HISTORY_CHECKS = 100;
/** State/weight transitions kept per real server. */
export const HISTORY_TRANSITIONS = 50;
/** Transitions kept per VRRP instance. */
export const HISTORY_VRRP = 50;

/**
 * A fixed-capacity FIFO: pushing onto a full one drops the oldest. Storage grows with use (a
 * director with 20,000 real servers would otherwise hold 20,000 × capacity empty slots at start).
 */
export class RingBuffer<T> {
  private items: T[] | undefined;
  private start = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity}`);
  }

  get length(): number {
    return this.items?.length ?? 0;
  }

  push(item: T): void {
    if (!this.items) {
      // Exactly one slot: most real servers never get past their first transition.
      this.items = [item];
      return;
    }
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): T[] {
    const items = this.items ?? [];
    return [...items.slice(this.start), ...items.slice(0, this.start)];
  }
}

const EMPTY: never[] = [];

/**
 * The check results of one real server, column-wise: typed arrays for time, latency and outcome,
 * and references to the (shared) kind and reason strings. ~30 bytes a result instead of an
 * object of ~100, which matters at 20,000 real servers × 100 results.
 */
export class CheckRing {
  // Shared empty columns until the first result (most of the memory of 20,000 idle rings).
  private static readonly NO_TIMES = new Float64Array(0);
  private static readonly NO_FLAGS = new Uint8Array(0);
  private at = CheckRing.NO_TIMES;
  private latency = CheckRing.NO_TIMES;
  private ok = CheckRing.NO_FLAGS;
  private kind: string[] = EMPTY;
  private reason: (string | null)[] = EMPTY;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity}`);
  }

  get length(): number {
    return this.count;
  }

  private grow(): void {
    // Only while not yet wrapped (start is 0 until the ring is full at its final size).
    const size = Math.min(this.capacity, Math.max(8, this.at.length * 2));
    const at = new Float64Array(size);
    at.set(this.at);
    const latency = new Float64Array(size);
    latency.set(this.latency);
    const ok = new Uint8Array(size);
    ok.set(this.ok);
    const kind = new Array<string>(size);
    const reason = new Array<string | null>(size);
    for (let i = 0; i < this.count; i++) {
      kind[i] = this.kind[i] as string;
      reason[i] = this.reason[i] ?? null;
    }
    this.at = at;
    this.latency = latency;
    this.ok = ok;
    this.kind = kind;
    this.reason = reason;
  }

  push(r: CheckRecord): void {
    if (this.count < this.capacity && this.count === this.at.length) this.grow();
    const i = this.count < this.capacity ? this.count : this.start;
    this.at[i] = r.at;
    this.latency[i] = r.latencyMs ?? Number.NaN;
    this.ok[i] = r.ok ? 1 : 0;
    this.kind[i] = r.check;
    this.reason[i] = r.reason;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): CheckRecord[] {
    const out: CheckRecord[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.capacity;
      const latency = this.latency[i] as number;
      out.push({
        at: this.at[i] as number,
        check: this.kind[i] as string,
        ok: this.ok[i] === 1,
        reason: this.reason[i] ?? null,
        latencyMs: Number.isNaN(latency) ? null : latency,
      });
    }
    return out;
  }
}

export interface CheckRecord {
  /** Epoch ms. */
  at: number;
  /** TCP_CHECK, HTTP_GET… */
  check: string;
  ok: boolean;
  reason: string | null;
  latencyMs: number | null;
}

export interface TransitionRecord {
  at: number;
  /** `up`, `down`, `draining`, `drained`, `disabled`, `sorry` after the transition. */
  state: string;
  /** Effective weight after the transition. */
  weight: number;
  /** Before it (null: first seen). */
  fromState: string | null;
  fromWeight: number | null;
  /** What caused it: `HTTP_GET: status 503 not in 200-299`, `api: drain`, `slow start`… */
  reason: string;
}

export interface VrrpTransitionRecord {
  at: number;
  from: string;
  to: string;
  reason: string;
}

export interface ReconcileCounters {
  passes: number;
  driftRepairs: number;
  /** Operations the dataplane refused (each retried by the next pass). */
  refusals: number;
  /** Passes that could not read the table. */
  readErrors: number;
}

interface RealServerHistory {
  /** Created with the first result. */
  checks: CheckRing | undefined;
  transitions: RingBuffer<TransitionRecord>;
  state: string;
  weight: number;
}

/** `up`, `down`, `draining`, `drained`, `disabled` or `sorry` (status-report's names). */
export type StateOf = (
  engine: DirectorEngine,
  vs: PlannedVirtualServer,
) => Iterable<[string, { state: string; weight: number }]>;

/** Why an event changed a real server, in words for the timeline. */
function reasonOf(event: DirectorEvent, engine: DirectorEngine): string {
  switch (event.kind) {
    case "health": {
      const owner = engine.ownerOf(event.id);
      const kind = owner?.rs.checks.find((c) => c.id === event.id)?.kind ?? "check";
      return `${kind}: ${event.state.reason ?? (event.state.up ? "ok" : "failed")}`;
    }
    case "change": {
      const c = event.change;
      if (c.op === "weight") return `api: weight ${c.weight ?? "configured"}`;
      if (c.op === "disable") return c.disabled ? "api: disable" : "api: enable";
      return `api: ${c.op}`;
    }
    case "weights":
      return "slow start";
    case "config":
      return "configuration";
    case "connections":
    case "drain-poll":
      return "drain progress";
    case "addresses":
      return "ha_suspend (local addresses)";
    case "vrrp":
      return `vrrp ${event.instance} ${event.to}`;
    case "observed":
      return "reconcile";
    default:
      return event.kind;
  }
}

export class DirectorHistory {
  private readonly rs = new Map<string, RealServerHistory>();
  private readonly vrrp = new Map<string, RingBuffer<VrrpTransitionRecord>>();

  constructor(
    private readonly now: () => number,
    private readonly limits = {
      checks: HISTORY_CHECKS,
      transitions: HISTORY_TRANSITIONS,
      vrrp: HISTORY_VRRP,
    },
  ) {}

  private entry(key: string, state: string, weight: number): RealServerHistory {
    let h = this.rs.get(key);
    if (!h) {
      h = {
        checks: undefined,
        transitions: new RingBuffer(this.limits.transitions),
        state,
        weight,
      };
      this.rs.set(key, h);
    }
    return h;
  }

  /** A probe's result, kept under its real server (`vsKey rsKey`). */
  check(vsKey: string, rsKey: string, record: CheckRecord): void {
    const h = this.rs.get(`${vsKey} ${rsKey}`);
    // Unknown until the first observe(): the configuration made it, observe() creates it.
    if (!h) return;
    h.checks ??= new CheckRing(this.limits.checks);
    h.checks.push(record);
  }

  /**
   * After an engine event: compare every real server's state and weight (of the event's virtual
   * server only, for a probe) with what was seen last and record each difference with the
   * event's reason. Real servers gone from the configuration are forgotten.
   */
  observe(event: DirectorEvent, engine: DirectorEngine, stateOf: StateOf): void {
    const plan = engine.currentPlan;
    const only = event.kind === "health" ? engine.ownerOf(event.id)?.vs.key : undefined;
    if (event.kind === "health" && only === undefined) return;
    let reason: string | undefined;
    const seen = event.kind === "config" ? new Set<string>() : undefined;
    for (const vs of plan.virtualServers) {
      if (only !== undefined && vs.key !== only) continue;
      for (const [rsKey, now] of stateOf(engine, vs)) {
        const key = `${vs.key} ${rsKey}`;
        seen?.add(key);
        const known = this.rs.get(key);
        if (known && known.state === now.state && known.weight === now.weight) continue;
        const h = known ?? this.entry(key, now.state, now.weight);
        reason ??= reasonOf(event, engine);
        h.transitions.push({
          at: this.now(),
          state: now.state,
          weight: now.weight,
          fromState: known ? known.state : null,
          fromWeight: known ? known.weight : null,
          reason,
        });
        h.state = now.state;
        h.weight = now.weight;
      }
    }
    if (seen) for (const k of this.rs.keys()) if (!seen.has(k)) this.rs.delete(k);
  }

  /** A VRRP instance changed state. */
  vrrpTransition(instance: string, from: string, to: string, reason: string): void {
    let r = this.vrrp.get(instance);
    if (!r) {
      r = new RingBuffer(this.limits.vrrp);
      this.vrrp.set(instance, r);
    }
    r.push({ at: this.now(), from, to, reason });
  }

  checksOf(vsKey: string, rsKey: string): CheckRecord[] {
    return this.rs.get(`${vsKey} ${rsKey}`)?.checks?.toArray() ?? [];
  }

  transitionsOf(vsKey: string, rsKey: string): TransitionRecord[] {
    return this.rs.get(`${vsKey} ${rsKey}`)?.transitions.toArray() ?? [];
  }

  vrrpTransitionsOf(instance: string): VrrpTransitionRecord[] {
    return this.vrrp.get(instance)?.toArray() ?? [];
  }
}
