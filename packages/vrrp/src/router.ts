/**
 * VrrpRouter: what `keepalived --vrrp` does — the engines of every vrrp_instance and
 * vrrp_sync_group, fed by the receive path and tracking, their effects carried out through the
 * transport (adverts), @lvs/netconf (addresses, GARP/NA, link events), scripts and notifies.
 * Time and every I/O dependency are injectable (`RouterDeps`).
 */
import { EventEmitter } from "node:events";
import { AcceptFilter } from "./accept.js";
import { isLinkLocal6 } from "./addr.js";
import { type Clock, systemClock } from "./clock.js";
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

interface Runtime {
  r: ResolvedInstance;
  engine: VrrpInstanceEngine;
  primary: string | undefined;
  ipId: number;
  queue: Promise<void>;
  rx: RxInstance;
}

interface ScriptRuntime {
  s: ResolvedScript;
  result: ScriptResult;
  running: boolean;
  runs: number;
  timer: unknown;
}

/**
 * A VRRP router. Events: "state" (StateChange), "warning" (string), "error" (VrrpError),
 * "advert" ({instance, priority, source}) for received adverts accepted by the receive path.
 */
export class VrrpRouter extends EventEmitter {
  readonly options: VrrpRouterOptions;
  private readonly clock: Clock;
  private readonly transport: VrrpTransport;
  private readonly net: NetOps;
  private readonly run: (cmd: ScriptCommand, timeoutMs: number) => Promise<ScriptOutcome>;
  private readonly notifier: Notifier;
  private readonly fifos: NotifyFifo[] = [];
  private readonly instances: Runtime[] = [];
  private readonly groups: VrrpSyncGroup[] = [];
  private readonly groupNotify = new Map<string, NotifyScripts | undefined>();
  private readonly groupTracks = new Map<string, TrackRef[]>();
  private readonly scripts = new Map<string, ScriptRuntime>();
  private readonly ifStats = new Map<string, { name: string; family: 4 | 6; stats: InterfaceStats }>();
  private links = new Map<string, LinkState>();
  private addrs: AddressState[] = [];
  private unwatch: (() => void) | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private readonly pendingSends = new Set<Promise<void>>();
  private started = false;
  private stopped = false;
  private readonly ownedTransport: boolean;
  private readonly ownedNet: boolean;
  /** no_accept masters' drop rules (nftables), only when an instance has accept off. */
  private acceptFilter: AcceptFilter | undefined;

  constructor(options: VrrpRouterOptions, deps: RouterDeps = {}) {
    super();
    this.options = options;
    this.clock = deps.clock ?? systemClock;
    this.ownedTransport = deps.transport === undefined;
    this.ownedNet = deps.net === undefined;
    this.transport =
      deps.transport ??
      new RawTransport({
        ...(options.netns !== undefined ? { netns: options.netns } : {}),
        ...(options.ipv6Receive !== undefined ? { ipv6Receive: options.ipv6Receive } : {}),
      });
    this.net = deps.net ?? new NetconfOps(options.netns);
    this.run = deps.runScript ?? ((cmd, t) => runScript(cmd, t, options.netns));
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
    const warn = (m: string) => this.warn(m);
    for (const s of options.scripts ?? []) {
      const rs = resolveScript(s, options);
      if (this.scripts.has(rs.name))
        throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_script ${rs.name} defined twice`, { object: rs.name });
      this.scripts.set(rs.name, {
        s: rs,
        result: new ScriptResult(rs.rise, rs.fall, rs.initFail),
        running: false,
        runs: 0,
        timer: undefined,
      });
    }
    const scriptDefs = new Map([...this.scripts].map(([k, v]) => [k, v.s]));
    const names = new Set<string>();
    for (const o of options.instances) {
      if (names.has(o.name))
        throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_instance ${o.name} defined twice`, { object: o.name });
      names.add(o.name);
      const r = resolveInstance(o, options, scriptDefs, warn);
      const rt: Runtime = {
        r,
        primary: r.sourceIp,
        ipId: 0,
        queue: Promise.resolve(),
        rx: {
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
        },
        engine: undefined as unknown as VrrpInstanceEngine,
      };
      rt.engine = new VrrpInstanceEngine(r.params, {
        clock: this.clock,
        primaryAddress: () => rt.primary,
        onEffect: (e) => this.onEffect(rt, e),
      });
      this.instances.push(rt);
    }
    this.checkVridConflicts();
    if (this.instances.some((rt) => rt.engine.params.accept === false)) {
      this.acceptFilter = deps.acceptFilter ?? new AcceptFilter(options.netns);
    }
    for (const g of options.syncGroups ?? []) {
      const members = g.members.map((m) => {
        const rt = this.instances.find((i) => i.r.name === m);
        if (!rt)
          throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_sync_group ${g.name}: no vrrp_instance ${m}`, {
            object: g.name,
          });
        return rt.engine;
      });
      this.groups.push(new VrrpSyncGroup(g.name, members, (e) => this.onGroupEffect(e)));
      this.groupNotify.set(g.name, g.notify);
      const tracks: TrackRef[] = [
        ...(g.trackInterfaces ?? []).map((t) => ({
          kind: "interface" as const,
          name: t.name,
          weight: t.weight ?? 0,
          reverse: t.reverse ?? false,
        })),
        ...(g.trackScripts ?? []).map((t) => {
          const s = this.scripts.get(t.name);
          if (!s)
            throw new VrrpError(
              "VRRP_BAD_CONFIG",
              `vrrp_sync_group ${g.name}: track_script ${t.name} has no vrrp_script`,
              { object: g.name },
            );
          return {
            kind: "script" as const,
            name: t.name,
            weight: t.weight ?? s.s.weight,
            reverse: t.reverse ?? s.s.reverse,
          };
        }),
      ];
      for (const m of g.members) this.groupTracks.set(m, tracks);
    }
  }

  private checkVridConflicts(): void {
    const seen = new Map<string, string>();
    for (const { r } of this.instances) {
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
  }

  private warn(msg: string): void {
    if (this.listenerCount("warning") > 0) this.emit("warning", msg);
  }

  private fail(err: VrrpError): void {
    if (this.listenerCount("error") > 0) this.emit("error", err);
  }

  // ---- lifecycle ----

  /** Opens sockets, learns links and addresses, removes stale VIPs, starts the instances. */
  async start(): Promise<void> {
    if (this.started) return;
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
    if (this.ownedTransport) this.transport.shutdown();
    if (this.ownedNet) this.net.close();
    for (const f of this.fifos) f.close();
  }

  // ---- links, addresses, tracking ----

  private scheduleRefresh(): void {
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
    const ours = new Set(
      this.instances.flatMap((rt) => [...rt.r.vips, ...rt.r.extraVips].map((v) => v.address)),
    );
    for (const rt of this.instances) {
      if (rt.r.sourceIp) rt.primary = rt.r.sourceIp;
      else rt.primary = this.pickPrimary(rt.r.interface, rt.r.family, ours);
      rt.rx = {
        ...rt.rx,
        localAddresses: addrs
          .filter((a) => a.dev === rt.r.interface && a.family === rt.r.family)
          .map((a) => a.address),
      };
    }
    if (this.started && !this.stopped) {
      this.openChannels();
      for (const rt of this.instances) rt.engine.setTracking(this.trackingOf(rt));
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
      } catch (err) {
        this.fail(
          err instanceof VrrpError
            ? err
            : new VrrpError("VRRP_SOCKET", String(err), { object: w.ifname }, { cause: err }),
        );
      }
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
    if (this.stopped) return;
    s.timer = this.clock.setTimeout(() => {
      s.timer = undefined;
      this.scheduleScript(s, s.s.intervalMs);
      // keepalived: "Track script %s is already running, expect idle - skipping run"
      if (s.running) return;
      s.running = true;
      void this.run(s.s.command, s.s.timeoutMs).then((o) => {
        s.running = false;
        s.runs++;
        if (this.stopped) return;
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

  private vipsByDev(rt: Runtime): Map<string, ResolvedVip[]> {
    const m = new Map<string, ResolvedVip[]>();
    for (const v of [...rt.r.vips, ...rt.r.extraVips]) m.set(v.dev, [...(m.get(v.dev) ?? []), v]);
    return m;
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
        this.enqueue(rt, "announce", async () => {
          if (rt.engine.state !== "master") return;
          await Promise.all(
            [...this.vipsByDev(rt)].map(([dev, vs]) => {
              const mac = this.links.get(dev)?.mac;
              return this.net.announce(
                dev,
                vs.map((v) => v.address),
                {
                  count: e.repeat,
                  ...(r.garpIntervalMs ? { intervalMs: r.garpIntervalMs } : {}),
                  ...(mac ? { mac } : {}),
                },
              );
            }),
          );
        });
        return;
      case "state": {
        const change: StateChange = {
          kind: "INSTANCE",
          name: r.name,
          from: e.from,
          to: e.to,
          priority: e.priority,
          reason: e.reason,
          at: this.clock.now(),
        };
        this.emit("state", change);
        if (e.notify)
          this.enqueue(rt, "notify", async () =>
            this.notifier.state("INSTANCE", r.name, e.to, e.priority, r.notify),
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
    this.notifier.state("GROUP", e.group, e.to, 0, this.groupNotify.get(e.group));
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
