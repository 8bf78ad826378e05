import { performance } from "node:perf_hooks";
import { DEFAULT_CONNECT_TIMEOUT_S } from "../constants.js";
import type { Cancellable, ProbeCancel, ProbeOptions, ProbeResult } from "../types.js";

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

/**
 * The cancel the runner gives each check (ProbeOptions.cancel): a flag and the attempts in flight
 * (usually none or one), no EventTarget.
 */
export class CheckCancel implements ProbeCancel {
  private flag = false;
  private inFlight: Cancellable | Set<Cancellable> | undefined;

  get isCancelled(): boolean {
    return this.flag;
  }

  watch(attempt: Cancellable): void {
    const now = this.inFlight;
    if (now === undefined) this.inFlight = attempt;
    else if (now instanceof Set) now.add(attempt);
    else this.inFlight = new Set([now, attempt]);
  }

  unwatch(attempt: Cancellable): void {
    const now = this.inFlight;
    if (now === attempt) this.inFlight = undefined;
    else if (now instanceof Set) now.delete(attempt);
  }

  /** Cancels the attempts in flight and every later one. */
  cancel(): void {
    if (this.flag) return;
    this.flag = true;
    const now = this.inFlight;
    this.inFlight = undefined;
    if (now instanceof Set) for (const a of [...now]) a.cancelled();
    else now?.cancelled();
  }
}

/** A one-shot probe context: settles once, with latency measured from creation. */
export class Attempt implements Cancellable {
  readonly started = performance.now();
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  /** Usually one (the socket): no array until a second one comes. */
  private cleanup: Cleanup | Cleanup[] | undefined;
  private watched: Set<Attempt> | undefined;
  private cancel: ProbeCancel | undefined;
  readonly promise: Promise<ProbeResult>;
  private resolveFn!: (r: ProbeResult) => void;

  constructor(timeoutS: number | undefined, opts: ProbeOptions = {}) {
    this.promise = new Promise((resolve) => {
      this.resolveFn = resolve;
    });
    const timeoutMs = Math.round((timeoutS ?? DEFAULT_CONNECT_TIMEOUT_S) * 1000);
    this.timer = setTimeout(() => this.down(`timeout after ${timeoutMs} ms`), timeoutMs);
    // The runner's light cancel first; a caller's signal only when there is none (reading
    // `signal` may make one).
    if (opts.cancel) {
      if (opts.cancel.isCancelled) queueMicrotask(() => this.down("cancelled"));
      else {
        this.cancel = opts.cancel;
        this.cancel.watch(this);
      }
      return;
    }
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.down("cancelled"));
      else this.watched = watch(signal, this);
    }
  }

  /** Cancellable: the probe was cancelled. */
  cancelled(): void {
    this.down("cancelled");
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
    this.cancel?.unwatch(this);
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
