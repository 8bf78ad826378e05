// lvsctl up: run an lvs node from a keepalived.conf (or the native YAML), as keepalived does.
// The whole file (VRRP + virtual servers + checkers) and `--check` (keepalived --check) run the
// @lvs/director daemon; `--vrrp` runs only the VRRP part (keepalived --vrrp) on @lvs/vrrp, in a
// child process of its own (as keepalived's VRRP process) unless --vrrp-in-process, and serves the
// same runtime API (status and VRRP counters, reload; the LVS requests answer 409).
// Signals as keepalived: TERM/INT = clean stop (priority-0 adverts, VIPs removed), HUP = reload,
// USR1 = print the state as JSON on stderr.
import {
  ConfigError,
  formatIssue,
  IGNORED_CODES,
  ignoredCount,
  type LoadResult,
  loadConfig,
  type Script,
} from "@lvs/config";
import {
  type ApiLimits,
  ApiServer,
  alertsFromConfig,
  DirectorError,
  defaultSocketPath,
  runDaemon,
  runScript,
  type SmtpAlerts,
  vrrpInstanceStatus,
  vrrpOnlyApiHandlers,
} from "@lvs/director";
import {
  type ChildEvent,
  IsolatedRouter,
  type ReloadSummary,
  type RouterStatus,
  routerOptionsFromConfig,
  type StateChange,
  spawnIsolatedRouter,
  VrrpError,
  VrrpRouter,
  type VrrpRouterLike,
  type VrrpRouterOptions,
  vrrpSchedulingFromConfig,
} from "@lvs/vrrp";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type ApiServeFlags, addApiServeOptions, apiServeSettings } from "../api-serve-options.js";
import { DAEMON_NATIVE_ADDONS, preloadNativeAddons } from "../native-addon.js";
import { addSemiSpaceOption, restartWithSemiSpaceCap } from "../young-generation.js";

export interface UpOptions {
  useFile: string;
  vrrp?: boolean;
  /** --vrrp-in-process: the VRRP router in this process instead of a child (debugging). */
  vrrpInProcess?: boolean;
  netns?: string;
  configId?: string;
  json?: boolean;
  logDetail?: boolean;
  /** The runtime API `--vrrp` serves (absent: none). */
  api?: { socketPath?: string; listen?: string; token?: string; limits?: Partial<ApiLimits> };
}

/** One `up` mode: runs until `signal` resolves, then stops cleanly. */
export type UpMode = (o: UpOptions, log: Logger) => Promise<number>;

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function logger(json: boolean): Logger {
  const line = (level: string, msg: string, fields?: Record<string, unknown>) => {
    const out = level === "info" ? process.stdout : process.stderr;
    if (json) out.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
    else out.write(`${new Date().toISOString()} ${msg}\n`);
  };
  return {
    info: (m, f) => line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
  };
}

function load(o: UpOptions, log: Logger): LoadResult | undefined {
  try {
    const r = loadConfig(o.useFile, o.configId !== undefined ? { configId: o.configId } : {});
    for (const w of r.warnings) log.warn(formatIssue(w));
    return r;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const i of err.issues) log.error(formatIssue(i));
    return undefined;
  }
}

/** The configuration's VRRP part as router options, parsed here (never in the VRRP process). */
function routerOptions(o: UpOptions, log: Logger, r: LoadResult): VrrpRouterOptions | undefined {
  try {
    const { options, warnings } = routerOptionsFromConfig(r.config, {
      sources: r.sources,
      ...(o.netns !== undefined ? { netns: o.netns } : {}),
    });
    for (const w of warnings) log.warn(`${w.position ? `${w.position}: ` : ""}warning: ${w.message}`);
    return options;
  } catch (err) {
    if (!(err instanceof VrrpError)) throw err;
    log.error(`${err.context.position ? `${err.context.position}: ` : ""}${err.message} (${err.code})`);
    return undefined;
  }
}

/**
 * The router: by default in a child process (IsolatedRouter: nothing this process does — a big
 * reload's parsing — can delay an advert); `--vrrp-in-process` keeps it here (debugging).
 */
function build(o: UpOptions, log: Logger, loaded?: (r: LoadResult) => void): VrrpRouterLike | undefined {
  const r = load(o, log);
  if (!r) return undefined;
  loaded?.(r);
  const options = routerOptions(o, log, r);
  if (!options) return undefined;
  if (options.instances.length === 0) {
    log.error(`${o.useFile}: no vrrp_instance to run`);
    return undefined;
  }
  try {
    if (o.vrrpInProcess) return new VrrpRouter(options);
    // keepalived's vrrp_priority / vrrp_rt_priority for the VRRP child (lvs's default nice as root)
    const { nice, realtime } = vrrpSchedulingFromConfig(r.config.globalDefs);
    return spawnIsolatedRouter(options, {
      ...(nice !== undefined ? { priority: nice } : {}),
      ...(realtime !== undefined ? { realtimePriority: realtime } : {}),
    });
  } catch (err) {
    if (err instanceof VrrpError) {
      log.error(`${err.context.position ? `${err.context.position}: ` : ""}${err.message} (${err.code})`);
      return undefined;
    }
    throw err;
  }
}

function attach(
  router: VrrpRouterLike,
  o: UpOptions,
  log: Logger,
  since: Map<string, number>,
  alerts: SmtpAlerts | undefined,
): void {
  router.on("state", (s: StateChange) => {
    if (s.kind === "INSTANCE") since.set(s.name, Date.now());
    const to = s.to.toUpperCase();
    if (alerts && s.kind === "INSTANCE" && (to === "MASTER" || to === "BACKUP" || to === "FAULT"))
      alerts.vrrp(s.name, to);
    const who = s.kind === "GROUP" ? `VRRP_Group(${s.name})` : `(${s.name})`;
    log.info(
      `${who} Entering ${s.to.toUpperCase()} STATE${o.logDetail ? ` (${s.reason}, priority ${s.priority})` : ""}`,
      {
        kind: s.kind,
        name: s.name,
        from: s.from,
        to: s.to,
        priority: s.priority,
      },
    );
  });
  router.on("warning", (m: string) => log.warn(m));
  router.on("error", (e: VrrpError) => log.error(`${e.message} (${e.code})`, { code: e.code }));
  if (router instanceof IsolatedRouter)
    router.on("child", (c: ChildEvent) => {
      if (c.type === "spawned" && c.restart > 0)
        log.warn(`VRRP child process restarted (pid ${c.pid}, restart ${c.restart})`, { pid: c.pid });
    });
}

/**
 * Parse the file again here, then an in-place reload in the router (SIGHUP and the API's
 * /reload), as keepalived: unchanged instances keep running untouched, changed ones keep their
 * state; a file that does not load changes nothing and rejects with DIRECTOR_CONFIG.
 */
async function reloadFromFile(router: VrrpRouterLike, o: UpOptions, log: Logger): Promise<ReloadSummary> {
  const r = load(o, log);
  if (!r)
    throw new DirectorError("DIRECTOR_CONFIG", "the new configuration has errors; keeping the running one");
  const options = routerOptions(o, log, r);
  if (!options) throw new DirectorError("DIRECTOR_CONFIG", "keeping the running configuration");
  if (options.instances.length === 0) {
    throw new DirectorError(
      "DIRECTOR_CONFIG",
      `${o.useFile} has no vrrp_instance; keeping the running configuration`,
    );
  }
  try {
    return await router.reload(options);
  } catch (err) {
    const e = err as VrrpError;
    throw new DirectorError(
      "DIRECTOR_CONFIG",
      `${e.context?.position ? `${e.context.position}: ` : ""}${e.message} (${e.code}); keeping the running configuration`,
      { cause: err },
    );
  }
}

function reloadLine(s: ReloadSummary): string {
  const list = (names: readonly string[]) => (names.length ? names.join(" ") : "-");
  const i = s.instances;
  return `reloaded in place (unchanged: ${list(i.unchanged)}; updated: ${list(i.updated)}; added: ${list(i.added)}; removed: ${list(i.removed)})`;
}

/**
 * The runtime API of a VRRP-only node, started before the router so a socket in use (or a path
 * that isn't a socket) stops us before any VIP is taken. /status and /metrics ask an isolated
 * router's child for a fresh snapshot first.
 */
async function serveApi(
  router: VrrpRouterLike,
  o: UpOptions,
  log: Logger,
  since: Map<string, number>,
): Promise<ApiServer | undefined> {
  const serve = o.api;
  if (!serve?.socketPath && !serve?.listen) return undefined;
  let fresh: RouterStatus | undefined;
  const api = new ApiServer({
    ...(serve.socketPath ? { socketPath: serve.socketPath } : {}),
    ...(serve.listen ? { listen: serve.listen } : {}),
    ...(serve.token ? { token: serve.token } : {}),
    ...(serve.limits ? { limits: serve.limits } : {}),
    handlers: vrrpOnlyApiHandlers({
      configPath: o.useFile,
      ...(router instanceof IsolatedRouter
        ? {
            refresh: async () => {
              fresh = await router.fetchStatus().catch(() => router.status());
            },
          }
        : {}),
      states: () => (fresh ?? router.status()).instances.map((i) => vrrpInstanceStatus(i, since.get(i.name))),
      reload: async () => {
        const summary = await reloadFromFile(router, o, log);
        log.info(`API reload: ${reloadLine(summary)}`);
        return { virtualServers: 0, warnings: [], operations: 0, vrrp: summary };
      },
    }),
    onError: (err) => log.error(`API request failed: ${(err as Error).message}`),
  });
  await api.start();
  log.info(
    `Runtime API on ${[serve.socketPath, serve.listen].filter(Boolean).join(" and ")} (VRRP only: status, metrics, reload)`,
  );
  return api;
}

/** `lvsctl up --vrrp`: keepalived --vrrp. */
export const vrrpMode: UpMode = async (o, log) => {
  let alerts: SmtpAlerts | undefined;
  const router = build(o, log, (r) => {
    alerts = alertsFromConfig(r.config, (m, err) =>
      err
        ? log.warn(`SMTP alert "${m.subject}" not sent: ${err.message}`)
        : log.info(`SMTP alert sent: ${m.subject}`),
    );
  });
  if (!router) return 1;
  const since = new Map<string, number>();
  attach(router, o, log, since, alerts);
  let api: ApiServer | undefined;
  try {
    api = await serveApi(router, o, log, since);
  } catch (err) {
    const e = err as DirectorError;
    log.error(`${e.message}${e.code ? ` (${e.code})` : ""}`);
    return 1;
  }
  try {
    await router.start();
  } catch (err) {
    await api?.stop();
    if (!(err instanceof VrrpError)) throw err;
    log.error(`VRRP did not start: ${err.message} (${err.code})`, { code: err.code });
    return 1;
  }
  const where = router instanceof IsolatedRouter ? ` (VRRP child process ${router.pid})` : " (in process)";
  log.info(`VRRP started from ${o.useFile}${o.netns ? ` in ${o.netns}` : ""}${where}`);
  return new Promise<number>((resolve) => {
    let busy = false;
    const stop = async (sig: string) => {
      if (busy) return;
      busy = true;
      log.info(`${sig}: stopping (priority-0 adverts, addresses removed)`);
      await api?.stop();
      await router.stop();
      await alerts?.settled();
      for (const s of ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"] as const) process.removeAllListeners(s);
      resolve(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGUSR1", async () => {
      const status =
        router instanceof IsolatedRouter
          ? await router.fetchStatus().catch(() => router.status())
          : router.status();
      process.stderr.write(`${JSON.stringify(status, null, 2)}\n`);
    });
    process.on("SIGHUP", () => {
      if (busy) return;
      reloadFromFile(router, o, log).then(
        (summary) => log.info(`SIGHUP: ${reloadLine(summary)}`),
        (e: Error) => log.error(`SIGHUP: ${e.message}`),
      );
    });
  });
};

interface UpCommandOptions extends UpOptions, ApiServeFlags {
  check?: boolean;
  maxSemiSpace?: number;
  optimizeForSize?: boolean;
  heapReduceInterval?: number;
  socket: string | false;
  state?: string;
  listen?: string;
  dryRun?: boolean;
  strict?: boolean;
  logFormat?: "json" | "text";
  logLevel: string;
  reconcileInterval: number;
  releaseOnStop?: boolean;
  dataplane?: "auto" | "ipvs" | "proxy";
}

function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be seconds > 0`);
    return n;
  };
}

/**
 * `--strict`: what the file would have ignored (keywords lvs does not apply, unknown keywords,
 * VRRP settings the router does not do), printed with positions; false when there is any.
 */
export function strictCheck(file: string, configId: string | undefined): boolean {
  let r: LoadResult;
  try {
    r = loadConfig(file, configId !== undefined ? { configId } : {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const i of err.issues) process.stderr.write(`${formatIssue(i)}\n`);
    return false;
  }
  for (const w of r.warnings) if (IGNORED_CODES.has(w.code)) process.stderr.write(`${formatIssue(w)}\n`);
  let vrrpIgnored = 0;
  try {
    const { warnings } = routerOptionsFromConfig(r.config, { sources: r.sources });
    vrrpIgnored = warnings.length;
    for (const w of warnings)
      process.stderr.write(`${w.position ? `${w.position}: ` : ""}warning: ${w.message}\n`);
  } catch (err) {
    if (!(err instanceof VrrpError)) throw err;
    process.stderr.write(
      `${err.context.position ? `${err.context.position}: ` : ""}${err.message} (${err.code})\n`,
    );
    return false;
  }
  const n = ignoredCount(r) + vrrpIgnored;
  if (n > 0) process.stderr.write(`lvsctl up --strict: ${n} ignored in ${file}; not starting\n`);
  return n === 0;
}

/** keepalived's default startup_script_timeout / shutdown_script_timeout (seconds). */
const LIFECYCLE_SCRIPT_TIMEOUT_S = 10;

/** global_defs startup_script / shutdown_script (after script security), read once at start. */
function lifecycleScripts(
  file: string,
  configId: string | undefined,
): { startup?: Script; startupTimeoutS: number; shutdown?: Script; shutdownTimeoutS: number } | undefined {
  try {
    const g = loadConfig(file, configId !== undefined ? { configId } : {}).config.globalDefs;
    return {
      ...(g.startupScript ? { startup: g.startupScript } : {}),
      startupTimeoutS: g.startupScriptTimeout ?? LIFECYCLE_SCRIPT_TIMEOUT_S,
      ...(g.shutdownScript ? { shutdown: g.shutdownScript } : {}),
      shutdownTimeoutS: g.shutdownScriptTimeout ?? LIFECYCLE_SCRIPT_TIMEOUT_S,
    };
  } catch {
    return undefined; // the mode's own load reports the errors
  }
}

/** Run one and wait for it (keepalived waits for both, up to their timeouts). */
async function runLifecycleScript(name: string, script: Script, timeoutS: number): Promise<void> {
  const r = await runScript(script, { timeoutMs: timeoutS * 1000 });
  const how = r.error ?? (r.timedOut ? `timed out after ${timeoutS} s` : `exit ${r.code ?? r.signal}`);
  process.stderr.write(`${new Date().toISOString()} ${name} ${script.argv.join(" ")}: ${how}\n`);
}

export function register(program: Command): void {
  const up = program
    .command("up")
    .description(
      "run a keepalived.conf (or YAML) like keepalived: VRRP + virtual servers + checkers; --vrrp or --check for one half",
    )
    .option("-f, --use-file <file>", "configuration file", "/etc/keepalived/keepalived.conf")
    .option("-P, --vrrp", "only run the VRRP subsystem (keepalived --vrrp)")
    .option(
      "--vrrp-in-process",
      "run the VRRP router in this process, not in its own child process (debugging)",
    )
    .addOption(
      new Option(
        "--dataplane <kind>",
        "ipvs (the kernel's IPVS), proxy (@lvs/proxy, userspace: no IPVS or root needed) or auto: IPVS when the kernel has it and we may program it, else the proxy",
      )
        .choices(["auto", "ipvs", "proxy"])
        .default("auto"),
    )
    .option("-C, --check", "only run the LVS subsystem: virtual servers and checkers (keepalived --check)")
    .option("--netns <name>", "run inside this network namespace (a name under /run/netns or a path)")
    .option("-i, --config-id <id>", "config id for @ID lines (keepalived -i; default: host name)")
    .option(
      "--socket <path>",
      "runtime API socket (lvsctl status, drain …; root: /run/lvs/director.sock, other users: $XDG_RUNTIME_DIR/lvs/ or $TMPDIR/lvs-UID/)",
      defaultSocketPath(),
    )
    .option("--no-socket", "no runtime API socket")
    .option("--state <file>", "drains and runtime weights (default: <config>.state.json)")
    .option("--listen <host:port>", "also serve the API over TCP (needs --api-token-file or $LVS_API_TOKEN)");
  addSemiSpaceOption(addApiServeOptions(up))
    .option("--dry-run", "print the kernel operations the start would perform (ipvsadm -R syntax) and exit")
    .option(
      "--strict",
      "refuse to start when anything in the file would be ignored (lvsctl config check --strict)",
    )
    .addOption(
      new Option("--log-format <format>", "json (pino; the default) or text (keepalived style)").choices([
        "json",
        "text",
      ]),
    )
    .option("--json", "JSON log lines (same as --log-format json)")
    .option("--log-level <level>", "trace, debug, info, warn, error", "info")
    .option("-D, --log-detail", "--vrrp: log the reason and priority of each transition")
    .option(
      "--reconcile-interval <s>",
      "seconds between periodic reconcile passes",
      seconds("--reconcile-interval"),
      5,
    )
    .option(
      "--release-on-stop",
      "delete our virtual services at stop (keepalived without -R); default: leave them",
    )
    .action(async (o: UpCommandOptions) => {
      // First: the restart (same PID) must not say a warning or run the startup script twice.
      if (!o.dryRun) await restartWithSemiSpaceCap(o, "up");
      const logFormat = o.logFormat ?? (o.json ? "json" : o.vrrp ? "text" : "json");
      if (o.vrrp && o.check) {
        process.stderr.write("lvsctl up: --vrrp and --check exclude each other (neither = both)\n");
        process.exitCode = 2;
        return;
      }
      let api: ReturnType<typeof apiServeSettings>;
      try {
        api = apiServeSettings(o, (m) => process.stderr.write(`lvsctl up: warning: ${m}\n`));
      } catch (err) {
        process.stderr.write(`lvsctl up: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const { token, apiLimits, history } = api;
      if (o.strict && !strictCheck(o.useFile, o.configId)) {
        process.exitCode = 1;
        return;
      }
      preloadNativeAddons(DAEMON_NATIVE_ADDONS);
      const lifecycle = o.dryRun ? undefined : lifecycleScripts(o.useFile, o.configId);
      if (lifecycle?.startup)
        await runLifecycleScript("startup_script", lifecycle.startup, lifecycle.startupTimeoutS);
      const done = async () => {
        if (lifecycle?.shutdown)
          await runLifecycleScript("shutdown_script", lifecycle.shutdown, lifecycle.shutdownTimeoutS);
      };
      if (o.vrrp && !o.dryRun) {
        const serve = {
          ...(o.socket !== false ? { socketPath: o.socket } : {}),
          ...(o.listen ? { listen: o.listen } : {}),
          ...(token ? { token } : {}),
          ...(apiLimits ? { limits: apiLimits } : {}),
        };
        process.exitCode = await vrrpMode(
          { ...o, ...(serve.socketPath || serve.listen ? { api: serve } : {}) },
          logger(logFormat === "json"),
        );
        await done();
        return;
      }
      // The whole file (or --check): the director daemon, which also runs the VRRP part.
      process.exitCode = await runDaemon({
        configPath: o.useFile,
        ...(o.configId !== undefined ? { configId: o.configId } : {}),
        socketPath: o.socket === false ? null : o.socket,
        ...(o.state ? { statePath: o.state } : {}),
        ...(o.listen ? { listen: o.listen } : {}),
        ...(token ? { token } : {}),
        ...(apiLimits ? { apiLimits } : {}),
        ...(history ? { history } : {}),
        mode: o.check ? "check" : o.vrrp ? "vrrp" : "all",
        dryRun: o.dryRun ?? false,
        logFormat,
        logLevel: o.logLevel,
        reconcileIntervalMs: Math.max(100, o.reconcileInterval * 1000),
        releaseOnStop: o.releaseOnStop ?? false,
        ...(o.netns ? { netns: o.netns } : {}),
        dataplane: o.dataplane ?? "auto",
        ...(o.vrrpInProcess ? { vrrpInProcess: true } : {}),
      });
      await done();
    });
}
