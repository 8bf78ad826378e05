/**
 * What a reload keeps, changes, stops and starts, decided as keepalived decides it on SIGHUP
 * (vrrp.c clear_diff_vrrp() / vrrp_exist(), clear_diff_script(), vrrp_sync.c), pure: the running
 * configuration and the new plan in, the differences out. reload.ts carries them out.
 */
import { isDeepStrictEqual } from "node:util";
import type { VrrpState } from "./engine.js";
import type { ResolvedInstance, ResolvedScript } from "./options.js";
import { type GroupPlan, scriptTiming } from "./router-plan.js";
import type { TrackRef } from "./tracking.js";

/** What a reload did, by name (instances and groups as in the new configuration, removed ones as in the old). */
export interface ReloadSummary {
  instances: {
    /** Same settings: left running untouched. */
    unchanged: string[];
    /** Found again (same VRID, family, interface, unicast source): new settings, same state. */
    updated: string[];
    /** New: started as at startup. */
    added: string[];
    /** Gone: stopped (priority 0 if MASTER, addresses removed, FAULT notify as keepalived). */
    removed: string[];
  };
  groups: { unchanged: string[]; rebuilt: string[]; added: string[]; removed: string[] };
  scripts: { unchanged: string[]; updated: string[]; added: string[]; removed: string[] };
}

export function emptySummary(): ReloadSummary {
  return {
    instances: { unchanged: [], updated: [], added: [], removed: [] },
    groups: { unchanged: [], rebuilt: [], added: [], removed: [] },
    scripts: { unchanged: [], updated: [], added: [], removed: [] },
  };
}

/** A running instance as the matching sees it: its settings and the source address in use. */
export interface RunningInstance {
  r: ResolvedInstance;
  primary: string | undefined;
}

export interface InstanceMatch<T extends RunningInstance> {
  /** Running instance → its settings in the new plan. */
  found: Map<T, ResolvedInstance>;
  /** Found again with different settings (or different sync-group tracking). */
  changed: Set<T>;
  removed: T[];
  added: ResolvedInstance[];
}

/** keepalived vrrp_exist(): VRID, family, interface, unicast or not (and then the same source address). */
const identity = (r: ResolvedInstance, source: string | undefined) =>
  `${r.interface}|${r.family}|${r.params.vrid}|${r.unicastPeers.length > 0 ? `unicast ${source ?? ""}` : "multicast"}`;

/**
 * Matches running instances to the new plan by keepalived's identity, a same-named candidate
 * first. `sourceOf` gives a planned instance's source address (its own, else the one the
 * interface would give it).
 */
export function matchInstances<T extends RunningInstance>(
  running: readonly T[],
  planned: readonly ResolvedInstance[],
  sourceOf: (r: ResolvedInstance) => string | undefined,
  groupTracks: { before: ReadonlyMap<string, TrackRef[]>; after: ReadonlyMap<string, TrackRef[]> },
): InstanceMatch<T> {
  const found = new Map<T, ResolvedInstance>();
  const taken = new Set<ResolvedInstance>();
  const newIds = new Map(planned.map((r) => [r, identity(r, sourceOf(r))]));
  for (const rt of running) {
    const id = identity(rt.r, rt.primary);
    const cands = planned.filter((r) => !taken.has(r) && newIds.get(r) === id);
    const pick = cands.find((r) => r.name === rt.r.name) ?? cands[0];
    if (pick) {
      found.set(rt, pick);
      taken.add(pick);
    }
  }
  const changed = new Set<T>();
  for (const [rt, r] of found) {
    const same =
      isDeepStrictEqual(rt.r, r) &&
      isDeepStrictEqual(groupTracks.before.get(rt.r.name) ?? [], groupTracks.after.get(r.name) ?? []);
    if (!same) changed.add(rt);
  }
  return {
    found,
    changed,
    removed: running.filter((rt) => !found.has(rt)),
    added: planned.filter((r) => !taken.has(r)),
  };
}

/** A running sync group as the diff sees it: its name and its member engines. */
export interface RunningGroup<M> {
  readonly name: string;
  readonly members: readonly M[];
  readonly state: VrrpState;
}

export interface GroupDiff<G> {
  kept: G[];
  /** New or rebuilt groups, to build over the instances once they run. */
  build: GroupPlan[];
  /** Rebuilt or removed: they release their members. */
  released: G[];
  /** A rebuilt group's state before the reload (keepalived reports it only if it differs). */
  previous: Map<string, VrrpState>;
}

/**
 * Sync groups are kept when they have the same member engines in the same order, the same
 * notify scripts and the same tracking; others are built again.
 */
export function diffGroups<M, G extends RunningGroup<M>>(
  running: readonly G[],
  plans: { before: ReadonlyMap<string, GroupPlan>; after: readonly GroupPlan[] },
  engineOf: (instanceName: string) => M | undefined,
  summary: ReloadSummary["groups"],
): GroupDiff<G> {
  const old = new Map(running.map((g) => [g.name, g]));
  const diff: GroupDiff<G> = { kept: [], build: [], released: [], previous: new Map() };
  for (const g of plans.after) {
    const was = old.get(g.name);
    const wasPlan = plans.before.get(g.name);
    const same =
      was !== undefined &&
      wasPlan !== undefined &&
      was.members.length === g.members.length &&
      g.members.every((m, i) => engineOf(m) === was.members[i]) &&
      isDeepStrictEqual(wasPlan.notify, g.notify) &&
      isDeepStrictEqual(wasPlan.tracks, g.tracks);
    if (same) {
      diff.kept.push(was);
      old.delete(g.name);
      summary.unchanged.push(g.name);
      continue;
    }
    diff.build.push(g);
    if (was) diff.previous.set(g.name, was.state);
    (was ? summary.rebuilt : summary.added).push(g.name);
  }
  summary.removed = [...old.keys()].filter((n) => !plans.after.some((g) => g.name === n));
  diff.released = [...old.values()];
  return diff;
}

/**
 * keepalived clear_diff_script(): per vrrp_script name, "unchanged"; "retuned" (only weight or
 * reverse moved: the same timer and counter); "replaced" (its timing moved: a new timer, the
 * rise/fall state carried over); "removed"; "added".
 */
export type ScriptChange = "unchanged" | "retuned" | "replaced" | "removed" | "added";

export function diffScripts(
  before: ReadonlyMap<string, ResolvedScript>,
  after: ReadonlyMap<string, ResolvedScript>,
): Map<string, ScriptChange> {
  const out = new Map<string, ScriptChange>();
  for (const [name, old] of before) {
    const s = after.get(name);
    if (!s) out.set(name, "removed");
    else if (isDeepStrictEqual(old, s)) out.set(name, "unchanged");
    else if (isDeepStrictEqual(scriptTiming(old), scriptTiming(s))) out.set(name, "retuned");
    else out.set(name, "replaced");
  }
  for (const name of after.keys()) if (!before.has(name)) out.set(name, "added");
  return out;
}
