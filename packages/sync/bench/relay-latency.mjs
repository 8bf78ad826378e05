// Relay latency (root, network namespaces): one-way time from a sync message leaving a sender on
// link A to a listener on link B through two relays and a router, against the same listener on
// link A directly. Timestamps: CLOCK_MONOTONIC (process.hrtime), shared by all processes of the host,
// carried in the entry's fwmark (low 32 bits) and timeout (high 32 bits) fields.
// Run: node bench/relay-latency.mjs  (after pnpm build in packages/sync and packages/testkit)
import { fileURLToPath } from "node:url";
import { Topology, waitFor } from "@lvs/testkit";

const PEER = fileURLToPath(new URL("../test/peers/peer.mjs", import.meta.url));
const COUNT = 300;

const SENDER = `
  const { SyncSender } = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
  const tx = await SyncSender.open({ interface: "eth0", syncId: 1 });
  for (let i = 0; i < ${COUNT}; i++) {
    const t = process.hrtime.bigint();
    await tx.send([{ af: 2, protocol: 6, clientAddress: "10.1.0.5", clientPort: 1000 + i, virtualAddress: "10.0.0.1", virtualPort: 80,
      destAddress: "10.0.2.11", destPort: 80, flags: 0, state: 1, fwmark: Number(t & 0xffffffffn), timeout: Number(t >> 32n) }]);
    await new Promise((r) => setTimeout(r, 2));
  }
  await tx.close();`;
const LISTENER = `
  const { SyncReceiver } = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
  const rx = await SyncReceiver.open({ interface: "eth0", syncId: 1 });
  const lat = [];
  rx.on("connection", (c) => {
    const sent = (BigInt(c.timeout) << 32n) | BigInt(c.fwmark);
    lat.push(Number(process.hrtime.bigint() - sent) / 1000);
    if (lat.length === ${COUNT}) { console.log(JSON.stringify(lat)); process.exit(0); }
  });
  console.log("ready");
  setTimeout(() => { console.log(JSON.stringify(lat)); process.exit(0); }, 20000);`;

const topo = await Topology.create("relay-bench");
try {
  const brA = await topo.addBridge("a");
  const brB = await topo.addBridge("b");
  const m = await topo.addNamespace("m");
  const la = await topo.addNamespace("la");
  const ra = await topo.addNamespace("ra");
  const rt = await topo.addNamespace("rt");
  const rb = await topo.addNamespace("rb");
  const lb = await topo.addNamespace("lb");
  await topo.attach(m, brA, { addr: "192.168.81.1/24", ifname: "eth0" });
  await topo.attach(la, brA, { addr: "192.168.81.3/24", ifname: "eth0" });
  await topo.attach(ra, brA, { addr: "192.168.81.2/24", ifname: "eth0" });
  await topo.link(ra, rt, { a: "10.89.0.1/24", b: "10.89.0.2/24", ifA: "wan0", ifB: "eth0" });
  await topo.link(rt, rb, { a: "10.88.0.2/24", b: "10.88.0.1/24", ifA: "eth1", ifB: "wan0" });
  await topo.attach(rb, brB, { addr: "192.168.82.2/24", ifname: "eth0" });
  await topo.attach(lb, brB, { addr: "192.168.82.1/24", ifname: "eth0" });
  await rt.sysctl("net.ipv4.ip_forward", 1);
  await ra.addRoute("10.88.0.0/24 via 10.89.0.2");
  await rb.addRoute("10.89.0.0/24 via 10.88.0.2");
  const keyHex = "11".repeat(32);
  const pa = ra.spawn([
    "node",
    PEER,
    "relay",
    JSON.stringify({
      interface: "eth0",
      listen: { address: "10.89.0.1" },
      peer: { address: "10.88.0.1" },
      keyHex,
    }),
  ]);
  const pb = rb.spawn([
    "node",
    PEER,
    "relay",
    JSON.stringify({
      interface: "eth0",
      listen: { address: "10.88.0.1" },
      peer: { address: "10.89.0.1" },
      keyHex,
    }),
  ]);
  await waitFor(() => pa.output().includes("ready") && pb.output().includes("ready"), { what: "relays" });
  const direct = la.spawn(["node", "--input-type=module", "-e", LISTENER]);
  const relayed = lb.spawn(["node", "--input-type=module", "-e", LISTENER]);
  await waitFor(() => direct.output().includes("ready") && relayed.output().includes("ready"), {
    what: "listeners",
  });
  const s = await m.exec(["node", "--input-type=module", "-e", SENDER]);
  if (s.code !== 0) throw new Error(s.stderr);
  await Promise.all([direct.exited, relayed.exited]);
  const stats = (p) => {
    const lat = JSON.parse(
      p
        .output()
        .split("\n")
        .find((l) => l.startsWith("[")) ?? "[]",
    ).sort((x, y) => x - y);
    const q = (f) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]?.toFixed(0);
    return `${lat.length}/${COUNT} received, p50 ${q(0.5)} µs, p99 ${q(0.99)} µs`;
  };
  console.log(`same link (no relay)        ${stats(direct)}`);
  console.log(`via relay A → router → B    ${stats(relayed)}`);
} finally {
  await topo.destroy();
}
