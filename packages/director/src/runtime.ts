// The director's shell: the parts a running daemon holds (dataplane, reconcile loop, health
// runner, API server, sync-daemon control), the inputs that become engine events (probe results,
// VRRP state changes, timer ticks, address polls) and the targets the effect performer hands its
// work to. It routes and performs; every decision is the engine's (engine.ts).
import type { LvsConfig } from "@lvs/config";
import type {
  HealthCheckRunner,
  ProbeResult,
  TargetConfig,
  TargetEvent,
  TargetStatus,
} from "@lvs/healthcheck";
import { type Clock, systemClock } from "@lvs/inet";
import { keyOf, type Operation } from "@lvs/ipvs";
import { alertsFromConfig, type SmtpAlerts } from "./alerts.js";
import type { ApiServer } from "./api.js";
import type { BgpAnnouncer } from "./bgp.js";
import type { Plan } from "./compile.js";
import { DEFAULT_RECONCILE_INTERVAL_MS, SLOW_START_TICK_MS, STATE_FILE_VERSION } from "./constants.js";
import { type Dataplane, dataplaneName } from "./dataplane.js";
import { EffectPerformer, type EffectTargets } from "./effects.js";
import { DirectorEngine } from "./engine.js";
import type { DirectorEvent } from "./events.js";
import { DirectorHistory } from "./history.js";
import { createLogger, type Logger } from "./log.js";
import type { PassLoop } from "./loop.js";
import { LvsFifos } from "./lvs-fifo.js";
import { DirectorMetrics } from "./metrics.js";
import type { DirectorMode, DirectorOptions, LoadedConfig } from "./options.js";
import { defaultStatePathFor } from "./paths.js";
import { keyFromServiceId } from "./reconcile.js";
import { runScript, type ScriptRunner } from "./scripts.js";
import { type StateFile, StateWriter } from "./state-file.js";
import type { DirectorDrainAnswer, DirectorStatus } from "./status.js";
import { buildStatus, realServerMetrics, realServerStates } from "./status-report.js";
import type { SyncDaemonControl } from "./sync-daemon.js";
import type { DirectorSysctls } from "./sysctl-host.js";
import { every, type Ticker, wallTime } from "./timers.js";
import { type LocalAddresses, systemLocalAddresses } from "./vip.js";
import type { VrrpComponent } from "./vrrp.js";

export class DirectorRuntime {
  readonly opts: DirectorOptions;
  readonly mode: DirectorMode;
  readonly log: Logger;
  readonly clock: Clock;
  /** Epoch ms (drains, status). */
  readonly now: () => number;
  readonly startedAt: number;
  readonly statePath: string;
  /** Why the state file is not next to the configuration (logged at start), when it isn't. */
  readonly statePathWhy: string | undefined;
  readonly stateWriter: StateWriter;
  readonly scriptRunner: ScriptRunner;
  readonly localAddresses: LocalAddresses;
  readonly engine: DirectorEngine;
  readonly metrics: DirectorMetrics;
  readonly effects: EffectPerformer;
  /** Check results and transitions for the status page (bounded ring buffers). */
  readonly history: DirectorHistory;
  /** Called after anything the status page shows may have changed (its live feed listens). */
  readonly watchers = new Set<() => void>();
  dataplane: Dataplane | undefined;
  /** The dataplane was opened here (closed at stop). */
  ownsDataplane = false;
  loop: PassLoop | undefined;
  runner: HealthCheckRunner | undefined;
  api: ApiServer | undefined;
  sync: SyncDaemonControl | undefined;
  /**
   * The files and warnings of the configuration in use. Not the parsed configuration itself: with
   * its source positions it costs ~25 bytes of heap per byte of keepalived.conf (72 MiB for a
   * 2.7 MB file), and nothing needs it once the plan, VRRP and the sync daemon have their parts.
   */
  loaded: Pick<LoadedConfig, "files" | "warnings"> | undefined;
  /** BGP sessions announcing the VIPs (the `bgp:` section), once started. */
  bgp: BgpAnnouncer | undefined;
  /** The sysctls the plan needs (warned about or set at start and reload, restored at stop). */
  sysctls: DirectorSysctls | undefined;
  loadedAt = 0;
  private compiledPlan: Plan | undefined;
  stopped = false;
  /** The state file was read: from now on it is ours to rewrite. */
  stateLoaded = false;
  tickers: Ticker[] = [];
  slowStartTicker: Ticker | undefined;

  constructor(opts: DirectorOptions) {
    this.opts = opts;
    this.mode = opts.mode ?? "all";
    this.clock = opts.clock ?? systemClock;
    this.now = opts.now ?? (opts.clock ? wallTime(opts.clock) : Date.now);
    this.startedAt = this.now();
    this.log = opts.log ?? createLogger();
    this.fifos = new LvsFifos(this.log);
    this.scriptRunner = opts.scriptRunner ?? runScript;
    this.localAddresses = opts.localAddresses ?? systemLocalAddresses;
    const statePath =
      opts.statePath !== undefined ? { path: opts.statePath } : defaultStatePathFor(opts.configPath);
    this.statePath = statePath.path;
    this.statePathWhy = statePath.why;
    this.stateWriter = new StateWriter(this.statePath, (err) =>
      this.log.error({ err }, `Cannot write the state file: ${(err as Error).message}`),
    );
    this.engine = new DirectorEngine(this.now);
    this.history = new DirectorHistory(this.now, {
      ...(opts.history?.checksPerRealServer !== undefined
        ? { checks: opts.history.checksPerRealServer }
        : {}),
      ...(opts.history?.checkResults !== undefined ? { checkResults: opts.history.checkResults } : {}),
    });
    this.metrics = new DirectorMetrics({
      table: () => this.loop?.reconciler.table.services(),
      realServers: () => realServerMetrics(this.plan, this.engine),
      virtualServers: () =>
        (this.plan?.virtualServers ?? []).map((vs) => ({
          virtualServer: vs.key,
          quorumUp: this.engine.quorumUp(vs.key),
          liveWeight: this.engine.liveWeightOf(vs),
          sorryActive: this.engine.sorryActive(vs),
          suspended: this.engine.checksSuspended(vs.key),
        })),
      vrrp: () => this.opts.vrrp?.states() ?? [],
      stats: async () => this.dataplane?.stats(),
      bgp: () => this.bgp?.status() ?? [],
      directorDrained: () => this.engine.directorDrain() !== undefined,
    });
    this.effects = new EffectPerformer(this.effectTargets());
  }

  get lvsEnabled(): boolean {
    return this.mode !== "vrrp";
  }

  get vrrp(): VrrpComponent | undefined {
    return this.mode !== "check" ? this.opts.vrrp : undefined;
  }

  /** One event into the engine, its effects performed; resolves when the awaited ones are done. */
  dispatch(event: DirectorEvent): Promise<void> {
    const effects = this.engine.handle(event);
    // The drain poll only asks which services to read (every second): no state to compare, and
    // comparing them all is 20,000 real servers' states worked out on the one thread.
    if (event.kind !== "drain-poll") this.history.observe(event, this.engine, realServerStates);
    this.changed();
    return this.effects.perform(effects);
  }

  /** Tell the watchers (the page's live feed) that something may have changed. */
  changed(): void {
    for (const w of this.watchers) w();
  }

  /** The addresses on this host, when some virtual server needs them (ha_suspend). */
  /** The running plan: once the engine loaded the compiled one, with the real servers added at runtime. */
  get plan(): Plan | undefined {
    const p = this.compiledPlan;
    return p !== undefined && this.engine.configuredPlan === p ? this.engine.currentPlan : p;
  }

  set plan(p: Plan | undefined) {
    this.compiledPlan = p;
  }

  addressesFor(plan: Plan | undefined): ReadonlySet<string> {
    return plan?.virtualServers.some((v) => v.haSuspend) ? this.localAddresses() : new Set();
  }

  saveState(): Promise<void> {
    if (!this.lvsEnabled || !this.stateLoaded) return Promise.resolve();
    return this.stateWriter.save({
      version: STATE_FILE_VERSION,
      overrides: Object.fromEntries(this.engine.allOverrides()),
      owned: [...(this.loop?.reconciler.owned ?? [])],
      runtimeServers: this.engine.runtimeServers(),
      ...(this.sysctls ? { sysctls: this.sysctls.savedRecord() } : {}),
      ...this.directorDrainState(),
    });
  }

  /**
   * Drain (or undrain) the whole director: every BGP announcement is withdrawn (the routers stop
   * sending new flows here) while the table keeps serving established connections; kept in the
   * state file, so a restart stays drained. Answers what it withdrew or announces again.
   */
  async drainDirector(drained: boolean): Promise<DirectorDrainAnswer> {
    const was = this.engine.directorDrain() !== undefined;
    const before = this.bgp?.announcement().announced ?? [];
    await this.dispatch({ kind: "director-drain", drained });
    const after = this.bgp?.announcement().announced ?? [];
    return {
      drained,
      since: this.engine.directorDrain()?.since ?? null,
      changed: drained !== was,
      bgp: this.bgp !== undefined,
      withdrawn: before.filter((p) => !after.includes(p)),
      announced: after,
      peers: this.bgp?.status().map((s) => s.peer) ?? [],
    };
  }

  /** The state file's `director` entry, when drained. */
  private directorDrainState(): Pick<StateFile, "director"> {
    const d = this.engine.directorDrain();
    return d ? { director: { drained: true, since: d.since } } : {};
  }

  // ───────────── inputs → events ─────────────

  /** A probe's outcome, with its target's status after it. */
  onProbe(id: string, result: ProbeResult, status: TargetStatus): void {
    if (this.stopped) return;
    if (!result.up) this.logFailure(id, result);
    const owner = this.engine.ownerOf(id);
    if (owner) {
      this.history.check(owner.vs.key, owner.rs.key, {
        at: this.now(),
        check: owner.rs.checks.find((c) => c.id === id)?.kind ?? "check",
        ok: result.up,
        reason: result.reason,
        latencyMs: result.latencyMs,
      });
    }
    void this.dispatch({
      kind: "health",
      id,
      state: {
        up: status.up,
        weight: status.weight,
        reason: result.reason,
        latencyMs: result.latencyMs,
        at: this.now(),
      },
    });
  }

  /** log_all_failures: every failed probe of such a check at info, not only the transitions. */
  private logFailure(id: string, result: ProbeResult): void {
    const owner = this.engine.ownerOf(id);
    const check = owner?.rs.checks.find((c) => c.id === id);
    if (!owner || !check?.logAllFailures) return;
    this.log.info(
      { vs: owner.vs.key, rs: owner.rs.key, check: check.kind, reason: result.reason },
      `${check.kind} of ${owner.rs.label} for VS ${owner.vs.label} failed: ${result.reason}`,
    );
  }

  /** A check's up/down transition (the runner's rise/fall): counted and logged as it happens. */
  onCheckEvent(e: TargetEvent): void {
    const owner = this.engine.ownerOf(e.id);
    if (!owner) return;
    const kind = owner.rs.checks.find((c) => c.id === e.id)?.kind ?? "check";
    this.metrics.transitions.inc({ transition: e.kind });
    this.log.info(
      {
        vs: owner.vs.key,
        rs: owner.rs.key,
        check: kind,
        state: e.kind,
        reason: e.reason,
        latencyMs: e.latencyMs,
      },
      `${kind} of ${owner.rs.label} for VS ${owner.vs.label} ${e.kind === "up" ? "succeeded" : "failed"}: ${e.reason}`,
    );
  }

  /** A VRRP instance changed state: logged as keepalived does, then the sync daemon and ha_suspend follow. */
  onVrrpState(c: { instance: string; from: string; to: string; reason?: string }): void {
    this.history.vrrpTransition(c.instance, c.from, c.to, c.reason ?? "(not reported)");
    this.log.info({ instance: c.instance, from: c.from, to: c.to }, `(${c.instance}) Entering ${c.to} STATE`);
    this.bgp?.vrrp(c.instance, c.to);
    const to = c.to.toUpperCase();
    if (to === "MASTER" || to === "BACKUP" || to === "FAULT") this.alerts()?.vrrp(c.instance, to);
    void this.dispatch({ kind: "vrrp", instance: c.instance, from: c.from, to: c.to });
    void this.dispatch({ kind: "addresses", local: this.addressesFor(this.engine.currentPlan) });
  }

  /** Run `fn` every `ms` until stop. */
  every(ms: number, fn: () => void): void {
    this.tickers.push(
      every(this.clock, ms, () => {
        if (!this.stopped) fn();
      }),
    );
  }

  stopTimers(): void {
    for (const t of this.tickers) t.stop();
    this.tickers = [];
    this.slowStartTicker?.stop();
    this.slowStartTicker = undefined;
  }

  async status(): Promise<DirectorStatus> {
    const status = await buildStatus({
      plan: this.plan,
      engine: this.engine,
      table: this.loop?.reconciler.table,
      loop: this.loop,
      checkStatus: (id) => this.runner?.status(id),
      daemon: {
        pid: process.pid,
        startedAt: this.startedAt,
        configPath: this.opts.configPath,
        statePath: this.statePath,
        mode: this.mode,
      },
      config: {
        loadedAt: this.loadedAt,
        files: this.loaded?.files ?? [],
        warnings: [...(this.loaded?.warnings ?? []), ...(this.plan?.warnings ?? [])],
      },
      intervalMs: this.opts.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
      vrrp: { running: this.vrrp !== undefined, instances: this.opts.vrrp?.states() ?? [] },
      syncDaemons: async () => (await this.sync?.status()) ?? [],
    });
    const d = this.engine.directorDrain();
    const drain = { directorDrain: d ? { since: d.since } : null };
    return this.bgp
      ? { ...status, ...drain, bgp: this.bgp.status(), bgpAnnouncement: this.bgp.announcement() }
      : { ...status, ...drain };
  }

  /** Configure the lvs_sync_daemon (its VRRP instance's state, when it names one). */
  async configureSync(plan: Plan, config: LvsConfig): Promise<void> {
    const cfg = plan.lvsSyncDaemon;
    if (!this.sync) return;
    const inst = cfg?.instance ? config.vrrpInstances.find((i) => i.name === cfg.instance) : undefined;
    const state = cfg?.instance
      ? this.opts.vrrp?.states().find((s) => s.name === cfg.instance)?.state
      : undefined;
    await this.sync.configure(cfg, {
      vrrpRunning: this.vrrp !== undefined,
      ...(state ? { instanceState: state } : {}),
      ...(inst ? { vrid: inst.virtualRouterId } : {}),
    });
  }

  // ───────────── SMTP alerts ─────────────

  /** The running configuration's SMTP alerts (set at each load; undefined: it mails nobody). */
  smtpAlerts: SmtpAlerts | undefined;

  alerts(): SmtpAlerts | undefined {
    return this.smtpAlerts;
  }

  /** keepalived's LVS lines on notify_fifo / lvs_notify_fifo (set at each load). */
  readonly fifos: LvsFifos;

  /** Build the SMTP alerts and FIFO paths of a configuration just loaded (before it is dropped). */
  setAlerts(config: LvsConfig): void {
    this.fifos.configure(config);
    this.smtpAlerts = alertsFromConfig(config, (m, err) =>
      err
        ? this.log.warn({ subject: m.subject, err: err.message }, `SMTP alert not sent: ${err.message}`)
        : this.log.info({ subject: m.subject }, `SMTP alert sent: ${m.subject}`),
    );
  }

  // ───────────── effect targets ─────────────

  private effectTargets(): EffectTargets {
    return {
      log: this.log,
      metrics: this.metrics,
      scriptRunner: this.scriptRunner,
      requestPass: (scope, edit) =>
        (edit && scope ? this.loop?.edit(scope) : this.loop?.request(scope)) ?? Promise.resolve(),
      saveState: () => this.saveState(),
      // A VRRP state arriving while we stop (the instance enters STOP, ha_suspend suspends the
      // checks) must not reconfigure a runner that is already stopped: that threw and exited 1.
      configureChecks: (targets: TargetConfig[]) => {
        if (!this.stopped) this.runner?.configure(targets);
      },
      slowStart: (running) => this.slowStart(running),
      followSync: (state) => void this.sync?.follow(state),
      readConnections: (services) => this.readConnections(services),
      release: (how) => this.release(how),
      bgpQuorum: (vs, up) => this.bgp?.quorum(vs, up),
      bgpDrain: (drained) => this.bgp?.setDrained(drained),
      alerts: () => this.alerts(),
      fifos: this.fifos,
    };
  }

  /** While some weight ramps (slow start), report the runner's weights every tick. */
  private slowStart(running: boolean): void {
    if (!running) {
      this.slowStartTicker?.stop();
      this.slowStartTicker = undefined;
      return;
    }
    if (this.slowStartTicker || this.stopped) return;
    this.slowStartTicker = every(this.clock, SLOW_START_TICK_MS, () => {
      void this.dispatch({ kind: "weights", targets: this.runner?.statuses() ?? [] });
    });
  }

  private async readConnections(services: ReadonlySet<string>): Promise<void> {
    if (!this.dataplane || this.stopped) return;
    let counts: Awaited<ReturnType<Dataplane["connections"]>>;
    try {
      counts = await this.dataplane.connections([...services].map(keyFromServiceId));
    } catch (err) {
      this.metrics.readErrors.inc();
      this.log.error(
        { err },
        `Cannot read the ${dataplaneName(this.dataplane)} table: ${(err as Error).message}`,
      );
      return;
    }
    await this.dispatch({ kind: "connections", services, counts });
  }

  private async release(how: "flush" | "delete-services" | "keep"): Promise<void> {
    const dataplane = this.dataplane;
    if (!dataplane) return;
    if (how === "flush") {
      await dataplane.flush().catch((err) => this.log.warn({ err }, "flush at stop failed"));
      this.log.info({}, `Flushed the ${dataplaneName(dataplane)} table (lvs_flush_on_stop)`);
    } else if (how === "delete-services") {
      const ops: Operation[] = [];
      for (const id of this.loop?.reconciler.owned ?? []) {
        const s = this.loop?.reconciler.table.get(id)?.service;
        if (s) ops.push({ op: "delService", service: keyOf(s) });
      }
      if (ops.length)
        await dataplane.apply(ops).catch((err) => this.log.warn({ err }, "removing services at stop failed"));
      this.log.info({ services: ops.length }, `Removed ${ops.length} virtual services`);
    } else {
      this.log.info(
        {},
        dataplane.kind === "proxy"
          ? "The proxy's listeners close with this process (its table lives here)"
          : "Leaving the IPVS table in place",
      );
    }
  }
}
