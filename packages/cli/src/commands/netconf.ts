// lvsctl realserver up|down, lvsctl director prep|restore, lvsctl garp: network setup around IPVS.
// The work lives in @lvs/netconf; this file maps flags to its calls and prints its reports.
import {
  Announcer,
  directorPrep,
  directorRestore,
  formatReport,
  NetconfError,
  type ProfileReport,
  type ProfileRunOptions,
  parseIpList,
  realServerDown,
  realServerUp,
} from "@lvs/netconf";
import { type Command, InvalidArgumentError, Option } from "commander";

interface CommonOpts {
  netns?: string;
  stateFile?: string;
  dryRun?: boolean;
  json?: boolean;
}

const vipArg = (v: string, prev: string[] = []): string[] => {
  try {
    return [...prev, ...parseIpList(v).map((p) => p.text)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const listArg = (v: string, prev: string[] = []): string[] => [
  ...prev,
  ...v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

const sysctlArg = (v: string, prev: Record<string, string> = {}): Record<string, string> => {
  const eq = v.indexOf("=");
  if (eq <= 0)
    throw new InvalidArgumentError(
      `--sysctl takes key=value (e.g. net.ipv4.vs.expire_nodest_conn=1), not ${v}`,
    );
  return { ...prev, [v.slice(0, eq).trim()]: v.slice(eq + 1).trim() };
};

const numArg = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${name} must be a number ${min}..${max}`);
  }
  return n;
};

const intArg = (name: string, min: number, max: number) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
  }
  return Number(v);
};

function common(cmd: Command, dryRun = true): Command {
  cmd
    .option("--netns <ns>", "network namespace to work in (name under /run/netns, or a path)")
    .option("--state-file <file>", "record of changes (default /var/lib/lvs/netconf/<role>[-<netns>].json)");
  if (dryRun) cmd.option("--dry-run", "print the changes, make none");
  return cmd.option("--json", "print the report as JSON");
}

function runOpts(o: CommonOpts): ProfileRunOptions {
  return {
    ...(o.netns !== undefined ? { netns: o.netns } : {}),
    ...(o.stateFile !== undefined ? { stateFile: o.stateFile } : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
  };
}

function print(report: ProfileReport, o: CommonOpts): void {
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
}

/** NetconfError → one line on stderr naming the code, exit status 1. */
async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof NetconfError) {
      process.stderr.write(`lvsctl: ${err.message} (${err.code})\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

export function register(program: Command): void {
  const rs = program
    .command("realserver")
    .description("prepare this host (or a netns) as an LVS real server: VIPs, ARP sysctls; and undo it");

  common(
    rs
      .command("up")
      .description(
        "DR: VIPs on lo /32 (/128), arp_ignore=1 arp_announce=2 on all and lo; TUN: VIPs on tunl0, rp_filter relaxed",
      )
      .requiredOption("--vip <ip[,ip…]>", "virtual IP(s), IPv4 and/or IPv6 (repeatable)", vipArg)
      .addOption(new Option("--mode <mode>", "forwarding method").choices(["dr", "tun"]).default("dr"))
      .option("--label <label>", "IPv4 address label for the VIPs (e.g. lo:vip)"),
  ).action(async (o: CommonOpts & { vip: string[]; mode: "dr" | "tun"; label?: string }) =>
    guarded(async () => {
      print(
        await realServerUp(
          { mode: o.mode, vips: o.vip, ...(o.label !== undefined ? { label: o.label } : {}) },
          runOpts(o),
        ),
        o,
      );
    }),
  );

  common(
    rs
      .command("down")
      .description(
        "remove the VIPs (all recorded, or those given) and restore every sysctl value changed by `up`",
      )
      .option(
        "--vip <ip[,ip…]>",
        "only these VIPs (sysctls are restored once no recorded VIP remains)",
        vipArg,
      ),
  ).action(async (o: CommonOpts & { vip?: string[] }) =>
    guarded(async () => {
      print(await realServerDown(o.vip ? { vips: o.vip } : {}, runOpts(o)), o);
    }),
  );

  const dir = program
    .command("director")
    .description("prepare this host (or a netns) as an LVS director; and undo it");
  common(
    dir
      .command("prep")
      .description("nat: ip_forward=1; nat|dr|tun: send_redirects=0 on all, default and --dev interfaces")
      .addOption(
        new Option("--mode <mode>", "forwarding method").choices(["nat", "dr", "tun"]).makeOptionMandatory(),
      )
      .option("--dev <if[,if…]>", "interfaces that also get send_redirects=0 (repeatable)", listArg)
      .option("--ipv6", "nat with IPv6 services: net.ipv6.conf.all.forwarding=1")
      .option(
        "--sysctl <key=value>",
        "another setting (repeatable; net.ipv4.vs.* skipped when IPVS is not loaded)",
        sysctlArg,
      ),
  ).action(
    async (
      o: CommonOpts & {
        mode: "nat" | "dr" | "tun";
        dev?: string[];
        ipv6?: boolean;
        sysctl?: Record<string, string>;
      },
    ) =>
      guarded(async () => {
        print(
          await directorPrep(
            {
              mode: o.mode,
              ...(o.dev ? { devices: o.dev } : {}),
              ...(o.ipv6 ? { ipv6: true } : {}),
              ...(o.sysctl ? { sysctls: o.sysctl } : {}),
            },
            runOpts(o),
          ),
          o,
        );
      }),
  );
  common(
    dir.command("restore").description("put back every sysctl value `director prep` changed, exactly"),
  ).action(async (o: CommonOpts) =>
    guarded(async () => {
      print(await directorRestore(runOpts(o)), o);
    }),
  );

  program
    .command("garp")
    .description("announce addresses: gratuitous ARP for IPv4, unsolicited neighbour advertisement for IPv6")
    .requiredOption("--dev <if>", "interface to send on")
    .requiredOption("--ip <ip[,ip…]>", "address(es) to announce (repeatable)", vipArg)
    .option("--count <n>", "frames per address (default 1)", intArg("--count", 1, 1000))
    .option(
      "--interval <s>",
      "seconds between repeats of one address (default 0)",
      numArg("--interval", 0, 3600),
    )
    .option(
      "--pacing <ms>",
      "least milliseconds between two frames on the interface (default 0)",
      numArg("--pacing", 0, 60000),
    )
    .addOption(
      new Option("--form <form>", "gratuitous ARP form")
        .choices(["request", "reply", "both"])
        .default("request"),
    )
    .option("--netns <ns>", "network namespace to send from")
    .action(
      async (o: {
        dev: string;
        ip: string[];
        count?: number;
        interval?: number;
        pacing?: number;
        form: "request" | "reply" | "both";
        netns?: string;
      }) =>
        guarded(async () => {
          const a = new Announcer({
            ...(o.netns !== undefined ? { netns: o.netns } : {}),
            ...(o.pacing !== undefined ? { pacingMs: o.pacing } : {}),
          });
          try {
            const r = await a.announce(o.dev, o.ip, {
              count: o.count ?? 1,
              intervalMs: (o.interval ?? 0) * 1000,
              form: o.form,
            });
            process.stdout.write(`sent ${r.sent} frame${r.sent === 1 ? "" : "s"} on ${o.dev}\n`);
          } finally {
            a.close();
          }
        }),
    );
}
