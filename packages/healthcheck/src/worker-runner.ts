// Many targets on several worker threads: targets are sharded by probe identity (so identical
// checks still share one probe), each worker runs an ordinary HealthCheckRunner over its shard,
// and results come back in batches. The callbacks and the status mirror have the single-thread
// runner's shapes, so a caller can use either.

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type ResourceLimits, Worker } from "node:worker_threads";
import { TargetEngine } from "./engine.js";
import { HealthcheckError, type HealthcheckErrorCode } from "./errors.js";
import {
  type CheckRunner,
  duplicateTarget,
  probeIdentity,
  type RunnerStats,
  type TargetConfig,
  type TargetEvent,
  type TargetStatus,
} from "./runner.js";
import type { ProbeResult } from "./types.js";
import {
  clockOrigin,
  EVENT_FIELDS,
  EVENT_RECORD,
  type FromWorker,
  RESULT_FIELDS,
  type ToWorker,
  type WorkerCounters,
  type WorkerInit,
} from "./worker-protocol.js";

export interface WorkerRunnerOptions {
  /** Worker threads (default: os.availableParallelism()). */
  threads?: number;
  /** Max probes in flight at once, per worker (default 512, as HealthCheckRunner). */
  concurrency?: number;
  onEvent?: (ev: TargetEvent) => void;
  /** Every probe outcome, with the target's status right after it (as HealthCheckRunner's). */
  onResult?: (id: string, result: ProbeResult, status: TargetStatus) => void;
  /** A worker died or refused a message (`HC_WORKER_FAILED`, …). Default: thrown (uncaught). */
  onError?: (err: HealthcheckError) => void;
  /** The worker module (default: this package's dist/worker-entry.js). */
  entry?: string | URL;
  /** V8 limits per worker (e.g. a small young generation for shorter scavenges). */
  resourceLimits?: ResourceLimits;
}

function packagedEntry(): string {
  // dist/index.js → dist/worker-entry.js; from the sources (tests), the built one.
  const candidates = ["./worker-entry.js", "../dist/worker-entry.js"].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new HealthcheckError(
      "HC_WORKER_ENTRY",
      `no health-check worker entry (looked for ${candidates.join(", ")}; build @lvs/healthcheck or pass entry)`,
    );
  }
  return found;
}

/** FNV-1a: a stable shard per probe identity for a fixed thread count. */
function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

interface Shard {
  worker: Worker;
  /** Worker clock → ours (each thread's performance.now() has its own origin). */
  clockOffset: number;
  counters: WorkerCounters;
  exited: Promise<void>;
}

const ZERO: WorkerCounters = {
  probesStarted: 0,
  probesCompleted: 0,
  fannedOut: 0,
  inFlight: 0,
  uniqueChecks: 0,
};

export class WorkerCheckRunner implements CheckRunner {
  private readonly opts: WorkerRunnerOptions;
  private readonly shards: Shard[] = [];
  /** Target id → shard index, for setWeight. */
  private shardById = new Map<string, number>();
  /** Last status per target, from the results the workers sent. */
  private mirror = new Map<string, TargetStatus>();
  private stopped = false;
  private readonly clockOrigin = clockOrigin();
  readonly stats: RunnerStats = { probesStarted: 0, probesCompleted: 0, fannedOut: 0, jitterMs: [] };

  constructor(opts: WorkerRunnerOptions = {}) {
    this.opts = opts;
    const threads = Math.max(1, Math.floor(opts.threads ?? availableParallelism()));
    const entry = opts.entry ?? packagedEntry();
    const init: WorkerInit = opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {};
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(entry, {
        workerData: init,
        ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}),
      });
      const shard: Shard = {
        worker,
        clockOffset: 0,
        counters: ZERO,
        exited: new Promise((resolve) => worker.once("exit", () => resolve())),
      };
      worker.on("message", (m: FromWorker) => this.onMessage(shard, m));
      worker.on("error", (err) => this.fail("HC_WORKER_FAILED", `health-check worker ${i}: ${err.message}`));
      worker.on("exit", (code) => {
        if (!this.stopped) this.fail("HC_WORKER_FAILED", `health-check worker ${i} exited (code ${code})`);
      });
      this.shards.push(shard);
    }
  }

  get threads(): number {
    return this.shards.length;
  }

  /**
   * Apply a new target set, as HealthCheckRunner.configure: each worker gets its shard (possibly
   * empty); unchanged targets keep their state and schedule in their worker.
   */
  configure(targets: TargetConfig[]): void {
    if (this.stopped) throw new HealthcheckError("HC_RUNNER_STOPPED", "runner stopped");
    const parts: TargetConfig[][] = this.shards.map(() => []);
    const shardById = new Map<string, number>();
    for (const t of targets) {
      if (shardById.has(t.id)) throw duplicateTarget(t.id);
      const s = shardOf(probeIdentity(t), parts.length);
      shardById.set(t.id, s);
      parts[s]!.push(t);
    }
    const now = performance.now();
    const mirror = new Map<string, TargetStatus>();
    for (const t of targets) {
      // A target keeps its status across configure() as long as it stays on its shard (and so
      // in the same worker runner); a new one starts as HealthCheckRunner's would.
      const old = this.shardById.get(t.id) === shardById.get(t.id) ? this.mirror.get(t.id) : undefined;
      mirror.set(t.id, old ?? initialStatus(t, now));
    }
    this.shardById = shardById;
    this.mirror = mirror;
    for (const [i, shard] of this.shards.entries()) this.send(shard, { op: "configure", targets: parts[i]! });
  }

  status(id: string): TargetStatus | undefined {
    return this.mirror.get(id);
  }

  statuses(): TargetStatus[] {
    return [...this.mirror.values()];
  }

  /** Load hook, forwarded to the worker running the target. */
  setWeight(id: string, weight: number | undefined): void {
    const s = this.shardById.get(id);
    if (s !== undefined) this.send(this.shards[s]!, { op: "setWeight", id, weight });
  }

  get uniqueChecks(): number {
    return this.shards.reduce((n, s) => n + s.counters.uniqueChecks, 0);
  }

  get inFlight(): number {
    return this.shards.reduce((n, s) => n + s.counters.inFlight, 0);
  }

  /** Cancel everything and end the workers; close() waits until they are gone. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.mirror.clear();
    this.shardById.clear();
    for (const shard of this.shards) {
      this.send(shard, { op: "stop" });
      void shard.worker.terminate();
    }
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.shards.map((s) => s.exited));
  }

  private send(shard: Shard, m: ToWorker): void {
    shard.worker.postMessage(m);
  }

  private fail(code: HealthcheckErrorCode, message: string): void {
    const err = new HealthcheckError(code, message);
    if (this.opts.onError) this.opts.onError(err);
    else
      queueMicrotask(() => {
        throw err;
      });
  }

  private onMessage(shard: Shard, m: FromWorker): void {
    if (m.op === "ready") {
      shard.clockOffset = m.clockOrigin - this.clockOrigin;
      return;
    }
    if (m.op === "error") {
      this.fail(m.code as HealthcheckErrorCode, m.message);
      return;
    }
    if (this.stopped) return;
    shard.counters = m.counters;
    let started = 0;
    let completed = 0;
    let fannedOut = 0;
    for (const s of this.shards) {
      started += s.counters.probesStarted;
      completed += s.counters.probesCompleted;
      fannedOut += s.counters.fannedOut;
    }
    this.stats.probesStarted = started;
    this.stats.probesCompleted = completed;
    this.stats.fannedOut = fannedOut;
    const jitter = this.stats.jitterMs;
    for (let i = 0; i < m.jitterMs.length && jitter.length < 100_000; i++) jitter.push(m.jitterMs[i]!);
    this.deliver(shard, m.records);
  }

  private deliver(shard: Shard, r: unknown[]): void {
    const { onResult, onEvent } = this.opts;
    let i = 0;
    while (i < r.length) {
      if (r[i] === EVENT_RECORD) {
        const id = r[i + 1] as string;
        if (this.mirror.has(id)) {
          onEvent?.({
            id,
            kind: r[i + 2] as TargetEvent["kind"],
            reason: r[i + 3] as string,
            latencyMs: r[i + 4] as number,
            at: (r[i + 5] as number) + shard.clockOffset,
            weight: r[i + 6] as number,
          });
        }
        i += EVENT_FIELDS;
        continue;
      }
      const id = r[i + 1] as string;
      const weight = r[i + 5] as number | null;
      const result: ProbeResult = {
        up: r[i + 2] as boolean,
        reason: r[i + 3] as string,
        latencyMs: r[i + 4] as number,
        ...(weight !== null ? { weight } : {}),
      };
      const status: TargetStatus = {
        id,
        up: r[i + 6] as boolean,
        weight: r[i + 7] as number,
        lastResult: result,
        progress: {
          ok: r[i + 8] as number,
          fail: r[i + 9] as number,
          retries: r[i + 10] as number,
          rise: r[i + 11] as number,
          fall: r[i + 12] as number,
          retry: r[i + 13] as number,
        },
      };
      i += RESULT_FIELDS;
      // A result for a target configure() has since removed is dropped, as the single runner does.
      if (!this.mirror.has(id)) continue;
      this.mirror.set(id, status);
      onResult?.(id, result, status);
    }
  }
}

function initialStatus(t: TargetConfig, now: number): TargetStatus {
  const engine = new TargetEngine(t.policy);
  return {
    id: t.id,
    up: engine.up,
    weight: engine.weightAt(now),
    lastResult: undefined,
    progress: engine.progress,
  };
}
