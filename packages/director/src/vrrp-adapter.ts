// The VrrpComponent over @lvs/vrrp's VrrpRouter (routerOptionsFromConfig maps the file's
// vrrp_instance / vrrp_sync_group / vrrp_script blocks to router options).
//
// Reload: as keepalived on SIGHUP, the running router applies only the difference
// (VrrpRouter.reload): unchanged instances keep running untouched, changed ones are updated in
// their current state, removed ones stop (priority 0 if MASTER), new ones start. A configuration
// the router refuses leaves the running one as it was and fails the reload.
import { EventEmitter } from "node:events";
import type { LvsConfig } from "@lvs/config";
import {
  type ReloadSummary,
  type RouterInstanceStatus,
  routerOptionsFromConfig,
  type StateChange,
  spawnIsolatedRouter,
  VrrpRouter,
  type VrrpRouterLike,
  type VrrpRouterOptions,
  vrrpSchedulingFromConfig,
} from "@lvs/vrrp";
import type { VrrpComponent, VrrpInstanceStatus, VrrpStateChange, VrrpStateName } from "./vrrp.js";

export interface VrrpAdapterOptions {
  netns?: string;
  warn?: (message: string) => void;
  /** Build the router (tests inject one with fake transport/net). */
  createRouter?: (options: VrrpRouterOptions) => VrrpRouterLike;
  /**
   * Run VRRP on the director's own event loop instead of in its child process (debugging). By
   * default the router runs isolated, as keepalived's VRRP process, so a reload's parse, the
   * checks and the reconciler can't delay an advert.
   */
  inProcess?: boolean;
  /** What each reload did to the VRRP instances, groups and scripts. */
  onReload?: (summary: ReloadSummary) => void;
  /** Epoch ms of a state change (`since` in the status); default Date.now. */
  now?: () => number;
}

const upper = (s: string): VrrpStateName => s.toUpperCase() as VrrpStateName;

/** One router instance as the API and metrics show it; `since`: epoch ms of its last transition. */
export function vrrpInstanceStatus(i: RouterInstanceStatus, since?: number): VrrpInstanceStatus {
  const s: VrrpInstanceStatus = {
    name: i.name,
    interface: i.interface,
    vrid: i.vrid,
    state: upper(i.state),
    priority: i.basePriority,
    effectivePriority: i.effectivePriority,
    vips: i.addresses.map((a) => a.replace(/\/\d+$/, "")),
    counters: { ...i.stats },
  };
  if (since !== undefined) s.since = since;
  return s;
}

export function createVrrpComponent(opts: VrrpAdapterOptions = {}): VrrpComponent {
  const events = new EventEmitter();
  let router: VrrpRouterLike | undefined;
  let optionsJson = "";
  const since = new Map<string, number>();
  const now = opts.now ?? Date.now;

  const build = (config: LvsConfig): { options: VrrpRouterOptions; json: string } => {
    const { options, warnings } = routerOptionsFromConfig(config, opts.netns ? { netns: opts.netns } : {});
    for (const w of warnings)
      opts.warn?.(typeof w === "string" ? w : ((w as { message?: string }).message ?? String(w)));
    return { options, json: JSON.stringify(options) };
  };

  const launch = async (options: VrrpRouterOptions, config: LvsConfig): Promise<void> => {
    if (!options.instances.length) return;
    // keepalived's vrrp_priority / vrrp_rt_priority for the VRRP child (lvs's default nice as root)
    const { nice, realtime } = vrrpSchedulingFromConfig(config.globalDefs);
    const r: VrrpRouterLike = opts.createRouter
      ? opts.createRouter(options)
      : opts.inProcess
        ? new VrrpRouter(options)
        : spawnIsolatedRouter(options, {
            ...(nice !== undefined ? { priority: nice } : {}),
            ...(realtime !== undefined ? { realtimePriority: realtime } : {}),
          });
    r.on("state", (c: StateChange) => {
      if (c.kind !== "INSTANCE") return;
      since.set(c.name, now());
      const change: VrrpStateChange = {
        instance: c.name,
        from: upper(c.from),
        to: upper(c.to),
        ...(c.reason ? { reason: c.reason } : {}),
      };
      events.emit("state", change);
    });
    r.on("warning", (m: string) => opts.warn?.(m));
    r.on("error", (e: Error) => opts.warn?.(e.message));
    await r.start();
    router = r;
  };

  return {
    async start(config) {
      const { options, json } = build(config);
      optionsJson = json;
      await launch(options, config);
    },
    async reload(config) {
      const { options, json } = build(config);
      if (json === optionsJson) return;
      if (router) {
        // in place: only the difference is applied; a refused configuration changes nothing
        const summary = await router.reload(options);
        const names = new Set(router.status().instances.map((i) => i.name));
        for (const name of [...since.keys()]) if (!names.has(name)) since.delete(name);
        opts.onReload?.(summary);
      } else await launch(options, config);
      optionsJson = json;
    },
    async stop() {
      const r = router;
      router = undefined;
      await r?.stop();
    },
    states(): VrrpInstanceStatus[] {
      if (!router) return [];
      return router.status().instances.map((i) => vrrpInstanceStatus(i, since.get(i.name)));
    },
    on(event, listener) {
      events.on(event, listener);
    },
  };
}
