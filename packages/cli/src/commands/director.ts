// lvsctl status / drain / undrain / weight / add-server / remove-server / enable / disable / reload: the running director's
// runtime API over its unix socket (@lvs/director does the work). `lvsctl director run -f FILE`
// (hidden) runs the daemon itself, as `lvsctl up -f FILE` will.
import { RS_WEIGHT_MAX } from "@lvs/config";
import {
  DirectorClient,
  type DirectorClientOptions,
  type DirectorDrainAnswer,
  type DirectorStatus,
  defaultSocketPath,
  type Explanation,
  formatStatus,
  formatWebState,
  runDaemon,
  watchState,
} from "@lvs/director";
import { Fmt, formatConnections } from "@lvs/ipvsadm";
import { type Command, InvalidArgumentError, Option } from "commander";
import {
  type ApiServeFlags,
  addApiServeOptions,
  apiServeSettings,
  readTokenFile,
} from "../api-serve-options.js";
import { DAEMON_NATIVE_ADDONS, preloadNativeAddons } from "../native-addon.js";
import { addSemiSpaceOption, restartWithSemiSpaceCap } from "../young-generation.js";

interface ApiOpts {
  socket: string;
  url?: string;
  token?: string;
  tokenFile?: string;
}

function apiOptions(cmd: Command): Command {
  return cmd
    .option(
      "--socket <path>",
      "the daemon's API socket (root: /run/lvs/director.sock; other users: $XDG_RUNTIME_DIR/lvs/ or $TMPDIR/lvs-UID/)",
      defaultSocketPath(),
    )
    .option("--url <url>", "talk to the API over TCP instead (http://HOST:PORT)")
    .option("--token-file <file>", "file holding the bearer token for --url (default: $LVS_API_TOKEN)")
    .option("--token <token>", "bearer token for --url; visible in /proc/PID/cmdline: prefer --token-file");
}

function clientOptions(o: ApiOpts): DirectorClientOptions {
  const warn = (m: string) => process.stderr.write(`lvsctl: warning: ${m}\n`);
  const token =
    o.tokenFile !== undefined
      ? readTokenFile(o.tokenFile, warn, "--token-file")
      : (o.token ?? process.env.LVS_API_TOKEN);
  return o.url ? { url: o.url, ...(token ? { token } : {}) } : { socketPath: o.socket };
}

function client(o: ApiOpts): DirectorClient {
  return new DirectorClient(clientOptions(o));
}

/** `status --watch`: the live view, redrawn in place on a terminal (appended otherwise); Ctrl-C ends it. */
async function watch(o: ApiOpts): Promise<void> {
  const tty = process.stdout.isTTY === true;
  const w = watchState(clientOptions(o), (s) => {
    // Cursor home + clear to the end: a redraw without the flicker of a full clear.
    process.stdout.write(tty ? `\x1b[H\x1b[J${formatWebState(s)}` : `${formatWebState(s)}\n`);
  });
  const stop = () => w.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await w.ended;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a number of seconds ≥ 0`);
    return n;
  };
}

function weightArg(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > RS_WEIGHT_MAX)
    throw new InvalidArgumentError(`--weight must be an integer 0..${RS_WEIGHT_MAX} (keepalived's range)`);
  return Number(v);
}

interface Described {
  virtualServer: string;
  realServer: string;
  override: { weight?: number; disabled?: boolean; drain?: { phase: string; deadline?: number } } | null;
}

/** What `drain --director` / `undrain --director` did, in one line. */
function directorDrainLine(r: DirectorDrainAnswer): string {
  const peers = `${r.peers.length} BGP peer${r.peers.length === 1 ? "" : "s"}`;
  if (r.drained) {
    const head = r.changed ? "director drained" : "director already drained";
    if (!r.bgp) return `${head} (no bgp: section: nothing announced to withdraw)`;
    return `${head}: ${r.withdrawn.length ? `withdrew ${r.withdrawn.join(" ")} from ${peers}` : "nothing announced"}; established connections keep being served`;
  }
  const head = r.changed ? "director undrained" : "director was not drained";
  if (!r.bgp) return `${head} (no bgp: section)`;
  return `${head}: ${r.announced.length ? `announcing ${r.announced.join(" ")} to ${peers}` : "nothing to announce (no virtual server with quorum, or announceWhenMaster)"}`;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `lvsctl explain`'s text: the answer, the rule, the candidates in list order, the caveats. */
function formatExplanation(e: Explanation): string {
  const out = [
    `${e.service} (${e.scheduler}): a new connection from ${e.client} goes to ${e.realServer ?? "nobody (no usable real server)"}${e.exact ? "" : " (see below)"}`,
    `  rule: ${e.rule}`,
  ];
  if (e.persistence) out.push(`  persistence: ${e.persistence.timeout} s, netmask /${e.persistence.netmask}`);
  out.push("  candidates (kernel list order):");
  for (const c of e.candidates) {
    const notes = [c.overloaded ? "OVERLOADED" : "", c.weight === 0 ? "weight 0: not scheduled" : ""].filter(
      Boolean,
    );
    out.push(
      `    ${c.realServer === e.realServer ? "→" : " "} ${c.realServer.padEnd(22)} weight ${c.weight}  active ${c.activeConns}  inactive ${c.inactiveConns}  overhead ${c.overhead}${notes.length ? `  [${notes.join(", ")}]` : ""}`,
    );
  }
  for (const c of e.caveats) out.push(`  note: ${c}`);
  return `${out.join("\n")}\n`;
}

export function register(program: Command): void {
  apiOptions(program.command("status"))
    .description(
      "the running director: services, real servers, weights, health, connections, drains (like ipvsadm -Ln)",
    )
    .option("--json", "the API's JSON as it is")
    .option(
      "-c, --connections",
      "the dataplane's connection table instead, as `ipvsadm -Lcn` prints it (IPVS or the proxy)",
    )
    .option(
      "--watch",
      "follow it live (pushed by the daemon, redrawn in place) with each server's check history",
    )
    .action(async (o: ApiOpts & { json?: boolean; connections?: boolean; watch?: boolean }) => {
      if (o.watch) return watch(o);
      if (o.connections) {
        const t = await client(o).connections();
        process.stdout.write(
          o.json ? `${JSON.stringify(t, null, 2)}\n` : formatConnections(t.connections, Fmt.NUMERIC),
        );
        return;
      }
      const st = await client(o).status();
      process.stdout.write(o.json ? `${JSON.stringify(st, null, 2)}\n` : formatStatus(st));
    });

  apiOptions(program.command("explain"))
    .description(
      "which real server a new connection from CLIENT gets right now, and why (the scheduler on the live table)",
    )
    .argument("<client>", "the client: IP[:PORT] or [IPv6][:PORT] (the port matters only to sh-port/mh-port)")
    .argument("<virtual-server>", "VIP:PORT, proto/VIP:PORT, [v6]:PORT, fwm:N or group:NAME")
    .option("--json", "the API's JSON as it is")
    .action(async (clientText: string, vs: string, o: ApiOpts & { json?: boolean }) => {
      const e = await client(o).explain(clientText, vs);
      process.stdout.write(o.json ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
    });

  apiOptions(program.command("drain"))
    .description(
      "weight 0 now, remove the real server once its active connections end (or after --timeout); with --director, drain the whole director (BGP)",
    )
    .argument("[virtual-server]", "VIP:PORT, proto/VIP:PORT, [v6]:PORT, fwm:N or group:NAME")
    .argument("[real-server]", "RIP:PORT or RIP")
    .option(
      "--director",
      "drain the whole director: withdraw every prefix the `bgp:` section announces (the routers stop sending new flows here) while IPVS keeps serving established connections; kept across restarts until `lvsctl undrain --director`",
    )
    .option(
      "--timeout <s>",
      "remove it after this many seconds even with connections left",
      seconds("--timeout"),
    )
    .option("--wait", "return only once it is removed")
    .addHelpText(
      "after",
      `
Examples:
  lvsctl drain 10.0.0.1:80 10.1.0.5:8080 --wait   one real server: weight 0, removed when its connections end
  lvsctl drain --director                         this director: BGP withdrawn, connections served
  lvsctl undrain --director                       announce again`,
    )
    .action(
      async (
        vs: string | undefined,
        rs: string | undefined,
        o: ApiOpts & { timeout?: number; wait?: boolean; director?: boolean },
      ) => {
        const c = client(o);
        if (o.director) {
          if (vs !== undefined || o.timeout !== undefined || o.wait)
            throw new Error(
              "--director drains the whole director: no virtual server, real server, --timeout or --wait",
            );
          print(directorDrainLine(await c.drainDirector()));
          return;
        }
        if (vs === undefined || rs === undefined)
          throw new Error("give a virtual server and a real server (lvsctl drain VS RS), or --director");
        const r = (await c.drain(vs, rs, o.timeout)) as Described;
        const phase = r.override?.drain?.phase ?? "drained";
        print(
          phase === "drained"
            ? `${r.realServer} drained from ${r.virtualServer}: no active connection, removed`
            : `${r.realServer} draining from ${r.virtualServer}: weight 0, removed when idle${o.timeout !== undefined ? ` or after ${o.timeout}s` : ""}`,
        );
        if (o.wait && phase !== "drained") {
          for (;;) {
            await new Promise((res) => setTimeout(res, 500));
            const st: DirectorStatus = await c.status();
            const d = st.drains.find(
              (x) => x.virtualServer === r.virtualServer && x.realServer === r.realServer,
            );
            if (!d) throw new Error(`the drain of ${r.realServer} was cancelled`);
            if (d.phase === "drained") {
              print(`${r.realServer} removed from ${r.virtualServer} (${d.doneReason ?? "done"})`);
              return;
            }
          }
        }
      },
    );

  apiOptions(program.command("undrain"))
    .description(
      "cancel a drain: the real server goes back to what its health says; with --director, announce over BGP again",
    )
    .argument("[virtual-server]", "VIP:PORT, proto/VIP:PORT, fwm:N or group:NAME")
    .argument("[real-server]", "RIP:PORT or RIP")
    .option("--director", "undo `lvsctl drain --director`: announce the VIPs with quorum over BGP again")
    .action(async (vs: string | undefined, rs: string | undefined, o: ApiOpts & { director?: boolean }) => {
      if (o.director) {
        if (vs !== undefined)
          throw new Error("--director undrains the whole director: no virtual server or real server");
        print(directorDrainLine(await client(o).undrainDirector()));
        return;
      }
      if (vs === undefined || rs === undefined)
        throw new Error("give a virtual server and a real server (lvsctl undrain VS RS), or --director");
      const r = (await client(o).undrain(vs, rs)) as Described;
      print(`${r.realServer} undrained in ${r.virtualServer}`);
    });

  apiOptions(program.command("weight"))
    .description(
      "set a real server's weight at runtime (kept across restarts); `default` for the configured one",
    )
    .argument("<virtual-server>", "VIP:PORT, proto/VIP:PORT, fwm:N or group:NAME")
    .argument("<real-server>", "RIP:PORT or RIP")
    .argument("<weight>", `0..${RS_WEIGHT_MAX} (keepalived's range) or default`)
    .action(async (vs: string, rs: string, w: string, o: ApiOpts) => {
      let weight: number | null;
      if (w === "default") weight = null;
      else if (/^\d+$/.test(w) && Number(w) <= RS_WEIGHT_MAX) weight = Number(w);
      else
        throw new Error(`weight must be an integer 0..${RS_WEIGHT_MAX} (keepalived's range) or \`default\``);
      const r = (await client(o).weight(vs, rs, weight)) as Described;
      print(`${r.realServer} in ${r.virtualServer}: weight ${weight === null ? "as configured" : weight}`);
    });

  apiOptions(program.command("add-server"))
    .description(
      "add a real server that is not in the configuration (kept across restarts and reloads, until `remove-server` or until the configuration names it)",
    )
    .argument("<virtual-server>", "VIP:PORT, proto/VIP:PORT, fwm:N or group:NAME")
    .argument("<real-server>", "RIP:PORT, or RIP (a NAT server then takes the virtual server's port)")
    .option("--weight <n>", `0..${RS_WEIGHT_MAX} (keepalived's range)`, weightArg, 1)
    .addHelpText(
      "after",
      "\nThe server forwards as its virtual server's lvs_method says and has no health check. Like\na drain, the addition is kept in the state file; a reload whose configuration names the same\nserver replaces it by the configured one.",
    )
    .action(async (vs: string, rs: string, o: ApiOpts & { weight: number }) => {
      const r = (await client(o).addServer(vs, rs, o.weight)) as {
        virtualServer: string;
        realServer: string;
        weight: number;
      };
      print(`${r.realServer} added to ${r.virtualServer} with weight ${r.weight}`);
    });

  apiOptions(program.command("remove-server"))
    .description(
      "remove a real server added with `add-server` (a configured one: edit the configuration, or disable/drain it)",
    )
    .argument("<virtual-server>", "VIP:PORT, proto/VIP:PORT, fwm:N or group:NAME")
    .argument("<real-server>", "RIP:PORT or RIP")
    .action(async (vs: string, rs: string, o: ApiOpts) => {
      const r = (await client(o).removeServer(vs, rs)) as Described;
      print(`${r.realServer} removed from ${r.virtualServer}`);
    });

  for (const verb of ["enable", "disable"] as const) {
    apiOptions(program.command(verb))
      .description(
        verb === "disable"
          ? "take a real server out of the pool (checks go on; kept across restarts)"
          : "put a disabled real server back (its health decides)",
      )
      .argument("<virtual-server>", "VIP:PORT, proto/VIP:PORT, fwm:N or group:NAME")
      .argument("<real-server>", "RIP:PORT or RIP")
      .action(async (vs: string, rs: string, o: ApiOpts) => {
        const c = client(o);
        const r = (await (verb === "enable" ? c.enable(vs, rs) : c.disable(vs, rs))) as Described;
        print(`${r.realServer} ${verb}d in ${r.virtualServer}`);
      });
  }

  apiOptions(program.command("reload"))
    .description("re-read the configuration and apply only the difference (like SIGHUP)")
    .action(async (o: ApiOpts) => {
      const r = (await client(o).reload()) as {
        virtualServers: number;
        warnings: string[];
        operations: number;
      };
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      print(`reloaded: ${r.virtualServers} virtual servers, ${r.operations} kernel operations`);
    });

  // `lvsctl director prep|restore` (netconf) may own the group already: add `run` to it, hidden.
  const director =
    program.commands.find((c) => c.name() === "director") ??
    program
      .command("director", { hidden: true })
      .description("run the director daemon (what `lvsctl up -f` runs)");
  const run = director
    .command("run", { hidden: true })
    .description("run the director in the foreground")
    .requiredOption("-f, --config <file>", "keepalived.conf (or YAML/JSON)")
    .option("--socket <path>", "API socket", defaultSocketPath())
    .option("--no-socket", "no API socket")
    .option("--state <file>", "state file (default: <config>.state.json)")
    .option("--listen <host:port>", "also serve the API over TCP (needs --api-token-file or $LVS_API_TOKEN)");
  addSemiSpaceOption(addApiServeOptions(run))
    .addOption(
      new Option("--mode <mode>", "all, check (LVS only) or vrrp")
        .choices(["all", "check", "vrrp"])
        .default("all"),
    )
    .option("--dry-run", "print the kernel operations a start would perform (ipvsadm -R syntax) and exit")
    .addOption(
      new Option("--log-format <format>", "json (pino) or text (keepalived style)")
        .choices(["json", "text"])
        .default("json"),
    )
    .option("--log-level <level>", "trace, debug, info, warn, error", "info")
    .option(
      "--reconcile-interval <s>",
      "seconds between full reconcile passes",
      seconds("--reconcile-interval"),
      5,
    )
    .option("--release-on-stop", "delete our services at stop, as keepalived does without -R")
    .option("--netns <name>", "program the IPVS of this network namespace")
    .addOption(
      new Option(
        "--dataplane <kind>",
        "ipvs, proxy (userspace, no IPVS or root needed) or auto: IPVS when the kernel has it and we may program it, else the proxy",
      )
        .choices(["auto", "ipvs", "proxy"])
        .default("auto"),
    )
    .option(
      "--vrrp-in-process",
      "run the VRRP router in this process, not in its own child process (debugging)",
    )
    .action(
      async (
        o: ApiServeFlags & {
          config: string;
          socket: string | false;
          state?: string;
          listen?: string;
          mode: "all" | "check" | "vrrp";
          dryRun?: boolean;
          logFormat: "json" | "text";
          logLevel: string;
          reconcileInterval: number;
          releaseOnStop?: boolean;
          netns?: string;
          dataplane: "auto" | "ipvs" | "proxy";
          vrrpInProcess?: boolean;
          maxSemiSpace?: number;
          optimizeForSize?: boolean;
          heapReduceInterval?: number;
        },
      ) => {
        // First: the restart (same PID) must not say a warning twice.
        if (!o.dryRun) await restartWithSemiSpaceCap(o, "director run");
        const { token, apiLimits, history } = apiServeSettings(o, (m) =>
          process.stderr.write(`lvsctl director run: warning: ${m}\n`),
        );
        preloadNativeAddons(DAEMON_NATIVE_ADDONS);
        const code = await runDaemon({
          configPath: o.config,
          socketPath: o.socket === false ? null : o.socket,
          ...(o.state ? { statePath: o.state } : {}),
          ...(o.listen ? { listen: o.listen } : {}),
          ...(token ? { token } : {}),
          ...(apiLimits ? { apiLimits } : {}),
          ...(history ? { history } : {}),
          mode: o.mode,
          dryRun: o.dryRun ?? false,
          logFormat: o.logFormat,
          logLevel: o.logLevel,
          reconcileIntervalMs: Math.max(100, o.reconcileInterval * 1000),
          releaseOnStop: o.releaseOnStop ?? false,
          ...(o.netns ? { netns: o.netns } : {}),
          dataplane: o.dataplane,
          ...(o.vrrpInProcess ? { vrrpInProcess: true } : {}),
        });
        process.exitCode = code;
      },
    );
}
