// lvsctl sched pick: which real server the kernel's scheduler gives each client (@lvs/scheduler
// makes the decisions; this file maps flags to a Service and streams stdin to stdout).
import { createInterface } from "node:readline";
import { parseEndpoint, SCHEDULER_NAMES, SchedulerError, Service, type ServiceOptions } from "@lvs/scheduler";
import { type Command, InvalidArgumentError } from "commander";

interface PickOpts {
  scheduler: string;
  schedFlags?: string;
  persistent?: string | true;
  netmask?: string;
  service?: string;
  realServer: string[];
  mhTableIndex?: number;
  seed?: number;
}

const intArg = (name: string, min: number, max: number) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
  }
  return Number(v);
};

/** `tcp:VIP:PORT`, `udp:[V6]:PORT`, `sctp:…`, or `fwmark:N`. */
function parseService(text: string, family: 4 | 6): Partial<ServiceOptions> {
  const fw = /^fwmark:(\d+)$/i.exec(text);
  if (fw) return { fwmark: Number(fw[1]), family };
  const m = /^(tcp|udp|sctp):(.+)$/i.exec(text);
  if (!m)
    throw new InvalidArgumentError(`--service ${text}: write PROTO:VIP:PORT (tcp, udp, sctp) or fwmark:N`);
  const ep = parseEndpoint(m[2] as string);
  return {
    protocol: (m[1] as string).toLowerCase() as ServiceOptions["protocol"],
    address: ep.address.text,
    port: ep.port,
  };
}

/** `IP:PORT[@WEIGHT]`, IPv6 in brackets. */
function parseReal(text: string): { address: string; port: number; weight: number; af: number } {
  const at = text.lastIndexOf("@");
  const ep = parseEndpoint(at >= 0 ? text.slice(0, at) : text);
  let weight = 1;
  if (at >= 0) {
    const w = text.slice(at + 1);
    if (!/^\d{1,10}$/.test(w) || Number(w) > 2 ** 31 - 1) {
      throw new InvalidArgumentError(`-r ${text}: the weight after @ must be an integer 0..2147483647`);
    }
    weight = Number(w);
  }
  return { address: ep.address.text, port: ep.port, weight, af: ep.address.af };
}

/** A small deterministic random source for twos (--seed): xorshift32, then a bounded draw. */
function seeded(seed: number): (bound: number) => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return (bound) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return Math.floor((x / 2 ** 32) * bound);
  };
}

async function pick(o: PickOpts): Promise<void> {
  const reals = o.realServer.map(parseReal);
  const family: 4 | 6 = reals[0]?.af === 10 ? 6 : 4;
  const svcText = o.service ?? (family === 6 ? "tcp:[::]:80" : "tcp:0.0.0.0:80");
  const svc = new Service({
    scheduler: o.scheduler,
    ...(o.schedFlags ? { flags: o.schedFlags } : {}),
    ...parseService(svcText, family),
    ...(o.persistent !== undefined
      ? {
          persistent: {
            ...(o.persistent === true ? {} : { timeout: Number(o.persistent) }),
            ...(o.netmask ? { netmask: o.netmask } : {}),
          },
        }
      : {}),
    ...(o.mhTableIndex !== undefined ? { mhTableIndex: o.mhTableIndex } : {}),
    ...(o.seed !== undefined ? { random: seeded(o.seed) } : {}),
    // Every pick is a new connection that stays established: time does not move.
    clock: () => 0,
  });
  // Given in the order they were added to the service (the kernel keeps the newest first).
  for (const r of reals) svc.addDest({ address: r.address, port: r.port, weight: r.weight, forward: "masq" });

  let out = "";
  const flush = () => {
    if (out) process.stdout.write(out);
    out = "";
  };
  let lineNo = 0;
  for await (const raw of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNo++;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [clientText, virtualText, ...rest] = line.split(/\s+/);
    try {
      if (rest.length) throw new SchedulerError("SCHED_BAD_PACKET", "expected `CLIENT_IP:PORT [VIP:PORT]`");
      const client = parseEndpoint(clientText as string);
      const virtual = virtualText ? parseEndpoint(virtualText) : undefined;
      const c = svc.connect({
        clientAddress: client.address.text,
        clientPort: client.port,
        ...(virtual ? { virtualAddress: virtual.address.text, virtualPort: virtual.port } : {}),
      });
      c?.establish();
      out += `${c ? c.destEndpoint : "-"}\n`;
      if (out.length > 1 << 16) flush();
    } catch (err) {
      flush();
      const msg = err instanceof SchedulerError ? err.message : String(err);
      process.stderr.write(`lvsctl sched pick: stdin:${lineNo}: ${msg}\n`);
      process.exitCode = 2;
      return;
    }
  }
  flush();
}

export function register(program: Command): void {
  const sched = program
    .command("sched")
    .description("IPVS schedulers making the kernel's decisions (@lvs/scheduler)");
  sched
    .command("pick")
    .description(
      "read client IP:PORT lines (optionally followed by VIP:PORT) on stdin, print the real server the kernel's scheduler picks for each (or -); every pick is a new connection that stays established",
    )
    .requiredOption("-s, --scheduler <name>", `scheduler: ${SCHEDULER_NAMES.join(", ")}`)
    .option(
      "-b, --sched-flags <flags>",
      "scheduler flags: sh-fallback, sh-port, mh-fallback, mh-port, flag-1..3",
    )
    .option("-p, --persistent [seconds]", "persistence, timeout in seconds (default 300)")
    .option("-M, --netmask <mask>", "persistence granularity: IPv4 mask or prefix length, IPv6 prefix length")
    .option("--service <service>", "PROTO:VIP:PORT or fwmark:N (default tcp:0.0.0.0:80, or tcp:[::]:80)")
    .option(
      "-r, --real-server <ip:port[@weight]>",
      "a real server, in the order added to the service (repeat)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--mh-table-index <n>",
      "mh table size as CONFIG_IP_VS_MH_TAB_INDEX (8..17, default 12 = 4093)",
      intArg("--mh-table-index", 8, 17),
    )
    .option(
      "--seed <n>",
      "twos: seed its random draws (reproducible picks)",
      intArg("--seed", 0, 2 ** 32 - 1),
    )
    .action(async (o: PickOpts, cmd: Command) => {
      try {
        if (o.realServer.length === 0)
          throw new InvalidArgumentError("give at least one -r IP:PORT[@WEIGHT]");
        if (o.persistent !== undefined && o.persistent !== true && !/^\d+$/.test(o.persistent)) {
          throw new InvalidArgumentError(`-p ${o.persistent}: the timeout must be a number of seconds`);
        }
        if (o.netmask && o.persistent === undefined) throw new InvalidArgumentError("-M needs -p");
        await pick(o);
      } catch (err) {
        if (err instanceof SchedulerError || err instanceof InvalidArgumentError) {
          return cmd.error(`error: ${err.message}`, { exitCode: 2 });
        }
        throw err;
      }
    });
}
