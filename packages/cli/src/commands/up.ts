// lvsctl up: run an lvs node from a keepalived.conf (or the native YAML), as keepalived does.
// The whole file (VRRP + virtual servers + checkers) and `--check` (keepalived --check) run the
// @lvs/director daemon; `--vrrp` runs only the VRRP part (keepalived --vrrp) on @lvs/vrrp.
// Signals as keepalived: TERM/INT = clean stop (priority-0 adverts, VIPs removed), HUP = reload,
// USR1 = print the state as JSON on stderr.
import { ConfigError, formatIssue, type LoadResult, loadConfig } from "@lvs/config";
import { DEFAULT_SOCKET_PATH, runDaemon } from "@lvs/director";
import { routerOptionsFromConfig, type StateChange, VrrpError, VrrpRouter } from "@lvs/vrrp";
import { type Command, InvalidArgumentError, Option } from "commander";

export interface UpOptions {
  useFile: string;
  vrrp?: boolean;
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

function build(o: UpOptions, log: Logger): VrrpRouter | undefined {
  const r = load(o, log);
  if (!r) return undefined;
  try {
    const { options, warnings } = routerOptionsFromConfig(r.config, {
      sources: r.sources,
      ...(o.netns !== undefined ? { netns: o.netns } : {}),
    });
    for (const w of warnings) log.warn(`${w.position ? `${w.position}: ` : ""}warning: ${w.message}`);
    if (options.instances.length === 0) {
      log.error(`${o.useFile}: no vrrp_instance to run`);
      return undefined;
    }
    return new VrrpRouter(options);
  } catch (err) {
    if (err instanceof VrrpError) {
      log.error(`${err.context.position ? `${err.context.position}: ` : ""}${err.message} (${err.code})`);
      return undefined;
    }
    throw err;
  }
}

function attach(router: VrrpRouter, o: UpOptions, log: Logger): void {
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
}

/** `lvsctl up --vrrp`: keepalived --vrrp. */
export const vrrpMode: UpMode = async (o, log) => {
  const router = build(o, log);
  if (!router) return 1;
  attach(router, o, log);
  await router.start();
  log.info(`VRRP started from ${o.useFile}${o.netns ? ` in ${o.netns}` : ""}`);
  return new Promise<number>((resolve) => {
    let busy = false;
    const stop = async (sig: string) => {
      if (busy) return;
      busy = true;
      log.info(`${sig}: stopping (priority-0 adverts, addresses removed)`);
      await router?.stop();
      for (const s of ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"] as const) process.removeAllListeners(s);
      resolve(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGUSR1", () => process.stderr.write(`${JSON.stringify(router?.status(), null, 2)}\n`));
    process.on("SIGHUP", () => {
      if (busy || !router) return;
      // In-place reload, as keepalived: unchanged instances keep running untouched, changed
      // ones keep their state; a file that does not load changes nothing.
      const r = load(o, log);
      if (!r) {
        log.error("SIGHUP: the new configuration has errors; keeping the running one");
        return;
      }
      let options: ReturnType<typeof routerOptionsFromConfig>["options"];
      try {
        const built = routerOptionsFromConfig(r.config, {
          sources: r.sources,
          ...(o.netns !== undefined ? { netns: o.netns } : {}),
        });
        for (const w of built.warnings)
          log.warn(`${w.position ? `${w.position}: ` : ""}warning: ${w.message}`);
        options = built.options;
      } catch (err) {
        if (!(err instanceof VrrpError)) throw err;
        log.error(
          `${err.context.position ? `${err.context.position}: ` : ""}${err.message} (${err.code}); keeping the running configuration`,
        );
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
      });
    });
}
