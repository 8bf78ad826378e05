// lvsctl up: run an lvs node from a keepalived.conf (or the native YAML), as keepalived does.
// The whole file (VRRP + virtual servers + checkers) and `--check` (keepalived --check) run the
// @lvs/director daemon; `--vrrp` runs only the VRRP part (keepalived --vrrp) on @lvs/vrrp, in a
// child process of its own (as keepalived's VRRP process) unless --vrrp-in-process.
// Signals as keepalived: TERM/INT = clean stop (priority-0 adverts, VIPs removed), HUP = reload,
// USR1 = print the state as JSON on stderr.
import { ConfigError, formatIssue, type LoadResult, loadConfig } from "@lvs/config";
import { DEFAULT_SOCKET_PATH, runDaemon } from "@lvs/director";
import {
  type ChildEvent,
  IsolatedRouter,
  routerOptionsFromConfig,
  type StateChange,
  spawnIsolatedRouter,
  VrrpError,
  VrrpRouter,
  type VrrpRouterLike,
  type VrrpRouterOptions,
} from "@lvs/vrrp";
import { type Command, InvalidArgumentError, Option } from "commander";

export interface UpOptions {
  useFile: string;
  vrrp?: boolean;
  /** --vrrp-in-process: the VRRP router in this process instead of a child (debugging). */
  vrrpInProcess?: boolean;
  netns?: string;
  configId?: string;
  json?: boolean;
  logDetail?: boolean;
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
function build(o: UpOptions, log: Logger): VrrpRouterLike | undefined {
  const r = load(o, log);
  if (!r) return undefined;
  const options = routerOptions(o, log, r);
  if (!options) return undefined;
  if (options.instances.length === 0) {
    log.error(`${o.useFile}: no vrrp_instance to run`);
    return undefined;
  }
  try {
    return o.vrrpInProcess ? new VrrpRouter(options) : spawnIsolatedRouter(options);
  } catch (err) {
    if (err instanceof VrrpError) {
      log.error(`${err.context.position ? `${err.context.position}: ` : ""}${err.message} (${err.code})`);
      return undefined;
    }
    throw err;
  }
}

function attach(router: VrrpRouterLike, o: UpOptions, log: Logger): void {
  router.on("state", (s: StateChange) => {
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

/** SIGHUP: parse the file again here, then an in-place reload in the router. */
function reloadFromFile(router: VrrpRouterLike, o: UpOptions, log: Logger): void {
  // As keepalived: unchanged instances keep running untouched, changed ones keep their state;
  // a file that does not load changes nothing.
  const r = load(o, log);
  if (!r) {
    log.error("SIGHUP: the new configuration has errors; keeping the running one");
    return;
  }
  const options = routerOptions(o, log, r);
  if (!options) {
    log.error("SIGHUP: keeping the running configuration");
    return;
  }
  if (options.instances.length === 0) {
    log.error(`SIGHUP: ${o.useFile} has no vrrp_instance; keeping the running configuration`);
    return;
  }
  router.reload(options).then(
    (s) => {
      const list = (names: readonly string[]) => (names.length ? names.join(" ") : "-");
      const i = s.instances;
      log.info(
        `SIGHUP: reloaded in place (unchanged: ${list(i.unchanged)}; updated: ${list(i.updated)}; added: ${list(i.added)}; removed: ${list(i.removed)})`,
      );
    },
    (e: VrrpError) =>
      log.error(
        `${e.context?.position ? `${e.context.position}: ` : ""}${e.message} (${e.code}); keeping the running configuration`,
      ),
  );
}

/** `lvsctl up --vrrp`: keepalived --vrrp. */
export const vrrpMode: UpMode = async (o, log) => {
  const router = build(o, log);
  if (!router) return 1;
  attach(router, o, log);
  try {
    await router.start();
  } catch (err) {
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
      await router.stop();
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
      if (!busy) reloadFromFile(router, o, log);
    });
  });
};

interface UpCommandOptions extends UpOptions {
  check?: boolean;
  socket: string | false;
  state?: string;
  listen?: string;
  apiToken?: string;
  dryRun?: boolean;
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

export function register(program: Command): void {
  program
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
    .option("--socket <path>", "runtime API socket (lvsctl status, drain …)", DEFAULT_SOCKET_PATH)
    .option("--no-socket", "no runtime API socket")
    .option("--state <file>", "drains and runtime weights (default: <config>.state.json)")
    .option("--listen <host:port>", "also serve the API over TCP (needs --api-token or $LVS_API_TOKEN)")
    .option("--api-token <token>", "bearer token for --listen")
    .option("--dry-run", "print the kernel operations the start would perform (ipvsadm -R syntax) and exit")
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
      const logFormat = o.logFormat ?? (o.json ? "json" : o.vrrp ? "text" : "json");
      if (o.vrrp && o.check) {
        process.stderr.write("lvsctl up: --vrrp and --check exclude each other (neither = both)\n");
        process.exitCode = 2;
        return;
      }
      if (o.vrrp && !o.dryRun) {
        process.exitCode = await vrrpMode(o, logger(logFormat === "json"));
        return;
      }
      // The whole file (or --check): the director daemon, which also runs the VRRP part.
      const token = o.apiToken ?? process.env.LVS_API_TOKEN;
      process.exitCode = await runDaemon({
        configPath: o.useFile,
        ...(o.configId !== undefined ? { configId: o.configId } : {}),
        socketPath: o.socket === false ? null : o.socket,
        ...(o.state ? { statePath: o.state } : {}),
        ...(o.listen ? { listen: o.listen } : {}),
        ...(token ? { token } : {}),
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
    });
}
