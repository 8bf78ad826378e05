/**
 * Instance lifecycle: an engine per vrrp_instance wired to the effect runner, sync groups over
 * them, the no_accept filter once an instance needs it; everything started at start and stopped
 * at stop in keepalived's order (groups start and stop their own members).
 */
import { AcceptFilter } from "./accept.js";
import type { EffectRunner } from "./effects.js";
import { VrrpInstanceEngine } from "./engine.js";
import { VrrpError } from "./errors.js";
import type { ResolvedInstance } from "./options.js";
import type { InstanceRuntime, RouterCore } from "./router-core.js";
import { dropsTraffic, type GroupPlan, groupTracksByMember, type RouterPlan, rxOf } from "./router-plan.js";
import { type ScriptTimers, scriptRuntime } from "./script-timers.js";
import { VrrpSyncGroup } from "./sync-group.js";

export class Instances {
  constructor(
    private readonly core: RouterCore,
    private readonly effects: EffectRunner,
    private readonly scriptTimers: ScriptTimers,
  ) {}

  /** Builds everything from a plan (constructor; a reload before start). */
  build(plan: RouterPlan): void {
    for (const rs of plan.scripts.values()) this.scriptTimers.add(scriptRuntime(rs));
    for (const r of plan.instances) this.core.instances.push(this.runtime(r));
    this.ensureAcceptFilter();
    this.setGroupPlans(plan.groups);
    for (const g of plan.groups) this.core.groups.push(this.syncGroup(g));
  }

  /** Forgets everything built (a reload before start takes the new plan as the constructor would). */
  clear(): void {
    for (const g of this.core.groups) g.detach();
    this.core.groups = [];
    this.core.instances.length = 0;
    this.core.scripts.clear();
  }

  runtime(r: ResolvedInstance): InstanceRuntime {
    const rt: InstanceRuntime = {
      r,
      primary: r.sourceIp,
      ipId: 0,
      queue: Promise.resolve(),
      rx: rxOf(r),
      engine: undefined as unknown as VrrpInstanceEngine,
    };
    rt.engine = new VrrpInstanceEngine(r.params, {
      clock: this.core.clock,
      primaryAddress: () => rt.primary,
      onEffect: (e) => this.effects.onEffect(rt, e),
    });
    return rt;
  }

  /** The nftables filter, made on first need: when an instance drops traffic to its VIPs. */
  ensureAcceptFilter(candidates: readonly ResolvedInstance[] = this.core.instances.map((rt) => rt.r)): void {
    const core = this.core;
    if (!core.acceptFilter && candidates.some(dropsTraffic))
      core.acceptFilter = core.io.acceptFilter ?? new AcceptFilter(core.opts.netns);
  }

  setGroupPlans(groups: readonly GroupPlan[]): void {
    this.core.groupPlans = new Map(groups.map((g) => [g.name, g]));
    this.core.groupTracks = groupTracksByMember(groups);
  }

  syncGroup(g: GroupPlan): VrrpSyncGroup {
    const members = g.members.map((m) => {
      const rt = this.core.instances.find((i) => i.r.name === m);
      if (!rt)
        throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_sync_group ${g.name}: no vrrp_instance ${m}`, {
          object: g.name,
        });
      return rt.engine;
    });
    return new VrrpSyncGroup(g.name, members, (e) => this.effects.onGroupEffect(e));
  }

  /** Tracking first, then the scripts, then the groups and the instances outside any group. */
  startAll(): void {
    const core = this.core;
    core.retrack();
    for (const s of core.scripts.values()) this.scriptTimers.schedule(s, 0);
    const grouped = core.groupedEngines();
    for (const g of core.groups) g.start();
    for (const rt of core.instances) if (!grouped.has(rt.engine)) rt.engine.start();
  }

  /** keepalived on SIGTERM: masters send priority 0 and remove their addresses, all report STOP. */
  async stopAll(): Promise<void> {
    const core = this.core;
    this.scriptTimers.stopAll();
    const grouped = core.groupedEngines();
    for (const rt of core.instances) if (!grouped.has(rt.engine)) rt.engine.stop();
    for (const g of core.groups) g.stop();
    await Promise.allSettled(core.instances.map((rt) => rt.queue));
  }
}
