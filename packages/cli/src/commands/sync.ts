// lvsctl sync …: the IPVS connection-sync protocol from userspace (@lvs/sync does the work).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { IP_VS_CONN_PROC } from "@lvs/ipvs";
import {
  connectionToJson,
  type ForwardLookup,
  formatConnection,
  forwardLookup,
  listenConnections,
  parseKey,
  RELAY_DEFAULT_PORT,
  resync,
  SyncError,
  SyncRelay,
  sendConnectionLines,
} from "@lvs/sync";
import { type Command, InvalidArgumentError, Option } from "commander";

function intArg(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    }
    return Number(value);
  };
}

/** Options shared with ipvsadm's --start-daemon. */
function linkOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--mcast-interface <if>", "interface to join / send on")
    .requiredOption(
      "--syncid <n>",
      "sync id (0..255; listen: 0 accepts every id)",
      intArg("--syncid", 0, 255),
    )
    .option("--mcast-group <addr>", "multicast group (default 224.0.0.81; IPv6 needs one)")
    .option("--mcast-port <port>", "UDP port (default 8848)", intArg("--mcast-port", 1, 65535));
}

function fail(err: unknown): never {
  if (err instanceof SyncError) {
    const ctx = err.context.errno ? ` [${err.context.errno}]` : "";
    throw Object.assign(new Error(`${err.message}${ctx}`), { code: err.code });
  }
  throw err;
}

/** ADDR, ADDR:PORT or [IPv6]:PORT */
function endpointArg(name: string) {
  return (value: string): { address: string; port: number } => {
    const m =
      /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ??
      /^([^:]+)(?::(\d+))?$/.exec(value) ??
      /^([0-9a-fA-F:]+)$/.exec(value);
    const port = m?.[2] !== undefined ? Number(m[2]) : RELAY_DEFAULT_PORT;
    if (!m || port < 1 || port > 65535)
      throw new InvalidArgumentError(`${name} must be ADDR, ADDR:PORT or [IPv6]:PORT`);
    return { address: m[1] as string, port };
  };
}

export function register(program: Command): void {
  const sync = program
    .command("sync")
    .description("IPVS connection sync: listen to, send, relay kernel sync messages");

  linkOptions(sync.command("listen"))
    .description("print connections a sync master multicasts (ipvsadm -Lcn columns without expiry)")
    .option("--timeout <s>", "exit after this many seconds", intArg("--timeout", 0, 86400 * 365))
    .option("--count <k>", "exit after this many connections", intArg("--count", 0, 2 ** 31))
    .option("--json", "one JSON object per connection")
    .action(
      async (o: {
        mcastInterface: string;
        syncid: number;
        mcastGroup?: string;
        mcastPort?: number;
        timeout?: number;
        count?: number;
        json?: boolean;
      }) => {
        const abort = new AbortController();
        const onSig = () => abort.abort();
        process.once("SIGINT", onSig);
        process.once("SIGTERM", onSig);
        try {
          const r = await listenConnections({
            interface: o.mcastInterface,
            syncId: o.syncid,
            ...(o.mcastGroup !== undefined ? { group: o.mcastGroup } : {}),
            ...(o.mcastPort !== undefined ? { port: o.mcastPort } : {}),
            ...(o.count !== undefined ? { count: o.count } : {}),
            ...(o.timeout !== undefined ? { timeoutMs: o.timeout * 1000 } : {}),
            signal: abort.signal,
            onReady: () => process.stderr.write(`listening on ${o.mcastInterface}\n`),
            onConnection: (c, m) => {
              process.stdout.write(
                o.json
                  ? `${JSON.stringify({ ...connectionToJson(c), syncId: m.syncId, version: m.version })}\n`
                  : `${formatConnection(c)}\n`,
              );
            },
          });
          const s = r.stats;
          process.stderr.write(
            `${r.connections} connections; datagrams ${s.datagrams}, other syncid ${s.otherSyncId}, dropped ${s.dropped}${
              s.dropped
                ? ` (${Object.entries(s.droppedByCode)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(", ")})`
                : ""
            }\n`,
          );
        } catch (e) {
          fail(e);
        } finally {
          process.off("SIGINT", onSig);
          process.off("SIGTERM", onSig);
        }
      },
    );

  linkOptions(sync.command("send"))
    .description(
      "send connections read from stdin (text lines as `sync listen` prints them, or JSON lines) as a kernel master would",
    )
    .addOption(
      new Option("--sync-version <v>", "protocol version (net.ipv4.vs.sync_version)")
        .choices(["0", "1"])
        .default("1"),
    )
    .option("--mcast-ttl <n>", "multicast TTL (default 1)", intArg("--mcast-ttl", 1, 255))
    .option(
      "--sync-maxlen <n>",
      "largest message in bytes (default 1472, IPv6 1452)",
      intArg("--sync-maxlen", 64, 65507),
    )
    .action(
      async (o: {
        mcastInterface: string;
        syncid: number;
        mcastGroup?: string;
        mcastPort?: number;
        syncVersion: string;
        mcastTtl?: number;
        syncMaxlen?: number;
      }) => {
        try {
          const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
          const r = await sendConnectionLines(
            {
              interface: o.mcastInterface,
              syncId: o.syncid,
              version: o.syncVersion === "0" ? 0 : 1,
              ...(o.mcastGroup !== undefined ? { group: o.mcastGroup } : {}),
              ...(o.mcastPort !== undefined ? { port: o.mcastPort } : {}),
              ...(o.mcastTtl !== undefined ? { ttl: o.mcastTtl } : {}),
              ...(o.syncMaxlen !== undefined ? { maxLength: o.syncMaxlen } : {}),
            },
            rl,
          );
          process.stderr.write(
            `sent ${r.connections} connections in ${r.datagrams} messages (${r.bytes} bytes)\n`,
          );
        } catch (e) {
          fail(e);
        }
      },
    );

  linkOptions(sync.command("relay"))
    .description(
      "L3 relay: forward this link's sync multicast to a peer relay over authenticated UDP, and multicast what the peer sends",
    )
    .requiredOption(
      "--listen <addr[:port]>",
      `unicast address to receive the peer's datagrams on (port default ${RELAY_DEFAULT_PORT})`,
      endpointArg("--listen"),
    )
    .requiredOption("--peer <addr[:port]>", "the peer relay", endpointArg("--peer"))
    .requiredOption(
      "--key-file <file>",
      "pre-shared key: hex (openssl rand -hex 32) or raw bytes, at least 16 bytes",
    )
    .option("--mcast-ttl <n>", "TTL of the re-multicast (default 1)", intArg("--mcast-ttl", 1, 255))
    .action(
      async (o: {
        mcastInterface: string;
        syncid: number;
        mcastGroup?: string;
        mcastPort?: number;
        listen: { address: string; port: number };
        peer: { address: string; port: number };
        keyFile: string;
        mcastTtl?: number;
      }) => {
        let key: Uint8Array;
        try {
          key = parseKey(readFileSync(o.keyFile));
        } catch (e) {
          if (e instanceof SyncError)
            fail(new SyncError(e.code, `${o.keyFile}: ${e.message}`, { object: o.keyFile }));
          throw Object.assign(new Error(`cannot read key file ${o.keyFile}: ${(e as Error).message}`), {
            code: (e as NodeJS.ErrnoException).code,
          });
        }
        let relay: SyncRelay;
        try {
          relay = await SyncRelay.open({
            interface: o.mcastInterface,
            syncId: o.syncid,
            ...(o.mcastGroup !== undefined ? { group: o.mcastGroup } : {}),
            ...(o.mcastPort !== undefined ? { port: o.mcastPort } : {}),
            ...(o.mcastTtl !== undefined ? { ttl: o.mcastTtl } : {}),
            listen: o.listen,
            peer: o.peer,
            key,
          });
        } catch (e) {
          fail(e);
        }
        process.stderr.write(
          `relaying ${o.mcastInterface} <-> ${o.peer.address}:${o.peer.port} (listening on ${o.listen.address}:${o.listen.port})\n`,
        );
        const printStats = () => process.stdout.write(`${JSON.stringify(relay.stats)}\n`);
        process.on("SIGUSR1", printStats);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", () => resolve());
          process.once("SIGTERM", () => resolve());
        });
        process.off("SIGUSR1", printStats);
        printStats();
        await relay.close();
      },
    );

  linkOptions(sync.command("resync"))
    .description(
      "bulk resync: send the whole connection table as a kernel master would, so a fresh backup holds idle connections too",
    )
    .addOption(
      new Option("--sync-version <v>", "protocol version (net.ipv4.vs.sync_version)")
        .choices(["0", "1"])
        .default("1"),
    )
    .option("--mcast-ttl <n>", "multicast TTL (default 1)", intArg("--mcast-ttl", 1, 255))
    .option(
      "--sync-maxlen <n>",
      "largest message in bytes (default 1472, IPv6 1452)",
      intArg("--sync-maxlen", 64, 65507),
    )
    .option("--conn-file <file>", "connection table to read", IP_VS_CONN_PROC)
    .option("--no-service-table", "do not read forwarding methods from the kernel's service table (all Masq)")
    .action(
      async (o: {
        mcastInterface: string;
        syncid: number;
        mcastGroup?: string;
        mcastPort?: number;
        syncVersion: string;
        mcastTtl?: number;
        syncMaxlen?: number;
        connFile: string;
        serviceTable: boolean;
      }) => {
        let text: string;
        try {
          text = readFileSync(o.connFile, "utf8");
        } catch (e) {
          throw Object.assign(new Error(`cannot read ${o.connFile}: ${(e as Error).message}`), {
            code: (e as NodeJS.ErrnoException).code,
          });
        }
        let lookup: ForwardLookup | undefined;
        if (o.serviceTable) {
          // What /proc lacks (the forwarding method) comes from the service table.
          const { IpvsClient } = await import("@lvs/ipvs");
          const client = await IpvsClient.open();
          try {
            const table = await client.table();
            lookup = forwardLookup(
              table.flatMap((t) =>
                t.dests.map((d) => ({
                  protocol: t.service.protocol,
                  virtualAddress: t.service.address,
                  virtualPort: t.service.port,
                  destAddress: d.address,
                  destPort: d.port,
                  forward: d.forward,
                })),
              ),
            );
          } finally {
            client.close();
          }
        }
        try {
          const r = await resync(
            {
              interface: o.mcastInterface,
              syncId: o.syncid,
              version: o.syncVersion === "0" ? 0 : 1,
              ...(o.mcastGroup !== undefined ? { group: o.mcastGroup } : {}),
              ...(o.mcastPort !== undefined ? { port: o.mcastPort } : {}),
              ...(o.mcastTtl !== undefined ? { ttl: o.mcastTtl } : {}),
              ...(o.syncMaxlen !== undefined ? { maxLength: o.syncMaxlen } : {}),
            },
            text,
            lookup,
          );
          for (const m of r.malformed)
            process.stderr.write(`${o.connFile}:${m.line}: ${m.reason}: ${m.text}\n`);
          for (const s of r.skipped)
            process.stderr.write(
              `skipped ${s.connection.clientAddress}:${s.connection.clientPort}: ${s.reason}\n`,
            );
          process.stderr.write(
            `resync: sent ${r.connections} connections in ${r.datagrams} messages (${r.bytes} bytes)\n`,
          );
        } catch (e) {
          fail(e);
        }
      },
    );
}
