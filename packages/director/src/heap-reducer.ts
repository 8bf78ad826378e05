// The daemon's heap, given back after peaks. V8's ordinary major GC frees objects but leaves the
// pages they were on committed, and it compacts only a few of them: a director whose heap peaked
// (a start that programs 25,000 objects; a check cycle whose results land between long-lived
// objects) keeps the peak's pages. Measured at 5,000 services and 20,000 checks after 70 s
// (bench/memory-host.mjs): ~77 MiB of live heap on ~128 MiB committed. V8 gives pages back by
// itself only when the program goes idle (its memory reducer), which a daemon running checks never
// does. So every `intervalMs` this looks at the heap and, when much more is committed than used,
// sends V8 a moderate memory-pressure signal (@lvs/sys heapMemoryPressure): an incremental
// mark-compact that evacuates fragmented pages and releases the empty ones, marking concurrently
// and in steps, without the long pause of a blocking full collection.
import { PerformanceObserver, constants as perfConstants } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { type HeapPressureLevel, heapMemoryPressure } from "@lvs/sys";

/** Seconds between looks at the heap unless told otherwise (`lvsctl up --heap-reduce-interval`). */
export const DEFAULT_HEAP_REDUCE_INTERVAL_S = 30;

/** The environment variable that sets the interval in seconds when no command-line flag does (0 = off). */
export const HEAP_REDUCE_ENV = "LVS_HEAP_REDUCE_INTERVAL_S";

/** The interval asked for, in seconds: the option, else $LVS_HEAP_REDUCE_INTERVAL_S, else the default. */
export function heapReduceIntervalS(
  option: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (option !== undefined) return option;
  const v = env[HEAP_REDUCE_ENV];
  if (v === undefined || v === "") return DEFAULT_HEAP_REDUCE_INTERVAL_S;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 86400 ? n : DEFAULT_HEAP_REDUCE_INTERVAL_S;
}

/** Committed-but-unused heap below this is not worth a collection (bytes). */
export const HEAP_REDUCE_MIN_SLACK = 16 * 1024 * 1024;

/** ... nor below this share of the used heap: a heap that runs has some room to grow into. */
export const HEAP_REDUCE_SLACK_RATIO = 0.25;

export interface HeapReducerOptions {
  /** Milliseconds between looks; 0 or less: no reducer (the returned handle does nothing). */
  intervalMs?: number;
  /**
   * Injected for tests: the heap's committed bytes and its live bytes. Default: node:v8's committed
   * size, and the used size V8 reported right after its last major GC (what survived it), or the
   * used size now before there was one. The used size at an arbitrary moment holds every object
   * that died since that GC, which hides the slack: in the bench the 30 s and 60 s looks saw too
   * little of it to act.
   */
  heap?: () => { committed: number; used: number };
  /** Injected for tests: the signal to V8 (default: @lvs/sys heapMemoryPressure). */
  signal?: (level: HeapPressureLevel) => boolean;
}

export interface HeapReducer {
  /** Looks once now (what each interval does); true when it asked V8 to reduce. */
  check(): boolean;
  /** Looks so far, and how many of them asked V8 to reduce. */
  stats(): { checks: number; reductions: number };
  stop(): void;
}

/** Whether `committed` exceeds `used` by enough to ask for the pages back. */
export function heapWorthReducing(committed: number, used: number): boolean {
  return committed - used >= Math.max(HEAP_REDUCE_MIN_SLACK, used * HEAP_REDUCE_SLACK_RATIO);
}

/**
 * Starts looking at this thread's heap every `intervalMs` (default 30 s); the timer does not keep
 * the process alive. For a daemon's main thread: a library embedded in someone else's process
 * leaves their heap alone unless they call this.
 */
export function startHeapReducer(opts: HeapReducerOptions = {}): HeapReducer {
  const intervalMs = opts.intervalMs ?? DEFAULT_HEAP_REDUCE_INTERVAL_S * 1000;
  let liveAfterMajorGc: number | undefined;
  let observer: PerformanceObserver | undefined;
  if (!opts.heap && intervalMs > 0) {
    observer = new PerformanceObserver((list) => {
      const major = list
        .getEntries()
        .some(
          (e) =>
            (e as unknown as { detail?: { kind?: number } }).detail?.kind ===
            perfConstants.NODE_PERFORMANCE_GC_MAJOR,
        );
      // Delivered after the GC, before much else has run: what the used size is then, survived it.
      if (major) liveAfterMajorGc = getHeapStatistics().used_heap_size;
    });
    observer.observe({ entryTypes: ["gc"] });
  }
  const heap =
    opts.heap ??
    (() => {
      const s = getHeapStatistics();
      return { committed: s.total_heap_size, used: liveAfterMajorGc ?? s.used_heap_size };
    });
  const signal = opts.signal ?? heapMemoryPressure;
  let checks = 0;
  let reductions = 0;
  const check = (): boolean => {
    checks++;
    const { committed, used } = heap();
    if (!heapWorthReducing(committed, used) || !signal("moderate")) return false;
    reductions++;
    return true;
  };
  const timer = intervalMs > 0 ? setInterval(check, intervalMs) : undefined;
  timer?.unref();
  return {
    check,
    stats: () => ({ checks, reductions }),
    stop: () => {
      clearInterval(timer);
      observer?.disconnect();
    },
  };
}
