// Messages between WorkerCheckRunner (main thread) and its workers (worker-entry.ts). Results
// travel in batches, flattened into one array per batch: one structured clone per event-loop
// turn of the worker instead of one per result.
import { performance } from "node:perf_hooks";
import type { TargetConfig } from "./runner.js";

export interface WorkerInit {
  concurrency?: number;
}

export type ToWorker =
  | { op: "configure"; targets: TargetConfig[] }
  | { op: "setWeight"; id: string; weight: number | undefined }
  | { op: "stop" };

export interface WorkerCounters {
  probesStarted: number;
  probesCompleted: number;
  fannedOut: number;
  inFlight: number;
  uniqueChecks: number;
}

export type FromWorker =
  | { op: "ready"; clockOrigin: number }
  | {
      op: "batch";
      /** RESULT_FIELDS or EVENT_FIELDS values per record, the first being its kind. */
      records: unknown[];
      counters: WorkerCounters;
      /** Start jitter samples (ms) since the previous batch. */
      jitterMs: Float64Array;
    }
  | { op: "error"; code: string; message: string };

/** kind, id, up, reason, latencyMs, weight|null, statusUp, statusWeight, ok, fail, retries, rise, fall, retry */
export const RESULT_RECORD = 0;

/**
 * Where this thread's performance.now() starts, on the process-wide monotonic clock (ms). Each
 * thread has its own performance.timeOrigin (taken from the wall clock); hrtime is shared.
 */
export function clockOrigin(): number {
  return Number(process.hrtime.bigint()) / 1e6 - performance.now();
}
export const RESULT_FIELDS = 14;
/** kind, id, transition, reason, latencyMs, at (worker clock), weight */
export const EVENT_RECORD = 1;
export const EVENT_FIELDS = 7;
