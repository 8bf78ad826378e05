// Start, reload, stop and the dry run as named steps over the shell (runtime.ts), in keepalived's
// order. Each step opens or closes one part; what the configuration means for the table, the
// checks and the scripts is one `config` event into the engine.
import { dirname } from "node:path";
import { BgpError } from "@lvs/bgp";
import type { LvsConfig } from "@lvs/config";
import { HealthCheckRunner } from "@lvs/healthcheck";
import { IpvsError, MemoryIpvs, type Operation } from "@lvs/ipvs";
import { ApiServer } from "./api.js";
import { createApiHandlers } from "./api-handlers.js";
import { BgpAnnouncer, type BgpReconfiguration, type BgpReloadSummary } from "./bgp.js";
import { type Plan, proxyHeadersOf } from "./compile.js";
import { readConfig } from "./config-load.js";
import {
  DEFAULT_DRAIN_POLL_MS,
  DEFAULT_HA_SUSPEND_POLL_MS,
  DEFAULT_RECONCILE_INTERVAL_MS,
} from "./constants.js";
import { type Dataplane, dataplaneName } from "./dataplane.js";
import { chooseDataplane } from "./dataplane-choice.js";
import { DirectorError } from "./errors.js";
import type { EngineEffect } from "./events.js";
import { IpvsDataplane } from "./ipvs-dataplane.js";
import { logOperations, PassLoop } from "./loop.js";
import type { LoadedConfig } from "./options.js";
import { defaultSocketPath, ensurePrivateDir, runtimeDir } from "./paths.js";
import { checkProxyConfig } from "./proxy-checks.js";
import { ProxyDirectorDataplane } from "./proxy-dataplane.js";
import { Reconciler } from "./reconcile.js";
import type { DirectorRuntime } from "./runtime.js";
import { loadStateFile, readStateFile } from "./state-file.js";
import { SyncDaemonControl } from "./sync-daemon.js";
import { DirectorSysctls, hostSysctls } from "./sysctl-host.js";
import { createWebRoutes } from "./web.js";
import { webSourcesOf } from "./web-runtime.js";

export interface ReloadResult {
  virtualServers: number;
  warnings: string[];
  operations: number;
  /** What the reload did to the BGP sessions (absent: no `bgp:` section before or after). */
  bgp?: BgpReloadSummary;
}

/** Load and compile the file; the running configuration is replaced only once both worked. */
async function loadPlan(
  rt: DirectorRuntime,
  check?: (loaded: LoadedConfig) => void,
): Promise<{ loaded: LoadedConfig; plan: Plan }> {
  const { loaded, plan } = await readConfig(rt.opts, rt.dataplane);
  check?.(loaded);
  rt.loaded = { files: loaded.files, warnings: loaded.warnings };
  rt.setAlerts(loaded.config);
  rt.loadedAt = rt.now();
  rt.plan = plan;
  return { loaded, plan };
}

/** The dataplane the options name: given, an IPVS client's, the proxy, or the kernel's IPVS. */
async function openDataplane(rt: DirectorRuntime): Promise<Dataplane> {
  if (rt.dataplane) return rt.dataplane;
  const o = rt.opts;
  if (typeof o.dataplane === "object") rt.dataplane = o.dataplane;
  else if (o.client)
    rt.dataplane = new IpvsDataplane(o.client, o.readProc !== undefined ? { readProc: o.readProc } : {});
  else {
    const choice =
      o.dataplane === undefined
        ? { kind: "ipvs" as const, why: "the default" }
        : await chooseDataplane(o.dataplane, o.netns);
    rt.log.info({ dataplane: choice.kind }, `Dataplane: ${choice.kind} (${choice.why})`);
    rt.dataplane =
      choice.kind === "proxy"
        ? new ProxyDirectorDataplane({ clock: rt.clock })
        : await IpvsDataplane.open({
            ...(o.netns ? { netns: o.netns } : {}),
            ...(o.readProc !== undefined ? { readProc: o.readProc } : {}),
          });
    rt.ownsDataplane = true;
  }
  return rt.dataplane;
}

function newLoop(rt: DirectorRuntime, dataplane: Dataplane, owned: Iterable<string>): PassLoop {
  const reconciler = new Reconciler<EngineEffect>({
    dataplane,
    engine: rt.engine,
    owned,
    now: rt.now,
    saveOwned: () => rt.saveState(),
    onApply: (ops) => logOperations(rt.log, ops),
  });
  return new PassLoop({
    reconciler,
    metrics: rt.metrics,
    log: rt.log,
    perform: (effects) => rt.effects.perform(effects),
    dataplaneName: dataplaneName(dataplane),
    ...(rt.opts.fullPassEvery !== undefined ? { fullPassEvery: rt.opts.fullPassEvery } : {}),
  });
}

/**
 * On the proxy dataplane: refuse what it can't serve (fwmark services; without root, virtual
 * addresses the host lacks) with file:line, and return its one warning about NAT/DR/TUN.
 */
function checkForDataplane(rt: DirectorRuntime, loaded: LoadedConfig): string | undefined {
  if (rt.dataplane?.kind !== "proxy") return undefined;
  return checkProxyConfig(loaded.config, loaded.sources, rt.opts.configPath, {
    localOnly: rt.opts.vrrpSkipped !== undefined,
    local: rt.opts.vrrpSkipped !== undefined ? rt.localAddresses() : new Set(),
  });
}

/** `proxy_protocol` to the dataplane (the proxy); on IPVS, one warning that it is ignored. */
async function applyDestinationOptions(rt: DirectorRuntime, plan: Plan): Promise<void> {
  const options = proxyHeadersOf(plan);
  const dp = rt.dataplane;
  if (dp?.destinationOptions) await dp.destinationOptions(options);
  else if (options.length)
    rt.log.warn(
      {},
      `proxy_protocol on ${options.length} real server(s) ignored: the ${dataplaneName(dp)} dataplane forwards packets and can't add a PROXY header (it is for --dataplane proxy)`,
    );
}

async function applyTimeouts(rt: DirectorRuntime, plan: Plan): Promise<void> {
  const t = plan.lvsTimeouts;
  if (!t || !(t.tcp || t.tcpfin || t.udp) || !rt.dataplane) return;
  try {
    await rt.dataplane.setTimeouts({ tcp: t.tcp ?? 0, tcpFin: t.tcpfin ?? 0, udp: t.udp ?? 0 });
  } catch (err) {
    rt.log.warn({ err }, `Failed to set ${dataplaneName(rt.dataplane)} timeouts: ${(err as Error).message}`);
  }
}

/** Who looks after the plan's sysctls: injected, or the host's on a kernel IPVS we opened (none on the proxy). */
function directorSysctls(rt: DirectorRuntime, dataplane: Dataplane): DirectorSysctls | undefined {
  if (rt.opts.sysctls) return new DirectorSysctls(rt.opts.sysctls, rt.log);
  if (!rt.ownsDataplane || dataplane.kind === "proxy") return undefined;
  return new DirectorSysctls(hostSysctls(rt.opts.netns), rt.log);
}

/** The LVS side: state file, dataplane, loop, flush, timeouts, sync control, checks, the table. */
async function startLvs(rt: DirectorRuntime, plan: Plan, loaded: LoadedConfig): Promise<void> {
  if (rt.statePathWhy) ensurePrivateDir(dirname(rt.statePath));
  const { state, corrupt } = await loadStateFile(rt.statePath, rt.now);
  if (corrupt) {
    rt.metrics.stateFileCorrupt.inc();
    rt.log.warn(
      { statePath: rt.statePath, movedTo: corrupt.movedTo },
      `${corrupt.reason}: moved it to ${corrupt.movedTo}; starting from the configuration without runtime changes`,
    );
  }
  // From here on the file is ours to rewrite (never before: a start that fails earlier must not
  // replace persisted drains with an empty state).
  rt.stateLoaded = true;
  const dataplane = await openDataplane(rt);
  if (rt.statePathWhy)
    rt.log.info({ statePath: rt.statePath }, `State file ${rt.statePath} (${rt.statePathWhy})`);
  const proxyWarning = checkForDataplane(rt, loaded);
  if (proxyWarning) rt.log.warn({}, proxyWarning);
  rt.loop = newLoop(rt, dataplane, state.owned);
  rt.sysctls = directorSysctls(rt, dataplane);
  if (state.sysctls) rt.sysctls?.restoreSaved(state.sysctls);
  if (rt.sysctls?.ensure(plan, loaded.config.globalDefs.lvsDirectorSysctl === true)) await rt.saveState();
  if (plan.lvsFlush) {
    await dataplane.flush();
    rt.log.info({}, `Flushed the ${dataplaneName(dataplane)} table (lvs_flush)`);
  }
  await applyTimeouts(rt, plan);
  await applyDestinationOptions(rt, plan);
  if (dataplane.syncDaemons) rt.sync = new SyncDaemonControl(dataplane.syncDaemons, rt.log);
  rt.runner = new HealthCheckRunner({
    clock: rt.clock,
    ...rt.opts.health,
    onResult: (id, result, status) => rt.onProbe(id, result, status),
    onEvent: (e) => rt.onCheckEvent(e),
  });
  await rt.dispatch({
    kind: "config",
    plan,
    overrides: new Map(Object.entries(state.overrides)),
    runtimeServers: state.runtimeServers ?? {},
    // The engine drains first: a drained director announces nothing, even briefly.
    ...(state.director ? { directorDrain: { since: state.director.since } } : {}),
    localAddresses: rt.addressesFor(plan),
  });
}

async function startVrrp(rt: DirectorRuntime, loaded: LoadedConfig): Promise<void> {
  const vrrp = rt.vrrp;
  if (rt.opts.vrrpSkipped !== undefined && rt.mode !== "check") {
    const n = loaded.config.vrrpInstances.length;
    const vips = loaded.config.vrrpInstances.reduce((sum, i) => sum + i.virtualIpaddress.length, 0);
    rt.log.warn(
      { vrrpInstances: n, virtualAddresses: vips },
      `${rt.opts.vrrpSkipped}: VRRP and VIP handling skipped (${n} vrrp_instance block(s), ${vips} virtual_ipaddress line(s) not run); virtual servers must use addresses this host already has`,
    );
    return;
  }
  if (vrrp) {
    vrrp.on("state", (c) => rt.onVrrpState(c));
    await vrrp.start(loaded.config);
  } else if (rt.mode !== "check" && loaded.config.vrrpInstances.length) {
    rt.log.warn(
      {},
      `${loaded.config.vrrpInstances.length} vrrp_instance block(s) not run: no VRRP component in this build (LVS side only)`,
    );
  }
}

async function startApi(rt: DirectorRuntime): Promise<void> {
  const o = rt.opts;
  const socket = o.socketPath === null ? undefined : (o.socketPath ?? defaultSocketPath());
  if (!socket && !o.listen) return;
  const runtime = runtimeDir();
  const where = socket && dirname(socket) === runtime.dir ? runtime : undefined;
  rt.api = new ApiServer({
    ...(socket ? { socketPath: socket } : {}),
    ...(o.listen ? { listen: o.listen } : {}),
    ...(o.token ? { token: o.token } : {}),
    ...(o.apiLimits ? { limits: o.apiLimits } : {}),
    handlers: createApiHandlers({
      engine: rt.engine,
      log: rt.log,
      metrics: rt.metrics,
      lvsEnabled: rt.lvsEnabled,
      dispatch: (e) => rt.dispatch(e),
      status: () => rt.status(),
      reload: () => reload(rt),
      drainDirector: (drained) => rt.drainDirector(drained),
      dataplane: () => rt.dataplane,
      web: createWebRoutes(webSourcesOf(rt)),
    }),
    onError: (err) => rt.log.error({ err }, "API request failed"),
  });
  await rt.api.start();
  rt.log.info(
    { socket, listen: o.listen },
    `Runtime API on ${[socket, o.listen].filter(Boolean).join(" and ")}${where && where.why !== "root" ? ` (${where.why})` : ""}`,
  );
}

/** The periodic pass, the drain poll and (with ha_suspend) the address poll. */
function startTimers(rt: DirectorRuntime, plan: Plan): void {
  const o = rt.opts;
  const loop = rt.loop as PassLoop;
  const quick = rt.dataplane?.summary !== undefined;
  rt.every(o.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS, () => void loop.periodic(quick));
  rt.every(o.drainPollMs ?? DEFAULT_DRAIN_POLL_MS, () => void rt.dispatch({ kind: "drain-poll" }));
  if (plan.virtualServers.some((v) => v.haSuspend)) {
    rt.every(o.haSuspendPollMs ?? DEFAULT_HA_SUSPEND_POLL_MS, () => {
      void rt.dispatch({ kind: "addresses", local: rt.localAddresses() });
    });
  }
}

/** A session the `bgp:` section asks for can't be built (a namespace that doesn't exist…). */
function bgpConfigError(rt: DirectorRuntime, err: unknown): unknown {
  if (!(err instanceof BgpError)) return err;
  return new DirectorError("DIRECTOR_CONFIG", `${rt.opts.configPath}: bgp: ${err.message} (${err.code})`, {
    object: rt.opts.configPath,
    cause: err,
  });
}

function newAnnouncer(rt: DirectorRuntime, loaded: LoadedConfig): BgpAnnouncer {
  const section = loaded.config.bgp as NonNullable<LvsConfig["bgp"]>;
  let bgp: BgpAnnouncer;
  try {
    bgp = new BgpAnnouncer(section, {
      log: rt.log,
      now: rt.now,
      onChange: () => rt.changed(),
      ...(rt.opts.createBgpSpeaker ? { createSpeaker: rt.opts.createBgpSpeaker } : {}),
    });
  } catch (err) {
    throw bgpConfigError(rt, err);
  }
  if (rt.engine.directorDrain()) bgp.setDrained(true);
  for (const i of rt.vrrp?.states() ?? []) bgp.vrrp(i.name, i.state);
  if (section.announceWhenMaster !== undefined && (!rt.vrrp || rt.opts.vrrpSkipped !== undefined))
    rt.log.warn(
      {},
      "bgp.announceWhenMaster: VRRP does not run in this daemon, so nothing will be announced over BGP",
    );
  return bgp;
}

/** A reload's `bgp:` change, checked (sessions built) before anything running changes. */
type BgpChange =
  | { kind: "none" }
  | { kind: "add"; announcer: BgpAnnouncer }
  | { kind: "remove" }
  | { kind: "update"; reconfiguration: BgpReconfiguration };

function prepareBgp(rt: DirectorRuntime, loaded: LoadedConfig): BgpChange {
  if (!rt.lvsEnabled) return { kind: "none" };
  const section = loaded.config.bgp;
  if (!section) return rt.bgp ? { kind: "remove" } : { kind: "none" };
  if (!rt.bgp) return { kind: "add", announcer: newAnnouncer(rt, loaded) };
  try {
    return { kind: "update", reconfiguration: rt.bgp.prepare(section) };
  } catch (err) {
    throw bgpConfigError(rt, err);
  }
}

/** Apply a prepared `bgp:` change; the announcement follows the engine's quorum after the reload. */
async function applyBgp(
  rt: DirectorRuntime,
  change: BgpChange,
  plan: Plan,
): Promise<BgpReloadSummary | undefined> {
  const quorum = () => plan.virtualServers.map((vs) => ({ vs, up: rt.engine.quorumUp(vs.key) }));
  switch (change.kind) {
    case "none":
      return undefined;
    case "remove": {
      const bgp = rt.bgp as BgpAnnouncer;
      const peers = bgp.status().map((s) => s.peer);
      rt.bgp = undefined;
      await bgp.stop("lvs director reload: bgp section removed");
      rt.log.info({ peers }, "BGP: the bgp section was removed; sessions closed");
      return { added: [], removed: peers, restarted: [], kept: [] };
    }
    case "add":
      rt.bgp = change.announcer;
      change.announcer.resync(quorum());
      change.announcer.start();
      return { added: change.announcer.status().map((s) => s.peer), removed: [], restarted: [], kept: [] };
    case "update": {
      const summary = await change.reconfiguration.apply();
      rt.bgp?.resync(quorum());
      rt.log.info(
        { ...summary },
        `BGP reload: ${summary.kept.length} session(s) kept, ${summary.added.length} added, ${summary.restarted.length} restarted, ${summary.removed.length} removed`,
      );
      return summary;
    }
  }
}

/** Everything the configuration asks for, in keepalived's order; resolves once the table is in place. */
export async function start(rt: DirectorRuntime): Promise<void> {
  const { loaded, plan } = await loadPlan(rt);
  for (const w of loaded.warnings) rt.log.warn({ config: rt.opts.configPath }, w);
  for (const w of plan.warnings) rt.log.warn({}, w);
  rt.log.info(
    { config: rt.opts.configPath, virtualServers: plan.virtualServers.length, mode: rt.mode },
    `Starting lvs director (${rt.mode}) with ${rt.opts.configPath}`,
  );
  // Before the table: the engine's first quorum transitions (startLvs) already announce.
  if (rt.lvsEnabled && loaded.config.bgp) {
    rt.bgp = newAnnouncer(rt, loaded);
    rt.bgp.start();
  }
  if (rt.lvsEnabled) await startLvs(rt, plan, loaded);
  await startVrrp(rt, loaded);
  if (rt.lvsEnabled) await rt.configureSync(plan, loaded.config);
  await startApi(rt);
  if (rt.lvsEnabled) startTimers(rt, plan);
}

/** The reload running or queued last, per director. */
const lastReload = new WeakMap<DirectorRuntime, Promise<unknown>>();

/**
 * Re-read the configuration and apply only the difference: unchanged checks keep their state,
 * unchanged services are never recreated. A file that doesn't load leaves everything running.
 * Reloads run one at a time in the order asked: the file is parsed in a worker, and an earlier
 * SIGHUP's version must not land after a later one's.
 */
export function reload(rt: DirectorRuntime): Promise<ReloadResult> {
  const run = (lastReload.get(rt) ?? Promise.resolve()).then(() => reloadNow(rt));
  lastReload.set(
    rt,
    run.catch(() => undefined),
  );
  return run;
}

async function reloadNow(rt: DirectorRuntime): Promise<ReloadResult> {
  let loaded: LoadedConfig;
  let plan: Plan;
  let bgpChange: BgpChange = { kind: "none" };
  try {
    // The running dataplane's own limits (the proxy: no fwmark, local VIPs) and the new BGP
    // sessions (a namespace that doesn't exist…) are checked before anything changes.
    ({ loaded, plan } = await loadPlan(rt, (l) => {
      checkForDataplane(rt, l);
      bgpChange = prepareBgp(rt, l);
    }));
  } catch (err) {
    rt.metrics.reloads.inc({ result: "error" });
    rt.log.error({ err }, `Reload failed, keeping the running configuration: ${(err as Error).message}`);
    throw err;
  }
  for (const w of [...loaded.warnings, ...plan.warnings]) rt.log.warn({}, w);
  rt.log.info({ virtualServers: plan.virtualServers.length }, "Reloading configuration");
  let operations = 0;
  const loop = rt.loop;
  if (rt.lvsEnabled && rt.runner && loop) {
    await applyTimeouts(rt, plan);
    await applyDestinationOptions(rt, plan);
    if (rt.sysctls?.ensure(plan, loaded.config.globalDefs.lvsDirectorSysctl === true)) await rt.saveState();
    const before = loop.passes;
    await rt.dispatch({ kind: "config", plan, localAddresses: rt.addressesFor(plan) });
    if (loop.passes > before && loop.lastPass) operations = loop.lastPass.operations;
    await rt.configureSync(plan, loaded.config);
  }
  await rt.vrrp?.reload(loaded.config);
  const bgp = await applyBgp(rt, bgpChange, plan);
  rt.metrics.reloads.inc({ result: "ok" });
  rt.changed();
  return {
    virtualServers: plan.virtualServers.length,
    warnings: [...loaded.warnings, ...plan.warnings],
    operations,
    ...(bgp ? { bgp } : {}),
  };
}

/**
 * Stop: checks and timers first, then (omega) the down notifiers, VRRP, the sync daemon; the
 * table stays unless `lvs_flush_on_stop` or `releaseOnStop` says otherwise.
 */
export async function stop(rt: DirectorRuntime): Promise<void> {
  if (rt.stopped) return;
  rt.stopped = true;
  rt.stopTimers();
  // Withdraw the VIPs first, so the routers move traffic away while we still serve it.
  await rt.bgp?.stop();
  rt.runner?.stop();
  await rt.api?.stop();
  await rt.loop?.stop();
  const lvs = rt.plan !== undefined && rt.lvsEnabled;
  if (lvs) await rt.dispatch({ kind: "stop" });
  await rt.vrrp?.stop().catch((err) => rt.log.warn({ err }, "VRRP stop failed"));
  await rt.sync?.shutdown();
  if (lvs && rt.dataplane) await rt.dispatch({ kind: "release", requested: rt.opts.releaseOnStop ?? false });
  await rt.effects.settled();
  rt.fifos.close();
  rt.sysctls?.restore();
  await rt.saveState();
  if (rt.ownsDataplane) rt.dataplane?.close();
  rt.log.info({}, "Stopped");
}

/** A dataplane whose table reads empty (what `lvs_flush` leaves), the rest passed through. */
function emptied(dataplane: Dataplane): Dataplane {
  return Object.assign(Object.create(dataplane) as Dataplane, { read: async () => [] });
}

/** Compute the operations a start would send, send nothing (`--dry-run`). */
export async function dryRun(rt: DirectorRuntime): Promise<Operation[]> {
  const { plan } = await loadPlan(rt);
  const state = await readStateFile(rt.statePath);
  rt.engine.handle({
    kind: "config",
    plan,
    overrides: new Map(Object.entries(state.overrides)),
    runtimeServers: state.runtimeServers ?? {},
    localAddresses: new Set(),
  });
  let dataplane: Dataplane;
  try {
    dataplane = await openDataplane(rt);
  } catch (err) {
    // No IPVS here (a workstation checking a file): what a start would do on an empty table.
    if (
      !(err instanceof IpvsError && err.code === "IPVS_NO_FAMILY") ||
      rt.opts.client ||
      typeof rt.opts.dataplane === "object"
    )
      throw err;
    rt.log.warn({}, "no IPVS in this kernel: the operations a start would perform on an empty table");
    dataplane = new IpvsDataplane(new MemoryIpvs());
  }
  // lvs_flush empties the table first: every service is then created from scratch.
  const reconciler = new Reconciler({
    dataplane: plan.lvsFlush ? emptied(dataplane) : dataplane,
    engine: { desired: (scope) => rt.engine.desired(scope) },
    owned: state.owned,
  });
  const report = await reconciler.pass({ dryRun: true });
  if (rt.ownsDataplane) dataplane.close();
  return report.operations;
}
