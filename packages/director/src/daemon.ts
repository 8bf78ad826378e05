// The daemon: configuration → plan → health checks → engine → one reconcile loop → kernel, with
// the runtime API, metrics, the state file, notify scripts, lvs_sync_daemon and (through a
// VrrpComponent) VRRP. `runDaemon()` is what `lvsctl up -f FILE` runs.
import { readFile } from "node:fs/promises";
import type { LvsConfig } from "@lvs/config";
import * as lvsConfig from "@lvs/config";
import {
  HealthCheckRunner,
  type ProbeResult,
  type RunnerOptions,
  type TargetConfig,
  type TargetEvent,
} from "@lvs/healthcheck";
import {
  describeService,
  destId,
  IpvsClient,
  IpvsError,
  keyOf,
  type Operation,
  type ServiceWithDests,
  serviceId,
  type Timeouts,
} from "@lvs/ipvs";
import type { DaemonClient } from "@lvs/sync";
import { ApiServer, type RealServerRequest } from "./api.js";
import { compilePlan, destFor, type Plan, type PlannedVirtualServer } from "./compile.js";
import {
  DEFAULT_DRAIN_POLL_MS,
  DEFAULT_HA_SUSPEND_POLL_MS,
  DEFAULT_RECONCILE_INTERVAL_MS,
  DEFAULT_SOCKET_PATH,
  SHUTDOWN_SCRIPT_TIMEOUT_MS,
  SLOW_START_TICK_MS,
  STATE_FILE_VERSION,
} from "./constants.js";
import { DirectorEngine, type EngineEffect, type HealthState } from "./engine.js";
import { destEntryOf, serviceEntryOf } from "./entries.js";
import { DirectorError } from "./errors.js";
import { operationLine } from "./format.js";
import { parseRsReference, parseVsReference } from "./keys.js";
import { createLogger, type LogFormat, type Logger } from "./log.js";
import { MemoryKernel } from "./memory-kernel.js";
import { DirectorMetrics, type RealServerMetric } from "./metrics.js";
import { type KernelClient, type PassReport, Reconciler } from "./reconcile.js";
import { runScript, type ScriptRunner } from "./scripts.js";
import { defaultStatePath, readStateFile, StateWriter } from "./state-file.js";
import type { DirectorStatus, RealServerStatus, VirtualServerStatus } from "./status.js";
import { SyncDaemonControl } from "./sync-daemon.js";
import { type LocalAddresses, systemLocalAddresses } from "./vip.js";
import type { VrrpComponent } from "./vrrp.js";
import { createVrrpComponent } from "./vrrp-adapter.js";

/** What the daemon needs from the kernel (IpvsClient has all of it). */
export interface DirectorKernel extends KernelClient, DaemonClient {
  flush(): Promise<void>;
  setTimeouts(t: Timeouts): Promise<void>;
  close?(): void;
}

export type DirectorMode = "all" | "check" | "vrrp";

export interface LoadedConfig {
  config: LvsConfig;
  files: string[];
  warnings: string[];
}

export interface DirectorOptions {
  /** keepalived.conf, or the native YAML/JSON. */
  configPath: string;
  /** `@ID` lines of keepalived.conf (keepalived -i); default: the host name up to the first dot. */
  configId?: string;
  /** Default: `<configPath>.state.json`. */
  statePath?: string;
  /** API socket (default /run/lvs/director.sock); null = none. */
  socketPath?: string | null;
  /** Optional TCP API `HOST:PORT` (needs `token`). */
  listen?: string;
  token?: string;
  /** `all` (default): LVS + VRRP; `check`: LVS only (keepalived --check); `vrrp`: VRRP only. */
  mode?: DirectorMode;
  log?: Logger;
  /** Kernel access; default IpvsClient.open({ netns }). */
  client?: DirectorKernel;
  netns?: string;
  reconcileIntervalMs?: number;
  drainPollMs?: number;
  haSuspendPollMs?: number;
  /** Health runner options (tests inject `probe` and `clock`). */
  health?: Omit<RunnerOptions, "onEvent" | "onResult">;
  loadConfig?: (path: string) => LoadedConfig;
  scriptRunner?: ScriptRunner;
  vrrp?: VrrpComponent;
  localAddresses?: LocalAddresses;
  /** Epoch ms (drains, status). */
  now?: () => number;
  /**
   * /proc/net/ip_vs for quick periodic passes. Default: the file, when the daemon programs its
   * own namespace's IPVS; a client with `procText()` (MemoryKernel) answers for itself.
   */
  readProc?: (() => Promise<string>) | null;
  /** Every Nth periodic pass reads the whole table over netlink (the others look at /proc). Default 12. */
  fullPassEvery?: number;
  /**
   * At stop, delete our services as keepalived does without --dont-release-ipvs. Default false:
   * the table stays (connections keep flowing while the daemon restarts). `lvs_flush_on_stop`
   * in the file flushes regardless.
   */
  releaseOnStop?: boolean;
}

/** keepalived.conf, YAML or JSON (@lvs/config's loadConfig tells them apart). */
export function loadConfigFile(path: string, opts: { configId?: string } = {}): LoadedConfig {
  try {
    const r = lvsConfig.loadConfig(path, opts.configId !== undefined ? { configId: opts.configId } : {});
    return { config: r.config, files: r.files, warnings: r.warnings.map((w) => lvsConfig.formatIssue(w)) };
  } catch (err) {
    if (err instanceof lvsConfig.ConfigError) {
      const lines = err.errors.map((i) => lvsConfig.formatIssue(i)).join("\n");
      throw new DirectorError("DIRECTOR_CONFIG", lines || err.message, { object: path, cause: err });
    }
    throw err;
  }
}

const FORWARD_NAME: Record<number, "NAT" | "DR" | "TUN"> = { 0: "NAT", 2: "TUN", 3: "DR" };

export class Director {
  readonly engine: DirectorEngine;
  readonly metrics: DirectorMetrics;
  readonly log: Logger;
  private readonly opts: DirectorOptions;
  private readonly now: () => number;
  private readonly scriptRunner: ScriptRunner;
  private readonly localAddresses: LocalAddresses;
  readonly statePath: string;
  private readonly stateWriter: StateWriter;
  private client: DirectorKernel | undefined;
  private ownsClient = false;
  private reconciler: Reconciler | undefined;
  private runner: HealthCheckRunner | undefined;
  private api: ApiServer | undefined;
  private sync: SyncDaemonControl | undefined;
  private loaded: LoadedConfig | undefined;
  private loadedAt = 0;
  private plan: Plan | undefined;
  private lastTable = new Map<string, ServiceWithDests>();
  private haveTable = false;
  private lastReport: PassReport | undefined;
  private lastReadError: string | null = null;
  private passes = 0;
  private driftRepairs = 0;
  private pending = { full: false, quick: false, scope: new Set<string>() };
  private periodic = 0;
  private readonly readProc: (() => Promise<string>) | undefined;
  private loop: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private slowStartTimer: NodeJS.Timeout | undefined;
  private suspended = new Set<string>();
  private readonly startedAt: number;
  private stopped = false;
  /** Running notify scripts (awaited at stop). */
  private scripts = new Set<Promise<unknown>>();
  private readonly mode: DirectorMode;
  /** Runtime state changed during a pass (a drain finished): written at its end. */
  private stateDirty = false;
  private stateLoaded = false;

  constructor(opts: DirectorOptions) {
    this.opts = opts;
    this.mode = opts.mode ?? "all";
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.log = opts.log ?? createLogger();
    this.scriptRunner = opts.scriptRunner ?? runScript;
    this.localAddresses = opts.localAddresses ?? systemLocalAddresses;
    this.statePath = opts.statePath ?? defaultStatePath(opts.configPath);
    this.stateWriter = new StateWriter(this.statePath);
    this.engine = new DirectorEngine(this.now);
    const procOf = (opts.client as { procText?: () => Promise<string> } | undefined)?.procText;
    this.readProc =
      opts.readProc === null
        ? undefined
        : (opts.readProc ??
          (procOf
            ? procOf.bind(opts.client)
            : !opts.client && !opts.netns
              ? () => readFile("/proc/net/ip_vs", "utf8")
              : undefined));
    this.metrics = new DirectorMetrics({
      table: () => (this.haveTable ? [...this.lastTable.values()] : undefined),
      realServers: () => this.realServerMetrics(),
      virtualServers: () =>
        (this.plan?.virtualServers ?? []).map((vs) => ({
          virtualServer: vs.key,
          quorumUp: this.engine.quorumUp(vs.key),
          liveWeight: this.engine.liveWeightOf(vs),
          sorryActive: this.engine.sorryActive(vs),
          suspended: this.suspended.has(vs.key),
        })),
      vrrp: () => this.opts.vrrp?.states() ?? [],
    });
  }

  private get lvsEnabled(): boolean {
    return this.mode !== "vrrp";
  }

  private get vrrpEnabled(): boolean {
    return this.mode !== "check" && this.opts.vrrp !== undefined;
  }

  // ───────────── start / reload / stop ─────────────

  private loadConfig(): LoadedConfig {
    if (this.opts.loadConfig) return this.opts.loadConfig(this.opts.configPath);
    return loadConfigFile(
      this.opts.configPath,
      this.opts.configId !== undefined ? { configId: this.opts.configId } : {},
    );
  }

  private async openClient(): Promise<DirectorKernel> {
    if (this.client) return this.client;
    if (this.opts.client) this.client = this.opts.client;
    else {
      this.client = await IpvsClient.open(this.opts.netns ? { netns: this.opts.netns } : {});
      this.ownsClient = true;
    }
    return this.client;
  }

  private newReconciler(client: DirectorKernel, owned: Iterable<string>): Reconciler {
    return new Reconciler({
      client,
      owned,
      now: this.now,
      desired: (actual, scope) => {
        this.handleEffects(this.engine.observe(actual, scope, (a) => serviceId(a.service)));
        return this.engine.desired(scope);
      },
      saveOwned: () => this.saveState(),
      ...(this.readProc ? { readProc: this.readProc } : {}),
      onApply: (ops) => {
        const n = ops.length;
        if (n >= 50) this.log.info({ operations: n }, `Applying ${n} IPVS operations`);
        else for (const op of ops) this.log.debug({ op: op.op }, `IPVS ${operationLine(op)}`);
      },
    });
  }

  /** Everything the configuration asks for, in keepalived's order; resolves once the table is in place. */
  async start(): Promise<void> {
    const loaded = this.loadConfig();
    this.loaded = loaded;
    this.loadedAt = this.now();
    for (const w of loaded.warnings) this.log.warn({ config: this.opts.configPath }, w);
    const plan = compilePlan(loaded.config);
    this.plan = plan;
    for (const w of plan.warnings) this.log.warn({}, w);
    this.log.info(
      { config: this.opts.configPath, virtualServers: plan.virtualServers.length, mode: this.mode },
      `Starting lvs director (${this.mode}) with ${this.opts.configPath}`,
    );

    if (this.lvsEnabled) {
      const state = await readStateFile(this.statePath);
      this.engine.restoreOverrides(new Map(Object.entries(state.overrides)));
      // From here on the file is ours to rewrite (never before: a start that fails earlier
      // must not replace persisted drains with an empty state).
      this.stateLoaded = true;
      const client = await this.openClient();
      this.reconciler = this.newReconciler(client, state.owned);
      if (plan.lvsFlush) {
        await client.flush();
        this.log.info({}, "Flushed the IPVS table (lvs_flush)");
      }
      await this.applyTimeouts(plan);
      this.sync = new SyncDaemonControl(client, this.log);
      this.haSuspendPoll(true);
      this.runner = new HealthCheckRunner({
        ...this.opts.health,
        onResult: (id, r) => this.onResult(id, r),
        onEvent: (e) => this.onEvent(e),
      });
      this.runner.configure(this.activeTargets());
      this.handleEffects(this.engine.load(plan));
      await this.requestPass();
    }
    if (this.vrrpEnabled) {
      const vrrp = this.opts.vrrp as VrrpComponent;
      vrrp.on("state", (c) => {
        this.log.info(
          { instance: c.instance, from: c.from, to: c.to },
          `(${c.instance}) Entering ${c.to} STATE`,
        );
        if (plan.lvsSyncDaemon?.instance === c.instance) void this.sync?.follow(c.to);
        this.haSuspendPoll(false);
      });
      await vrrp.start(loaded.config);
    } else if (this.mode !== "check" && loaded.config.vrrpInstances.length) {
      this.log.warn(
        {},
        `${loaded.config.vrrpInstances.length} vrrp_instance block(s) not run: no VRRP component in this build (LVS side only)`,
      );
    }
    if (this.lvsEnabled) await this.configureSync(plan, loaded.config);

    const api = this.opts.socketPath === null ? undefined : (this.opts.socketPath ?? DEFAULT_SOCKET_PATH);
    if (api || this.opts.listen) {
      this.api = new ApiServer({
        ...(api ? { socketPath: api } : {}),
        ...(this.opts.listen ? { listen: this.opts.listen } : {}),
        ...(this.opts.token ? { token: this.opts.token } : {}),
        handlers: this.apiHandlers(),
        onError: (err) => this.log.error({ err }, "API request failed"),
      });
      await this.api.start();
      this.log.info(
        { socket: api, listen: this.opts.listen },
        `Runtime API on ${[api, this.opts.listen].filter(Boolean).join(" and ")}`,
      );
    }
    if (this.lvsEnabled) {
      const every = (ms: number, fn: () => void) => {
        const t = setInterval(fn, ms);
        t.unref();
        this.timers.push(t);
      };
      const fullEvery = Math.max(1, this.opts.fullPassEvery ?? 12);
      every(this.opts.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS, () => {
        this.periodic++;
        void (this.periodic % fullEvery === 0 || !this.readProc
          ? this.requestPass()
          : this.requestQuickPass());
      });
      every(this.opts.drainPollMs ?? DEFAULT_DRAIN_POLL_MS, () => {
        const s = this.engine.drainingServices();
        if (s.size) void this.requestPass(s);
      });
      if (plan.virtualServers.some((v) => v.haSuspend)) {
        every(this.opts.haSuspendPollMs ?? DEFAULT_HA_SUSPEND_POLL_MS, () => this.haSuspendPoll(false));
      }
    }
  }

  private async applyTimeouts(plan: Plan): Promise<void> {
    const t = plan.lvsTimeouts;
    if (!t || !(t.tcp || t.tcpfin || t.udp) || !this.client) return;
    try {
      await this.client.setTimeouts({ tcp: t.tcp ?? 0, tcpFin: t.tcpfin ?? 0, udp: t.udp ?? 0 });
    } catch (err) {
      this.log.warn({ err }, `Failed to set ipvs timeouts: ${(err as Error).message}`);
    }
  }

  private async configureSync(plan: Plan, config: LvsConfig): Promise<void> {
    const cfg = plan.lvsSyncDaemon;
    if (!this.sync) return;
    const inst = cfg?.instance ? config.vrrpInstances.find((i) => i.name === cfg.instance) : undefined;
    const state = cfg?.instance
      ? this.opts.vrrp?.states().find((s) => s.name === cfg.instance)?.state
      : undefined;
    await this.sync.configure(cfg, {
      vrrpRunning: this.vrrpEnabled,
      ...(state ? { instanceState: state } : {}),
      ...(inst ? { vrid: inst.virtualRouterId } : {}),
    });
  }

  /**
   * Re-read the configuration and apply only the difference: unchanged checks keep their state,
   * unchanged services are never recreated. A file that doesn't load leaves everything running.
   */
  async reload(): Promise<{ virtualServers: number; warnings: string[]; operations: number }> {
    let loaded: LoadedConfig;
    try {
      loaded = this.loadConfig();
    } catch (err) {
      this.metrics.reloads.inc({ result: "error" });
      this.log.error({ err }, `Reload failed, keeping the running configuration: ${(err as Error).message}`);
      throw err;
    }
    const plan = compilePlan(loaded.config);
    this.loaded = loaded;
    this.loadedAt = this.now();
    this.plan = plan;
    for (const w of [...loaded.warnings, ...plan.warnings]) this.log.warn({}, w);
    this.log.info({ virtualServers: plan.virtualServers.length }, "Reloading configuration");
    let operations = 0;
    if (this.lvsEnabled && this.runner) {
      await this.applyTimeouts(plan);
      this.haSuspendPoll(true);
      this.runner.configure(this.activeTargets());
      this.handleEffects(this.engine.load(plan));
      const before = this.passes;
      await this.requestPass();
      if (this.passes > before && this.lastReport) operations = this.lastReport.operations.length;
      await this.configureSync(plan, loaded.config);
    }
    if (this.vrrpEnabled) await (this.opts.vrrp as VrrpComponent).reload(loaded.config);
    this.metrics.reloads.inc({ result: "ok" });
    return {
      virtualServers: plan.virtualServers.length,
      warnings: [...loaded.warnings, ...plan.warnings],
      operations,
    };
  }

  /**
   * Stop: checks and timers first, then (omega) the down notifiers, VRRP, the sync daemon; the
   * IPVS table stays unless `lvs_flush_on_stop` or `releaseOnStop` says otherwise.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.slowStartTimer) clearInterval(this.slowStartTimer);
    this.runner?.stop();
    await this.api?.stop();
    await this.loop?.catch(() => {});
    const plan = this.plan;
    if (plan && this.lvsEnabled) {
      // Omega: down notifiers all the way down (clear_service_vs → do_rs_notifies / do_vs_notifies).
      const waits: Promise<unknown>[] = [];
      for (const vs of plan.virtualServers) {
        if (!vs.omega) continue;
        for (const v of this.engine.realServerViews(vs)) {
          if (v.alive && v.rs.notifyDown)
            waits.push(this.scriptRunner(v.rs.notifyDown, { timeoutMs: SHUTDOWN_SCRIPT_TIMEOUT_MS }));
        }
        if (this.engine.quorumUp(vs.key) && vs.quorumDown) {
          waits.push(this.scriptRunner(vs.quorumDown, { timeoutMs: SHUTDOWN_SCRIPT_TIMEOUT_MS }));
        }
      }
      await Promise.all(waits);
    }
    if (this.vrrpEnabled)
      await (this.opts.vrrp as VrrpComponent)
        .stop()
        .catch((err) => this.log.warn({ err }, "VRRP stop failed"));
    await this.sync?.shutdown();
    if (plan && this.client && this.lvsEnabled) {
      if (plan.lvsFlushOnStop === "RS") {
        await this.client.flush().catch((err) => this.log.warn({ err }, "flush at stop failed"));
        this.log.info({}, "Flushed the IPVS table (lvs_flush_on_stop)");
      } else if (plan.lvsFlushOnStop === "VS" || this.opts.releaseOnStop) {
        const ops: Operation[] = [];
        for (const id of this.reconciler?.owned ?? []) {
          const s = this.lastTable.get(id)?.service;
          if (s) ops.push({ op: "delService", service: keyOf(s) });
        }
        if (ops.length)
          await this.client
            .batch(ops)
            .catch((err) => this.log.warn({ err }, "removing services at stop failed"));
        this.log.info({ services: ops.length }, `Removed ${ops.length} virtual services`);
      } else {
        this.log.info({}, "Leaving the IPVS table in place");
      }
    }
    await Promise.all([...this.scripts]);
    await this.saveState();
    if (this.ownsClient) this.client?.close?.();
    this.log.info({}, "Stopped");
  }

  // ───────────── health ─────────────

  /** Targets of virtual servers whose checks are not held by ha_suspend. */
  private activeTargets(): TargetConfig[] {
    const out: TargetConfig[] = [];
    for (const vs of this.plan?.virtualServers ?? []) {
      if (this.suspended.has(vs.key)) continue;
      for (const rs of vs.realServers) for (const c of rs.checks) out.push(c.target);
    }
    return out;
  }

  /** ha_suspend: hold or release checks as the VIPs come and go; `quiet` on (re)load. */
  private haSuspendPoll(quiet: boolean): void {
    const plan = this.plan;
    if (!plan?.virtualServers.some((v) => v.haSuspend)) {
      this.suspended.clear();
      return;
    }
    const local = this.localAddresses();
    let changed = false;
    const next = new Set<string>();
    for (const vs of plan.virtualServers) {
      if (!vs.haSuspend) continue;
      const present = vs.vips.some((a) => local.has(a));
      if (!present) next.add(vs.key);
      if (present === this.suspended.has(vs.key)) {
        changed = true;
        if (!quiet) {
          for (const rs of vs.realServers) {
            this.log.info(
              { vs: vs.key, rs: rs.key },
              `${present ? "Activating" : "Suspending"} healthchecker for service ${rs.label} for VS ${vs.label}`,
            );
          }
        }
      }
    }
    this.suspended = next;
    if (changed && !quiet && this.runner) this.runner.configure(this.activeTargets());
  }

  private defaultHealth(id: string): HealthState | undefined {
    const owner = this.engine.ownerOf(id);
    const c = owner?.rs.checks.find((x) => x.id === id);
    if (!owner || !c) return undefined;
    return { up: !c.target.policy?.alpha, weight: c.target.policy?.weight ?? owner.rs.weight };
  }

  private onResult(id: string, result: ProbeResult): void {
    if (this.stopped || !this.runner) return;
    const st = this.runner.status(id);
    const owner = this.engine.ownerOf(id);
    if (!st || !owner) return;
    const prev = this.engine.healthOf(id) ?? this.defaultHealth(id);
    const first = this.engine.healthOf(id) === undefined;
    const h: HealthState = {
      up: st.up,
      weight: st.weight,
      reason: result.reason,
      latencyMs: result.latencyMs,
      at: this.now(),
    };
    const effects = this.engine.setHealth([[id, h]]);
    // keepalived: an alpha checker whose first run fails notifies "down" once.
    const check = owner.rs.checks.find((c) => c.id === id);
    if (first && !h.up && check?.target.policy?.alpha && !effects.some((e) => e.kind === "rs")) {
      effects.push({ kind: "rs", vs: owner.vs, rs: owner.rs, up: false, reason: result.reason });
    }
    this.handleEffects(effects);
    if (!prev || prev.up !== h.up || prev.weight !== h.weight)
      void this.requestPass(new Set(owner.vs.services.map((s) => s.id)));
    const full = check?.target.policy?.weight ?? owner.rs.weight;
    if (h.up && h.weight < full) this.startSlowStartTick();
  }

  private onEvent(e: TargetEvent): void {
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

  /** While some weight ramps (slow start), re-read weights every second. */
  private startSlowStartTick(): void {
    if (this.slowStartTimer || this.stopped) return;
    this.slowStartTimer = setInterval(() => {
      let ramping = false;
      const scope = new Set<string>();
      const updates: Array<[string, HealthState]> = [];
      for (const s of this.runner?.statuses() ?? []) {
        const h = this.engine.healthOf(s.id);
        const owner = this.engine.ownerOf(s.id);
        if (!h || !owner || !s.up) continue;
        const full = owner.rs.checks.find((c) => c.id === s.id)?.target.policy?.weight ?? owner.rs.weight;
        if (s.weight < full) ramping = true;
        if (s.weight !== h.weight) {
          updates.push([s.id, { ...h, weight: s.weight }]);
          for (const svc of owner.vs.services) scope.add(svc.id);
        }
      }
      if (updates.length) {
        this.handleEffects(this.engine.setHealth(updates));
        void this.requestPass(scope);
      }
      if (!ramping && this.slowStartTimer) {
        clearInterval(this.slowStartTimer);
        this.slowStartTimer = undefined;
      }
    }, SLOW_START_TICK_MS);
    this.slowStartTimer.unref();
  }

  // ───────────── effects: logs and scripts as keepalived writes and runs them ─────────────

  private runNotify(kind: string, script: lvsConfig.Script | undefined): void {
    if (!script) return;
    const p = this.scriptRunner(script).then((r) => {
      const ok = r.code === 0 && !r.timedOut;
      this.metrics.scripts.inc({
        script: kind,
        result: ok ? "ok" : r.timedOut ? "timeout" : r.error ? "error" : "failed",
      });
      if (!ok) {
        this.log.warn(
          { script: r.argv, code: r.code, signal: r.signal, error: r.error, timedOut: r.timedOut },
          `${kind} script ${r.argv[0]} ${r.error ? `could not run (${r.error})` : r.timedOut ? "timed out" : `exited with ${r.code ?? r.signal}`}`,
        );
      }
      return r;
    });
    this.scripts.add(p);
    void p.finally(() => this.scripts.delete(p));
  }

  private handleEffects(effects: EngineEffect[]): void {
    for (const e of effects) {
      if (e.kind === "quorum") {
        const { vs } = e;
        if (e.up) {
          this.log.info(
            { vs: vs.key, quorum: vs.quorum, hysteresis: vs.hysteresis, weight: e.weightSum },
            `${e.init ? "Starting with quorum up" : "Gained quorum"} ${vs.quorum}+${vs.hysteresis}=${e.threshold} <= ${e.weightSum} for VS ${vs.label}`,
          );
          if (vs.sorry && !e.init)
            this.log.info(
              { vs: vs.key },
              `${vs.sorry.inhibit ? "Disabling" : "Removing"} sorry server ${vs.sorry.label} from VS ${vs.label}`,
            );
          this.runNotify("quorum_up", vs.quorumUp);
        } else {
          this.log.info(
            { vs: vs.key, quorum: vs.quorum, hysteresis: vs.hysteresis, weight: e.weightSum },
            `${e.init ? "Starting with quorum down" : "Lost quorum"} ${vs.quorum}-${vs.hysteresis}=${e.threshold} > ${e.weightSum} for VS ${vs.label}`,
          );
          if (vs.sorry)
            this.log.info(
              { vs: vs.key },
              `${vs.sorry.inhibit ? "Enabling" : "Adding"} sorry server ${vs.sorry.label} to VS ${vs.label}`,
            );
          this.runNotify("quorum_down", vs.quorumDown);
        }
      } else if (e.kind === "rs") {
        const { vs, rs } = e;
        const verb = e.up ? (rs.inhibit ? "Enabling" : "Adding") : rs.inhibit ? "Disabling" : "Removing";
        const prep = rs.inhibit ? "of" : e.up ? "to" : "from";
        this.log.info(
          { vs: vs.key, rs: rs.key, state: e.up ? "up" : "down", reason: e.reason },
          `${verb} service ${rs.label} ${prep} VS ${vs.label}`,
        );
        this.runNotify(e.up ? "notify_up" : "notify_down", e.up ? rs.notifyUp : rs.notifyDown);
      } else if (e.kind === "drain") {
        this.metrics.drains.inc({ result: e.reason });
        this.log.info(
          { vs: e.vsKey, rs: e.rsKey, reason: e.reason, activeConns: e.activeConns },
          e.reason === "idle"
            ? `Drained ${e.rsKey} from ${e.vsKey}: no active connection left, removing`
            : `Drain of ${e.rsKey} from ${e.vsKey} timed out with ${e.activeConns} active connections, removing`,
        );
        this.stateDirty = true;
      }
    }
  }

  // ───────────── the reconcile loop ─────────────

  /**
   * Ask for a pass (undefined: the whole table). Requests coalesce: one pass runs at a time and
   * the next one covers everything asked meanwhile. Resolves once a pass covering it has run.
   */
  requestPass(scope?: ReadonlySet<string>): Promise<void> {
    if (!this.reconciler || this.stopped) return Promise.resolve();
    if (!scope) this.pending.full = true;
    else for (const id of scope) this.pending.scope.add(id);
    if (!this.loop) {
      this.loop = this.runPasses().finally(() => {
        this.loop = undefined;
      });
    }
    return this.loop;
  }

  /** The periodic drift check: /proc/net/ip_vs first, netlink only where it differs. */
  requestQuickPass(): Promise<void> {
    if (!this.reconciler || this.stopped) return Promise.resolve();
    this.pending.quick = true;
    if (!this.loop) {
      this.loop = this.runPasses().finally(() => {
        this.loop = undefined;
      });
    }
    return this.loop;
  }

  private async runPasses(): Promise<void> {
    while (!this.stopped && (this.pending.full || this.pending.quick || this.pending.scope.size)) {
      const { full, quick, scope } = this.pending;
      this.pending = { full: false, quick: false, scope: new Set() };
      if (full) await this.onePass(undefined, false);
      else if (quick) {
        await this.onePass(undefined, true);
        // Scoped requests that came with it are covered only if the quick pass went to netlink.
        if (scope.size) await this.onePass(scope, false);
      } else await this.onePass(scope, false);
    }
  }

  private async onePass(scope: ReadonlySet<string> | undefined, quick: boolean): Promise<void> {
    const reconciler = this.reconciler as Reconciler;
    const t0 = performance.now();
    let report: PassReport;
    try {
      report = await reconciler.pass(scope ? { scope } : quick ? { quick: true } : {});
    } catch (err) {
      this.metrics.readErrors.inc();
      this.lastReadError = (err as Error).message;
      this.log.error({ err }, `Cannot read the IPVS table: ${(err as Error).message}`);
      return;
    }
    this.lastReadError = null;
    this.passes++;
    this.lastReport = report;
    const seconds = (performance.now() - t0) / 1000;
    this.metrics.passes.inc({ kind: report.kind });
    this.metrics.passDuration.observe({ kind: report.kind }, seconds);
    if (report.kind === "full") {
      this.lastTable = new Map(report.actual.map((a) => [serviceId(a.service), a]));
      this.haveTable = true;
    } else if (report.kind === "quick") {
      // /proc has weights and connection counts, not the counters: refresh what it has.
      for (const p of report.actual) {
        const e = this.lastTable.get(serviceId(p.service));
        if (!e) continue;
        const byId = new Map(p.dests.map((d) => [destId(d), d]));
        for (const d of e.dests) {
          const q = byId.get(destId(d));
          if (!q) continue;
          d.weight = q.weight;
          d.activeConns = q.activeConns;
          d.inactiveConns = q.inactiveConns;
        }
      }
    } else {
      for (const id of scope ?? []) this.lastTable.delete(id);
      for (const a of report.actual) this.lastTable.set(serviceId(a.service), a);
    }
    // Reflect what was just sent, so status and metrics don't lag one pass behind.
    for (const r of report.operations) this.metrics.operations.inc({ op: r.op });
    this.patchTable(report);
    for (const f of report.failed) {
      this.metrics.errors.inc({ op: f.operation.op, errno: f.errnoName ?? f.code });
      this.log.warn(
        { op: f.operation.op, object: f.object, code: f.code, errno: f.errno },
        `IPVS cmd ${f.operation.op} error: ${f.errnoName ?? f.code}(${f.errno ?? "-"}) ${f.object ?? ""} - retrying next pass`,
      );
    }
    const drift = report.drift.service + report.drift.dest;
    if (drift) {
      this.driftRepairs += drift;
      if (report.drift.service) this.metrics.drift.inc({ object: "service" }, report.drift.service);
      if (report.drift.dest) this.metrics.drift.inc({ object: "real_server" }, report.drift.dest);
      this.log.warn(
        { services: report.drift.service, realServers: report.drift.dest },
        `Repaired IPVS changes made behind our back: ${report.drift.service} services, ${report.drift.dest} real servers`,
      );
    }
    if (this.stateDirty) {
      this.stateDirty = false;
      await this.saveState();
    }
    if (report.operations.length) {
      this.log.debug(
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

  /** Apply the pass's successful operations to the cached table (kernel counters stay as read). */
  private patchTable(report: PassReport): void {
    const failed = new Set(report.failed.map((f) => f.operation));
    for (const op of report.operations) {
      if (failed.has(op)) continue;
      const id = serviceId(op.service);
      const entry = this.lastTable.get(id);
      if (op.op === "delService") this.lastTable.delete(id);
      else if (op.op === "addService" || op.op === "editService") {
        const service = serviceEntryOf(op.service, entry?.service);
        this.lastTable.set(id, { service, dests: entry?.dests ?? [] });
      } else if (entry) {
        const did = destId(op.dest);
        const i = entry.dests.findIndex((d) => destId(d) === did);
        if (op.op === "delDest") {
          if (i >= 0) entry.dests.splice(i, 1);
        } else {
          const next = destEntryOf(op.dest, i >= 0 ? entry.dests[i] : undefined);
          if (i >= 0) entry.dests[i] = next;
          else entry.dests.push(next);
        }
      }
    }
  }

  /** Compute the operations a start would send, send nothing (`--dry-run`). */
  async dryRun(): Promise<Operation[]> {
    const loaded = this.loadConfig();
    this.loaded = loaded;
    const plan = compilePlan(loaded.config);
    this.plan = plan;
    const state = await readStateFile(this.statePath);
    this.engine.restoreOverrides(new Map(Object.entries(state.overrides)));
    this.engine.load(plan);
    let client: DirectorKernel;
    try {
      client = await this.openClient();
    } catch (err) {
      // No IPVS here (a workstation checking a file): what a start would do on an empty table.
      if (!(err instanceof IpvsError && err.code === "IPVS_NO_FAMILY") || this.opts.client) throw err;
      this.log.warn({}, "no IPVS in this kernel: the operations a start would perform on an empty table");
      client = new MemoryKernel();
    }
    // lvs_flush empties the table first: every service is then created from scratch.
    const reader: KernelClient = plan.lvsFlush
      ? {
          ...client,
          table: async () => [],
          service: client.service.bind(client),
          dests: client.dests.bind(client),
          batch: client.batch.bind(client),
        }
      : client;
    const reconciler = new Reconciler({
      client: reader,
      owned: state.owned,
      desired: (_actual, scope) => this.engine.desired(scope),
    });
    const report = await reconciler.pass({ dryRun: true });
    if (this.ownsClient) client.close?.();
    return report.operations;
  }

  // ───────────── runtime API ─────────────

  private target(r: RealServerRequest) {
    return this.engine.resolve(parseVsReference(r.virtualServer), parseRsReference(r.realServer));
  }

  private async afterChange(vs: PlannedVirtualServer, effects: EngineEffect[]): Promise<void> {
    this.handleEffects(effects);
    await this.saveState();
    await this.requestPass(new Set(vs.services.map((s) => s.id)));
  }

  private describe(vs: PlannedVirtualServer, rsKey: string) {
    return {
      virtualServer: vs.key,
      realServer: rsKey,
      override: this.engine.override(vs.key, rsKey) ?? null,
    };
  }

  private apiHandlers() {
    const needLvs = () => {
      if (!this.lvsEnabled)
        throw new DirectorError("DIRECTOR_BAD_ARGUMENT", "this daemon runs VRRP only (mode vrrp)");
    };
    return {
      status: () => this.status(),
      metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.text() }),
      drain: async (r: RealServerRequest & { timeout?: number }) => {
        needLvs();
        const { vs, rs } = this.target(r);
        this.log.info(
          { vs: vs.key, rs: rs.key, timeout: r.timeout },
          `Draining ${rs.key} from ${vs.key}${r.timeout !== undefined ? ` (timeout ${r.timeout}s)` : ""}`,
        );
        await this.afterChange(
          vs,
          this.engine.drain(vs.key, rs.key, r.timeout === undefined ? undefined : r.timeout * 1000),
        );
        return this.describe(vs, rs.key);
      },
      undrain: async (r: RealServerRequest) => {
        needLvs();
        const { vs, rs } = this.target(r);
        this.log.info({ vs: vs.key, rs: rs.key }, `Undraining ${rs.key} in ${vs.key}`);
        await this.afterChange(vs, this.engine.undrain(vs.key, rs.key));
        return this.describe(vs, rs.key);
      },
      weight: async (r: RealServerRequest & { weight: number | null }) => {
        needLvs();
        const { vs, rs } = this.target(r);
        this.log.info(
          { vs: vs.key, rs: rs.key, weight: r.weight },
          `Setting weight of ${rs.key} in ${vs.key} to ${r.weight ?? `configured (${rs.weight})`}`,
        );
        await this.afterChange(vs, this.engine.setWeight(vs.key, rs.key, r.weight ?? undefined));
        return this.describe(vs, rs.key);
      },
      enable: async (r: RealServerRequest) => {
        needLvs();
        const { vs, rs } = this.target(r);
        this.log.info({ vs: vs.key, rs: rs.key }, `Enabling ${rs.key} in ${vs.key}`);
        await this.afterChange(vs, this.engine.setDisabled(vs.key, rs.key, false));
        return this.describe(vs, rs.key);
      },
      disable: async (r: RealServerRequest) => {
        needLvs();
        const { vs, rs } = this.target(r);
        this.log.info({ vs: vs.key, rs: rs.key }, `Disabling ${rs.key} in ${vs.key}`);
        await this.afterChange(vs, this.engine.setDisabled(vs.key, rs.key, true));
        return this.describe(vs, rs.key);
      },
      reload: () => this.reload(),
    };
  }

  private saveState(): Promise<void> {
    if (!this.lvsEnabled || !this.stateLoaded) return Promise.resolve();
    return this.stateWriter.save({
      version: STATE_FILE_VERSION,
      overrides: Object.fromEntries(this.engine.allOverrides()),
      owned: [...(this.reconciler?.owned ?? [])],
    });
  }

  // ───────────── status ─────────────

  private checkStatuses(rsChecks: PlannedVirtualServer["realServers"][number]["checks"]) {
    return rsChecks.map((c) => {
      const h = this.engine.healthOf(c.id);
      const st = this.runner?.status(c.id);
      return {
        id: c.id,
        kind: c.kind,
        up: h?.up ?? st?.up ?? !c.target.policy?.alpha,
        reason: h?.reason ?? st?.lastResult?.reason ?? null,
        latencyMs: h?.latencyMs ?? st?.lastResult?.latencyMs ?? null,
        at: h?.at ?? null,
      };
    });
  }

  private realServerMetrics(): RealServerMetric[] {
    const out: RealServerMetric[] = [];
    for (const vs of this.plan?.virtualServers ?? []) {
      for (const v of this.engine.realServerViews(vs)) {
        out.push({
          virtualServer: vs.key,
          realServer: v.rs.key,
          alive: v.alive,
          effectiveWeight: v.effectiveWeight,
          drain: v.override?.drain ? (v.override.drain.phase === "draining" ? 1 : 2) : 0,
          disabled: v.override?.disabled ?? false,
          checks: v.rs.checks.map((c) => {
            const h = this.engine.healthOf(c.id);
            return { check: c.kind, up: h?.up ?? !c.target.policy?.alpha, latencyMs: h?.latencyMs };
          }),
        });
      }
    }
    return out;
  }

  async status(): Promise<DirectorStatus> {
    const plan = this.plan;
    const virtualServers: VirtualServerStatus[] = [];
    for (const vs of plan?.virtualServers ?? []) {
      const views = this.engine.realServerViews(vs);
      const sorryActive = this.engine.sorryActive(vs);
      const first = vs.services[0];
      const realServers: RealServerStatus[] = views.map((v) => {
        let active = 0;
        let inactive = 0;
        let kernelWeight: number | null = null;
        vs.services.forEach((s, i) => {
          const want = destId(destFor(s, v.rs, 0));
          const d = this.lastTable.get(s.id)?.dests.find((x) => destId(x) === want);
          if (!d) return;
          active += d.activeConns;
          inactive += d.inactiveConns;
          if (i === 0 || kernelWeight === null) kernelWeight = d.weight;
        });
        const o = v.override;
        const state = o?.drain
          ? o.drain.phase
          : o?.disabled
            ? "disabled"
            : sorryActive
              ? v.alive
                ? "sorry"
                : "down"
              : v.alive
                ? "up"
                : "down";
        return {
          key: v.rs.key,
          label: v.rs.label,
          address: v.rs.address,
          port: v.rs.port,
          forward: FORWARD_NAME[v.rs.fwd.forward] ?? "DR",
          configWeight: v.rs.weight,
          effectiveWeight: v.effectiveWeight,
          kernelWeight,
          desiredWeight: v.desiredWeight ?? null,
          alive: v.alive,
          inhibit: v.rs.inhibit,
          activeConns: active,
          inactiveConns: inactive,
          state,
          checks: this.checkStatuses(v.rs.checks),
          override: o ?? null,
        };
      });
      virtualServers.push({
        key: vs.key,
        label: vs.label,
        services: vs.services.map((s) => describeService(s.service)),
        scheduler: first?.service.scheduler ?? "wlc",
        persistence: first?.service.timeout ? first.service.timeout : null,
        forward: vs.realServers[0] ? (FORWARD_NAME[vs.realServers[0].fwd.forward] ?? "DR") : "-",
        quorum: {
          up: this.engine.quorumUp(vs.key),
          quorum: vs.quorum,
          hysteresis: vs.hysteresis,
          liveWeight: this.engine.liveWeightOf(vs),
        },
        sorry: vs.sorry ? { key: vs.sorry.key, active: sorryActive, inhibit: vs.sorry.inhibit } : null,
        checksSuspended: this.suspended.has(vs.key),
        inKernel: vs.services.every((s) => this.lastTable.has(s.id)),
        realServers,
      });
    }
    const drains: DirectorStatus["drains"] = [];
    for (const [k, o] of this.engine.allOverrides()) {
      if (!o.drain) continue;
      const [vsKey, rsKey] = [k.slice(0, k.indexOf(" ")), k.slice(k.indexOf(" ") + 1)];
      const rsStatus = virtualServers.find((v) => v.key === vsKey)?.realServers.find((r) => r.key === rsKey);
      drains.push({
        virtualServer: vsKey,
        realServer: rsKey,
        phase: o.drain.phase,
        since: o.drain.since,
        deadline: o.drain.deadline ?? null,
        doneAt: o.drain.doneAt ?? null,
        doneReason: o.drain.doneReason ?? null,
        activeConns: rsStatus?.activeConns ?? 0,
      });
    }
    const last = this.lastReport;
    return {
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
        warnings: [...(this.loaded?.warnings ?? []), ...(plan?.warnings ?? [])],
      },
      reconcile: {
        intervalMs: this.opts.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
        passes: this.passes,
        lastPassAt: last?.startedAt ?? null,
        lastDurationMs: last ? Math.round(last.readMs + last.applyMs) : null,
        lastOperations: last?.operations.length ?? 0,
        driftRepairs: this.driftRepairs,
        failures: (last?.failed ?? []).map((f) => ({
          operation: operationLine(f.operation),
          object: f.object ?? null,
          code: f.code,
          errno: f.errnoName ?? null,
          message: f.message,
        })),
        lastReadError: this.lastReadError,
      },
      virtualServers,
      drains,
      vrrp: { running: this.vrrpEnabled, instances: this.opts.vrrp?.states() ?? [] },
      syncDaemons: (await this.sync?.status()) ?? [],
    };
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
  // The VRRP part runs through @lvs/vrrp unless the caller brings its own component.
  const vrrp =
    opts.vrrp ??
    ((opts.mode ?? "all") !== "check" && !opts.dryRun
      ? createVrrpComponent({
          ...(opts.netns ? { netns: opts.netns } : {}),
          warn: (m) => log.warn({}, `VRRP: ${m}`),
        })
      : undefined);
  const director = new Director({
    ...opts,
    log,
    ...(vrrp ? { vrrp } : {}),
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
