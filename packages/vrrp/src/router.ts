/**
 * VrrpRouter: what `keepalived --vrrp` does — the engines of every vrrp_instance and
 * vrrp_sync_group, fed by the receive path and tracking, their effects carried out through the
 * transport (adverts), @lvs/netconf (addresses, GARP/NA, link events), scripts and notifies.
 * Time and every I/O dependency are injectable (`RouterDeps`).
 */
import { EventEmitter } from "node:events";
import { isDeepStrictEqual } from "node:util";
import { type Clock, isLinkLocal6, systemClock } from "@lvs/inet";
import { AcceptFilter } from "./accept.js";
import { encodeAdvert } from "./codec.js";
import { VRRP_IPV4_GROUP, VRRP_IPV6_GROUP } from "./constants.js";
import {
  type InstanceEffect,
  type InstanceStatus,
  type TrackingStatus,
  VrrpInstanceEngine,
  type VrrpState,
} from "./engine.js";
import { VrrpError } from "./errors.js";
import type { IpPacket } from "./ip.js";
import { type AddressState, type LinkState, NetconfOps, type NetOps } from "./netops.js";
import { Notifier, NotifyFifo, type NotifyScripts } from "./notify.js";
import {
  type ResolvedInstance,
  type ResolvedScript,
  type ResolvedVip,
  resolveInstance,
  resolveScript,
  type VrrpRouterOptions,
} from "./options.js";
import { checkAdvert, countedAsReceived, peekVrid, type RxInstance } from "./rx.js";
import { runScript, type ScriptCommand, type ScriptOutcome } from "./scripts.js";
import { emptyInterfaceStats, type InterfaceStats } from "./stats.js";
import { type GroupEffect, VrrpSyncGroup } from "./sync-group.js";
import { aggregateTracking, ScriptResult, type TrackRef, type TrackState } from "./tracking.js";
import { RawTransport, type VrrpTransport } from "./transport.js";

// include/uapi/linux/if_addr.h: IFA_F_SECONDARY 0x01, IFA_F_DADFAILED 0x08, IFA_F_TENTATIVE 0x40
const IFA_F_SECONDARY = 0x01;
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
// rtnetlink.h RT_SCOPE_LINK
const RT_SCOPE_LINK = 253;

export interface RouterDeps {
  clock?: Clock;
  transport?: VrrpTransport;
  net?: NetOps;
  /** Runs tracking scripts (default: scripts.ts runScript). */
  runScript?: (cmd: ScriptCommand, timeoutMs: number) => Promise<ScriptOutcome>;
  notifier?: Notifier;
  /** Enforces no_accept (default: nftables in the router's namespace). */
  acceptFilter?: AcceptFilter;
}

export interface RouterInstanceStatus extends InstanceStatus {
  interface: string;
  family: 4 | 6;
  version: 2 | 3;
  /** The source address of our adverts (undefined while the interface has none). */
  primaryAddress?: string;
  addresses: string[];
  unicastPeers: string[];
}

export interface RouterStatus {
  instances: RouterInstanceStatus[];
  groups: Array<{ name: string; state: VrrpState; members: string[] }>;
  interfaces: Array<{ name: string; family: 4 | 6; stats: InterfaceStats }>;
  scripts: Array<{ name: string; state: TrackState; runs: number }>;
}

export interface StateChange {
  kind: "INSTANCE" | "GROUP";
  name: string;
  from: VrrpState;
  to: VrrpState;
  priority: number;
  reason: string;
  at: number;
}

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

interface Runtime {
  r: ResolvedInstance;
  engine: VrrpInstanceEngine;
  primary: string | undefined;
  ipId: number;
  queue: Promise<void>;
  rx: RxInstance;
  /** Removed by a reload: its STOP is notified as keepalived notifies a deleted instance. */
  removed?: boolean;
}

interface ScriptRuntime {
  s: ResolvedScript;
  result: ScriptResult;
  running: boolean;
  runs: number;
  timer: unknown;
  /** Replaced or removed by a reload: a run still going is ignored. */
  retired?: boolean;
}

interface GroupPlan {
  name: string;
  members: string[];
  notify?: NotifyScripts;
  tracks: TrackRef[];
}

/** A configuration resolved and checked, before anything runs (constructor and reload). */
interface RouterPlan {
  scripts: Map<string, ResolvedScript>;
  instances: ResolvedInstance[];
  groups: GroupPlan[];
}

const vipKey = (v: ResolvedVip) =>
  `${v.dev}|${v.address}|${v.prefixLength}|${v.label ?? ""}|${v.scope ?? ""}`;
const allVips = (r: ResolvedInstance) => [...r.vips, ...r.extraVips];
/** Accept_Mode off in effect (the owner always accepts). */
const dropsTraffic = (r: ResolvedInstance) => r.params.accept === false && r.params.priority !== 255;
/** What runs a script's timer: a change here restarts it (weight and reverse only move priorities). */
const scriptTiming = (s: ResolvedScript) => ({
  command: s.command,
  intervalMs: s.intervalMs,
  timeoutMs: s.timeoutMs,
  rise: s.rise,
  fall: s.fall,
  initFail: s.initFail,
});

function rxOf(r: ResolvedInstance): RxInstance {
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

/** Resolves and checks a whole configuration; throws VrrpError before anything is touched. */
function planOf(options: VrrpRouterOptions, warn: (m: string) => void): RouterPlan {
  const scripts = new Map<string, ResolvedScript>();
  for (const s of options.scripts ?? []) {
    const rs = resolveScript(s, options);
    if (scripts.has(rs.name))
      throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_script ${rs.name} defined twice`, { object: rs.name });
    scripts.set(rs.name, rs);
  }
  const instances: ResolvedInstance[] = [];
  const names = new Set<string>();
  for (const o of options.instances) {
    if (names.has(o.name))
      throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_instance ${o.name} defined twice`, { object: o.name });
    names.add(o.name);
    instances.push(resolveInstance(o, options, scripts, warn));
  }
  const seen = new Map<string, string>();
  for (const r of instances) {
    const key = `${r.interface}/${r.family}/${r.params.vrid}`;
    const other = seen.get(key);
    if (other && r.unicastPeers.length === 0) {
      throw new VrrpError(
        "VRRP_BAD_CONFIG",
        `vrrp_instance ${r.name}: virtual_router_id ${r.params.vrid} is already used by ${other} on ${r.interface} (IPv${r.family})`,
        { object: r.name },
      );
    }
    seen.set(key, r.name);
  }
  const groups: GroupPlan[] = [];
  const memberOf = new Map<string, string>();
  const groupNames = new Set<string>();
  for (const g of options.syncGroups ?? []) {
    if (groupNames.has(g.name))
      throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_sync_group ${g.name} defined twice`, { object: g.name });
    groupNames.add(g.name);
    if (g.members.length === 0)
      throw new VrrpError("VRRP_BAD_CONFIG", `sync group ${g.name} has no member instance`, {
        object: g.name,
      });
    for (const m of g.members) {
      if (!names.has(m))
        throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_sync_group ${g.name}: no vrrp_instance ${m}`, {
          object: g.name,
        });
      const other = memberOf.get(m);
      if (other !== undefined)
        throw new VrrpError(
          "VRRP_BAD_CONFIG",
          `instance ${m} cannot be in more than one sync group (${other}, ${g.name})`,
          { object: m },
        );
      memberOf.set(m, g.name);
    }
    const tracks: TrackRef[] = [
      ...(g.trackInterfaces ?? []).map((t) => ({
        kind: "interface" as const,
        name: t.name,
        weight: t.weight ?? 0,
        reverse: t.reverse ?? false,
      })),
      ...(g.trackScripts ?? []).map((t) => {
        const s = scripts.get(t.name);
        if (!s)
          throw new VrrpError(
            "VRRP_BAD_CONFIG",
            `vrrp_sync_group ${g.name}: track_script ${t.name} has no vrrp_script`,
            { object: g.name },
          );
        return {
          kind: "script" as const,
          name: t.name,
          weight: t.weight ?? s.weight,
          reverse: t.reverse ?? s.reverse,
        };
      }),
    ];
    groups.push({ name: g.name, members: [...g.members], ...(g.notify ? { notify: g.notify } : {}), tracks });
  }
  return { scripts, instances, groups };
}

/**
 * A VRRP router. Events: "state" (StateChange), "warning" (string), "error" (VrrpError),
 * "advert" ({instance, priority, source}) for received adverts accepted by the receive path.
 */
export class VrrpRouter extends EventEmitter {
  private opts: VrrpRouterOptions;
  private readonly clock: Clock;
  private readonly transport: VrrpTransport;
  private readonly net: NetOps;
  private readonly run: (cmd: ScriptCommand, timeoutMs: number) => Promise<ScriptOutcome>;
  private readonly notifier: Notifier;
  private readonly ownedNotifier: boolean;
  private readonly fifos: NotifyFifo[] = [];
  private readonly instances: Runtime[] = [];
  private groups: VrrpSyncGroup[] = [];
  private groupPlans = new Map<string, GroupPlan>();
  private groupTracks = new Map<string, TrackRef[]>();
  private readonly scripts = new Map<string, ScriptRuntime>();
  private readonly ifStats = new Map<string, { name: string; family: 4 | 6; stats: InterfaceStats }>();
  private links = new Map<string, LinkState>();
  private addrs: AddressState[] = [];
  private unwatch: (() => void) | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private readonly pendingSends = new Set<Promise<void>>();
  /** Channels opened, "family/ifname" (a reload closes those no instance uses any more). */
  private readonly channels = new Set<string>();
  private reloading: Promise<unknown> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private readonly ownedTransport: boolean;
  private readonly ownedNet: boolean;
  private readonly injectedAcceptFilter: AcceptFilter | undefined;
  /** no_accept masters' drop rules (nftables), only when an instance has accept off. */
  private acceptFilter: AcceptFilter | undefined;

  constructor(options: VrrpRouterOptions, deps: RouterDeps = {}) {
    super();
    this.opts = options;
    this.clock = deps.clock ?? systemClock;
    this.ownedTransport = deps.transport === undefined;
    this.ownedNet = deps.net === undefined;
    this.injectedAcceptFilter = deps.acceptFilter;
    this.run = deps.runScript ?? ((cmd, t) => runScript(cmd, t, options.netns));
    const plan = planOf(options, (m) => this.warn(m));
    this.transport =
      deps.transport ??
      new RawTransport({
        ...(options.netns !== undefined ? { netns: options.netns } : {}),
        ...(options.ipv6Receive !== undefined ? { ipv6Receive: options.ipv6Receive } : {}),
      });
    this.net = deps.net ?? new NetconfOps(options.netns);
    this.ownedNotifier = deps.notifier === undefined;
    if (deps.notifier) this.notifier = deps.notifier;
    else {
      for (const p of options.notifyFifos ?? []) this.fifos.push(new NotifyFifo(p));
      this.notifier = new Notifier({
        fifos: this.fifos,
        ...(options.netns !== undefined ? { netns: options.netns } : {}),
        onScriptError: (what, o) =>
          this.warn(
            `${what} failed: ${o.error ?? (o.timedOut ? "timed out" : o.signal ? `signal ${o.signal}` : `exit ${o.code}`)}`,
          ),
      });
    }
    this.build(plan);
  }

  /** The configuration in force (the last one given to the constructor or to reload()). */
  get options(): VrrpRouterOptions {
    return this.opts;
  }

  /** Builds everything from a plan (constructor; reload before start). */
  private build(plan: RouterPlan): void {
    for (const rs of plan.scripts.values()) this.scripts.set(rs.name, this.scriptRuntime(rs));
    for (const r of plan.instances) this.instances.push(this.runtime(r));
    this.ensureAcceptFilter();
    this.setGroupPlans(plan);
    for (const g of plan.groups) this.groups.push(this.syncGroup(g));
  }

  private scriptRuntime(s: ResolvedScript, result?: ScriptResult): ScriptRuntime {
    return {
      s,
      result: result ?? new ScriptResult(s.rise, s.fall, s.initFail),
      running: false,
      runs: 0,
      timer: undefined,
    };
  }

  private runtime(r: ResolvedInstance): Runtime {
    const rt: Runtime = {
      r,
      primary: r.sourceIp,
      ipId: 0,
      queue: Promise.resolve(),
      rx: rxOf(r),
      engine: undefined as unknown as VrrpInstanceEngine,
    };
    rt.engine = new VrrpInstanceEngine(r.params, {
      clock: this.clock,
      primaryAddress: () => rt.primary,
      onEffect: (e) => this.onEffect(rt, e),
    });
    return rt;
  }

  private ensureAcceptFilter(): void {
    if (!this.acceptFilter && this.instances.some((rt) => rt.engine.params.accept === false)) {
      this.acceptFilter = this.injectedAcceptFilter ?? new AcceptFilter(this.opts.netns);
    }
  }

  private setGroupPlans(plan: RouterPlan): void {
    this.groupPlans = new Map(plan.groups.map((g) => [g.name, g]));
    this.groupTracks = new Map();
    for (const g of plan.groups) for (const m of g.members) this.groupTracks.set(m, g.tracks);
  }

  private syncGroup(g: GroupPlan): VrrpSyncGroup {
    const members = g.members.map((m) => {
      const rt = this.instances.find((i) => i.r.name === m);
      if (!rt)
        throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_sync_group ${g.name}: no vrrp_instance ${m}`, {
          object: g.name,
        });
      return rt.engine;
    });
    return new VrrpSyncGroup(g.name, members, (e) => this.onGroupEffect(e));
  }

  private warn(msg: string): void {
    if (this.listenerCount("warning") > 0) this.emit("warning", msg);
  }

  private fail(err: VrrpError): void {
    if (this.listenerCount("error") > 0) this.emit("error", err);
  }

  // ---- lifecycle ----

  /** Opens sockets, learns links and addresses, removes stale VIPs, starts the instances. */
  start(): Promise<void> {
    if (!this.starting) this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.started = true;
    this.transport.onPacket((ifname, pkt) => this.onPacket(ifname, pkt));
    this.transport.onError((ifname, family, err) => {
      this.fail(err);
      // reopen on the next refresh
      this.openChannels();
      void ifname;
      void family;
    });
    this.unwatch = await this.net.watch(
      () => this.scheduleRefresh(),
      (err) =>
        this.fail(
          err instanceof VrrpError ? err : new VrrpError("VRRP_NETCONF", err.message, {}, { cause: err }),
        ),
    );
    await this.refresh();
    // keepalived remove_residual_vips(): addresses of ours left by a previous run go first
    await this.removeResidualVips();
    this.openChannels();
    for (const rt of this.instances) rt.engine.setTracking(this.trackingOf(rt));
    for (const s of this.scripts.values()) this.scheduleScript(s, 0);
    const grouped = new Set(this.groups.flatMap((g) => g.members));
    for (const g of this.groups) g.start();
    for (const rt of this.instances) if (!grouped.has(rt.engine)) rt.engine.start();
  }

  /**
   * Clean stop (keepalived on SIGTERM): masters send a priority-0 advert and remove their
   * addresses, every instance and group reports STOP, sockets close.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.scripts.values()) if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    const grouped = new Set(this.groups.flatMap((g) => g.members));
    for (const rt of this.instances) if (!grouped.has(rt.engine)) rt.engine.stop();
    for (const g of this.groups) g.stop();
    await Promise.allSettled(this.instances.map((rt) => rt.queue));
    await Promise.allSettled([...this.pendingSends]);
    await this.notifier.drain();
    await this.acceptFilter?.close();
    this.unwatch?.();
    // A refresh started before the stop must finish before its netlink client closes.
    await this.refreshing?.catch(() => {});
    if (this.ownedTransport) this.transport.shutdown();
    if (this.ownedNet) this.net.close();
    for (const f of this.fifos) f.close();
  }

  // ---- reload ----

  /**
   * Applies a new configuration in place, as keepalived does on SIGHUP (vrrp_daemon.c
   * reload_vrrp_thread(), vrrp.c clear_diff_vrrp()): the whole configuration is resolved and
   * checked first (a VrrpError changes nothing); then an instance found again — same VRID,
   * family, interface and multicast/unicast source, keepalived's vrrp_exist() — keeps running:
   * untouched when its settings are the same, otherwise updated in place in its current state
   * (removed VIPs leave the host, added ones arrive and are announced, a MASTER advertises the
   * new priority at once); an instance not found again stops (priority 0 if MASTER, VIPs
   * removed, notified as FAULT as keepalived does); a new one starts as at startup. vrrp_scripts
   * keep their timers and rise/fall state when unchanged and carry it over when changed; sync
   * groups whose members and settings are the same are kept. Reloads are serialised.
   */
  reload(options: VrrpRouterOptions): Promise<ReloadSummary> {
    const next = this.reloading.then(() => this.doReload(options));
    this.reloading = next.catch(() => {});
    return next;
  }

  private async doReload(options: VrrpRouterOptions): Promise<ReloadSummary> {
    await this.starting?.catch(() => {});
    if (this.stopped)
      throw new VrrpError("VRRP_STOPPED", "the router is stopped; a reload needs a running router", {});
    for (const k of ["netns", "ipv6Receive"] as const) {
      if (options[k] !== this.opts[k])
        throw new VrrpError(
          "VRRP_BAD_CONFIG",
          `${k} cannot change on a reload (${this.opts[k] ?? "default"} → ${options[k] ?? "default"}); restart the router`,
          { object: k },
        );
    }
    const plan = planOf(options, (m) => this.warn(m));
    const summary: ReloadSummary = {
      instances: { unchanged: [], updated: [], added: [], removed: [] },
      groups: { unchanged: [], rebuilt: [], added: [], removed: [] },
      scripts: { unchanged: [], updated: [], added: [], removed: [] },
    };
    this.updateFifos(options);
    this.opts = options;
    if (!this.started) {
      // nothing runs yet: take the new configuration as the constructor would
      for (const g of this.groups) g.detach();
      this.groups = [];
      summary.instances.removed = this.instances.map((rt) => rt.r.name);
      summary.scripts.removed = [...this.scripts.keys()];
      this.instances.length = 0;
      this.scripts.clear();
      this.build(plan);
      summary.instances.added = plan.instances.map((r) => r.name);
      summary.scripts.added = [...plan.scripts.keys()];
      summary.groups.added = plan.groups.map((g) => g.name);
      return summary;
    }

    // 1. match instances as keepalived's vrrp_exist(): VRID, family, interface, unicast or not
    //    (and then the same source address); a same-named candidate first
    const newOurs = this.ours(plan.instances);
    const identity = (r: ResolvedInstance, source: string | undefined) =>
      `${r.interface}|${r.family}|${r.params.vrid}|${r.unicastPeers.length > 0 ? `unicast ${source ?? ""}` : "multicast"}`;
    const matchOf = new Map<Runtime, ResolvedInstance>();
    const taken = new Set<ResolvedInstance>();
    const newIds = new Map(
      plan.instances.map((r) => [
        r,
        identity(r, r.sourceIp ?? this.pickPrimary(r.interface, r.family, newOurs)),
      ]),
    );
    for (const rt of this.instances) {
      const id = identity(rt.r, rt.primary);
      const cands = plan.instances.filter((r) => !taken.has(r) && newIds.get(r) === id);
      const pick = cands.find((r) => r.name === rt.r.name) ?? cands[0];
      if (pick) {
        matchOf.set(rt, pick);
        taken.add(pick);
      }
    }
    const removed = this.instances.filter((rt) => !matchOf.has(rt));
    const added = plan.instances.filter((r) => !taken.has(r));
    const newGroupTracks = new Map<string, TrackRef[]>();
    for (const g of plan.groups) for (const m of g.members) newGroupTracks.set(m, g.tracks);
    const changed = new Set<Runtime>();
    for (const [rt, r] of matchOf) {
      const same =
        isDeepStrictEqual(rt.r, r) &&
        isDeepStrictEqual(this.groupTracks.get(rt.r.name) ?? [], newGroupTracks.get(r.name) ?? []);
      if (!same) changed.add(rt);
      (same ? summary.instances.unchanged : summary.instances.updated).push(r.name);
    }
    summary.instances.added = added.map((r) => r.name);
    summary.instances.removed = removed.map((rt) => rt.r.name);

    // 2. sync groups: kept when the same engines, notify scripts and tracking
    const engineOf = new Map<string, VrrpInstanceEngine>();
    for (const [rt, r] of matchOf) engineOf.set(r.name, rt.engine);
    const oldGroups = new Map(this.groups.map((g) => [g.name, g]));
    const keptGroups: VrrpSyncGroup[] = [];
    const newGroupPlans: GroupPlan[] = [];
    const previousState = new Map<string, VrrpState>();
    for (const g of plan.groups) {
      const old = oldGroups.get(g.name);
      const oldPlan = this.groupPlans.get(g.name);
      const same =
        old !== undefined &&
        oldPlan !== undefined &&
        old.members.length === g.members.length &&
        g.members.every((m, i) => engineOf.get(m) === old.members[i]) &&
        isDeepStrictEqual(oldPlan.notify, g.notify) &&
        isDeepStrictEqual(oldPlan.tracks, g.tracks);
      if (same) {
        keptGroups.push(old);
        oldGroups.delete(g.name);
        summary.groups.unchanged.push(g.name);
      } else {
        newGroupPlans.push(g);
        if (old) previousState.set(g.name, old.state);
        (old ? summary.groups.rebuilt : summary.groups.added).push(g.name);
      }
    }
    summary.groups.removed = [...oldGroups.keys()].filter((n) => !plan.groups.some((g) => g.name === n));
    // groups rebuilt or removed release their members before anything moves
    for (const g of oldGroups.values()) g.detach();
    this.groups = keptGroups;

    // 3. removed instances stop: priority 0 if MASTER, addresses removed, notified
    const removals: Promise<void>[] = [];
    for (const rt of removed) {
      rt.removed = true;
      rt.engine.stop();
      removals.push(rt.queue);
    }
    for (const rt of removed) this.instances.splice(this.instances.indexOf(rt), 1);

    // 4. vrrp_scripts (keepalived clear_diff_script())
    const rerun: ScriptRuntime[] = [];
    for (const [name, old] of [...this.scripts]) {
      const s = plan.scripts.get(name);
      if (s && isDeepStrictEqual(old.s, s)) {
        summary.scripts.unchanged.push(name);
        continue;
      }
      if (s && isDeepStrictEqual(scriptTiming(old.s), scriptTiming(s))) {
        old.s = s; // only weight / reverse: the same timer and counter
        summary.scripts.updated.push(name);
        continue;
      }
      old.retired = true;
      if (old.timer !== undefined) this.clock.clearTimeout(old.timer);
      old.timer = undefined;
      this.scripts.delete(name);
      if (s) {
        const rs = this.scriptRuntime(s, ScriptResult.reloaded(old.result, s.rise, s.fall, s.initFail));
        rs.runs = old.runs;
        this.scripts.set(name, rs);
        rerun.push(rs);
        summary.scripts.updated.push(name);
      } else summary.scripts.removed.push(name);
    }
    for (const [name, s] of plan.scripts) {
      if (this.scripts.has(name)) continue;
      const rs = this.scriptRuntime(s);
      this.scripts.set(name, rs);
      rerun.push(rs);
      summary.scripts.added.push(name);
    }

    // 5. instances found again
    this.setGroupPlans(plan);
    for (const [rt, r] of matchOf) {
      if (!changed.has(rt)) {
        rt.r = r;
        continue;
      }
      this.updateInstance(rt, r);
    }

    // 6. new instances, once the removed ones' addresses are gone (a VIP may move between them)
    await Promise.allSettled(removals);
    await Promise.allSettled([...this.pendingSends]);
    if (this.stopped) return summary;
    const fresh = added.map((r) => this.runtime(r));
    this.instances.push(...fresh);
    this.ensureAcceptFilter();
    this.updateAddressing();
    this.openChannels();
    this.closeUnusedChannels();
    for (const rt of fresh) rt.engine.setTracking(this.trackingOf(rt));
    for (const g of newGroupPlans) {
      const group = this.syncGroup(g);
      this.groups.push(group);
      group.resume(previousState.get(g.name));
    }
    const grouped = new Set(this.groups.flatMap((g) => g.members));
    for (const rt of fresh) if (!grouped.has(rt.engine)) rt.engine.start();
    // group tracking may have moved for members kept untouched; a no-op otherwise
    for (const rt of this.instances) if (!fresh.includes(rt)) rt.engine.setTracking(this.trackingOf(rt));
    for (const s of rerun) this.scheduleScript(s, 0);
    if (options.fifoWriteStatesOnReload) {
      // keepalived fifo_write_vrrp_states_on_reload: the states that did not change, on the FIFO
      for (const g of this.groups)
        if (!newGroupPlans.some((p) => p.name === g.name)) this.notifier.fifo("GROUP", g.name, g.state, 0);
      for (const rt of this.instances)
        if (!fresh.includes(rt))
          this.notifier.fifo("INSTANCE", rt.r.name, rt.engine.state, rt.engine.effectivePriority);
    }
    return summary;
  }

  /**
   * One instance found again with new settings (keepalived clear_diff_vrrp_vip() and
   * restore_vrrp_state()): while its addresses are up, those no longer configured go, new ones
   * are added and announced (one round of garp_master_repeat), the no_accept rules follow; the
   * engine takes the new parameters in its current state.
   */
  private updateInstance(rt: Runtime, r: ResolvedInstance): void {
    const old = rt.r;
    const up = rt.engine.addressesSet;
    const newKeys = new Set(allVips(r).map(vipKey));
    const oldKeys = new Set(allVips(old).map(vipKey));
    const gone = allVips(old).filter((v) => !newKeys.has(vipKey(v)));
    const fresh = allVips(r).filter((v) => !oldKeys.has(vipKey(v)));
    if (up && gone.length > 0)
      this.enqueue(rt, "remove addresses", async () => {
        await Promise.all(gone.map((v) => this.net.removeAddress(v)));
      });
    rt.r = r;
    rt.rx = { ...rxOf(r), ...(rt.rx.localAddresses ? { localAddresses: rt.rx.localAddresses } : {}) };
    if (r.sourceIp) rt.primary = r.sourceIp;
    else if (old.sourceIp) rt.primary = this.pickPrimary(r.interface, r.family, this.ours());
    if (up) {
      const dropsNow = dropsTraffic(r);
      const droppedBefore = dropsTraffic(old);
      if (dropsNow) this.ensureAcceptFilterFor(r);
      const filter = this.acceptFilter;
      this.enqueue(rt, "add addresses", async () => {
        if (filter && droppedBefore && (!dropsNow || old.name !== r.name))
          await filter.set(old.name, undefined);
        // no_accept: the drop rules go in before the addresses, as at a takeover
        if (filter && dropsNow)
          await filter.set(
            r.name,
            allVips(r).map((v) => v.address),
          );
        await Promise.all(fresh.map((v) => this.net.addAddress(v)));
      });
    }
    rt.engine.reconfigure(r.params, this.trackingOf(rt));
    if (up && fresh.length > 0 && rt.engine.state === "master") {
      this.announce(rt, fresh, rt.engine.params.garpMasterRepeat);
    }
  }

  private ensureAcceptFilterFor(r: ResolvedInstance): void {
    if (!this.acceptFilter && dropsTraffic(r))
      this.acceptFilter = this.injectedAcceptFilter ?? new AcceptFilter(this.opts.netns);
  }

  /** Reopens the notify FIFOs when their list changes (keepalived closes and reopens them on reload). */
  private updateFifos(options: VrrpRouterOptions): void {
    if (!this.ownedNotifier) return;
    const want = options.notifyFifos ?? [];
    const opened: NotifyFifo[] = [];
    try {
      for (const p of want) if (!this.fifos.some((f) => f.path === p)) opened.push(new NotifyFifo(p));
    } catch (err) {
      for (const f of opened) f.close();
      throw err;
    }
    for (let i = this.fifos.length - 1; i >= 0; i--) {
      const f = this.fifos[i] as NotifyFifo;
      if (!want.includes(f.path)) {
        f.close();
        this.fifos.splice(i, 1);
      }
    }
    this.fifos.push(...opened);
  }

  // ---- links, addresses, tracking ----

  private scheduleRefresh(): void {
    if (this.stopped) return; // stop() removes our VIPs: their events need no answer
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.refresh()
      .catch((err) =>
        this.fail(
          err instanceof VrrpError ? err : new VrrpError("VRRP_NETCONF", String(err), {}, { cause: err }),
        ),
      )
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain && !this.stopped) {
          this.refreshAgain = false;
          this.scheduleRefresh();
        }
      });
  }

  private async refresh(): Promise<void> {
    const [links, addrs] = await Promise.all([this.net.links(), this.net.addresses()]);
    const before = this.links;
    this.links = new Map(links.map((l) => [l.name, l]));
    // an interface deleted and created again has a new index: its sockets are bound to the old one
    for (const [name, old] of before) {
      const now = this.links.get(name);
      if (!now || now.index !== old.index) {
        this.transport.close(name, 4);
        this.transport.close(name, 6);
      }
    }
    this.addrs = addrs;
    this.updateAddressing();
    if (this.started && !this.stopped) {
      this.openChannels();
      for (const rt of this.instances) rt.engine.setTracking(this.trackingOf(rt));
    }
  }

  /** Our VIPs (never a source address). */
  private ours(instances: readonly ResolvedInstance[] = this.instances.map((rt) => rt.r)): Set<string> {
    return new Set(instances.flatMap((r) => allVips(r).map((v) => v.address)));
  }

  /** Each instance's source address and local addresses, from the interface addresses last read. */
  private updateAddressing(): void {
    const ours = this.ours();
    for (const rt of this.instances) {
      if (rt.r.sourceIp) rt.primary = rt.r.sourceIp;
      else rt.primary = this.pickPrimary(rt.r.interface, rt.r.family, ours);
      rt.rx = {
        ...rt.rx,
        localAddresses: this.addrs
          .filter((a) => a.dev === rt.r.interface && a.family === rt.r.family)
          .map((a) => a.address),
      };
    }
  }

  /** keepalived's interface address: IPv4 the first primary address, IPv6 the first usable link-local. */
  private pickPrimary(dev: string, family: 4 | 6, exclude: ReadonlySet<string>): string | undefined {
    const cands = this.addrs.filter(
      (a) =>
        a.dev === dev &&
        a.family === family &&
        !exclude.has(a.address) &&
        (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0,
    );
    if (family === 4) return (cands.find((a) => (a.flags & IFA_F_SECONDARY) === 0) ?? cands[0])?.address;
    return cands.find((a) => a.scope === RT_SCOPE_LINK && isLinkLocal6(a.address))?.address;
  }

  private openChannels(): void {
    const want = new Map<string, { ifname: string; family: 4 | 6; multicast: boolean }>();
    for (const { r } of this.instances) {
      const k = `${r.family}/${r.interface}`;
      const w = want.get(k) ?? { ifname: r.interface, family: r.family, multicast: false };
      if (r.unicastPeers.length === 0) w.multicast = true;
      want.set(k, w);
    }
    for (const [k, w] of want) {
      if (!this.links.has(w.ifname)) continue;
      if (!this.ifStats.has(k))
        this.ifStats.set(k, { name: w.ifname, family: w.family, stats: emptyInterfaceStats() });
      try {
        this.transport.open(w.ifname, w.family, { multicast: w.multicast });
        this.channels.add(k);
      } catch (err) {
        this.fail(
          err instanceof VrrpError
            ? err
            : new VrrpError("VRRP_SOCKET", String(err), { object: w.ifname }, { cause: err }),
        );
      }
    }
  }

  /** Closes the channels no instance uses any more (after a reload). */
  private closeUnusedChannels(): void {
    const want = new Set(this.instances.map(({ r }) => `${r.family}/${r.interface}`));
    for (const k of [...this.channels]) {
      if (want.has(k)) continue;
      const slash = k.indexOf("/");
      this.transport.close(k.slice(slash + 1), Number(k.slice(0, slash)) as 4 | 6);
      this.channels.delete(k);
    }
  }

  private trackState(rt: Runtime, ref: TrackRef): TrackState {
    if (ref.kind === "script") return this.scripts.get(ref.name)?.result.state ?? "down";
    const up = this.links.get(ref.name)?.up === true;
    // the instance's own interface also needs an address to send from
    if (ref.name === rt.r.interface && ref.weight === 0 && rt.primary === undefined) return "down";
    return up ? "up" : "down";
  }

  private trackingOf(rt: Runtime): TrackingStatus {
    const refs = [...rt.r.tracks, ...(this.groupTracks.get(rt.r.name) ?? [])];
    return aggregateTracking(refs, (ref) => this.trackState(rt, ref));
  }

  private scheduleScript(s: ScriptRuntime, delayMs: number): void {
    if (this.stopped || s.retired) return;
    s.timer = this.clock.setTimeout(() => {
      s.timer = undefined;
      this.scheduleScript(s, s.s.intervalMs);
      // keepalived: "Track script %s is already running, expect idle - skipping run"
      if (s.running) return;
      s.running = true;
      void this.run(s.s.command, s.s.timeoutMs).then((o) => {
        s.running = false;
        s.runs++;
        if (this.stopped || s.retired) return;
        if (s.result.update(o.ok) !== undefined) {
          for (const rt of this.instances) rt.engine.setTracking(this.trackingOf(rt));
        }
      });
    }, delayMs);
  }

  private async removeResidualVips(): Promise<void> {
    const present = new Set(this.addrs.map((a) => `${a.dev}/${a.address}`));
    for (const rt of this.instances) {
      for (const v of [...rt.r.vips, ...rt.r.extraVips]) {
        if (!present.has(`${v.dev}/${v.address}`)) continue;
        try {
          await this.net.removeAddress(v);
        } catch (err) {
          this.fail(
            new VrrpError(
              "VRRP_NETCONF",
              `cannot remove stale ${v.address} from ${v.dev}`,
              { object: v.address },
              { cause: err },
            ),
          );
        }
      }
    }
  }

  // ---- packets ----

  private onPacket(ifname: string, pkt: IpPacket): void {
    const k = `${pkt.family}/${ifname}`;
    let ifs = this.ifStats.get(k);
    if (!ifs) {
      ifs = { name: ifname, family: pkt.family, stats: emptyInterfaceStats() };
      this.ifStats.set(k, ifs);
    }
    ifs.stats.received++;
    const vrid = peekVrid(pkt.payload);
    if (vrid === undefined || !pkt.source) {
      ifs.stats.malformed++;
      return;
    }
    const rt = this.instances.find(
      (i) => i.r.interface === ifname && i.r.family === pkt.family && i.r.params.vrid === vrid,
    );
    if (!rt) {
      ifs.stats.vrid_err++;
      return;
    }
    const state = rt.engine.state;
    if (state !== "backup" && state !== "master") {
      ifs.stats.ignored++;
      return;
    }
    // our own advert looped back (a second socket on the link): not an advert from a peer
    if (rt.primary !== undefined && pkt.source === rt.primary) return;
    const lastMaster = rt.engine.status().master?.address;
    const rx: RxInstance =
      rt.r.skipCheckAdvAddr && state === "backup" && lastMaster === pkt.source
        ? { ...rt.rx, skipAddressCheck: true }
        : rt.rx;
    const res = checkAdvert(pkt, rx);
    if (countedAsReceived(res)) rt.engine.stats.advert_rcvd++;
    if (!res.ok) {
      if (res.counter) rt.engine.stats[res.counter]++;
      else if (res.interfaceCounter === "malformed") ifs.stats.malformed++;
      return;
    }
    this.emit("advert", { instance: rt.r.name, priority: res.advert.priority, source: res.source });
    rt.engine.receive({
      priority: res.advert.priority,
      intervalCs: res.advert.intervalCs,
      source: res.source,
    });
  }

  // ---- effects ----

  private enqueue(rt: Runtime, what: string, fn: () => Promise<unknown>): void {
    rt.queue = rt.queue.then(fn).then(
      () => {},
      (err) =>
        this.fail(
          new VrrpError(
            "VRRP_NETCONF",
            `${rt.r.name}: ${what}: ${(err as Error).message}`,
            { object: rt.r.name },
            { cause: err },
          ),
        ),
    );
  }

  private sendAdvert(rt: Runtime, priority: number): void {
    const r = rt.r;
    const source = rt.primary;
    if (source === undefined) {
      this.warn(
        `${r.name}: no ${r.family === 4 ? "IPv4" : "link-local IPv6"} address on ${r.interface} to send from`,
      );
      return;
    }
    rt.ipId = (rt.ipId + 1) & 0xffff;
    if (rt.ipId === 0) rt.ipId = 1; // keepalived: the kernel would fill in an id of 0
    const dests =
      r.unicastPeers.length > 0 ? r.unicastPeers : [r.family === 4 ? VRRP_IPV4_GROUP : VRRP_IPV6_GROUP];
    for (const destination of dests) {
      let payload: Uint8Array;
      try {
        payload = encodeAdvert(
          {
            version: r.params.version,
            vrid: r.params.vrid,
            priority,
            addresses: r.vips.map((v) => v.address),
            intervalCs: r.params.intervalCs,
            ...(r.params.version === 2 && r.family === 4
              ? { authType: r.authType, ...(r.authData ? { authData: r.authData } : {}) }
              : {}),
          },
          { family: r.family, source, destination, v3Ipv4Checksum: r.v3Ipv4Checksum },
        );
      } catch (err) {
        this.fail(err as VrrpError);
        return;
      }
      const p = new Promise<void>((resolve) => {
        this.transport.send(r.interface, r.family, { source, destination, payload, id: rt.ipId }, (err) => {
          if (err && !(priority === 0 && this.stopped)) {
            this.fail(
              new VrrpError(
                "VRRP_SOCKET",
                `${r.name}: send advert to ${destination}: ${err.message}`,
                { object: r.name },
                { cause: err },
              ),
            );
          }
          resolve();
        });
      });
      this.pendingSends.add(p);
      void p.then(() => this.pendingSends.delete(p));
    }
  }

  /** GARP / unsolicited NA for `vips`, per interface, while the instance is MASTER. */
  private announce(rt: Runtime, vips: readonly ResolvedVip[], repeat: number): void {
    const byDev = new Map<string, string[]>();
    for (const v of vips) byDev.set(v.dev, [...(byDev.get(v.dev) ?? []), v.address]);
    this.enqueue(rt, "announce", async () => {
      if (rt.engine.state !== "master") return;
      await Promise.all(
        [...byDev].map(([dev, addresses]) => {
          const mac = this.links.get(dev)?.mac;
          return this.net.announce(dev, addresses, {
            count: repeat,
            ...(rt.r.garpIntervalMs ? { intervalMs: rt.r.garpIntervalMs } : {}),
            ...(mac ? { mac } : {}),
          });
        }),
      );
    });
  }

  private onEffect(rt: Runtime, e: InstanceEffect): void {
    const r = rt.r;
    switch (e.type) {
      case "send":
        this.sendAdvert(rt, e.priority);
        return;
      case "add-addresses":
        this.enqueue(rt, "add addresses", async () => {
          // no_accept: the drop rules go in before the addresses, so nothing is accepted in between
          if (this.acceptFilter && !rt.engine.params.accept) {
            await this.acceptFilter.set(
              r.name,
              [...r.vips, ...r.extraVips].map((v) => v.address),
            );
          }
          await Promise.all([...rt.r.vips, ...rt.r.extraVips].map((v) => this.net.addAddress(v)));
        });
        return;
      case "remove-addresses":
        this.enqueue(rt, "remove addresses", async () => {
          await Promise.all([...rt.r.vips, ...rt.r.extraVips].map((v) => this.net.removeAddress(v)));
          if (this.acceptFilter && !rt.engine.params.accept) await this.acceptFilter.set(r.name, undefined);
        });
        return;
      case "announce":
        this.announce(rt, allVips(r), e.repeat);
        return;
      case "state": {
        const change: StateChange = {
          kind: "INSTANCE",
          name: r.name,
          from: e.from,
          to: e.to,
          priority: e.priority,
          reason: rt.removed ? "removed by reload" : e.reason,
          at: this.clock.now(),
        };
        this.emit("state", change);
        // keepalived clear_diff_vrrp(): an instance deleted by a reload is notified as FAULT
        // (DELETED with `notify_deleted`, which lvs does not take), and not at all if it was in FAULT
        const word = rt.removed ? (e.from === "fault" ? undefined : "fault") : e.to;
        if (e.notify && word)
          this.enqueue(rt, "notify", async () =>
            this.notifier.state("INSTANCE", r.name, word, e.priority, r.notify),
          );
        return;
      }
      case "priority":
        if (e.notify)
          this.notifier.event(r.name, e.state === "master" ? "MASTER_PRIORITY" : "BACKUP_PRIORITY", e.to);
        return;
      case "master-rx-lower-priority":
        this.notifier.event(
          r.name,
          "MASTER_RX_LOWER_PRI",
          rt.engine.effectivePriority,
          r.notify?.masterRxLowerPri,
        );
        return;
    }
  }

  private onGroupEffect(e: GroupEffect): void {
    this.emit("state", {
      kind: "GROUP",
      name: e.group,
      from: e.from,
      to: e.to,
      priority: 0,
      reason: "sync group",
      at: this.clock.now(),
    });
    this.notifier.state("GROUP", e.group, e.to, 0, this.groupPlans.get(e.group)?.notify);
  }

  // ---- status ----

  status(): RouterStatus {
    return {
      instances: this.instances.map((rt) => ({
        ...rt.engine.status(),
        interface: rt.r.interface,
        family: rt.r.family,
        version: rt.r.params.version,
        ...(rt.primary !== undefined ? { primaryAddress: rt.primary } : {}),
        addresses: rt.r.vips.map((v) => `${v.address}/${v.prefixLength}`),
        unicastPeers: rt.r.unicastPeers,
      })),
      groups: this.groups.map((g) => ({
        name: g.name,
        state: g.state,
        members: g.members.map((m) => m.name),
      })),
      interfaces: [...this.ifStats.values()].map((i) => ({ ...i, stats: { ...i.stats } })),
      scripts: [...this.scripts.values()].map((s) => ({
        name: s.s.name,
        state: s.result.state,
        runs: s.runs,
      })),
    };
  }

  /** The engine of one instance (tests, diagnostics). */
  instance(name: string): VrrpInstanceEngine | undefined {
    return this.instances.find((i) => i.r.name === name)?.engine;
  }
}
