import { performance } from "node:perf_hooks";
import { DEFAULT_CONNECT_TIMEOUT_S } from "../constants.js";
import type { ProbeResult } from "../types.js";

/** A one-shot probe context: settles once, with latency measured from creation. */
export class Attempt {
  readonly started = performance.now();
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  private cleanups: Array<() => void> = [];
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
      const onAbort = () => this.down("cancelled");
      signal.addEventListener("abort", onAbort, { once: true });
      this.onCleanup(() => signal.removeEventListener("abort", onAbort));
    }
  }

  get done(): boolean {
    return this.settled;
  }
  latency(): number {
    return performance.now() - this.started;
  }
  onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
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
    for (const fn of this.cleanups) {
      try {
        fn();
      } catch {
        // cleanup is best effort; the result is already decided
      }
    }
    this.resolveFn(r);
  }
}

/** Error → short reason keeping the errno name (ECONNREFUSED, EHOSTUNREACH…). */
export function errorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === "string") return e.code;
  return e instanceof Error ? e.message : String(err);
}
