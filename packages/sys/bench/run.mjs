// Benchmark (root): what @lvs/sys costs.
//   node packages/sys/bench/run.mjs        (after `pnpm build`)
// 1. withNetns(ns, fn) round trips/s (two setns(2) calls each) — what opening a socket in
//    another namespace adds;
// 2. PacketSocket.send() frames/s over a veth pair between two namespaces (60-byte ARP frames),
//    and how many the other end's PacketSocket receives.
import { execFileSync } from "node:child_process";
import { PacketSocket, withNetns } from "../dist/index.js";

const ns = [`lvsbench-sys-a-${process.pid}`, `lvsbench-sys-b-${process.pid}`];
const ip = (...a) => execFileSync("ip", a, { stdio: "pipe" });
const ms = Number(process.env.BENCH_MS ?? 1000);
try {
  for (const n of ns) ip("netns", "add", n);
  ip("-n", ns[0], "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", ns[1]);
  ip("-n", ns[0], "link", "set", "v0", "up");
  ip("-n", ns[1], "link", "set", "v1", "up");

  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 100; i++) withNetns(ns[0], () => n++);
  }
  const setnsRate = n / ((performance.now() - t0) / 1000);

  const tx = PacketSocket.open({ interface: "v0", netns: ns[0], protocol: 0x0806 });
  const rx = PacketSocket.open({ interface: "v1", netns: ns[1], protocol: 0x0806 });
  let received = 0;
  rx.onFrame(() => received++);
  const frame = Buffer.alloc(60);
  frame.fill(0xff, 0, 6);
  frame.writeUInt16BE(0x0806, 12);
  let sent = 0;
  t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 100; i++) {
      tx.send(frame);
      sent++;
    }
    await new Promise((r) => setImmediate(r)); // let the receiver run
  }
  const sendRate = sent / ((performance.now() - t0) / 1000);
  await new Promise((r) => setTimeout(r, 200));
  tx.close();
  rx.close();
  console.log(`withNetns round trips/s: ${Math.round(setnsRate).toLocaleString("en")}`);
  console.log(
    `PacketSocket.send frames/s: ${Math.round(sendRate).toLocaleString("en")} (${((received / sent) * 100).toFixed(1)} % received on the peer)`,
  );
} finally {
  for (const n of ns) spawnSafe(n);
}
function spawnSafe(n) {
  try {
    ip("netns", "del", n);
  } catch {}
}
