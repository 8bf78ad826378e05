#!/usr/bin/env node
// Reload benchmark (root; keepalived 2.2.7, iproute2): what a SIGHUP reload costs a MASTER on the
// wire, ours (test/peers/router.mjs → VrrpRouter.reload) vs keepalived, each alone as MASTER on a
// bridge with an observer namespace, VRRPv3 advert_int 0.1 s.
//
//   pnpm --filter @lvs/vrrp build && node packages/vrrp/bench/reload.mjs     (RUNS=20 by default)
//
// Each run sends three SIGHUPs, 1 s apart: the same file, a file with a second VIP, the first
// file again. For each: the longest silence between two of the master's adverts seen by the
// observer in [SIGHUP − 0.3 s, SIGHUP + 1 s] (100 ms when nothing is disturbed), priority-0
// adverts seen (a restart would send one), and for the added VIP the time from SIGHUP to its
// first gratuitous ARP on the observer and to its RTM_NEWADDR in the master's namespace.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listAddresses, watchNetlink } from "@lvs/netconf";
import { ETH_P_ARP, ETH_P_IP, PacketSocket } from "@lvs/sys";
import { Topology } from "@lvs/testkit";

const RUNS = Number(process.env.RUNS ?? 20);
const ROUTER = fileURLToPath(new URL("../test/peers/router.mjs", import.meta.url));
const [VIP1, VIP2] = ["10.98.0.100", "10.98.0.101"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(pred, timeoutMs, step = 5) {
  const t0 = performance.now();
  while (!(await pred())) {
    if (performance.now() - t0 > timeoutMs) throw new Error("timeout");
    await sleep(step);
  }
}

const conf = (vips) => `global_defs {
  router_id bench_reload
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 98
  priority 150
  advert_int 0.1
  virtual_ipaddress {
${vips.map((v) => `    ${v}/24\n`).join("")}  }
}
`;

function start(kind, ns, dir, file) {
  if (kind === "lvs") return ns.spawn([process.execPath, ROUTER, file]);
  return ns.spawn([
    "keepalived",
    "--vrrp",
    "-l",
    "-n",
    "-R",
    "-f",
    file,
    "-p",
    join(dir, "k.pid"),
    "-r",
    join(dir, "k-vrrp.pid"),
  ]);
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
}

async function scenario(kind) {
  const topo = await Topology.create(`bench-rl-${kind.slice(0, 2)}`);
  const dir = mkdtempSync(join(tmpdir(), "lvs-bench-reload-"));
  try {
    const br = await topo.addBridge("lan");
    const m = await topo.addNamespace("m");
    const obs = await topo.addNamespace("obs");
    await topo.attach(m, br, { addr: "10.98.0.1/24", ifname: "eth0" });
    await topo.attach(obs, br, { addr: "10.98.0.250/24", ifname: "eth0" });
    const adverts = [];
    const vsock = PacketSocket.open({ interface: "eth0", netns: obs.name, protocol: ETH_P_IP });
    vsock.onFrame((f) => {
      if (f.length < 42 || f[23] !== 112 || f.subarray(26, 30).join(".") !== "10.98.0.1") return;
      const v = 14 + (f[14] & 0x0f) * 4;
      adverts.push({ t: performance.now(), priority: f[v + 2] });
    });
    const garps = [];
    const asock = PacketSocket.open({ interface: "eth0", netns: obs.name, protocol: ETH_P_ARP });
    asock.onFrame((f) => {
      if (f.length < 42) return;
      const spa = f.subarray(28, 32).join(".");
      if (spa === f.subarray(38, 42).join(".")) garps.push({ t: performance.now(), address: spa });
    });
    const vipUp = [];
    const watcher = await watchNetlink({ netns: m.name });
    watcher.on("address", (ev) => {
      if (ev.type === "new" && ev.address.address === VIP2) vipUp.push(performance.now());
    });
    const file = join(dir, "keepalived.conf");
    writeFileSync(file, conf([VIP1]));
    const proc = start(kind, m, dir, file);
    await until(async () => (await listAddresses({ netns: m.name })).some((a) => a.address === VIP1), 20_000);
    await sleep(1500);
    const gap = (t0) => {
      const w = adverts.filter((a) => a.t >= t0 - 300 && a.t <= t0 + 1000).map((a) => a.t);
      return Math.max(...w.slice(1).map((t, i) => t - w[i]));
    };
    const out = { same: [], add: [], remove: [], garp: [], vip: [], zero: 0, states: 0 };
    const statesBefore = proc.output().match(/Entering|"state"/g)?.length ?? 0;
    for (let run = 0; run < RUNS; run++) {
      for (const [what, vips] of [
        ["same", [VIP1]],
        ["add", [VIP1, VIP2]],
        ["remove", [VIP1]],
      ]) {
        writeFileSync(file, conf(vips));
        const t0 = performance.now();
        proc.kill("SIGHUP");
        if (what === "add") {
          await until(
            () => garps.some((g) => g.t > t0 && g.address === VIP2) && vipUp.some((t) => t > t0),
            5000,
          );
          out.garp.push(garps.find((g) => g.t > t0 && g.address === VIP2).t - t0);
          out.vip.push(vipUp.find((t) => t > t0) - t0);
        }
        await sleep(1100);
        out[what].push(gap(t0));
      }
      process.stderr.write(`${kind} run ${run + 1}/${RUNS}\n`);
    }
    out.zero = adverts.filter((a) => a.priority === 0).length;
    out.states = (proc.output().match(/Entering|"state"/g)?.length ?? 0) - statesBefore;
    proc.kill("SIGTERM");
    await proc.exited;
    watcher.close();
    vsock.close();
    asock.close();
    return out;
  } finally {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const kind of ["keepalived", "lvs"]) rows.push({ kind, ...(await scenario(kind)) });
const f = (s) => `${s.median.toFixed(0)} / ${s.p95.toFixed(0)}`;
console.log(
  `\nSIGHUP reload of a MASTER, VRRPv3 advert_int 0.1 s (${RUNS} runs × 3 reloads each, ms, median / p95)`,
);
console.log(
  "| daemon | longest advert gap: same file | VIP added | VIP removed | SIGHUP → new VIP's first GARP | SIGHUP → new VIP up | priority-0 adverts | state changes |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.kind} | ${f(stats(r.same))} | ${f(stats(r.add))} | ${f(stats(r.remove))} | ${f(stats(r.garp))} | ${f(stats(r.vip))} | ${r.zero} | ${r.states} |`,
  );
}
const [k, l] = rows;
console.log(
  `lvs / keepalived, SIGHUP → first GARP (median): ${(stats(l.garp).median / stats(k.garp).median).toFixed(3)}`,
);
