/**
 * A router configuration resolved and checked before anything runs (the constructor and every
 * reload): scripts, instances and sync groups with keepalived's defaults, every cross-reference
 * checked, a VrrpError thrown before anything is touched. Pure.
 */
import { VrrpError } from "./errors.js";
import type { NotifyScripts } from "./notify.js";
import {
  type ResolvedInstance,
  type ResolvedScript,
  type ResolvedVip,
  resolveInstance,
  resolveScript,
  type SyncGroupOptions,
  type VrrpRouterOptions,
} from "./options.js";
import type { RxInstance } from "./rx.js";
import type { TrackRef } from "./tracking.js";

export interface GroupPlan {
  name: string;
  members: string[];
  notify?: NotifyScripts;
  tracks: TrackRef[];
}

export interface RouterPlan {
  scripts: Map<string, ResolvedScript>;
  instances: ResolvedInstance[];
  groups: GroupPlan[];
}

/** What identifies a VIP on the host: a change here is a removal plus an addition. */
export const vipKey = (v: ResolvedVip) =>
  `${v.dev}|${v.address}|${v.prefixLength}|${v.label ?? ""}|${v.scope ?? ""}`;
/** Every address an instance installs: advertised and excluded. */
export const allVips = (r: ResolvedInstance) => [...r.vips, ...r.extraVips];
/** Accept_Mode off in effect (RFC 9568 §6.1: the owner always accepts). */
export const dropsTraffic = (r: ResolvedInstance) => r.params.accept === false && r.params.priority !== 255;
/** What runs a script's timer: a change here restarts it (weight and reverse only move priorities). */
export const scriptTiming = (s: ResolvedScript) => ({
  command: s.command,
  intervalMs: s.intervalMs,
  timeoutMs: s.timeoutMs,
  rise: s.rise,
  fall: s.fall,
  initFail: s.initFail,
});

/** The receive path's view of an instance (rx.ts). */
export function rxOf(r: ResolvedInstance): RxInstance {
  return {
    name: r.name,
    vrid: r.params.vrid,
    version: r.params.version,
    family: r.family,
    addresses: r.vips.map((v) => v.address),
    intervalCs: r.params.intervalCs,
    authType: r.authType,
    ...(r.authData ? { authData: r.authData } : {}),
    unicastPeers: r.unicastPeers,
    checkUnicastSource: r.checkUnicastSource,
    v3Ipv4Checksum: r.v3Ipv4Checksum,
  };
}

const badConfig = (object: string, message: string) => new VrrpError("VRRP_BAD_CONFIG", message, { object });

function planScripts(options: VrrpRouterOptions): Map<string, ResolvedScript> {
  const scripts = new Map<string, ResolvedScript>();
  for (const s of options.scripts ?? []) {
    const rs = resolveScript(s, options);
    if (scripts.has(rs.name)) throw badConfig(rs.name, `vrrp_script ${rs.name} defined twice`);
    scripts.set(rs.name, rs);
  }
  return scripts;
}

function planInstances(
  options: VrrpRouterOptions,
  scripts: ReadonlyMap<string, ResolvedScript>,
  warn: (m: string) => void,
): ResolvedInstance[] {
  const instances: ResolvedInstance[] = [];
  const names = new Set<string>();
  for (const o of options.instances) {
    if (names.has(o.name)) throw badConfig(o.name, `vrrp_instance ${o.name} defined twice`);
    names.add(o.name);
    instances.push(resolveInstance(o, options, scripts, warn));
  }
  // one multicast VRID per interface and family: the receive path finds an instance by it
  const seen = new Map<string, string>();
  for (const r of instances) {
    const key = `${r.interface}/${r.family}/${r.params.vrid}`;
    const other = seen.get(key);
    if (other && r.unicastPeers.length === 0)
      throw badConfig(
        r.name,
        `vrrp_instance ${r.name}: virtual_router_id ${r.params.vrid} is already used by ${other} on ${r.interface} (IPv${r.family})`,
      );
    seen.set(key, r.name);
  }
  return instances;
}

function groupTracks(g: SyncGroupOptions, scripts: ReadonlyMap<string, ResolvedScript>): TrackRef[] {
  return [
    ...(g.trackInterfaces ?? []).map((t) => ({
      kind: "interface" as const,
      name: t.name,
      weight: t.weight ?? 0,
      reverse: t.reverse ?? false,
    })),
    ...(g.trackScripts ?? []).map((t) => {
      const s = scripts.get(t.name);
      if (!s) throw badConfig(g.name, `vrrp_sync_group ${g.name}: track_script ${t.name} has no vrrp_script`);
      return {
        kind: "script" as const,
        name: t.name,
        weight: t.weight ?? s.weight,
        reverse: t.reverse ?? s.reverse,
      };
    }),
  ];
}

function planGroups(
  options: VrrpRouterOptions,
  instances: readonly ResolvedInstance[],
  scripts: ReadonlyMap<string, ResolvedScript>,
): GroupPlan[] {
  const names = new Set(instances.map((r) => r.name));
  const groups: GroupPlan[] = [];
  const memberOf = new Map<string, string>();
  const groupNames = new Set<string>();
  for (const g of options.syncGroups ?? []) {
    if (groupNames.has(g.name)) throw badConfig(g.name, `vrrp_sync_group ${g.name} defined twice`);
    groupNames.add(g.name);
    if (g.members.length === 0) throw badConfig(g.name, `sync group ${g.name} has no member instance`);
    for (const m of g.members) {
      if (!names.has(m)) throw badConfig(g.name, `vrrp_sync_group ${g.name}: no vrrp_instance ${m}`);
      const other = memberOf.get(m);
      if (other !== undefined)
        throw badConfig(m, `instance ${m} cannot be in more than one sync group (${other}, ${g.name})`);
      memberOf.set(m, g.name);
    }
    const tracks = groupTracks(g, scripts);
    groups.push({ name: g.name, members: [...g.members], ...(g.notify ? { notify: g.notify } : {}), tracks });
  }
  return groups;
}

/** Resolves and checks a whole configuration; throws VrrpError before anything is touched. */
export function planOf(options: VrrpRouterOptions, warn: (m: string) => void): RouterPlan {
  const scripts = planScripts(options);
  const instances = planInstances(options, scripts, warn);
  return { scripts, instances, groups: planGroups(options, instances, scripts) };
}

/** The sync-group tracking of each member instance, by instance name. */
export function groupTracksByMember(groups: readonly GroupPlan[]): Map<string, TrackRef[]> {
  const out = new Map<string, TrackRef[]>();
  for (const g of groups) for (const m of g.members) out.set(m, g.tracks);
  return out;
}
