// The director's engine: events in, effects out (events.ts). On top of the desired state
// (engine-state.ts: plan ⊕ health ⊕ overrides → the table, quorum and alive transitions) it owns
// every rule the daemon follows: the alpha rule for a first failing check, the notify and quorum
// scripts a transition runs, which services a change reconciles, slow-start ticks, drains
// finishing on connection counts, ha_suspend, the sync daemon following its VRRP instance, omega
// at stop and what becomes of the table then. Pure: no I/O, no timers; time arrives in events
// (and as `now` for drain deadlines).
import type { TargetConfig } from "@lvs/healthcheck";
import type { DesiredService, ServiceWithDests } from "@lvs/ipvs";
import type { Plan, PlannedCheck, PlannedRealServer, PlannedVirtualServer } from "./compile.js";
import { EngineState } from "./engine-state.js";
import type {
  DirectorDrain,
  DirectorEvent,
  EngineEffect,
  HealthState,
  Override,
  RuntimeChange,
  TargetWeight,
  Transition,
} from "./events.js";
import { overrideKey } from "./keys.js";
import type { TableSource } from "./reconcile.js";
import { type RuntimeServer, runtimeRealServer } from "./runtime-servers.js";
import type { TurnBudget } from "./turns.js";

// The state file stores these (state-file.ts imports them from here).
export type { DrainState, Override } from "./events.js";

/** The weight a check reports when nothing lowers it (slow start ramps up to this). */
function fullWeight(rs: PlannedRealServer, check: PlannedCheck | undefined): number {
  return check?.target.policy?.weight ?? rs.weight;
}

const servicesOf = (vs: PlannedVirtualServer): Set<string> => new Set(vs.services.map((s) => s.id));

/** Each transition followed by the script keepalived runs for it (notify_*, quorum_*). */
export function withScripts(transitions: readonly Transition[]): EngineEffect[] {
  const out: EngineEffect[] = [];
  for (const t of transitions) {
    out.push(t);
    if (t.kind === "quorum") {
      const script = t.up ? t.vs.quorumUp : t.vs.quorumDown;
      if (script) out.push({ kind: "script", name: t.up ? "quorum_up" : "quorum_down", script });
    } else if (t.kind === "rs") {
      const script = t.up ? t.rs.notifyUp : t.rs.notifyDown;
      if (script) out.push({ kind: "script", name: t.up ? "notify_up" : "notify_down", script });
    }
  }
  return out;
}

export class DirectorEngine extends EngineState implements TableSource<EngineEffect> {
  /** Virtual servers whose checks ha_suspend holds (no VIP on a local interface). */
  private suspended = new Set<string>();
  /** The drain of the whole director (BGP withdrawn), kept in the state file. */
  private drainedDirector: DirectorDrain | undefined;

  /** One event; what the shell should do about it, in order. */
  handle(event: DirectorEvent): EngineEffect[] {
    switch (event.kind) {
      case "config": {
        if (event.runtimeServers) this.restoreRuntimeServers(event.runtimeServers);
        // First, so that the configuration's quorum transitions never announce a drained director.
        const drain =
          event.directorDrain === undefined ? [] : this.setDirectorDrain(event.directorDrain ?? undefined);
        return [...drain, ...this.onConfig(event.plan, event.localAddresses, event.overrides)];
      }
      case "director-drain":
        if (event.drained === (this.drainedDirector !== undefined)) return [];
        return [
          ...this.setDirectorDrain(event.drained ? { since: this.now() } : undefined),
          { kind: "save-state" },
        ];
      case "health":
        return this.onHealth(event.id, event.state);
      case "weights":
        return this.onWeights(event.targets);
      case "addresses":
        return this.onAddresses(event.local, false);
      case "vrrp":
        // keepalived (vrrp_state_become_master / leave_master) moves the sync daemon with the
        // lvs_sync_daemon's instance.
        return this.currentPlan.lvsSyncDaemon?.instance === event.instance
          ? [{ kind: "sync-role", state: event.to }]
          : [];
      case "drain-poll": {
        const services = this.drainingServices();
        return services.size ? [{ kind: "read-connections", services }] : [];
      }
      case "connections":
        return this.onConnections(event.services, this.observeConnections(event.counts, event.services));
      case "observed":
        return this.afterObserve(this.observe(event.actual, event.scope));
      case "change":
        return this.onChange(event.vsKey, event.rsKey, event.change);
      case "stop":
        return this.omega();
      case "release":
        return [{ kind: "release", how: this.releaseAtStop(event.requested) }];
    }
  }

  /**
   * TableSource: desired() with the event loop getting a turn whenever `budget` is spent (the
   * whole table is 20,000 real servers' weights and states to work out).
   */
  async desiredInTurns(
    filter: ReadonlySet<string> | undefined,
    budget: TurnBudget,
  ): Promise<DesiredService[]> {
    const out = new Map<string, DesiredService>();
    for (const vs of this.currentPlan.virtualServers) {
      if (budget.due()) await budget.pause();
      this.addDesired(out, vs, filter);
    }
    return [...out.values()];
  }

  /** TableSource: what a reconcile pass read. */
  onObserved(actual: readonly ServiceWithDests[], scope: ReadonlySet<string> | undefined): EngineEffect[] {
    return this.handle({ kind: "observed", actual, scope });
  }

  /** The drain of the whole director, when drained. */
  directorDrain(): DirectorDrain | undefined {
    return this.drainedDirector;
  }

  private setDirectorDrain(drain: DirectorDrain | undefined): EngineEffect[] {
    this.drainedDirector = drain;
    return [{ kind: "bgp-drain", drained: drain !== undefined }];
  }

  /** ha_suspend holds the checks of this virtual server. */
  checksSuspended(vsKey: string): boolean {
    return this.suspended.has(vsKey);
  }

  /** Targets of virtual servers whose checks ha_suspend does not hold. */
  activeTargets(): TargetConfig[] {
    const out: TargetConfig[] = [];
    for (const vs of this.currentPlan.virtualServers) {
      if (this.suspended.has(vs.key)) continue;
      for (const rs of vs.realServers) for (const c of rs.checks) out.push(c.target);
    }
    return out;
  }

  /**
   * Start and reload: the state file's overrides (at start), the plan, the checks that should run
   * (ha_suspend looked at quietly, as keepalived on (re)load), then the whole table reconciled.
   */
  private onConfig(
    plan: Plan,
    local: ReadonlySet<string>,
    overrides: ReadonlyMap<string, Override> | undefined,
  ): EngineEffect[] {
    if (overrides) this.restoreOverrides(new Map(overrides));
    const transitions = this.load(plan);
    this.onAddresses(local, true);
    return [
      { kind: "checks", targets: this.activeTargets() },
      ...withScripts(transitions),
      // A runtime server the configuration now names is no longer a runtime server.
      ...(transitions.some((t) => t.kind === "runtime-server") ? [{ kind: "save-state" } as const] : []),
      { kind: "pass", scope: undefined },
    ];
  }

  private defaultHealth(rs: PlannedRealServer, check: PlannedCheck): HealthState {
    return { up: !check.target.policy?.alpha, weight: fullWeight(rs, check) };
  }

  /** One probe's outcome (with its target's status after it). */
  private onHealth(id: string, state: HealthState): EngineEffect[] {
    const owner = this.ownerOf(id);
    const check = owner?.rs.checks.find((c) => c.id === id);
    if (!owner || !check) return [];
    const known = this.healthOf(id);
    const prev = known ?? this.defaultHealth(owner.rs, check);
    const transitions = this.setHealth([[id, state]]);
    // keepalived: an alpha checker whose first run fails notifies "down" once (the server was
    // never up, so there is no transition to report).
    if (!known && !state.up && check.target.policy?.alpha && !transitions.some((t) => t.kind === "rs")) {
      transitions.push({ kind: "rs", vs: owner.vs, rs: owner.rs, up: false, reason: state.reason });
    }
    const out = withScripts(transitions);
    if (prev.up !== state.up || prev.weight !== state.weight)
      out.push({ kind: "pass", scope: servicesOf(owner.vs), edit: true });
    if (state.up && state.weight < fullWeight(owner.rs, check))
      out.push({ kind: "slow-start", running: true });
    return out;
  }

  /** A slow-start tick: the runner's weights between probes; stops once nothing ramps. */
  private onWeights(targets: readonly TargetWeight[]): EngineEffect[] {
    let ramping = false;
    const scope = new Set<string>();
    const updates: Array<[string, HealthState]> = [];
    for (const t of targets) {
      const h = this.healthOf(t.id);
      const owner = this.ownerOf(t.id);
      if (!h || !owner || !t.up) continue;
      if (
        t.weight <
        fullWeight(
          owner.rs,
          owner.rs.checks.find((c) => c.id === t.id),
        )
      )
        ramping = true;
      if (t.weight !== h.weight) {
        updates.push([t.id, { ...h, weight: t.weight }]);
        for (const id of servicesOf(owner.vs)) scope.add(id);
      }
    }
    const out: EngineEffect[] = [];
    if (updates.length)
      out.push(...withScripts(this.setHealth(updates)), { kind: "pass", scope, edit: true });
    if (!ramping) out.push({ kind: "slow-start", running: false });
    return out;
  }

  /**
   * ha_suspend (check/check_api.c update_checker_activity): a virtual server's checks run only
   * while one of its addresses is local. `quiet` on (re)load: no log lines, no reconfiguration
   * (the config event reconfigures the checks anyway).
   */
  private onAddresses(local: ReadonlySet<string>, quiet: boolean): EngineEffect[] {
    const plan = this.currentPlan;
    if (!plan.virtualServers.some((v) => v.haSuspend)) {
      this.suspended.clear();
      return [];
    }
    const out: EngineEffect[] = [];
    const next = new Set<string>();
    let changed = false;
    for (const vs of plan.virtualServers) {
      if (!vs.haSuspend) continue;
      const present = vs.vips.some((a) => local.has(a));
      if (!present) next.add(vs.key);
      if (present !== this.suspended.has(vs.key)) continue;
      changed = true;
      if (!quiet) for (const rs of vs.realServers) out.push({ kind: "suspend", vs, rs, suspended: !present });
    }
    this.suspended = next;
    if (changed && !quiet) out.push({ kind: "checks", targets: this.activeTargets() });
    return out;
  }

  /** Drains that finished on a connection read: saved, and their services reconciled. */
  private onConnections(services: ReadonlySet<string>, transitions: Transition[]): EngineEffect[] {
    if (!transitions.length) return [];
    return [...this.afterObserve(transitions), { kind: "pass", scope: services }];
  }

  /** Transitions found in what was read: a finished drain changes the state file. */
  private afterObserve(transitions: Transition[]): EngineEffect[] {
    const out = withScripts(transitions);
    if (transitions.some((t) => t.kind === "drain")) out.push({ kind: "save-state" });
    return out;
  }

  /** A runtime change (API): applied, saved, and its virtual server's services reconciled. */
  private onChange(vsKey: string, rsKey: string, change: RuntimeChange): EngineEffect[] {
    const vs = this.virtualServer(vsKey);
    if (!vs) return [];
    let transitions: Transition[];
    if (change.op === "drain") transitions = this.drain(vsKey, rsKey, change.timeoutMs);
    else if (change.op === "undrain") transitions = this.undrain(vsKey, rsKey);
    else if (change.op === "weight") transitions = this.setWeight(vsKey, rsKey, change.weight);
    else if (change.op === "disable") transitions = this.setDisabled(vsKey, rsKey, change.disabled);
    else if (change.op === "add") transitions = this.addRuntimeServer(vsKey, change.server);
    else transitions = this.removeRuntimeServer(vsKey, rsKey);
    return [...withScripts(transitions), { kind: "save-state" }, { kind: "pass", scope: servicesOf(vs) }];
  }

  /** Add a real server to a virtual server (the plan is re-merged; it starts alive). */
  private addRuntimeServer(vsKey: string, server: RuntimeServer): Transition[] {
    const vs = this.virtualServer(vsKey);
    if (!vs) return [];
    const rs = runtimeRealServer(vs, server.address, server.port, server.weight);
    this.added.add(vsKey, rs.key, { address: rs.address, port: rs.port, weight: rs.weight });
    const out = this.load(this.basePlan);
    const now = this.virtualServer(vsKey);
    const added = now?.realServers.find((r) => r.key === rs.key);
    if (now && added) out.unshift({ kind: "runtime-server", vs: now, rs: added, change: "added" });
    return out;
  }

  /** Remove a real server added at runtime, with its runtime weight and drain. */
  private removeRuntimeServer(vsKey: string, rsKey: string): Transition[] {
    const vs = this.virtualServer(vsKey);
    const rs = vs?.realServers.find((r) => r.key === rsKey);
    if (!vs || !rs?.runtime || !this.added.remove(vsKey, rsKey)) return [];
    this.overrides.delete(overrideKey(vsKey, rsKey));
    return [{ kind: "runtime-server", vs, rs, change: "removed" }, ...this.load(this.basePlan)];
  }

  /** Omega (clear_service_vs → do_rs_notifies / do_vs_notifies): down notifiers all the way down. */
  private omega(): EngineEffect[] {
    const out: EngineEffect[] = [];
    for (const vs of this.currentPlan.virtualServers) {
      if (!vs.omega) continue;
      for (const v of this.realServerViews(vs)) {
        if (v.alive && v.rs.notifyDown)
          out.push({ kind: "script", name: "notify_down", script: v.rs.notifyDown, shutdown: true });
      }
      if (this.quorumUp(vs.key) && vs.quorumDown)
        out.push({ kind: "script", name: "quorum_down", script: vs.quorumDown, shutdown: true });
    }
    return out;
  }

  /**
   * At stop the table stays (connections keep flowing while the daemon restarts), unless
   * `lvs_flush_on_stop` says flush (RS) or remove our services (VS), or the caller asks for the
   * latter (keepalived without --dont-release-ipvs).
   */
  private releaseAtStop(requested: boolean): "flush" | "delete-services" | "keep" {
    const how = this.currentPlan.lvsFlushOnStop;
    if (how === "RS") return "flush";
    if (how === "VS" || requested) return "delete-services";
    return "keep";
  }
}
