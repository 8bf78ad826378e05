/**
 * VrrpRouter: what `keepalived --vrrp` does — the engines of every vrrp_instance and
 * vrrp_sync_group, fed by the receive path and tracking, their effects carried out through the
 * transport (adverts), @lvs/netconf (addresses, GARP/NA, link events), scripts and notifies.
 * This file composes the parts and runs the lifecycle; each job lives in its own module:
 * instances.ts (engines, groups), wire.ts (receive/transmit), effects.ts (what the engines ask),
 * links.ts (links, addresses, source addresses), script-timers.ts, reload.ts (+ reload-plan.ts),
 * router-status.ts. The rules are the engine's (engine.ts, sync-group.ts, rx.ts, tracking.ts).
 * Time and every I/O dependency are injectable (`RouterDeps`).
 */
import { EventEmitter } from "node:events";
import { type Clock, systemClock } from "@lvs/inet";
import type { AcceptFilter } from "./accept.js";
import { EffectRunner } from "./effects.js";
import type { VrrpInstanceEngine } from "./engine.js";
import { VrrpError } from "./errors.js";
import { Instances } from "./instances.js";
import { LinkWatch } from "./links.js";
import { NetconfOps, type NetOps } from "./netops.js";
import { Notifier, NotifyFifo } from "./notify.js";
import type { VrrpRouterOptions } from "./options.js";
import { type ReloadParts, reloadRouter } from "./reload.js";
import type { ReloadSummary } from "./reload-plan.js";
import { type AdvertSeen, RouterCore, type StateChange } from "./router-core.js";
import { planOf } from "./router-plan.js";
import { type RouterStatus, routerStatus } from "./router-status.js";
import { ScriptTimers } from "./script-timers.js";
import { runScript, type ScriptCommand, type ScriptOutcome } from "./scripts.js";
import { RawTransport, type VrrpTransport } from "./transport.js";
import { Wire } from "./wire.js";

export type { ReloadSummary } from "./reload-plan.js";
export type { AdvertSeen, StateChange } from "./router-core.js";
export type { RouterInstanceStatus, RouterStatus } from "./router-status.js";

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

/** The events of a router (in-process VrrpRouter and IsolatedRouter alike). */
export interface RouterEvents {
  state: [change: StateChange];
  warning: [message: string];
  error: [error: VrrpError];
  advert: [advert: AdvertSeen];
}

/**
 * What a router offers its users, in process (VrrpRouter) or in a child process
 * (IsolatedRouter): the director and `lvsctl up --vrrp` use only this.
 */
export interface VrrpRouterLike {
  /** The configuration in force. */
  readonly options: VrrpRouterOptions;
  start(): Promise<void>;
  stop(): Promise<void>;
  reload(options: VrrpRouterOptions): Promise<ReloadSummary>;
  status(): RouterStatus;
  on<K extends keyof RouterEvents>(event: K, listener: (...args: RouterEvents[K]) => void): this;
  off<K extends keyof RouterEvents>(event: K, listener: (...args: RouterEvents[K]) => void): this;
}

function ownNotifier(options: VrrpRouterOptions, fifos: NotifyFifo[], warn: (m: string) => void): Notifier {
  for (const p of options.notifyFifos ?? []) fifos.push(new NotifyFifo(p));
  return new Notifier({
    fifos,
    ...(options.netns !== undefined ? { netns: options.netns } : {}),
    onScriptError: (what, o) =>
      warn(
        `${what} failed: ${o.error ?? (o.timedOut ? "timed out" : o.signal ? `signal ${o.signal}` : `exit ${o.code}`)}`,
      ),
  });
}

/**
 * A VRRP router. Events: "state" (StateChange), "warning" (string), "error" (VrrpError),
 * "advert" ({instance, priority, source}) for received adverts accepted by the receive path.
 */
export class VrrpRouter extends EventEmitter implements VrrpRouterLike {
  private readonly core: RouterCore;
  private readonly parts: ReloadParts;
  private readonly ownedTransport: boolean;
  private readonly ownedNet: boolean;
  private reloading: Promise<unknown> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly constructionWarnings: string[] = [];

  constructor(options: VrrpRouterOptions, deps: RouterDeps = {}) {
    super();
    // keepalived's corrections found while planning (rounded intervals, unicast without peers…)
    // are said at start(): nobody can listen to a constructor
    const plan = planOf(options, (m) => this.constructionWarnings.push(m));
    this.ownedTransport = deps.transport === undefined;
    this.ownedNet = deps.net === undefined;
    const fifos: NotifyFifo[] | undefined = deps.notifier ? undefined : [];
    const transportOptions = {
      ...(options.netns !== undefined ? { netns: options.netns } : {}),
      ...(options.ipv6Receive !== undefined ? { ipv6Receive: options.ipv6Receive } : {}),
    };
    const core = new RouterCore(
      options,
      {
        clock: deps.clock ?? systemClock,
        transport: deps.transport ?? new RawTransport(transportOptions),
        net: deps.net ?? new NetconfOps(options.netns),
        notifier: deps.notifier ?? ownNotifier(options, fifos as NotifyFifo[], (m) => core.warn(m)),
        runScript: deps.runScript ?? ((cmd, t) => runScript(cmd, t, options.netns)),
        acceptFilter: deps.acceptFilter,
      },
      this,
    );
    this.core = core;
    const wire = new Wire(core);
    const effects = new EffectRunner(core, wire);
    const scriptTimers = new ScriptTimers(core);
    const instances = new Instances(core, effects, scriptTimers);
    const links = new LinkWatch(core, () => {
      wire.openChannels();
      core.retrack();
    });
    this.parts = { core, instances, effects, wire, links, scriptTimers, fifos };
    instances.build(plan);
  }

  /** The configuration in force (the last one given to the constructor or to reload()). */
  get options(): VrrpRouterOptions {
    return this.core.opts;
  }

  /** Opens sockets, learns links and addresses, removes stale VIPs, starts the instances. */
  start(): Promise<void> {
    if (!this.starting) this.starting = this.doStart();
    return this.starting;
  }

  /** promote_secondaries sysctls this router set, with the values to restore at stop. */
  private readonly restoreSysctls = new Map<string, string>();

  /**
   * keepalived's promote_secondaries: when the primary address of the interface is removed, the
   * kernel promotes a secondary instead of dropping them all (net.ipv4.conf.IF.promote_secondaries).
   */
  private async promoteSecondaries(): Promise<void> {
    const net = this.core.io.net;
    if (!net.setSysctl) return;
    for (const i of this.core.opts.instances) {
      if (!i.promoteSecondaries) continue;
      const key = `net.ipv4.conf.${i.interface}.promote_secondaries`;
      if (this.restoreSysctls.has(key)) continue;
      try {
        const before = await net.setSysctl(key, "1");
        if (before !== undefined && before !== "1") this.restoreSysctls.set(key, before);
      } catch (err) {
        this.core.warn(`${i.name}: cannot set ${key}: ${(err as Error).message}`);
      }
    }
  }

  private async doStart(): Promise<void> {
    const { core, wire, links, instances } = this.parts;
    core.started = true;
    for (const m of this.constructionWarnings.splice(0)) core.warn(m);
    await this.promoteSecondaries();
    wire.attach();
    await links.start();
    // keepalived remove_residual_vips(): addresses of ours left by a previous run go first
    await links.removeResidualVips();
    wire.openChannels();
    const delay = core.opts.startupDelay ?? 0;
    if (delay <= 0) {
      instances.startAll();
      return;
    }
    core.warn(`Delaying startup for ${delay} seconds (vrrp_startup_delay)`);
    this.startupTimer = core.clock.setTimeout(() => {
      this.startupTimer = undefined;
      if (!this.stopping) instances.startAll();
    }, delay * 1000);
  }

  /** vrrp_startup_delay's pending start, cancelled by a stop. */
  private startupTimer: unknown;

  /**
   * Clean stop (keepalived on SIGTERM): masters send a priority-0 advert and remove their
   * addresses, every instance and group reports STOP, sockets close. A second call waits for
   * the same stop.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const { core, wire, links, instances, fifos } = this.parts;
    core.stopped = true;
    if (this.startupTimer !== undefined) core.clock.clearTimeout(this.startupTimer);
    await instances.stopAll();
    await wire.drain();
    await core.io.notifier.drain();
    await core.acceptFilter?.close();
    // A refresh started before the stop must finish before its netlink client closes.
    await links.stop();
    for (const [key, value] of this.restoreSysctls)
      await core.io.net.setSysctl?.(key, value).catch(() => undefined);
    if (this.ownedTransport) core.io.transport.shutdown();
    if (this.ownedNet) core.io.net.close();
    for (const f of fifos ?? []) f.close();
  }

  /**
   * Applies a new configuration in place, as keepalived does on SIGHUP (see reload.ts): the
   * whole configuration is resolved and checked first (a VrrpError changes nothing); instances
   * found again keep running (updated in their state when their settings changed), removed ones
   * stop, new ones start; scripts and sync groups carry over when unchanged. Serialised.
   */
  reload(options: VrrpRouterOptions): Promise<ReloadSummary> {
    const next = this.reloading.then(async () => {
      await this.starting?.catch(() => {});
      if (this.core.stopped)
        throw new VrrpError("VRRP_STOPPED", "the router is stopped; a reload needs a running router", {});
      return reloadRouter(this.parts, options);
    });
    this.reloading = next.catch(() => {});
    return next;
  }

  status(): RouterStatus {
    return routerStatus(this.core, this.parts.wire.ifStats.values());
  }

  /** The engine of one instance (tests, diagnostics). */
  instance(name: string): VrrpInstanceEngine | undefined {
    return this.core.instances.find((i) => i.r.name === name)?.engine;
  }
}
