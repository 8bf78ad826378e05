// Memory left behind by closed connections (the scheduler's timers of closed entries):
//   pnpm build && node --expose-gc bench/churn-memory.mjs      (CHURN=9500 connections)
// One proxy and one real server in this process; CHURN short connections, one after another in
// waves of 100; the heap after a full GC before and right after, in KiB and per connection.
import { connect, createServer } from "node:net";
import { createProxy } from "../dist/index.js";

const CHURN = Number(process.env.CHURN ?? 9_500);
const backend = createServer((s) => s.end("ok")).listen(0, "127.0.0.1");
await new Promise((r) => backend.once("listening", r));
const proxy = createProxy();
const key = { protocol: "tcp", address: "127.0.0.1", port: 0, scheduler: "wlc" };
// Port 0 isn't a service port: pick a free one.
const probe = createServer().listen(0, "127.0.0.1");
await new Promise((r) => probe.once("listening", r));
key.port = probe.address().port;
await new Promise((r) => probe.close(r));
await proxy.addService(key);
await proxy.addDest(key, { address: "127.0.0.1", port: backend.address().port });

const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const one = () =>
  new Promise((resolve, reject) => {
    const s = connect(key.port, "127.0.0.1");
    s.on("data", () => {});
    s.on("error", reject);
    s.on("close", resolve);
  });
for (let i = 0; i < 200; i++) await one(); // warm up
const before = heap();
const t0 = Date.now();
for (let i = 0; i < CHURN; i += 100) await Promise.all(Array.from({ length: Math.min(100, CHURN - i) }, one));
const secs = (Date.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 200)); // the last closes settle
const after = heap();
const kib = (after - before) / 1024;
console.log(
  JSON.stringify({
    connections: CHURN,
    perSecond: Math.round(CHURN / secs),
    heapGrowthKiB: Math.round(kib),
    bytesPerClosedConnection: Math.round((after - before) / CHURN),
  }),
);
await proxy.close();
backend.close();
