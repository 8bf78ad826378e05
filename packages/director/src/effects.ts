// Performing the engine's effects: log lines as keepalived writes them, notify scripts as it runs
// them, and the hand-offs to the rest of the shell (a reconcile pass, the state file, the health
// runner, the slow-start ticker, the sync daemon, a connection read, the table at stop). Nothing
// here decides anything: each effect says what to do.
import type { TargetConfig } from "@lvs/healthcheck";
import type { SmtpAlerts } from "./alerts.js";
import { SHUTDOWN_SCRIPT_TIMEOUT_MS } from "./constants.js";
import type { EngineEffect, ScriptName, Transition } from "./events.js";
import type { Logger } from "./log.js";
import type { LvsFifos } from "./lvs-fifo.js";
import type { DirectorMetrics } from "./metrics.js";
import type { PlannedVirtualServer } from "./plan.js";
import type { ScriptResult, ScriptRunner } from "./scripts.js";

/** Where the effects go. */
export interface EffectTargets {
  log: Logger;
  metrics: DirectorMetrics;
  scriptRunner: ScriptRunner;
  /** Reconcile these services; resolves once a pass covering them has run. */
  requestPass(scope: ReadonlySet<string> | undefined, edit?: boolean): Promise<void>;
  saveState(): Promise<void>;
  configureChecks(targets: TargetConfig[]): void;
  slowStart(running: boolean): void;
  followSync(state: string): void;
  /** Read the services' connection counts and feed them back as an event. */
  readConnections(services: ReadonlySet<string>): Promise<void>;
  release(how: "flush" | "delete-services" | "keep"): Promise<void>;
  /** Announce or withdraw a virtual server's address over BGP (the `bgp:` section), if any. */
  bgpQuorum?(vs: PlannedVirtualServer, up: boolean): void;
  /** Withdraw every BGP announcement (the whole director is drained) or announce again. */
  bgpDrain?(drained: boolean): void;
  /** The SMTP alerts of the running configuration (undefined: it mails nobody). */
  alerts?(): SmtpAlerts | undefined;
  /** keepalived's `VS …`/`RS …` lines on notify_fifo and lvs_notify_fifo. */
  fifos?: LvsFifos;
}

/** keepalived's lines for quorum, real server and drain transitions (check/ipwrapper.c). */
export function logTransition(log: Logger, t: Transition): void {
  if (t.kind === "quorum") {
    const { vs } = t;
    const fields = { vs: vs.key, quorum: vs.quorum, hysteresis: vs.hysteresis, weight: t.weightSum };
    if (t.up) {
      log.info(
        fields,
        `${t.init ? "Starting with quorum up" : "Gained quorum"} ${vs.quorum}+${vs.hysteresis}=${t.threshold} <= ${t.weightSum} for VS ${vs.label}`,
      );
      if (vs.sorry && !t.init)
        log.info(
          { vs: vs.key },
          `${vs.sorry.inhibit ? "Disabling" : "Removing"} sorry server ${vs.sorry.label} from VS ${vs.label}`,
        );
    } else {
      log.info(
        fields,
        `${t.init ? "Starting with quorum down" : "Lost quorum"} ${vs.quorum}-${vs.hysteresis}=${t.threshold} > ${t.weightSum} for VS ${vs.label}`,
      );
      if (vs.sorry)
        log.info(
          { vs: vs.key },
          `${vs.sorry.inhibit ? "Enabling" : "Adding"} sorry server ${vs.sorry.label} to VS ${vs.label}`,
        );
    }
  } else if (t.kind === "rs") {
    if (t.init) return; // rs_init_notifies: keepalived logs nothing for the initial state
    const { vs, rs } = t;
    const verb = t.up ? (rs.inhibit ? "Enabling" : "Adding") : rs.inhibit ? "Disabling" : "Removing";
    const prep = rs.inhibit ? "of" : t.up ? "to" : "from";
    log.info(
      { vs: vs.key, rs: rs.key, state: t.up ? "up" : "down", reason: t.reason },
      `${verb} service ${rs.label} ${prep} VS ${vs.label}`,
    );
  } else if (t.kind === "runtime-server") {
    const { vs, rs } = t;
    log.info(
      { vs: vs.key, rs: rs.key, change: t.change, weight: rs.weight },
      t.change === "added"
        ? `Adding service ${rs.label} to VS ${vs.label} (runtime, weight ${rs.weight})`
        : t.change === "removed"
          ? `Removing service ${rs.label} from VS ${vs.label} (runtime)`
          : `Service ${rs.label} of VS ${vs.label} is in the configuration now: no longer a runtime addition`,
    );
  } else {
    log.info(
      { vs: t.vsKey, rs: t.rsKey, reason: t.reason, activeConns: t.activeConns },
      t.reason === "idle"
        ? `Drained ${t.rsKey} from ${t.vsKey}: no active connection left, removing`
        : `Drain of ${t.rsKey} from ${t.vsKey} timed out with ${t.activeConns} active connections, removing`,
    );
  }
}

export class EffectPerformer {
  private readonly to: EffectTargets;
  /** Running notify scripts (awaited at stop). */
  private readonly scripts = new Set<Promise<unknown>>();
  /** Each virtual server's latest quorum, so that a deferred announcement never follows a loss. */
  private readonly quorumUp = new Map<string, boolean>();

  constructor(to: EffectTargets) {
    this.to = to;
  }

  /**
   * Perform effects in order. Logs, scripts and reconfiguration happen now; the state file, passes,
   * reads and the release run one after another, in order. Resolves when those (and shutdown
   * scripts) are done — notify scripts run on (keepalived doesn't wait for them either).
   */
  perform(effects: readonly EngineEffect[]): Promise<void> {
    let chain: Promise<void> | undefined;
    const parallel: Promise<unknown>[] = [];
    const announce: PlannedVirtualServer[] = [];
    for (const e of effects) {
      const step = this.immediate(e, parallel, announce);
      if (step) chain = chain ? chain.then(step) : step();
    }
    const done = Promise.all([chain, ...parallel]).then(() => {});
    if (announce.length === 0) return done;
    const go = () => {
      // A loss performed meanwhile has withdrawn it already: announce only what still holds.
      for (const vs of announce) if (this.quorumUp.get(vs.key)) this.to.bgpQuorum?.(vs, true);
    };
    return done.then(go, (err: unknown) => {
      go();
      throw err;
    });
  }

  /** Scripts still running. */
  async settled(): Promise<void> {
    await Promise.all([...this.scripts]);
  }

  /** Does what can be done now; returns the step to chain for what must be awaited in order. */
  private immediate(
    e: EngineEffect,
    parallel: Promise<unknown>[],
    announce: PlannedVirtualServer[],
  ): (() => Promise<void>) | undefined {
    const to = this.to;
    switch (e.kind) {
      case "quorum":
        logTransition(to.log, e);
        to.fifos?.virtualServer(e.vs.label, e.up);
        to.alerts?.()?.virtualServer(
          e.vs.label,
          { ...e, quorum: e.vs.quorum, hysteresis: e.vs.hysteresis },
          e.vs.smtpAlert,
        );
        this.quorumUp.set(e.vs.key, e.up);
        // A gain is announced once the batch's pass has put the service in the table: a router
        // that sends flows here before that has them reset by our own stack (an ECMP join did).
        if (e.up) announce.push(e.vs);
        else to.bgpQuorum?.(e.vs, false);
        return undefined;
      case "rs":
        logTransition(to.log, e);
        to.fifos?.realServer(e.rs.label, e.vs.label, e.up);
        if (!e.init) to.alerts?.()?.realServer(e.rs.label, e.vs.label, e.up, e.rs.smtpAlert);
        return undefined;
      case "drain":
        to.metrics.drains.inc({ result: e.reason });
        logTransition(to.log, e);
        return undefined;
      case "runtime-server":
        logTransition(to.log, e);
        return undefined;
      case "script":
        if (e.shutdown) parallel.push(to.scriptRunner(e.script, { timeoutMs: SHUTDOWN_SCRIPT_TIMEOUT_MS }));
        else this.runNotify(e.name, e.script);
        return undefined;
      case "suspend":
        to.log.info(
          { vs: e.vs.key, rs: e.rs.key },
          `${e.suspended ? "Suspending" : "Activating"} healthchecker for service ${e.rs.label} for VS ${e.vs.label}`,
        );
        return undefined;
      case "checks":
        to.configureChecks(e.targets);
        return undefined;
      case "slow-start":
        to.slowStart(e.running);
        return undefined;
      case "sync-role":
        to.followSync(e.state);
        return undefined;
      case "pass":
        return () => to.requestPass(e.scope, e.edit);
      case "save-state":
        return () => to.saveState();
      case "bgp-drain":
        to.log.info(
          { drained: e.drained },
          e.drained
            ? "The director is drained: every BGP announcement withdrawn, established connections still served"
            : "The director is undrained: announcing over BGP again",
        );
        to.bgpDrain?.(e.drained);
        return undefined;
      case "read-connections":
        return () => to.readConnections(e.services);
      case "release":
        return () => to.release(e.how);
    }
  }

  private runNotify(kind: ScriptName, script: Parameters<ScriptRunner>[0]): void {
    const p = this.to.scriptRunner(script).then((r) => this.reportScript(kind, r));
    this.scripts.add(p);
    void p.finally(() => this.scripts.delete(p));
  }

  private reportScript(kind: ScriptName, r: ScriptResult): ScriptResult {
    const ok = r.code === 0 && !r.timedOut;
    this.to.metrics.scripts.inc({
      script: kind,
      result: ok ? "ok" : r.timedOut ? "timeout" : r.error ? "error" : "failed",
    });
    if (!ok) {
      this.to.log.warn(
        { script: r.argv, code: r.code, signal: r.signal, error: r.error, timedOut: r.timedOut },
        `${kind} script ${r.argv[0]} ${r.error ? `could not run (${r.error})` : r.timedOut ? "timed out" : `exited with ${r.code ?? r.signal}`}`,
      );
    }
    return r;
  }
}
