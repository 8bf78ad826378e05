/**
 * Reload in place, as keepalived on SIGHUP (vrrp_daemon.c reload_vrrp_thread(), vrrp.c
 * clear_diff_vrrp()), in named steps: check and plan the new configuration (a VrrpError changes
 * nothing), match the running instances (reload-plan.ts), release the sync groups that change,
 * stop the removed instances, carry the scripts over, update the instances found again, then —
 * once the removed instances' addresses are gone — start the new ones and the rebuilt groups.
 */
import type { EffectRunner } from "./effects.js";
import { VrrpError } from "./errors.js";
import type { Instances } from "./instances.js";
import type { LinkWatch } from "./links.js";
import { NotifyFifo } from "./notify.js";
import type { ResolvedInstance, ResolvedScript, VrrpRouterOptions } from "./options.js";
import {
  diffGroups,
  diffScripts,
  emptySummary,
  type GroupDiff,
  type InstanceMatch,
  matchInstances,
  type ReloadSummary,
} from "./reload-plan.js";
import type { InstanceRuntime, RouterCore, ScriptRuntime } from "./router-core.js";
import {
  allVips,
  dropsTraffic,
  groupTracksByMember,
  planOf,
  type RouterPlan,
  rxOf,
  vipKey,
} from "./router-plan.js";
import { type ScriptTimers, scriptRuntime } from "./script-timers.js";
import type { VrrpSyncGroup } from "./sync-group.js";
import { ScriptResult } from "./tracking.js";
import type { Wire } from "./wire.js";

/** The router's parts a reload works through. */
export interface ReloadParts {
  core: RouterCore;
  instances: Instances;
  effects: EffectRunner;
  wire: Wire;
  links: LinkWatch;
  scriptTimers: ScriptTimers;
  /** The notify FIFOs the router opened itself (undefined when the notifier was given). */
  fifos: NotifyFifo[] | undefined;
}

/** Settings a running router cannot take in place. */
function checkReloadable(current: VrrpRouterOptions, next: VrrpRouterOptions): void {
  for (const k of ["netns", "ipv6Receive"] as const) {
    if (next[k] !== current[k])
      throw new VrrpError(
        "VRRP_BAD_CONFIG",
        `${k} cannot change on a reload (${current[k] ?? "default"} → ${next[k] ?? "default"}); restart the router`,
        { object: k },
      );
  }
}

/** Reopens the notify FIFOs when their list changes (keepalived closes and reopens them on reload). */
function reopenFifos(fifos: NotifyFifo[], want: readonly string[]): void {
  const opened: NotifyFifo[] = [];
  try {
    for (const p of want) if (!fifos.some((f) => f.path === p)) opened.push(new NotifyFifo(p));
  } catch (err) {
    for (const f of opened) f.close();
    throw err;
  }
  for (let i = fifos.length - 1; i >= 0; i--) {
    const f = fifos[i] as NotifyFifo;
    if (!want.includes(f.path)) {
      f.close();
      fifos.splice(i, 1);
    }
  }
  fifos.push(...opened);
}

/** Nothing runs yet: the new configuration is taken as the constructor would take it. */
function rebuildBeforeStart(parts: ReloadParts, plan: RouterPlan): ReloadSummary {
  const { core, instances } = parts;
  const summary = emptySummary();
  summary.instances.removed = core.instances.map((rt) => rt.r.name);
  summary.scripts.removed = [...core.scripts.keys()];
  instances.clear();
  instances.build(plan);
  summary.instances.added = plan.instances.map((r) => r.name);
  summary.scripts.added = [...plan.scripts.keys()];
  summary.groups.added = plan.groups.map((g) => g.name);
  return summary;
}

/** Step 3: removed instances stop (priority 0 if MASTER, addresses removed, notified). */
function stopRemoved(core: RouterCore, removed: readonly InstanceRuntime[]): Promise<void>[] {
  const removals: Promise<void>[] = [];
  for (const rt of removed) {
    rt.removed = true;
    rt.engine.stop();
    removals.push(rt.queue);
  }
  for (const rt of removed) core.instances.splice(core.instances.indexOf(rt), 1);
  return removals;
}

/** Step 4: vrrp_scripts (keepalived clear_diff_script()); returns those to run at once. */
function reloadScripts(
  parts: ReloadParts,
  next: ReadonlyMap<string, ResolvedScript>,
  summary: ReloadSummary["scripts"],
): ScriptRuntime[] {
  const { core, scriptTimers } = parts;
  const rerun: ScriptRuntime[] = [];
  const before = new Map([...core.scripts].map(([name, rs]) => [name, rs.s]));
  for (const [name, change] of diffScripts(before, next)) {
    const old = core.scripts.get(name);
    const s = next.get(name);
    if (change === "unchanged") summary.unchanged.push(name);
    else if (change === "retuned" && old && s) {
      old.s = s; // only weight / reverse: the same timer and counter
      summary.updated.push(name);
    } else if (change === "removed" && old) {
      scriptTimers.retire(old);
      summary.removed.push(name);
    } else if (s) {
      // replaced (rise/fall state carried over) or added
      const rs = old
        ? scriptRuntime(s, ScriptResult.reloaded(old.result, s.rise, s.fall, s.initFail))
        : scriptRuntime(s);
      if (old) {
        scriptTimers.retire(old);
        rs.runs = old.runs;
      }
      scriptTimers.add(rs);
      rerun.push(rs);
      (old ? summary.updated : summary.added).push(name);
    }
  }
  return rerun;
}

/**
 * Step 5, one instance found again with new settings (keepalived clear_diff_vrrp_vip() and
 * restore_vrrp_state()): while its addresses are up, those no longer configured go, new ones
 * are added and announced (one round of garp_master_repeat), the no_accept rules follow; the
 * engine takes the new parameters in its current state.
 */
function updateInstance(parts: ReloadParts, rt: InstanceRuntime, r: ResolvedInstance): void {
  const { core, effects } = parts;
  const old = rt.r;
  const up = rt.engine.addressesSet;
  const newKeys = new Set(allVips(r).map(vipKey));
  const oldKeys = new Set(allVips(old).map(vipKey));
  const gone = allVips(old).filter((v) => !newKeys.has(vipKey(v)));
  const fresh = allVips(r).filter((v) => !oldKeys.has(vipKey(v)));
  if (up && gone.length > 0)
    effects.enqueue(rt, "remove addresses", async () => {
      await Promise.all(gone.map((v) => core.io.net.removeAddress(v)));
    });
  rt.r = r;
  rt.rx = { ...rxOf(r), ...(rt.rx.localAddresses ? { localAddresses: rt.rx.localAddresses } : {}) };
  if (r.sourceIp) rt.primary = r.sourceIp;
  else if (old.sourceIp) rt.primary = parts.links.pickPrimary(r.interface, r.family, core.ours());
  if (up) {
    const dropsNow = dropsTraffic(r);
    const droppedBefore = dropsTraffic(old);
    if (dropsNow) parts.instances.ensureAcceptFilter([r]);
    const filter = core.acceptFilter;
    effects.enqueue(rt, "add addresses", async () => {
      if (filter && droppedBefore && (!dropsNow || old.name !== r.name))
        await filter.set(old.name, undefined);
      // no_accept: the drop rules go in before the addresses, as at a takeover
      if (filter && dropsNow)
        await filter.set(
          r.name,
          allVips(r).map((v) => v.address),
        );
      await Promise.all(fresh.map((v) => core.io.net.addAddress(v)));
    });
  }
  rt.engine.reconfigure(r.params, core.trackingOf(rt));
  if (up && fresh.length > 0 && rt.engine.state === "master")
    effects.announce(rt, fresh, rt.engine.params.garpMasterRepeat);
}

/** Step 6: the new instances and the rebuilt groups, once the removed ones' addresses are gone. */
function startAdded(
  parts: ReloadParts,
  added: readonly ResolvedInstance[],
  groups: GroupDiff<VrrpSyncGroup>,
): InstanceRuntime[] {
  const { core, instances, wire } = parts;
  const fresh = added.map((r) => instances.runtime(r));
  core.instances.push(...fresh);
  instances.ensureAcceptFilter();
  parts.links.updateAddressing();
  wire.openChannels();
  wire.closeUnusedChannels();
  for (const rt of fresh) rt.engine.setTracking(core.trackingOf(rt));
  for (const g of groups.build) {
    const group = instances.syncGroup(g);
    core.groups.push(group);
    group.resume(groups.previous.get(g.name));
  }
  const grouped = core.groupedEngines();
  for (const rt of fresh) if (!grouped.has(rt.engine)) rt.engine.start();
  // group tracking may have moved for members kept untouched; a no-op otherwise
  core.retrack(new Set(fresh));
  return fresh;
}

/** keepalived fifo_write_vrrp_states_on_reload: the states that did not change, on the FIFO. */
function writeUnchangedStates(
  core: RouterCore,
  rebuilt: ReadonlySet<string>,
  fresh: readonly InstanceRuntime[],
): void {
  const { notifier } = core.io;
  for (const g of core.groups) if (!rebuilt.has(g.name)) notifier.fifo("GROUP", g.name, g.state, 0);
  for (const rt of core.instances)
    if (!fresh.includes(rt))
      notifier.fifo("INSTANCE", rt.r.name, rt.engine.state, rt.engine.effectivePriority);
}

function summarizeInstances(
  match: InstanceMatch<InstanceRuntime>,
  summary: ReloadSummary["instances"],
): void {
  for (const [rt, r] of match.found)
    (match.changed.has(rt) ? summary.updated : summary.unchanged).push(r.name);
  summary.added = match.added.map((r) => r.name);
  summary.removed = match.removed.map((rt) => rt.r.name);
}

/**
 * Applies `options` to a router: an instance found again — same VRID, family, interface and
 * multicast/unicast source, keepalived's vrrp_exist() — keeps running (untouched when its
 * settings are the same, else updated in its current state); one not found again stops
 * (priority 0 if MASTER, VIPs removed, notified as FAULT); a new one starts as at startup.
 */
export async function reloadRouter(parts: ReloadParts, options: VrrpRouterOptions): Promise<ReloadSummary> {
  const { core, instances, links, wire } = parts;
  checkReloadable(core.opts, options);
  const plan = planOf(options, (m) => core.warn(m));
  if (parts.fifos) reopenFifos(parts.fifos, options.notifyFifos ?? []);
  core.opts = options;
  if (!core.started) return rebuildBeforeStart(parts, plan);
  const summary = emptySummary();
  // 1. instances, matched as keepalived's vrrp_exist()
  const newOurs = core.ours(plan.instances);
  const match = matchInstances(
    core.instances,
    plan.instances,
    (r) => r.sourceIp ?? links.pickPrimary(r.interface, r.family, newOurs),
    { before: core.groupTracks, after: groupTracksByMember(plan.groups) },
  );
  summarizeInstances(match, summary.instances);
  // 2. sync groups rebuilt or removed release their members before anything moves
  const engineOf = new Map([...match.found].map(([rt, r]) => [r.name, rt.engine]));
  const groups = diffGroups(
    core.groups,
    { before: core.groupPlans, after: plan.groups },
    (name) => engineOf.get(name),
    summary.groups,
  );
  for (const g of groups.released) g.detach();
  core.groups = groups.kept;
  // 3. removed instances stop; 4. scripts; 5. instances found again
  const removals = stopRemoved(core, match.removed);
  const rerun = reloadScripts(parts, plan.scripts, summary.scripts);
  instances.setGroupPlans(plan.groups);
  for (const [rt, r] of match.found) {
    if (match.changed.has(rt)) updateInstance(parts, rt, r);
    else rt.r = r;
  }
  // 6. new instances, once the removed ones' addresses are gone (a VIP may move between them)
  await Promise.allSettled(removals);
  await wire.drain();
  if (core.stopped) return summary;
  const fresh = startAdded(parts, match.added, groups);
  for (const s of rerun) parts.scriptTimers.schedule(s, 0);
  if (options.fifoWriteStatesOnReload)
    writeUnchangedStates(core, new Set(groups.build.map((g) => g.name)), fresh);
  return summary;
}
