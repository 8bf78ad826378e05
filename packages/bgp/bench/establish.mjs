#!/usr/bin/env node
// Benchmark (root, host with FRR 8.4 from tools/host-deps): `pnpm --filter @lvs/bgp bench [ROUNDS]`.
// One FRR router namespace and one director namespace; per round, a speaker process announces a
// /32 and we time, polling `ip route` in the router's namespace every 2 ms:
//   - start → Established (the speaker's own log line),
//   - start → the router's kernel holding the route (zebra's FIB install),
//   - SIGTERM → route gone (withdraw + Cease), and kill -9 → route gone (TCP close) on a 2nd run.
// The router has `timers 1 3` (3 s hold time) and `frr defaults datacenter`.
import { fileURLToPath } from "node:url";
import { cleanupFrr, startFrr, Topology } from "@lvs/testkit";

const ROUNDS = Number(process.argv[2] ?? 10);
const SPEAKER = fileURLToPath(new URL("../test/peers/speaker.mjs", import.meta.url));
const D = "10.180.1.2";

const topo = await Topology.create("bgp-bench");
const r = await topo.addNamespace("r");
const d = await topo.addNamespace("d");
await topo.link(r, d, { a: "10.180.1.1/24", b: `${D}/24` });
const frr = await startFrr(
  r,
  `frr defaults datacenter
hostname r
router bgp 65000
 bgp router-id 10.180.1.1
 no bgp ebgp-requires-policy
 neighbor ${D} remote-as 65001
 neighbor ${D} timers 1 3
`,
);

const hasRoute = async () => (await r.run("ip route show 192.0.2.50")).includes("via");
async function until(probe, timeoutMs = 20_000) {
  const t0 = performance.now();
  while (!(await probe())) {
    if (performance.now() - t0 > timeoutMs) throw new Error("timeout");
    await new Promise((res) => setTimeout(res, 2));
  }
  return performance.now();
}

const rows = { protocol: [], established: [], installed: [], fib: [], sigterm: [], kill9: [] };
const opts = JSON.stringify({
  localAs: 65001,
  peerAs: 65000,
  peer: "10.180.1.1",
  localAddress: D,
  connectRetryMs: 200,
  routes: [{ prefix: "192.0.2.50/32" }],
});
for (let i = 0; i < ROUNDS; i++) {
  for (const how of ["sigterm", "kill9"]) {
    const t0 = performance.now();
    const p = d.spawn(["node", SPEAKER, opts]);
    const tEst = await until(async () => p.output().includes('"state":"Established"'));
    const tInst = await until(hasRoute);
    // node's start-up is in spawn → …; Connect → Established is the protocol alone (speaker's clock)
    const at = (state) =>
      JSON.parse(
        p
          .output()
          .split("\n")
          .find((l) => l.includes(`"state":"${state}"`)) ?? "{}",
      ).t;
    rows.protocol.push(at("Established") - at("Connect"));
    rows.established.push(tEst - t0);
    rows.installed.push(tInst - t0);
    rows.fib.push(tInst - tEst);
    const tStop = performance.now();
    p.kill(how === "sigterm" ? "SIGTERM" : "SIGKILL");
    rows[how].push((await until(async () => !(await hasRoute()))) - tStop);
    await p.exited;
    // let FRR settle the peer back to Active before the next round
    await new Promise((res) => setTimeout(res, 300));
  }
}
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(0);
  return `median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${s[s.length - 1].toFixed(0)} ms (n=${s.length})`;
};
console.log(`Connect → Established (TCP + OPENs):       ${stat(rows.protocol)}`);
console.log(`spawn → Established (incl. node start-up): ${stat(rows.established)}`);
console.log(`spawn → route in the router's kernel:      ${stat(rows.installed)}`);
console.log(`Established seen → route in the kernel:     ${stat(rows.fib)}`);
console.log(`SIGTERM → route gone:                      ${stat(rows.sigterm)}`);
console.log(`kill -9 → route gone:                      ${stat(rows.kill9)}`);
await topo.destroy();
cleanupFrr(frr);
