// The runtime API of a node that runs VRRP only (`lvsctl up --vrrp`, keepalived --vrrp): the same
// socket and TCP listener as the director's, where /status and /metrics show the VRRP instances
// and their counters, /reload reloads the VRRP part in place, and the LVS requests (drain, weight,
// enable, disable) answer 409 DIRECTOR_LVS_NOT_RUNNING instead of pretending.
import { type Clock, systemClock } from "@lvs/inet";
import type { ApiHandlers } from "./api.js";
import { DEFAULT_RECONCILE_INTERVAL_MS } from "./constants.js";
import { DirectorError } from "./errors.js";
import { DirectorHistory } from "./history.js";
import { DirectorMetrics } from "./metrics.js";
import type { DirectorStatus } from "./status.js";
import type { VrrpInstanceStatus } from "./vrrp.js";
import { createWebRoutes } from "./web.js";
import { buildWebState, healthVerdict } from "./web-state.js";

export interface VrrpOnlyApiOptions {
  configPath: string;
  /** The instances as they are now. */
  states(): VrrpInstanceStatus[];
  /** Called before /status and /metrics answer (a router in a child process fetches a fresh snapshot). */
  refresh?(): Promise<void>;
  /** Files the configuration was read from (status). */
  files?: () => string[];
  /** Reload the VRRP part in place (what SIGHUP does); resolves with a summary for the client. */
  reload?(): Promise<unknown>;
  /** Epoch ms. */
  now?: () => number;
  /** The status page's timers (default: the system clock). */
  clock?: Clock;
}

/** ApiHandlers for a VRRP-only node (give them to an ApiServer). */
export function vrrpOnlyApiHandlers(opts: VrrpOnlyApiOptions): ApiHandlers {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const metrics = new DirectorMetrics({
    table: () => undefined,
    realServers: () => [],
    virtualServers: () => [],
    vrrp: () => opts.states(),
  });
  const notRunning = async (): Promise<never> => {
    throw new DirectorError(
      "DIRECTOR_LVS_NOT_RUNNING",
      "the LVS side isn't running on this node (it runs VRRP only: lvsctl up --vrrp); there is no virtual server to change — run `lvsctl up` without --vrrp for the LVS side",
    );
  };
  const status = async (): Promise<DirectorStatus> => {
    await opts.refresh?.();
    return statusNow();
  };
  const statusNow = (): DirectorStatus => ({
    daemon: { pid: process.pid, startedAt, configPath: opts.configPath, statePath: "", mode: "vrrp" },
    config: { loadedAt: startedAt, files: opts.files?.() ?? [opts.configPath], warnings: [] },
    reconcile: {
      intervalMs: DEFAULT_RECONCILE_INTERVAL_MS,
      passes: 0,
      lastPassAt: null,
      lastDurationMs: null,
      lastOperations: 0,
      driftRepairs: 0,
      failures: [],
      lastReadError: null,
    },
    virtualServers: [],
    drains: [],
    vrrp: { running: true, instances: opts.states() },
    syncDaemons: [],
  });
  // The status page: VRRP instances only (no dataplane: healthy while every instance is MASTER
  // or BACKUP). Without state events here, the page's 2 s look finds changes.
  const history = new DirectorHistory(now);
  const health = async () => {
    await opts.refresh?.();
    return healthVerdict(opts.states(), undefined);
  };
  const web = createWebRoutes({
    clock: opts.clock ?? systemClock,
    health,
    watch: () => () => {},
    state: async (access) =>
      buildWebState({
        status: await status(),
        plan: [],
        table: undefined,
        history,
        dataplane: "none",
        health: await health(),
        counters: { refusals: 0, readErrors: 0 },
        progress: () => undefined,
        now: now(),
        access,
      }),
  });
  return {
    web,
    status,
    metrics: async () => {
      await opts.refresh?.();
      return { contentType: metrics.contentType, body: await metrics.text() };
    },
    drain: notRunning,
    undrain: notRunning,
    weight: notRunning,
    addServer: notRunning,
    removeServer: notRunning,
    enable: notRunning,
    disable: notRunning,
    drainDirector: notRunning,
    reload: opts.reload ?? notRunning,
  };
}
