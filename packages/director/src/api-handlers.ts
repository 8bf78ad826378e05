// The runtime API's handlers (api.ts serves them): each change resolves what the operator typed,
// logs the request, goes into the engine as one event and is answered once its effects are done
// (state file written, the virtual server's services reconciled).
import type { ApiHandlers, RealServerRequest } from "./api.js";
import type { PlannedRealServer } from "./compile.js";
import type { Dataplane } from "./dataplane.js";
import type { DirectorEngine } from "./engine.js";
import { DirectorError } from "./errors.js";
import type { DirectorEvent, RuntimeChange } from "./events.js";
import { parseRsReference, parseVsReference } from "./keys.js";
import type { Logger } from "./log.js";
import type { DirectorMetrics } from "./metrics.js";
import { newRuntimeServer } from "./runtime-servers.js";
import type { DirectorDrainAnswer, DirectorStatus } from "./status.js";

export interface ApiContext {
  engine: DirectorEngine;
  log: Logger;
  metrics: DirectorMetrics;
  /** false in VRRP-only mode: there is nothing to drain. */
  lvsEnabled: boolean;
  dispatch(event: DirectorEvent): Promise<void>;
  status(): Promise<DirectorStatus>;
  reload(): Promise<unknown>;
  /** Drain or undrain the whole director (BGP withdrawn / announced again). */
  drainDirector(drained: boolean): Promise<DirectorDrainAnswer>;
  /** The running dataplane (undefined before the LVS side started, or in VRRP-only mode). */
  dataplane(): Dataplane | undefined;
  /** The status page's routes (web.ts), passed through to the server. */
  web?: ApiHandlers["web"];
}

type Line = (vs: string, rs: PlannedRealServer) => string;

/** The running dataplane, or DIRECTOR_LVS_NOT_RUNNING (VRRP-only node, or not started yet). */
function running(ctx: ApiContext, what: string): Dataplane {
  const dp = ctx.dataplane();
  if (!ctx.lvsEnabled || !dp)
    throw new DirectorError(
      "DIRECTOR_LVS_NOT_RUNNING",
      `the LVS side isn't running: this daemon runs VRRP only (mode vrrp), ${what}`,
    );
  return dp;
}

const notRunning = () =>
  new DirectorError(
    "DIRECTOR_LVS_NOT_RUNNING",
    "the LVS side isn't running: this daemon runs VRRP only (mode vrrp), there is no virtual server to change",
  );

export function createApiHandlers(ctx: ApiContext): ApiHandlers {
  const { engine, log } = ctx;
  /** Resolve, log, apply; answer with the real server's override afterwards. */
  const change = async (r: RealServerRequest, line: Line, fields: object, what: RuntimeChange) => {
    if (!ctx.lvsEnabled) throw notRunning();
    const { vs, rs } = engine.resolve(parseVsReference(r.virtualServer), parseRsReference(r.realServer));
    log.info({ vs: vs.key, rs: rs.key, ...fields }, line(vs.key, rs));
    await ctx.dispatch({ kind: "change", vsKey: vs.key, rsKey: rs.key, change: what });
    return { virtualServer: vs.key, realServer: rs.key, override: engine.override(vs.key, rs.key) ?? null };
  };
  return {
    status: () => ctx.status(),
    metrics: async () => ({ contentType: ctx.metrics.contentType, body: await ctx.metrics.text() }),
    connections: async () => {
      const dp = running(ctx, "there is no connection table");
      return { dataplane: dp.kind ?? "ipvs", connections: (await dp.connectionTable?.()) ?? [] };
    },
    timeouts: async () => {
      const dp = running(ctx, "there are no timeouts to show");
      return { dataplane: dp.kind ?? "ipvs", ...(await dp.timeouts()) };
    },
    setTimeouts: async (t) => {
      const dp = running(ctx, "there are no timeouts to set");
      log.info(
        { tcp: t.tcp, tcpFin: t.tcpFin, udp: t.udp },
        `Setting ${dp.kind ?? "ipvs"} timeouts (tcp ${t.tcp || "unchanged"}, tcpfin ${t.tcpFin || "unchanged"}, udp ${t.udp || "unchanged"})`,
      );
      await dp.setTimeouts(t);
      return { dataplane: dp.kind ?? "ipvs", ...(await dp.timeouts()) };
    },
    drain: (r: RealServerRequest & { timeout?: number }) =>
      change(
        r,
        (vs, rs) =>
          `Draining ${rs.key} from ${vs}${r.timeout !== undefined ? ` (timeout ${r.timeout}s)` : ""}`,
        { timeout: r.timeout },
        { op: "drain", timeoutMs: r.timeout === undefined ? undefined : r.timeout * 1000 },
      ),
    undrain: (r) => change(r, (vs, rs) => `Undraining ${rs.key} in ${vs}`, {}, { op: "undrain" }),
    weight: (r: RealServerRequest & { weight: number | null }) =>
      change(
        r,
        (vs, rs) => `Setting weight of ${rs.key} in ${vs} to ${r.weight ?? `configured (${rs.weight})`}`,
        { weight: r.weight },
        { op: "weight", weight: r.weight ?? undefined },
      ),
    ...runtimeServerHandlers(ctx),
    enable: (r) =>
      change(r, (vs, rs) => `Enabling ${rs.key} in ${vs}`, {}, { op: "disable", disabled: false }),
    disable: (r) =>
      change(r, (vs, rs) => `Disabling ${rs.key} in ${vs}`, {}, { op: "disable", disabled: true }),
    reload: () => ctx.reload(),
    drainDirector: (drained: boolean) => {
      if (!ctx.lvsEnabled)
        throw new DirectorError(
          "DIRECTOR_LVS_NOT_RUNNING",
          "the LVS side isn't running: this daemon runs VRRP only (mode vrrp), it announces nothing over BGP",
        );
      return ctx.drainDirector(drained);
    },
    ...(ctx.web ? { web: ctx.web } : {}),
  };
}

/** Real servers added and removed at runtime (keepalived #1296): not in the configuration. */
function runtimeServerHandlers(ctx: ApiContext): Pick<ApiHandlers, "addServer" | "removeServer"> {
  const { engine, log } = ctx;
  return {
    addServer: async (r: RealServerRequest & { weight?: number }) => {
      if (!ctx.lvsEnabled) throw notRunning();
      const vs = engine.resolveVs(parseVsReference(r.virtualServer));
      const ref = parseRsReference(r.realServer);
      const rs = newRuntimeServer(vs, ref.address, ref.port, r.weight ?? 1);
      log.info(
        { vs: vs.key, rs: rs.key, weight: rs.weight },
        `Adding ${rs.key} to ${vs.key} at runtime (weight ${rs.weight})`,
      );
      const server = { address: rs.address, port: rs.port, weight: rs.weight };
      await ctx.dispatch({ kind: "change", vsKey: vs.key, rsKey: rs.key, change: { op: "add", server } });
      return { virtualServer: vs.key, realServer: rs.key, weight: rs.weight, runtime: true };
    },
    removeServer: async (r: RealServerRequest) => {
      if (!ctx.lvsEnabled) throw notRunning();
      const { vs, rs } = engine.resolve(parseVsReference(r.virtualServer), parseRsReference(r.realServer));
      if (!rs.runtime)
        throw new DirectorError(
          "DIRECTOR_CONFIGURED",
          `${rs.key} of ${vs.key} is in the configuration: take it out there and reload, or \`lvsctl disable\` / \`lvsctl drain\` it`,
          { object: `${vs.key} ${rs.key}` },
        );
      log.info({ vs: vs.key, rs: rs.key }, `Removing ${rs.key} (added at runtime) from ${vs.key}`);
      await ctx.dispatch({ kind: "change", vsKey: vs.key, rsKey: rs.key, change: { op: "remove" } });
      return { virtualServer: vs.key, realServer: rs.key, removed: true };
    },
  };
}
