// The reconcile loop: one pass at a time, requests coalesced (the next pass covers everything
// asked meanwhile), the periodic drift check (the dataplane's summary most of the time, a full
// read every Nth), and each pass's outcome in metrics and logs. A check's outcome is a targeted
// edit instead, sent at once beside the passes (never queued behind a full read); only when the
// edit can't tell or is refused does a scoped pass follow. What the engine said about a
// pass's read (a drain finished) is handed to the effect performer once the pass is done.
import type { Operation } from "@lvs/ipvs";
import type { EngineEffect } from "./events.js";
import { operationLine } from "./format.js";
import type { Logger } from "./log.js";
import type { DirectorMetrics } from "./metrics.js";
import type { PassReport, Reconciler } from "./reconcile.js";

export interface PassLoopOptions {
  reconciler: Reconciler<EngineEffect>;
  metrics: DirectorMetrics;
  log: Logger;
  /** Performs what a pass's read changed (logs, scripts, the state file). */
  perform(effects: readonly EngineEffect[]): Promise<void>;
  /** Every Nth periodic pass reads the whole table (the others the summary). Default 12. */
  fullPassEvery?: number;
  /** What log lines call the dataplane: "IPVS" (keepalived's wording, the default) or "proxy". */
  dataplaneName?: string;
}

interface Pending {
  full: boolean;
  quick: boolean;
  scope: Set<string>;
}

/**
 * What status and reloads need of the last pass. Not the report itself: that holds the whole
 * table read and every operation sent (after a start from empty, 20,000 destinations), which
 * would stay referenced until the next pass.
 */
export interface LastPass {
  kind: PassReport["kind"];
  startedAt: number;
  readMs: number;
  applyMs: number;
  operations: number;
  failed: PassReport["failed"];
}

export class PassLoop {
  readonly reconciler: Reconciler<EngineEffect>;
  passes = 0;
  driftRepairs = 0;
  lastPass: LastPass | undefined;
  /** Operations the dataplane refused, since start (each retried by the next pass). */
  refusals = 0;
  /** Passes that could not read the table, since start. */
  readErrors = 0;
  lastReadError: string | null = null;
  private readonly opts: PassLoopOptions;
  /** "IPVS" or "proxy" in log lines. */
  private get name(): string {
    return this.opts.dataplaneName ?? "IPVS";
  }
  private pending: Pending = { full: false, quick: false, scope: new Set() };
  private running: Promise<void> | undefined;
  private periodicCount = 0;
  private stopped = false;

  constructor(opts: PassLoopOptions) {
    this.opts = opts;
    this.reconciler = opts.reconciler;
  }

  /**
   * Ask for a pass (undefined: the whole table). Resolves once a pass covering it has run (at
   * once when the loop is stopped).
   */
  request(scope?: ReadonlySet<string>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!scope) this.pending.full = true;
    else for (const id of scope) this.pending.scope.add(id);
    return this.kick();
  }

  /**
   * Only the desired side of these services changed (a check's outcome): a targeted edit now,
   * beside any pass under way; a scoped pass when the edit can't tell, or after a refusal.
   */
  async edit(scope: ReadonlySet<string>): Promise<void> {
    if (this.stopped) return;
    const t0 = performance.now();
    let report: PassReport<EngineEffect> | undefined;
    try {
      report = await this.reconciler.edit(scope);
    } catch (err) {
      this.opts.log.warn({ err }, `${this.name} edit not sent: ${(err as Error).message}; reading instead`);
    }
    if (!report) return this.request(scope);
    this.passes++;
    this.lastPass = {
      kind: report.kind,
      startedAt: report.startedAt,
      readMs: 0,
      applyMs: report.applyMs,
      operations: report.operations.length,
      failed: report.failed,
    };
    this.record(report, (performance.now() - t0) / 1000);
    if (report.failed.length) await this.request(scope);
  }

  /** The periodic drift check: the summary first, a read only where it differs. */
  requestQuick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.pending.quick = true;
    return this.kick();
  }

  /** One tick of the periodic pass: every `fullPassEvery`th reads everything, the others look quickly. */
  periodic(quickPossible: boolean): Promise<void> {
    this.periodicCount++;
    const fullEvery = Math.max(1, this.opts.fullPassEvery ?? 12);
    return this.periodicCount % fullEvery === 0 || !quickPossible ? this.request() : this.requestQuick();
  }

  /** No more passes; resolves once the running one is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => {});
  }

  private kick(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped && (this.pending.full || this.pending.quick || this.pending.scope.size)) {
      const { full, quick, scope } = this.pending;
      this.pending = { full: false, quick: false, scope: new Set() };
      if (full) await this.one(undefined, false);
      else if (quick) {
        await this.one(undefined, true);
        // Scoped requests that came with it are covered only if the quick pass went to a read.
        if (scope.size) await this.one(scope, false);
      } else await this.one(scope, false);
    }
  }

  private async one(scope: ReadonlySet<string> | undefined, quick: boolean): Promise<void> {
    const t0 = performance.now();
    let report: PassReport<EngineEffect>;
    try {
      report = await this.reconciler.pass(scope ? { scope } : quick ? { quick: true } : {});
    } catch (err) {
      this.opts.metrics.readErrors.inc();
      this.readErrors++;
      this.lastReadError = (err as Error).message;
      this.opts.log.error({ err }, `Cannot read the ${this.name} table: ${(err as Error).message}`);
      return;
    }
    this.lastReadError = null;
    this.passes++;
    this.lastPass = {
      kind: report.kind,
      startedAt: report.startedAt,
      readMs: report.readMs,
      applyMs: report.applyMs,
      operations: report.operations.length,
      failed: report.failed,
    };
    const seconds = (performance.now() - t0) / 1000;
    this.record(report, seconds);
    // A pass never asks for another one itself; anything else the engine said is done now.
    for (const e of report.effects) if (e.kind === "pass") void this.request(e.scope);
    await this.opts.perform(report.effects.filter((e) => e.kind !== "pass"));
    if (report.operations.length) {
      this.opts.log.debug(
        {
          operations: report.operations.length,
          failed: report.failed.length,
          kind: report.kind,
          ms: Math.round(seconds * 1000),
        },
        `reconcile: ${report.operations.length} operations`,
      );
    }
  }

  /** A pass in metrics and logs: operations, refusals (retried next pass), drift repaired. */
  private record(report: PassReport<EngineEffect>, seconds: number): void {
    const { metrics, log } = this.opts;
    metrics.passes.inc({ kind: report.kind });
    metrics.passDuration.observe({ kind: report.kind }, seconds);
    for (const r of report.operations) metrics.operations.inc({ op: r.op });
    this.refusals += report.failed.length;
    for (const f of report.failed) {
      metrics.errors.inc({ op: f.operation.op, errno: f.errnoName ?? f.code });
      log.warn(
        { op: f.operation.op, object: f.object, code: f.code, errno: f.errno },
        `${this.name === "IPVS" ? "IPVS cmd" : `${this.name} operation`} ${f.operation.op} error: ${f.errnoName ?? f.code}(${f.errno ?? "-"}) ${f.object ?? ""} - retrying next pass`,
      );
    }
    const drift = report.drift.service + report.drift.dest;
    if (drift) {
      this.driftRepairs += drift;
      if (report.drift.service) metrics.drift.inc({ object: "service" }, report.drift.service);
      if (report.drift.dest) metrics.drift.inc({ object: "real_server" }, report.drift.dest);
      log.warn(
        { services: report.drift.service, realServers: report.drift.dest },
        `Repaired ${this.name} changes made behind our back: ${report.drift.service} services, ${report.drift.dest} real servers`,
      );
    }
  }
}

/** Log what a pass is about to send (one line per operation, or a count for a big batch). */
export function logOperations(log: Logger, ops: readonly Operation[]): void {
  const n = ops.length;
  if (n >= 50) log.info({ operations: n }, `Applying ${n} IPVS operations`);
  else for (const op of ops) log.debug({ op: op.op }, `IPVS ${operationLine(op)}`);
}
