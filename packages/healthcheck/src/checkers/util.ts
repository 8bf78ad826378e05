import { performance } from "node:perf_hooks";
import { DEFAULT_CONNECT_TIMEOUT_S } from "../constants.js";
import type { ProbeResult } from "../types.js";

/** Something an attempt releases when it settles: a socket, a child, a timer. */
export type Cleanup = (() => void) | { destroy(): void };

/**
 * Attempts in flight per AbortSignal, with one "abort" listener per signal. The runner shares one
 * signal among every probe of a check, so an attempt costs a Set add/delete instead of an
 * EventTarget listener added and removed (node's EventTarget allocates a Listener each time).
 */
const inFlight = new WeakMap<AbortSignal, Set<Attempt>>();

function watch(signal: AbortSignal, attempt: Attempt): Set<Attempt> {
  let set = inFlight.get(signal);
  if (!set) {
    const attempts = new Set<Attempt>();
    set = attempts;
    inFlight.set(signal, attempts);
    signal.addEventListener(
      "abort",
      () => {
        for (const a of [...attempts]) a.down("cancelled");
      },
      { once: true },
    );
  }
  set.add(attempt);
  return set;
}

/** A one-shot probe context: settles once, with latency measured from creation. */
export class Attempt {
  readonly started = performance.now();
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  /** Usually one (the socket): no array until a second one comes. */
  private cleanup: Cleanup | Cleanup[] | undefined;
  private watched: Set<Attempt> | undefined;
  readonly promise: Promise<ProbeResult>;
  private resolveFn!: (r: ProbeResult) => void;

  constructor(timeoutS: number | undefined, signal: AbortSignal | undefined) {
    this.promise = new Promise((resolve) => {
      this.resolveFn = resolve;
    });
    const timeoutMs = Math.round((timeoutS ?? DEFAULT_CONNECT_TIMEOUT_S) * 1000);
    this.timer = setTimeout(() => this.down(`timeout after ${timeoutMs} ms`), timeoutMs);
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.down("cancelled"));
      else this.watched = watch(signal, this);
    }
  }

  get done(): boolean {
    return this.settled;
  }
  latency(): number {
    return performance.now() - this.started;
  }
  /** Run `fn` (or `fn.destroy()`) when the attempt settles. */
  onCleanup(fn: Cleanup): void {
    if (this.cleanup === undefined) this.cleanup = fn;
    else if (Array.isArray(this.cleanup)) this.cleanup.push(fn);
    else this.cleanup = [this.cleanup, fn];
  }
  up(reason: string, weight?: number): void {
    this.finish({ up: true, reason, latencyMs: this.latency(), ...(weight !== undefined ? { weight } : {}) });
  }
  down(reason: string): void {
    this.finish({ up: false, reason, latencyMs: this.latency() });
  }
  private finish(r: ProbeResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.watched?.delete(this);
    const c = this.cleanup;
    if (Array.isArray(c)) for (const fn of c) runCleanup(fn);
    else if (c !== undefined) runCleanup(c);
    this.resolveFn(r);
  }
}

function runCleanup(c: Cleanup): void {
  try {
    if (typeof c === "function") c();
    else c.destroy();
  } catch {
    // cleanup is best effort; the result is already decided
  }
}

/** Error → short reason keeping the errno name (ECONNREFUSED, EHOSTUNREACH…). */
export function errorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === "string") return e.code;
  return e instanceof Error ? e.message : String(err);
}
