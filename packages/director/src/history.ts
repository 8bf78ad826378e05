// What happened, kept for the status page and `GET /api/state`: per real server its last check
// results and its state/weight transitions, per VRRP instance its transitions. Every list is a
// ring buffer of fixed capacity, so memory is bounded by the configuration's size, not by uptime
// (none of haproxy, Envoy or keepalived keeps this; operators ask for it, keepalived #2673).
// The shell feeds it (runtime.ts): probe results as they arrive, and after each engine event
// the real servers' states and weights, compared with what it saw last.
import type { PlannedVirtualServer } from "./compile.js";
import type { DirectorEngine } from "./engine.js";
import type { DirectorEvent } from "./events.js";

/** Check results kept per real server (the page's sparkline), at most. */
export const HISTORY_CHECKS = 100;
/**
 * Check results kept in all, about (~28 bytes each: ~7 MiB): a director with more real servers
 * than HISTORY_CHECK_RESULTS / HISTORY_CHECKS keeps fewer per real server, so the history's
 * memory stays bounded whatever the configuration's size (20,000 real servers: 12 each).
 */
export const HISTORY_CHECK_RESULTS = 250_000;
/** However many real servers, each keeps at least this many results (or HISTORY_CHECKS if less). */
export const HISTORY_CHECKS_MIN = 10;
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

/** Check kinds (TCP_CHECK, HTTP_GET…) by number: a ring keeps the number with the outcome. */
const KIND_NAMES: string[] = [];
const KIND_NUMBERS = new Map<string, number>();
function kindNumber(kind: string): number {
  let n = KIND_NUMBERS.get(kind);
  if (n === undefined) {
    n = KIND_NAMES.length;
    KIND_NAMES.push(kind);
    KIND_NUMBERS.set(kind, n);
  }
  return n;
}

/** Numbers per result in CheckRing's `numbers`: time, latency (NaN: none), outcome + kind. */
const STRIDE = 3;

/**
 * The check results of one real server: one array of unboxed numbers (time, latency, and the
 * outcome with the check kind's number) and one of the (shared) reason strings. ~28 bytes a
 * result, and two arrays per real server: a heap snapshot at 20,000 real servers showed the
 * earlier five columns (three typed arrays, each an ArrayBuffer besides) costing ~900 bytes per
 * ring holding a single result.
 */
export class CheckRing {
  private numbers: number[] = [];
  private reasons: (string | null)[] = [];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity}`);
  }

  get length(): number {
    return this.count;
  }

  push(r: CheckRecord): void {
    const latency = r.latencyMs ?? Number.NaN;
    const code = (r.ok ? 1 : 0) + 2 * kindNumber(r.check);
    if (this.count < this.capacity) {
      this.numbers.push(r.at, latency, code);
      this.reasons.push(r.reason);
      this.count++;
      // Full: copied once to arrays of exactly this size (growth left spare room).
      if (this.count === this.capacity) {
        this.numbers = this.numbers.slice();
        this.reasons = this.reasons.slice();
      }
      return;
    }
    const i = this.start;
    this.numbers[i * STRIDE] = r.at;
    this.numbers[i * STRIDE + 1] = latency;
    this.numbers[i * STRIDE + 2] = code;
    this.reasons[i] = r.reason;
    this.start = (i + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): CheckRecord[] {
    const out: CheckRecord[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.capacity;
      const latency = this.numbers[i * STRIDE + 1] as number;
      const code = this.numbers[i * STRIDE + 2] as number;
      out.push({
        at: this.numbers[i * STRIDE] as number,
        check: KIND_NAMES[code >> 1] as string,
        ok: (code & 1) === 1,
        reason: this.reasons[i] ?? null,
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

/** DirectorOptions.history. */
export interface HistoryLimits {
  /** Check results per real server, at most (default HISTORY_CHECKS). */
  checksPerRealServer?: number;
  /** Check results in all, about (default HISTORY_CHECK_RESULTS). */
  checkResults?: number;
}

export class DirectorHistory {
  private readonly rs = new Map<string, RealServerHistory>();
  private readonly vrrp = new Map<string, RingBuffer<VrrpTransitionRecord>>();
  private readonly limits: { checks: number; checkResults: number; transitions: number; vrrp: number };

  constructor(
    private readonly now: () => number,
    limits: { checks?: number; checkResults?: number; transitions?: number; vrrp?: number } = {},
  ) {
    this.limits = {
      checks: limits.checks ?? HISTORY_CHECKS,
      checkResults: limits.checkResults ?? HISTORY_CHECK_RESULTS,
      transitions: limits.transitions ?? HISTORY_TRANSITIONS,
      vrrp: limits.vrrp ?? HISTORY_VRRP,
    };
    for (const [name, v] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`history ${name} must be a positive integer, not ${v}`);
    }
  }

  /**
   * How many results a real server's ring keeps, fixed when its first result comes: the share of
   * the total budget among the real servers known then, within [HISTORY_CHECKS_MIN, checks].
   */
  checkCapacity(): number {
    const { checks, checkResults } = this.limits;
    const share = Math.floor(checkResults / Math.max(1, this.rs.size));
    return Math.max(Math.min(HISTORY_CHECKS_MIN, checks), Math.min(checks, share));
  }

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
    h.checks ??= new CheckRing(this.checkCapacity());
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
