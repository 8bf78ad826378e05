/**
 * What `lvsctl sync listen|send` do, as functions (the CLI only parses options): testable
 * without a terminal, usable from other programs.
 */
import { type MalformedLine, parseConnections } from "@lvs/ipvs";
import type { SyncConnection, SyncMessage } from "./codec.js";
import { SyncError } from "./errors.js";
import type { SyncInboxStats } from "./inbox.js";
import { type ReceiverOptions, type SenderOptions, type SendStats, SyncReceiver, SyncSender } from "./io.js";
import { type ForwardLookup, type ResyncConversion, resyncConnections } from "./resync.js";
import { parseConnection } from "./text.js";

export interface ListenOptions extends ReceiverOptions {
  /** Stop after this many connections. */
  count?: number;
  /** Stop after this many milliseconds. */
  timeoutMs?: number;
  /** Called for each received connection (at most `count` times). */
  onConnection: (conn: SyncConnection, message: SyncMessage) => void;
  /** Called once the socket is joined (so a caller can start a sender). */
  onReady?: () => void;
  /** Aborts listening (e.g. on SIGINT). */
  signal?: AbortSignal;
}

export interface ListenResult {
  connections: number;
  stoppedBy: "count" | "timeout" | "signal";
  stats: SyncInboxStats;
}

/** Receives until `count` connections, `timeoutMs` or `signal`; never throws on bad datagrams. */
export async function listenConnections(opts: ListenOptions): Promise<ListenResult> {
  const rx = await SyncReceiver.open(opts);
  let connections = 0;
  try {
    const stoppedBy = await new Promise<ListenResult["stoppedBy"]>((resolve) => {
      if (opts.count === 0) return resolve("count");
      const timer =
        opts.timeoutMs !== undefined ? setTimeout(() => resolve("timeout"), opts.timeoutMs) : undefined;
      const done = (why: ListenResult["stoppedBy"]) => {
        if (timer) clearTimeout(timer);
        resolve(why);
      };
      opts.signal?.addEventListener("abort", () => done("signal"), { once: true });
      rx.on("message", (message: SyncMessage) => {
        for (const c of message.connections) {
          if (opts.count !== undefined && connections >= opts.count) break;
          connections++;
          opts.onConnection(c, message);
        }
        if (opts.count !== undefined && connections >= opts.count) done("count");
      });
      opts.onReady?.();
    });
    return { connections, stoppedBy, stats: { ...rx.inbox.stats } };
  } finally {
    await rx.close();
  }
}

/**
 * Parses text or JSON lines (see parseConnection) — all of them first, so a bad line sends
 * nothing — then sends them as a kernel master would. Blank lines and `#` comments are skipped.
 */
export async function sendConnectionLines(
  opts: SenderOptions,
  lines: Iterable<string> | AsyncIterable<string>,
): Promise<SendStats & { datagrams: number }> {
  const conns: SyncConnection[] = [];
  const errors: SyncError[] = [];
  let n = 0;
  for await (const raw of lines) {
    n++;
    const t = raw.trim();
    if (t === "" || t.startsWith("#")) continue;
    try {
      conns.push(parseConnection(t, n));
    } catch (e) {
      if (e instanceof SyncError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length > 0) {
    const first = errors[0] as SyncError;
    throw new SyncError(
      "SYNC_BAD_LINE",
      `${errors.length} bad input line(s), nothing sent:\n${errors.map((e) => `  ${e.message}`).join("\n")}`,
      first.context,
    );
  }
  const tx = await SyncSender.open(opts);
  try {
    const datagrams = await tx.send(conns);
    return { ...tx.stats, datagrams };
  } finally {
    await tx.close();
  }
}

export interface ResyncResult extends SendStats {
  datagrams: number;
  /** Lines of the connection file that did not parse. */
  malformed: MalformedLine[];
  /** Entries the protocol cannot carry. */
  skipped: ResyncConversion["skipped"];
}

/**
 * Bulk resync: sends every connection of `connText` (the text of /proc/net/ip_vs_conn, parsed by
 * @lvs/ipvs) as a kernel master would, `lookup` supplying each one's forwarding method (default
 * Masq).
 * In v0 only IPv4 entries are sent (they are counted as skipped), as the kernel does.
 */
export async function resync(
  opts: SenderOptions,
  connText: string,
  lookup?: ForwardLookup,
): Promise<ResyncResult> {
  const { connections: procs, malformed } = parseConnections(connText);
  const { connections, skipped } = resyncConnections(procs, lookup);
  let toSend = connections;
  if ((opts.version ?? 1) === 0) {
    toSend = connections.filter((c) => c.af === 2);
    for (const c of connections) {
      if (c.af !== 2) {
        const p = procs.find(
          (x) =>
            x.clientAddress === c.clientAddress &&
            x.clientPort === c.clientPort &&
            x.virtualAddress === c.virtualAddress,
        );
        if (p) skipped.push({ connection: p, reason: "protocol v0 carries IPv4 only" });
      }
    }
  }
  const tx = await SyncSender.open(opts);
  try {
    const datagrams = await tx.send(toSend);
    return { ...tx.stats, datagrams, malformed, skipped };
  } finally {
    await tx.close();
  }
}
