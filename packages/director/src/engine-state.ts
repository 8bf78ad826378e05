// The desired state under the engine: plan ⊕ health ⊕ runtime overrides (weight, disable, drain)
// → the IPVS table keepalived 2.2.7 would have installed, plus the transitions keepalived acts on
// (quorum gained/lost, real server up/down, drain finished). Pure: time comes in as `now`, no I/O.
// engine.ts turns events into these calls and the transitions into effects.
//
// keepalived keeps this as flags changed by events (check/ipwrapper.c: perform_svr_state,
// update_quorum_state, perform_quorum_state, init_service_rs, ipvs_cmd's inhibit rules); here the
// only memory is what cannot be derived from the current inputs — the quorum state (it has
// hysteresis) and each real server's last alive state (to report transitions). Everything the
// kernel should hold is recomputed from those, which is what makes drift repair possible.
import type { DesiredService, Destination, ServiceWithDests } from "@lvs/ipvs";
import { destId, serviceId } from "@lvs/ipvs";
import {
  destFor,
  type Plan,
  type PlannedRealServer,
  type PlannedService,
  type PlannedVirtualServer,
  realWeight,
} from "./compile.js";
import type { DestConnections } from "./dataplane.js";
import type { HealthState, Override, Transition } from "./events.js";
import { overrideKey, type RsReference, type VsReference } from "./keys.js";
import { resolveRealServer, resolveVirtualServer } from "./resolve.js";
import { type RuntimeServer, RuntimeServers } from "./runtime-servers.js";

interface VsState {
  quorumUp: boolean;
  alive: Map<string, boolean>;
  /** A sorry server existed when the state was last evaluated (for reloads that add one). */
  hadSorry: boolean;
}

/** The runtime view of one real server (status, metrics). */
export interface RealServerView {
  rs: PlannedRealServer;
  alive: boolean;
  /** Weight from config, overrides and checks, before sorry/inhibit/drain. */
  effectiveWeight: number;
  /** Weight the kernel should hold, or undefined when it should not be there. */
  desiredWeight: number | undefined;
  override: Override | undefined;
}

export class EngineState {
  private plan: Plan = {
    virtualServers: [],
    warnings: [],
    lvsFlush: false,
    lvsFlushOnStop: undefined,
    lvsTimeouts: undefined,
    lvsSyncDaemon: undefined,
  };
  private readonly vsState = new Map<string, VsState>();
  private readonly health = new Map<string, HealthState>();
  protected readonly overrides = new Map<string, Override>();
  /** Real servers added through the API, merged into every plan loaded. */
  protected readonly added = new RuntimeServers();
  /** The plan as compiled from the configuration, before the runtime servers. */
  protected basePlan: Plan = this.plan;
  /** target id → the virtual servers (and their real server) it belongs to. */
  private byTarget = new Map<string, { vs: PlannedVirtualServer; rs: PlannedRealServer }>();
  private byVsKey = new Map<string, PlannedVirtualServer>();
  private byServiceId = new Map<string, PlannedVirtualServer[]>();

  /** `now`: epoch ms (drain deadlines and times). */
  constructor(protected readonly now: () => number) {}

  get currentPlan(): Plan {
    return this.plan;
  }

  /** The plan last loaded, as compiled from the configuration (without the runtime servers). */
  get configuredPlan(): Plan {
    return this.basePlan;
  }

  virtualServer(key: string): PlannedVirtualServer | undefined {
    return this.byVsKey.get(key);
  }

  /** Virtual servers whose kernel services include this service id. */
  virtualServersOfService(id: string): PlannedVirtualServer[] {
    return this.byServiceId.get(id) ?? [];
  }

  /**
   * Load a plan (at start, or on reload). State of virtual servers whose key stays is kept
   * (quorum, alive flags); new ones are initialised as keepalived's init_service_vs does.
   * Health of targets whose id stays is kept by the caller (the runner keeps them).
   */
  load(compiled: Plan): Transition[] {
    const effects: Transition[] = [];
    this.basePlan = compiled;
    const { plan, adopted } = this.added.merge(compiled);
    this.plan = plan;
    this.byVsKey = new Map(plan.virtualServers.map((v) => [v.key, v]));
    this.byTarget = new Map();
    this.byServiceId = new Map();
    for (const vs of plan.virtualServers) {
      for (const rs of vs.realServers) for (const c of rs.checks) this.byTarget.set(c.id, { vs, rs });
      for (const s of vs.services) {
        const list = this.byServiceId.get(s.id) ?? [];
        list.push(vs);
        this.byServiceId.set(s.id, list);
      }
    }
    for (const key of [...this.vsState.keys()]) if (!this.byVsKey.has(key)) this.vsState.delete(key);
    for (const id of [...this.health.keys()]) if (!this.byTarget.has(id)) this.health.delete(id);
    for (const vs of plan.virtualServers) {
      const st = this.vsState.get(vs.key);
      if (!st) effects.push(...this.initVs(vs, plan.rsInitNotifies === true));
      else effects.push(...this.evaluate(vs, st, true));
    }
    for (const a of adopted) {
      const vs = this.byVsKey.get(a.vsKey);
      const rs = vs?.realServers.find((r) => r.key === a.rsKey);
      if (vs && rs) effects.push({ kind: "runtime-server", vs, rs, change: "configured" });
    }
    return effects;
  }

  /**
   * keepalived init_service_rs + update_quorum_state(vs, init=true). With rs_init_notifies, the
   * real servers that start alive get their notifies first, as init_service_rs sends them.
   */
  private initVs(vs: PlannedVirtualServer, rsInitNotifies = false): Transition[] {
    const st: VsState = { quorumUp: false, alive: new Map(), hadSorry: vs.sorry !== undefined };
    const notified: Transition[] = [];
    for (const rs of vs.realServers) {
      const alive = this.rsAlive(rs);
      st.alive.set(rs.key, alive);
      if (alive && rsInitNotifies)
        notified.push({ kind: "rs", vs, rs, up: true, reason: undefined, init: true });
    }
    this.vsState.set(vs.key, st);
    return [...notified, ...this.initQuorum(vs, st)];
  }

  private initQuorum(vs: PlannedVirtualServer, st: VsState): Transition[] {
    const sum = this.liveWeight(vs, st);
    const threshold = vs.quorum + vs.hysteresis;
    if (sum >= threshold) {
      st.quorumUp = true;
      return [{ kind: "quorum", vs, up: true, init: true, weightSum: sum, threshold }];
    }
    // Without a sorry server keepalived says nothing about a quorum that starts down.
    if (vs.sorry) return [{ kind: "quorum", vs, up: false, init: true, weightSum: sum, threshold }];
    return [];
  }

  /** Re-derive alive flags and the quorum of one virtual server; report transitions. */
  private evaluate(vs: PlannedVirtualServer, st: VsState, reload = false): Transition[] {
    const effects: Transition[] = [];
    for (const rs of vs.realServers) {
      const alive = this.rsAlive(rs);
      const was = st.alive.get(rs.key);
      st.alive.set(rs.key, alive);
      if (was === undefined) continue;
      if (was !== alive) effects.push({ kind: "rs", vs, rs, up: alive, reason: this.reasonOf(rs, alive) });
    }
    for (const k of [...st.alive.keys()]) if (!vs.realServers.some((r) => r.key === k)) st.alive.delete(k);
    const sum = this.liveWeight(vs, st);
    const threshold = vs.quorum + (st.quorumUp ? -1 : 1) * vs.hysteresis;
    if (!st.quorumUp && sum >= threshold) {
      st.quorumUp = true;
      effects.push({ kind: "quorum", vs, up: true, init: false, weightSum: sum, threshold });
    } else if (st.quorumUp && (sum === 0 || sum < threshold)) {
      st.quorumUp = false;
      effects.push({ kind: "quorum", vs, up: false, init: false, weightSum: sum, threshold });
    } else if (reload && !st.quorumUp && vs.sorry && !st.hadSorry) {
      // A reload gave a virtual server with quorum down a sorry server: it goes in now.
      effects.push({ kind: "quorum", vs, up: false, init: true, weightSum: sum, threshold });
    }
    st.hadSorry = vs.sorry !== undefined;
    return effects;
  }

  private reasonOf(rs: PlannedRealServer, alive: boolean): string | undefined {
    for (const c of rs.checks) {
      const h = this.health.get(c.id);
      if (h && h.up === alive) return h.reason;
    }
    return undefined;
  }

  /** A real server is alive when none of its checkers failed (num_failed_checkers == 0). */
  private rsAlive(rs: PlannedRealServer): boolean {
    for (const c of rs.checks) {
      const h = this.health.get(c.id);
      const up = h ? h.up : !c.target.policy?.alpha;
      if (!up) return false;
    }
    return true;
  }

  /** iweight (or the runtime weight) + each checker's contribution (misc_dynamic, slow start). */
  effectiveWeight(vs: PlannedVirtualServer, rs: PlannedRealServer): number {
    const ov = this.overrides.size ? this.overrides.get(overrideKey(vs.key, rs.key)) : undefined;
    let w = ov?.weight ?? rs.weight;
    for (const c of rs.checks) {
      const h = this.health.get(c.id);
      if (!h?.up) continue;
      const ref = c.target.policy?.weight ?? rs.weight;
      w += h.weight - ref;
    }
    return realWeight(w);
  }

  /** weigh_live_realservers(): alive servers' weights (a disabled or drained one counts 0). */
  private liveWeight(vs: PlannedVirtualServer, st: VsState): number {
    let sum = 0;
    for (const rs of vs.realServers) {
      if (!st.alive.get(rs.key)) continue;
      const ov = this.overrides.get(overrideKey(vs.key, rs.key));
      if (ov?.disabled || ov?.drain) continue;
      sum += this.effectiveWeight(vs, rs);
    }
    return sum;
  }

  /** Feed health for some targets; returns what changed. Unknown ids are ignored. */
  setHealth(updates: Iterable<[string, HealthState]>): Transition[] {
    const touched = new Set<PlannedVirtualServer>();
    for (const [id, h] of updates) {
      const where = this.byTarget.get(id);
      if (!where) continue;
      this.health.set(id, h);
      touched.add(where.vs);
    }
    return this.evaluateMany(touched);
  }

  healthOf(id: string): HealthState | undefined {
    return this.health.get(id);
  }

  /** Virtual server (and real server) a target belongs to. */
  ownerOf(id: string): { vs: PlannedVirtualServer; rs: PlannedRealServer } | undefined {
    return this.byTarget.get(id);
  }

  private evaluateMany(list: Iterable<PlannedVirtualServer>): Transition[] {
    const effects: Transition[] = [];
    for (const vs of list) {
      const st = this.vsState.get(vs.key);
      if (st) effects.push(...this.evaluate(vs, st));
    }
    return effects;
  }

  /** Re-evaluate everything (weights that move with time: slow start). */
  refresh(): Transition[] {
    return this.evaluateMany(this.plan.virtualServers);
  }

  // ───────────── real servers added at runtime ─────────────

  /** What the state file stores: vsKey → the servers added there. */
  runtimeServers(): Record<string, RuntimeServer[]> {
    return this.added.toRecord();
  }

  /** Replace them (loading the state file); they take effect with the next load(). */
  restoreRuntimeServers(record: Readonly<Record<string, readonly RuntimeServer[]>>): void {
    this.added.restore(record);
  }

  // ───────────── runtime overrides ─────────────

  /** Resolve what an operator typed to one virtual server and one of its real servers. */
  resolve(vsRef: VsReference, rsRef: RsReference): { vs: PlannedVirtualServer; rs: PlannedRealServer } {
    return resolveRealServer(this.resolveVs(vsRef), rsRef);
  }

  resolveVs(ref: VsReference): PlannedVirtualServer {
    return resolveVirtualServer(this.plan, ref);
  }

  override(vsKey: string, rsKey: string): Override | undefined {
    return this.overrides.get(overrideKey(vsKey, rsKey));
  }

  /** Every override, keyed `VSKEY RSKEY` (what the state file stores). */
  allOverrides(): Map<string, Override> {
    return new Map(this.overrides);
  }

  /** Replace all overrides (loading the state file). */
  restoreOverrides(map: Map<string, Override>): Transition[] {
    this.overrides.clear();
    for (const [k, v] of map) this.overrides.set(k, { ...v });
    return this.refresh();
  }

  private mutate(vsKey: string, rsKey: string, fn: (o: Override) => void): Transition[] {
    const k = overrideKey(vsKey, rsKey);
    const o = { ...(this.overrides.get(k) ?? {}) };
    fn(o);
    if (o.weight === undefined && !o.disabled && !o.drain) this.overrides.delete(k);
    else this.overrides.set(k, o);
    const vs = this.byVsKey.get(vsKey);
    return vs ? this.evaluateMany([vs]) : [];
  }

  setWeight(vsKey: string, rsKey: string, weight: number | undefined): Transition[] {
    return this.mutate(vsKey, rsKey, (o) => {
      if (weight === undefined) delete o.weight;
      else o.weight = realWeight(weight);
    });
  }

  setDisabled(vsKey: string, rsKey: string, disabled: boolean): Transition[] {
    return this.mutate(vsKey, rsKey, (o) => {
      if (disabled) o.disabled = true;
      else delete o.disabled;
    });
  }

  /** Weight 0 now; removed once idle (or at the deadline). `timeoutMs` undefined = wait forever. */
  drain(vsKey: string, rsKey: string, timeoutMs: number | undefined): Transition[] {
    const now = this.now();
    return this.mutate(vsKey, rsKey, (o) => {
      o.drain = {
        phase: "draining",
        since: now,
        deadline: timeoutMs === undefined ? undefined : now + timeoutMs,
      };
    });
  }

  undrain(vsKey: string, rsKey: string): Transition[] {
    return this.mutate(vsKey, rsKey, (o) => {
      delete o.drain;
    });
  }

  /** Services holding a draining real server (the drain poller reads these). */
  drainingServices(): Set<string> {
    const out = new Set<string>();
    for (const [k, o] of this.overrides) {
      if (o.drain?.phase !== "draining") continue;
      const vs = this.byVsKey.get(k.slice(0, k.indexOf(" ")));
      if (vs) for (const s of vs.services) out.add(s.id);
    }
    return out;
  }

  /**
   * Look at the kernel's connection counters: a draining server with no active connection left
   * (summed over the virtual server's kernel services), or past its deadline, is done. `scope`
   * names the services `actual` covers (undefined: the whole table); a drain whose services are
   * not all covered waits for a read that covers them.
   */
  observe(
    actual: readonly ServiceWithDests[],
    scope: ReadonlySet<string> | undefined,
    idOf: (s: ServiceWithDests) => string = (s) => serviceId(s.service),
  ): Transition[] {
    // No drain under way: nothing to count (a full table is 25,000 destinations to key).
    if (![...this.overrides.values()].some((o) => o.drain?.phase === "draining")) return [];
    const active = new Map<string, number>();
    for (const a of actual) {
      const sid = idOf(a);
      for (const d of a.dests) {
        const k = `${sid} ${destId(d)}`;
        active.set(k, (active.get(k) ?? 0) + d.activeConns);
      }
    }
    return this.finishDrains(scope, (sid, did) => active.get(`${sid} ${did}`) ?? 0);
  }

  /** observe() from connection counts alone (`scope`: the services they cover). */
  observeConnections(counts: readonly DestConnections[], scope: ReadonlySet<string>): Transition[] {
    const active = new Map<string, number>();
    for (const c of counts) {
      const k = `${serviceId(c.service)} ${destId(c)}`;
      active.set(k, (active.get(k) ?? 0) + c.active);
    }
    return this.finishDrains(scope, (sid, did) => active.get(`${sid} ${did}`) ?? 0);
  }

  /** Drains whose server has no active connection left (`activeOf` a service id and dest id), or past the deadline. */
  private finishDrains(
    scope: ReadonlySet<string> | undefined,
    activeOf: (serviceId: string, destId: string) => number,
  ): Transition[] {
    const effects: Transition[] = [];
    const touched = new Set<PlannedVirtualServer>();
    const now = this.now();
    for (const [k, o] of this.overrides) {
      if (o.drain?.phase !== "draining") continue;
      const sp = k.indexOf(" ");
      const vs = this.byVsKey.get(k.slice(0, sp));
      const rs = vs?.realServers.find((r) => r.key === k.slice(sp + 1));
      if (!vs || !rs) continue;
      if (scope && !vs.services.every((s) => scope.has(s.id))) continue;
      let active = 0;
      for (const s of vs.services) active += activeOf(s.id, destId(destFor(s, rs, 0)));
      const timedOut = o.drain.deadline !== undefined && now >= o.drain.deadline;
      if (active === 0 || timedOut) {
        const reason = active === 0 ? "idle" : "timeout";
        o.drain = { ...o.drain, phase: "drained", doneAt: now, doneReason: reason };
        effects.push({ kind: "drain", vsKey: vs.key, rsKey: rs.key, reason, activeConns: active });
        touched.add(vs);
      }
    }
    effects.push(...this.evaluateMany(touched));
    return effects;
  }

  // ───────────── desired table ─────────────

  /** Per real server of a virtual server: alive, weights and what the kernel should hold. */
  realServerViews(vs: PlannedVirtualServer): RealServerView[] {
    const st = this.vsState.get(vs.key);
    const sorryActive = vs.sorry !== undefined && !(st?.quorumUp ?? false);
    const anyOverride = this.overrides.size > 0; // none: no key string per real server (20,000)
    return vs.realServers.map((rs) => {
      const override = anyOverride ? this.overrides.get(overrideKey(vs.key, rs.key)) : undefined;
      const alive = st?.alive.get(rs.key) ?? this.rsAlive(rs);
      const effectiveWeight = this.effectiveWeight(vs, rs);
      let desiredWeight: number | undefined;
      if (override?.disabled || override?.drain?.phase === "drained") desiredWeight = undefined;
      else if (sorryActive) desiredWeight = rs.inhibit ? 0 : undefined;
      else if (alive) desiredWeight = effectiveWeight;
      else if (rs.inhibit) desiredWeight = 0;
      if (desiredWeight !== undefined && override?.drain) desiredWeight = 0;
      return { rs, alive, effectiveWeight, desiredWeight, override };
    });
  }

  quorumUp(vsKey: string): boolean {
    return this.vsState.get(vsKey)?.quorumUp ?? false;
  }

  liveWeightOf(vs: PlannedVirtualServer): number {
    const st = this.vsState.get(vs.key);
    return st ? this.liveWeight(vs, st) : 0;
  }

  sorryActive(vs: PlannedVirtualServer): boolean {
    return vs.sorry !== undefined && !this.quorumUp(vs.key);
  }

  /** The kernel services (and their real servers) of one virtual server. */
  desiredOf(vs: PlannedVirtualServer): DesiredService[] {
    const views = this.realServerViews(vs);
    const sorryActive = this.sorryActive(vs);
    return vs.services.map((svc: PlannedService) => {
      const dests = new Map<string, Destination>();
      for (const v of views) {
        if (v.desiredWeight === undefined) continue;
        const d = destFor(svc, v.rs, v.desiredWeight);
        dests.set(destId(d), d);
      }
      if (vs.sorry) {
        const d = destFor(svc, vs.sorry, sorryActive ? 1 : 0);
        const id = destId(d);
        // Active: the sorry server (weight 1) is the pool. Idle with sorry_server_inhibit: it
        // stays in with weight 0 (init_service_vs adds it so; a duplicate real server wins).
        if (sorryActive) dests.set(id, d);
        else if (vs.sorry.inhibit && !dests.has(id)) dests.set(id, d);
      }
      return { service: svc.service, dests: [...dests.values()] };
    });
  }

  /**
   * The whole desired table. Two virtual servers naming the same kernel service share it: their
   * real servers are merged (keepalived adds both sets to the one service).
   */
  desired(filter?: ReadonlySet<string>): DesiredService[] {
    const out = new Map<string, DesiredService>();
    for (const vs of this.plan.virtualServers) this.addDesired(out, vs, filter);
    return [...out.values()];
  }

  /** One virtual server's services (of `f`, if given) into `out` (service id → desired), merged. */
  protected addDesired(out: Map<string, DesiredService>, vs: PlannedVirtualServer, f?: ReadonlySet<string>) {
    if (f && !vs.services.some((s) => f.has(s.id))) return;
    const list = this.desiredOf(vs);
    vs.services.forEach((svc, i) => {
      if (f && !f.has(svc.id)) return;
      const want = list[i] as DesiredService;
      const have = out.get(svc.id);
      if (!have) out.set(svc.id, want);
      else {
        const ids = new Set(have.dests.map(destId));
        for (const d of want.dests) if (!ids.has(destId(d))) have.dests.push(d);
      }
    });
  }

  /** Every service id the plan stands for. */
  serviceIds(): Set<string> {
    return new Set(this.byServiceId.keys());
  }
}
