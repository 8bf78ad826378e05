// Periodic work on an injected Clock (@lvs/inet): the clock has setTimeout only, so an interval is
// a timeout that re-arms itself before doing its work. Real timers are unref'd: they never keep
// the process alive on their own.
import type { Clock } from "@lvs/inet";

export interface Ticker {
  stop(): void;
}

function unref(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}

/** Run `fn` every `ms` until stopped (the first run is `ms` from now). */
export function every(clock: Clock, ms: number, fn: () => void): Ticker {
  let handle: unknown;
  let stopped = false;
  const arm = () => {
    handle = clock.setTimeout(() => {
      if (stopped) return;
      arm();
      fn();
    }, ms);
    unref(handle);
  };
  arm();
  return {
    stop() {
      stopped = true;
      clock.clearTimeout(handle);
    },
  };
}

/** Epoch ms that move with `clock` (a fake clock moves the director's wall time too). */
export function wallTime(clock: Clock, epoch: () => number = Date.now): () => number {
  const base = epoch() - clock.now();
  return () => base + clock.now();
}
