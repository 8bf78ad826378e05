// lvsctl check …: run one keepalived-style health check (or keep probing with --watch).
// The work lives in @lvs/healthcheck; this file only maps flags to its check definitions.
import { readFileSync } from "node:fs";
import {
  type CheckDefinition,
  DNS_TYPES,
  type DnsTypeName,
  describeCheck,
  HealthCheckRunner,
  type ProbeResult,
  parseStatusCodes,
  probe,
} from "@lvs/healthcheck";
import { type Command, InvalidArgumentError } from "commander";

function num(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number ${min}..${max}`);
    }
    return n;
  };
}
const intArg = (name: string, min: number, max: number) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
  }
  return Number(v);
};

interface CommonOpts {
  connectIp?: string;
  connectPort?: number;
  bindto?: string;
  bindPort?: number;
  bindIf?: string;
  connectTimeout?: number;
  watch?: boolean;
  rise?: number;
  fall?: number;
  delayLoop?: number;
  retry?: number;
  delayBeforeRetry?: number;
  count?: number;
}

function common(cmd: Command, needPort: boolean): Command {
  cmd.option("--connect-ip <ip>", "connect_ip: address to probe");
  if (needPort) cmd.option("--connect-port <port>", "connect_port", intArg("--connect-port", 1, 65535));
  return cmd
    .option("--bindto <ip>", "bindto: local source address")
    .option("--bind-port <port>", "bind_port: local source port", intArg("--bind-port", 1, 65535))
    .option("--bind-if <ifname>", "bind_if: send and receive through this interface only (SO_BINDTODEVICE)")
    .option(
      "--connect-timeout <s>",
      "connect_timeout in seconds (default 5)",
      num("--connect-timeout", 0.001, 3600),
    )
    .option("--watch", "keep probing, printing each result and every UP/DOWN transition")
    .option("--rise <n>", "with --watch: successes to go UP (default 1)", intArg("--rise", 1, 1000))
    .option("--fall <n>", "with --watch: failed rounds to go DOWN (default 1)", intArg("--fall", 1, 1000))
    .option(
      "--delay-loop <s>",
      "with --watch: seconds between checks (default 5)",
      num("--delay-loop", 0.01, 86400),
    )
    .option(
      "--retry <n>",
      "with --watch: retries before a failure counts (default 0)",
      intArg("--retry", 0, 1000),
    )
    .option(
      "--delay-before-retry <s>",
      "with --watch: seconds between retries (default 1)",
      num("--delay-before-retry", 0, 3600),
    )
    .option("--count <n>", "with --watch: stop after n probes", intArg("--count", 1, 2 ** 31));
}

function base(o: CommonOpts, needPort: boolean) {
  if (!o.connectIp) throw new InvalidArgumentError("--connect-ip is required");
  if (needPort && o.connectPort === undefined) throw new InvalidArgumentError("--connect-port is required");
  return {
    connectIp: o.connectIp,
    ...(o.connectPort !== undefined ? { connectPort: o.connectPort } : {}),
    ...(o.bindto !== undefined ? { bindto: o.bindto } : {}),
    ...(o.bindPort !== undefined ? { bindPort: o.bindPort } : {}),
    ...(o.bindIf !== undefined ? { bindIf: o.bindIf } : {}),
    ...(o.connectTimeout !== undefined ? { connectTimeout: o.connectTimeout } : {}),
  };
}

const fmt = (r: ProbeResult) =>
  `${r.reason} in ${r.latencyMs.toFixed(1)} ms${r.weight !== undefined ? ` weight ${r.weight}` : ""}`;

async function run(def: CheckDefinition, o: CommonOpts): Promise<void> {
  const label = describeCheck(def);
  if (!o.watch) {
    const r = await probe(def, { miscDefaultTimeout: o.connectTimeout ?? 5 });
    process.stdout.write(`${r.up ? "UP" : "DOWN"} ${label} ${fmt(r)}\n`);
    process.exitCode = r.up ? 0 : 1;
    return;
  }
  let probes = 0;
  let up = false; // alpha: DOWN until `rise` successes
  await new Promise<void>((resolve) => {
    const runner = new HealthCheckRunner({
      onResult: (_id, r) => {
        probes++;
        process.stdout.write(`${r.up ? "ok" : "fail"} ${label} ${fmt(r)}\n`);
      },
      onEvent: (ev) => {
        up = ev.kind === "up";
        process.stdout.write(`${ev.kind.toUpperCase()} ${label} ${ev.reason}\n`);
      },
    });
    const policy = {
      alpha: true,
      rise: o.rise ?? 1,
      fall: o.fall ?? 1,
      delayLoop: o.delayLoop ?? 5,
      retry: o.retry ?? 0,
      delayBeforeRetry: o.delayBeforeRetry ?? 1,
    };
    const done = () => {
      runner.stop();
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
    const timer = setInterval(() => {
      if (o.count !== undefined && probes >= o.count) {
        clearInterval(timer);
        done();
      }
    }, 5);
    runner.configure([{ id: label, check: def, policy }]);
  });
  process.exitCode = up ? 0 : 1;
}

function action<T>(build: (opts: T & CommonOpts, args: string[]) => CheckDefinition) {
  return async function (this: Command, ...args: unknown[]) {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.opts() as T & CommonOpts;
    const positional = args.slice(0, -2).flat() as string[];
    let def: CheckDefinition;
    try {
      def = build(opts, positional);
    } catch (err) {
      return cmd.error(`error: ${(err as Error).message}`, { exitCode: 2 });
    }
    await run(def, opts);
  };
}

export function register(program: Command): void {
  const check = program
    .command("check")
    .description("run one health check (keepalived's checkers); exit 0 = up, 1 = down");

  common(check.command("tcp").description("TCP_CHECK: connect"), true).action(
    action((o) => ({ type: "tcp", ...base(o, true) }) as CheckDefinition),
  );

  for (const type of ["http", "https"] as const) {
    common(check.command(type).description(`${type === "http" ? "HTTP_GET" : "SSL_GET"}: GET a url`), true)
      .requiredOption("--url <url>", `${type}://IP[:port]/path (sets connect_ip, connect_port, path)`)
      .option("--status-code <codes>", "status_code: e.g. 200, 200-299, 200,301-302 (default 200-299)")
      .option("--digest <md5>", "digest: hex MD5 of the body")
      .option("--regex <re>", "regex the body must match")
      .option("--regex-no-match", "regex_no_match: the body must NOT match --regex")
      .option("--virtualhost <host>", "virtualhost: Host header (and SNI with --enable-sni)")
      .option("--http-protocol <v>", "http_protocol: 1.0, 1.0C or 1.1 (default 1.0)")
      .option("--enable-sni", "enable_sni")
      .option("--tls-verify", "verify the server certificate (off by default, as keepalived)")
      .option("--ca <file>", "PEM CA file for --tls-verify")
      .action(
        action<{
          url: string;
          statusCode?: string;
          digest?: string;
          regex?: string;
          regexNoMatch?: boolean;
          virtualhost?: string;
          httpProtocol?: string;
          enableSni?: boolean;
          tlsVerify?: boolean;
          ca?: string;
        }>((o) => {
          let u: URL;
          try {
            u = new URL(o.url);
          } catch {
            throw new Error(`--url "${o.url}" is not a URL; write ${type}://127.0.0.1:8080/health`);
          }
          if (u.protocol !== `${type}:`) throw new Error(`--url must start with ${type}://`);
          if (o.httpProtocol !== undefined && !["1.0", "1.0C", "1.1"].includes(o.httpProtocol)) {
            throw new Error("--http-protocol must be 1.0, 1.0C or 1.1");
          }
          const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
          return {
            type,
            ...base(
              {
                ...o,
                connectIp: o.connectIp ?? host,
                connectPort: o.connectPort ?? (u.port ? Number(u.port) : type === "http" ? 80 : 443),
              },
              true,
            ),
            url: [
              {
                path: `${u.pathname}${u.search}`,
                ...(o.statusCode !== undefined ? { statusCode: parseStatusCodes(o.statusCode) } : {}),
                ...(o.digest !== undefined ? { digest: o.digest } : {}),
                ...(o.regex !== undefined ? { regex: o.regex } : {}),
                ...(o.regexNoMatch ? { regexNoMatch: true } : {}),
              },
            ],
            ...(o.virtualhost !== undefined ? { virtualhost: o.virtualhost } : {}),
            ...(o.httpProtocol !== undefined
              ? { httpProtocol: o.httpProtocol as "1.0" | "1.0C" | "1.1" }
              : {}),
            ...(o.enableSni ? { enableSni: true } : {}),
            ...(o.tlsVerify ? { tlsVerify: true } : {}),
            ...(o.ca !== undefined ? { ca: readFileSync(o.ca, "utf8") } : {}),
          } as CheckDefinition;
        }),
      );
  }

  common(
    check.command("misc").description("MISC_CHECK: run a program (argv, no shell): exit 0 up, 1 down"),
    false,
  )
    .argument("<argv...>", "misc_path as separate words (use -- before the program)")
    .option(
      "--misc-timeout <s>",
      "misc_timeout in seconds (default: --connect-timeout or 5)",
      num("--misc-timeout", 0.001, 86400),
    )
    .option("--misc-dynamic", "misc_dynamic: exit 2..255 = up with weight = status - 2")
    .option("--user <uid[:gid]>", "user: run as this numeric uid[:gid]")
    .action(
      action<{ miscTimeout?: number; miscDynamic?: boolean; user?: string }>((o, argv) => {
        let user: { uid: number; gid?: number } | undefined;
        if (o.user !== undefined) {
          const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
          if (!m) throw new Error(`--user "${o.user}" must be UID or UID:GID (numeric)`);
          user = { uid: Number(m[1]), ...(m[2] !== undefined ? { gid: Number(m[2]) } : {}) };
        }
        return {
          type: "misc",
          miscPath: argv,
          ...(o.miscTimeout !== undefined
            ? { miscTimeout: o.miscTimeout }
            : o.connectTimeout !== undefined
              ? { miscTimeout: o.connectTimeout }
              : {}),
          ...(o.miscDynamic ? { miscDynamic: true } : {}),
          ...(user ? { user } : {}),
        };
      }),
    );

  common(check.command("udp").description("UDP_CHECK: send payload; ICMP unreachable = down"), true)
    .option("--payload <hex>", "payload as hex (default 00)")
    .option("--require-reply [hex]", "require a reply (matching hex, ?? = any byte)")
    .action(
      action<{ payload?: string; requireReply?: string | boolean }>(
        (o) =>
          ({
            type: "udp",
            ...base(o, true),
            ...(o.payload !== undefined ? { payload: o.payload } : {}),
            ...(o.requireReply !== undefined ? { requireReply: o.requireReply } : {}),
          }) as CheckDefinition,
      ),
    );

  common(check.command("icmp").description("PING_CHECK: ICMP echo (needs CAP_NET_RAW)"), false).action(
    action((o) => ({ type: "icmp", ...base(o, false) }) as CheckDefinition),
  );

  common(check.command("dns").description("DNS_CHECK: one query; up on NOERROR"), true)
    .option("--type <type>", `query type: ${Object.keys(DNS_TYPES).join(", ")} (default A)`)
    .option("--name <name>", "name to query (default .)")
    .action(
      action<{ type?: string; name?: string }>((o) => {
        const t = o.type?.toUpperCase();
        if (t !== undefined && !(t in DNS_TYPES))
          throw new Error(`--type "${o.type}" unknown; use one of ${Object.keys(DNS_TYPES).join(", ")}`);
        return {
          type: "dns",
          ...base({ ...o, connectPort: o.connectPort ?? 53 }, true),
          ...(t !== undefined ? { queryType: t as DnsTypeName } : {}),
          ...(o.name !== undefined ? { name: o.name } : {}),
        } as CheckDefinition;
      }),
    );

  common(check.command("smtp").description("SMTP_CHECK: banner 220, HELO → 250"), true)
    .option("--helo-name <name>", "helo_name (default localhost)")
    .action(
      action<{ heloName?: string }>(
        (o) =>
          ({
            type: "smtp",
            ...base({ ...o, connectPort: o.connectPort ?? 25 }, true),
            ...(o.heloName !== undefined ? { heloName: o.heloName } : {}),
          }) as CheckDefinition,
      ),
    );
}
