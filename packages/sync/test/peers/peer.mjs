// Test peer run inside a network namespace: `node peer.mjs listen|send <json options>`.
// listen: prints "ready", then one JSON line per received datagram result; exits after `count` connections.
// send: sends the connections given as text lines in options.lines, prints the datagram count.
import { readFileSync } from "node:fs";
import {
  connectionToJson,
  parseConnection,
  resync,
  SyncReceiver,
  SyncRelay,
  SyncSender,
} from "../../dist/index.js";

const [mode, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? "{}");
if (mode === "listen") {
  const rx = await SyncReceiver.open(opts);
  let seen = 0;
  rx.on("datagram", (d) => {
    const r = d.result;
    const out =
      r.kind === "accepted"
        ? {
            kind: r.kind,
            version: r.message.version,
            syncId: r.message.syncId,
            connections: r.message.connections.map(connectionToJson),
          }
        : r;
    process.stdout.write(
      `${JSON.stringify({ ...out, from: d.from.address, length: d.bytes.length, ...(opts.hex ? { hex: Buffer.from(d.bytes).toString("hex") } : {}) })}\n`,
    );
    if (r.kind === "accepted") seen += r.message.connections.length;
    if (seen >= (opts.count ?? Number.POSITIVE_INFINITY)) {
      process.stdout.write(`${JSON.stringify({ kind: "stats", stats: rx.inbox.stats })}\n`);
      rx.close().then(() => process.exit(0));
    }
  });
  process.stdout.write("ready\n");
  setTimeout(() => process.exit(3), opts.timeoutMs ?? 20000).unref();
} else if (mode === "send") {
  const tx = await SyncSender.open(opts);
  if (opts.raw) for (const h of opts.raw) await tx.sendRaw(Buffer.from(h, "hex"));
  const n = await tx.send((opts.lines ?? []).map((l, i) => parseConnection(l, i + 1)));
  process.stdout.write(`${JSON.stringify({ datagrams: n, stats: tx.stats })}\n`);
  await tx.close();
}
if (mode === "resync") {
  const r = await resync(opts, readFileSync(opts.connFile ?? "/proc/net/ip_vs_conn", "utf8"));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
if (mode === "relay") {
  const relay = await SyncRelay.open({ ...opts, key: Buffer.from(opts.keyHex, "hex") });
  process.stdout.write("ready\n");
  process.once("SIGTERM", async () => {
    process.stdout.write(`${JSON.stringify(relay.stats)}\n`);
    await relay.close();
    process.exit(0);
  });
}
