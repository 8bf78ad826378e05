// The daemon: configuration → plan → health checks → engine → one reconcile loop → dataplane,
// with the runtime API, metrics, the state file, notify scripts, lvs_sync_daemon and (through a
// VrrpComponent) VRRP. `Director` is the daemon as an object (runtime.ts holds its parts,
// lifecycle.ts starts and stops them, engine.ts decides); `runDaemon()` is what
// `lvsctl up -f FILE` runs.
import type { Operation } from "@lvs/ipvs";
import type { ApiServer } from "./api.js";
import { hasNetAdmin } from "./dataplane-choice.js";
import type { DirectorEngine } from "./engine.js";
import { operationLine } from "./format.js";
import { dryRun, type ReloadResult, reload, start, stop } from "./lifecycle.js";
import { createLogger, type LogFormat, type Logger } from "./log.js";
import type { DirectorMetrics } from "./metrics.js";
import type { DirectorOptions } from "./options.js";
import { DirectorRuntime } from "./runtime.js";
import type { DirectorDrainAnswer, DirectorStatus } from "./status.js";
import { createVrrpComponent } from "./vrrp-adapter.js";

export class Director {
  readonly engine: DirectorEngine;
  readonly metrics: DirectorMetrics;
  readonly log: Logger;
  readonly statePath: string;
  private readonly rt: DirectorRuntime;

  constructor(opts: DirectorOptions) {
    this.rt = new DirectorRuntime(opts);
    this.engine = this.rt.engine;
    this.metrics = this.rt.metrics;
    this.log = this.rt.log;
    this.statePath = this.rt.statePath;
  }

  /** The runtime API server, once started. */
  private get api(): ApiServer | undefined {
    return this.rt.api;
  }

  /** Everything the configuration asks for, in keepalived's order; resolves once the table is in place. */
  start(): Promise<void> {
    return start(this.rt);
  }

  /** Re-read the configuration and apply only the difference (a file that doesn't load changes nothing). */
  reload(): Promise<ReloadResult> {
    return reload(this.rt);
  }

  /** Stop cleanly; the table stays unless configured (or asked) otherwise. */
  stop(): Promise<void> {
    return stop(this.rt);
  }

  /** Compute the operations a start would send, send nothing (`--dry-run`). */
  dryRun(): Promise<Operation[]> {
    return dryRun(this.rt);
  }

  status(): Promise<DirectorStatus> {
    return this.rt.status();
  }

  /** Drain (true) or undrain the whole director: every BGP announcement withdrawn / back. */
  drainDirector(drained: boolean): Promise<DirectorDrainAnswer> {
    return this.rt.drainDirector(drained);
  }

  /**
   * Ask for a pass (undefined: the whole table). Requests coalesce: one pass runs at a time and
   * the next one covers everything asked meanwhile. Resolves once a pass covering it has run.
   */
  requestPass(scope?: ReadonlySet<string>): Promise<void> {
    return this.rt.loop && !this.rt.stopped ? this.rt.loop.request(scope) : Promise.resolve();
  }

  /** The periodic drift check: the dataplane's summary first, a read only where it differs. */
  requestQuickPass(): Promise<void> {
    return this.rt.loop && !this.rt.stopped ? this.rt.loop.requestQuick() : Promise.resolve();
  }
}

export interface RunDaemonOptions extends Omit<DirectorOptions, "log"> {
  /** Print the kernel operations a start would perform (ipvsadm -R syntax) and exit. */
  dryRun?: boolean;
  /** `json` (pino, default) or `text` (keepalived style). */
  logFormat?: LogFormat;
  logLevel?: string;
  /** Where logs go (default stdout). */
  logDestination?: { write(s: string): unknown };
  /** Where the dry run prints (default stdout). */
  out?: { write(s: string): unknown };
  /** Install SIGHUP (reload) and SIGTERM/SIGINT (stop) handlers (default true). */
  signals?: boolean;
  /** Called once the daemon runs (tests, `lvsctl up` progress). */
  onStarted?: (director: Director) => void;
  /** Run VRRP on the daemon's own event loop instead of its isolated child process (debugging). */
  vrrpInProcess?: boolean;
}

/**
 * What `lvsctl up -f FILE` runs: start the director, reload on SIGHUP, stop cleanly on
 * SIGTERM/SIGINT (the IPVS table stays unless configured to flush). Resolves with the exit
 * status once stopped; `dryRun` prints the operations and resolves at once.
 */
export async function runDaemon(opts: RunDaemonOptions): Promise<number> {
  const log = createLogger({
    format: opts.logFormat ?? "json",
    level: opts.logLevel ?? "info",
    ...(opts.logDestination ? { destination: opts.logDestination } : {}),
  });
  // Without CAP_NET_ADMIN (not root) VRRP can't send adverts nor add addresses: skipped, with
  // one warning at start, and (on the proxy) the virtual addresses must already be local.
  const vrrpSkipped =
    opts.vrrpSkipped ??
    (!opts.vrrp && !opts.netns && (opts.mode ?? "all") !== "check" && !opts.dryRun && hasNetAdmin() === false
      ? "Not root (no CAP_NET_ADMIN)"
      : undefined);
  // The VRRP part runs through @lvs/vrrp unless the caller brings its own component.
  const vrrp =
    opts.vrrp ??
    ((opts.mode ?? "all") !== "check" && !opts.dryRun && vrrpSkipped === undefined
      ? createVrrpComponent({
          ...(opts.netns ? { netns: opts.netns } : {}),
          ...(opts.now ? { now: opts.now } : {}),
          ...(opts.vrrpInProcess ? { inProcess: true } : {}),
          warn: (m) => log.warn({}, `VRRP: ${m}`),
        })
      : undefined);
  const director = new Director({
    ...opts,
    log,
    ...(vrrp ? { vrrp } : {}),
    ...(vrrpSkipped !== undefined ? { vrrpSkipped } : {}),
    ...(opts.dryRun ? { socketPath: null } : {}),
  });
  if (opts.dryRun) {
    const ops = await director.dryRun();
    const out = opts.out ?? process.stdout;
    const plan = director.engine.currentPlan;
    if (plan.lvsFlush) out.write("-C\n");
    for (const op of ops) out.write(`${operationLine(op)}\n`);
    return 0;
  }
  try {
    await director.start();
  } catch (err) {
    log.fatal({ err }, `Cannot start: ${(err as Error).message}`);
    await director.stop().catch(() => {});
    throw err;
  }
  opts.onStarted?.(director);
  return new Promise<number>((resolve) => {
    if (opts.signals === false) {
      // Without signal handlers the caller stops the director; resolve when it does.
      const origStop = director.stop.bind(director);
      director.stop = async () => {
        await origStop();
        resolve(0);
      };
      return;
    }
    const onHup = () => {
      director.reload().catch(() => {});
    };
    let stopping = false;
    const onTerm = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, `Received ${sig}, stopping`);
      process.off("SIGHUP", onHup);
      director.stop().then(
        () => resolve(0),
        (err) => {
          log.error({ err }, "stop failed");
          resolve(1);
        },
      );
    };
    process.on("SIGHUP", onHup);
    process.once("SIGTERM", onTerm);
    process.once("SIGINT", onTerm);
  });
}
