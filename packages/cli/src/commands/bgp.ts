// lvsctl bgp announce: keep a BGP session to one router and announce prefixes until SIGTERM
// (@lvs/bgp does the protocol; this file maps flags to a BgpSpeaker and prints its events).
import { BgpError, BgpSpeaker, type Family, type SessionEffect } from "@lvs/bgp";
import { type Command, InvalidArgumentError } from "commander";

/** As commander hands them over: numbers are checked in the action, so every bad value exits 2. */
interface RawOpts {
  localAs: string;
  peer: string;
  peerAs: string;
  port: string;
  routerId?: string;
  holdTime: string;
  nextHop: string[];
  community: string[];
  netns?: string;
  localAddress?: string;
  connectRetry: string;
}

interface AnnounceOpts {
  localAs: number;
  peer: string;
  peerAs: number;
  port: number;
  routerId?: string;
  holdTime: number;
  nextHop: string[];
  community: string[];
  netns?: string;
  localAddress?: string;
  connectRetry: number;
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
  }
  return Number(v);
}

function checkOptions(o: RawOpts): AnnounceOpts {
  const holdTime = int("--hold-time", o.holdTime, 0, 65535);
  if (holdTime === 1 || holdTime === 2)
    throw new InvalidArgumentError("--hold-time must be 0 or at least 3 (RFC 4271)");
  return {
    ...o,
    localAs: int("--local-as", o.localAs, 1, 4294967295),
    peerAs: int("--peer-as", o.peerAs, 1, 4294967295),
    port: int("--port", o.port, 1, 65535),
    holdTime,
    connectRetry: int("--connect-retry", o.connectRetry, 1, 3600),
  };
}
const collect = (v: string, prev: string[]) => [...prev, v];

/** One line per event, for people and for scripts that wait for "Established". */
function describeEffect(peer: string, e: SessionEffect): string | undefined {
  switch (e.type) {
    case "state":
      return `bgp ${peer}: ${e.from} -> ${e.to} (${e.reason})`;
    case "notification":
      return `bgp ${peer}: NOTIFICATION ${e.direction} ${e.name}${e.text !== undefined ? ` "${e.text}"` : ""}`;
    default:
      return undefined;
  }
}

async function announce(prefixes: string[], o: AnnounceOpts): Promise<void> {
  const nextHopSelf: Partial<Record<Family, string>> = {};
  for (const nh of o.nextHop) nextHopSelf[nh.includes(":") ? "ipv6" : "ipv4"] = nh;
  const speaker = new BgpSpeaker({
    localAs: o.localAs,
    peerAs: o.peerAs,
    peer: o.peer,
    port: o.port,
    holdTime: o.holdTime,
    connectRetryMs: o.connectRetry * 1000,
    nextHopSelf,
    ...(o.routerId !== undefined ? { routerId: o.routerId } : {}),
    ...(o.netns !== undefined ? { netns: o.netns } : {}),
    ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
    routes: prefixes.map((prefix) => ({ prefix, communities: o.community })),
  });
  speaker.on((e) => {
    const line = describeEffect(o.peer, e);
    if (line) process.stdout.write(`${line}\n`);
    if (e.type === "warning") process.stderr.write(`lvsctl bgp announce: warning: ${e.message}\n`);
  });
  await new Promise<void>((resolve) => {
    const finish = async (signal: string) => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      await speaker.stop(`lvsctl bgp announce: ${signal}`);
      process.stdout.write(`bgp ${o.peer}: stopped (${signal}): withdrawn, Cease sent\n`);
      resolve();
    };
    const onTerm = () => void finish("SIGTERM");
    const onInt = () => void finish("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
    speaker.start();
  });
}

export function register(program: Command): void {
  const bgp = program.command("bgp").description("BGP: announce addresses to upstream routers (@lvs/bgp)");
  bgp
    .command("announce")
    .description(
      "keep a BGP session to one router and announce PREFIX... (next hop: ours, or --next-hop) until SIGTERM/SIGINT, then withdraw them and close with Cease; prints each FSM state change",
    )
    .argument(
      "<prefix...>",
      "prefixes to announce: 192.0.2.10/32, 2001:db8::10/128, or a bare address (host route)",
    )
    .requiredOption("--local-as <asn>", "our AS number (1..4294967295; 4-octet AS numbers are fine)")
    .requiredOption("--peer <address>", "the router's address (IPv4 or IPv6)")
    .requiredOption("--peer-as <asn>", "the router's AS number (equal to --local-as for iBGP)")
    .option("--port <port>", "the router's TCP port", "179")
    .option(
      "--router-id <id>",
      "our BGP identifier, a dotted quad (default: --local-address or the IPv4 --next-hop)",
    )
    .option(
      "--hold-time <seconds>",
      "hold time we offer: 0 (no keepalives) or 3..65535; the session uses the smaller of ours and the router's",
      "90",
    )
    .option(
      "--next-hop <address>",
      "next hop to announce (one IPv4 and/or one IPv6; repeat); default: our address on the session",
      collect,
      [] as string[],
    )
    .option(
      "--community <A:B>",
      "community to attach (repeat; graceful-shutdown = 65535:0)",
      collect,
      [] as string[],
    )
    .option("--netns <name>", "open the session inside this network namespace (/run/netns/NAME or a path)")
    .option("--local-address <address>", "local address to connect from")
    .option(
      "--connect-retry <seconds>",
      "first retry delay after a failed connection (doubles up to 30 s)",
      "1",
    )
    .addHelpText(
      "after",
      `
Output: one line per FSM state change ("bgp PEER: OpenConfirm -> Established (...)") and per
NOTIFICATION sent or received. SIGTERM or SIGINT withdraws the prefixes, sends Cease
(Administrative Shutdown) and exits 0.

Example (two directors announcing one VIP; the router with maximum-paths spreads flows):
  lvsctl bgp announce --local-as 65001 --peer 10.0.0.1 --peer-as 65000 \\
      --local-address 10.0.0.11 --hold-time 9 --community 65001:100 192.0.2.10/32`,
    )
    .action(async (prefixes: string[], o: RawOpts, cmd: Command) => {
      try {
        await announce(prefixes, checkOptions(o));
      } catch (err) {
        if (err instanceof BgpError || err instanceof InvalidArgumentError) {
          return cmd.error(`error: ${err.message}`, { exitCode: 2 });
        }
        throw err;
      }
    });
}
