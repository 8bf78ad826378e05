#!/usr/bin/env node
// Failover benchmark (root; keepalived 2.2.7, iproute2): kill -9 of the master until the VIP is up
// on the backup AND the backup's first gratuitous ARP is seen in a third namespace.
// Ours (lvs, test/peers/router.mjs) vs keepalived, each as master + backup in the same topology
// (two namespaces + an observer on one bridge), advert_int 1 s (VRRPv2) and 0.05 s (VRRPv3).
//
//   pnpm --filter @lvs/vrrp build && pnpm --filter @lvs/vrrp bench     (RUNS=20 by default)
//
// Per run: the master (priority 200) and the backup (100) are up and settled; the master's
// process is SIGKILLed at t0 (keepalived: its VRRP child, started with -R so it is not respawned);
// t_vip = the backup's RTM_NEWADDR for the VIP (an rtnetlink watcher in its namespace);
// t_garp = the first GARP for the VIP from the backup's MAC on the observer's AF_PACKET socket.
// The failover time is max(t_vip, t_garp) − t0. It mostly measures where in the advert cycle the
// kill landed; "after last advert" (t_vip − the master's last advert seen by the observer) minus
// the backup's Master_Down_Interval isolates what the implementation adds. The master is then
// restarted (it preempts back).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listAddresses, watchNetlink } from "@lvs/netconf";
import { ETH_P_ARP, ETH_P_IP, PacketSocket } from "@lvs/sys";
import { Topology } from "@lvs/testkit";

const RUNS = Number(process.env.RUNS ?? 20);
const ROUTER = fileURLToPath(new URL("../test/peers/router.mjs", import.meta.url));
const VIP = "10.97.0.100";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(pred, timeoutMs, step = 10) {
  const t0 = performance.now();
  while (!(await pred())) {
    if (performance.now() - t0 > timeoutMs) throw new Error("timeout");
    await sleep(step);
  }
}

function conf(priority, version, advert) {
  return `global_defs {
  router_id bench_${priority}
  vrrp_version ${version}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 97
  priority ${priority}
  advert_int ${advert}
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

let seq = 0;
function start(kind, ns, dir, text) {
  const id = `${kind}${seq++}`;
  const file = join(dir, `${id}.conf`);
  writeFileSync(file, text);
  if (kind === "lvs") {
    const p = ns.spawn([process.execPath, ROUTER, file]);
    return { kill: () => p.kill("SIGKILL"), exited: p.exited };
  }
  const vrrpPid = join(dir, `${id}-vrrp.pid`);
  const p = ns.spawn([
    "keepalived",
    "--vrrp",
    "-l",
    "-n",
    "-R",
    "-f",
    file,
    "-p",
    join(dir, `${id}.pid`),
    "-r",
    vrrpPid,
  ]);
  return {
    kill: () => {
      try {
        process.kill(Number(readFileSync(vrrpPid, "utf8")), "SIGKILL");
      } catch {}
      p.kill("SIGKILL");
    },
    exited: p.exited,
  };
}

const owns = async (ns) => (await listAddresses({ netns: ns.name })).some((a) => a.address === VIP);

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
}

async function scenario(kind, version, advert) {
  const topo = await Topology.create(`bench-${kind}`);
  const dir = mkdtempSync(join(tmpdir(), "lvs-bench-"));
  try {
    const br = await topo.addBridge("lan");
    const m = await topo.addNamespace("m");
    const b = await topo.addNamespace("b");
    const obs = await topo.addNamespace("obs");
    await topo.attach(m, br, { addr: "10.97.0.1/24", ifname: "eth0" });
    await topo.attach(b, br, { addr: "10.97.0.2/24", ifname: "eth0" });
    await topo.attach(obs, br, { addr: "10.97.0.250/24", ifname: "eth0" });
    const bMac = (await b.mac("eth0")).toLowerCase();
    const garps = [];
    const sock = PacketSocket.open({ interface: "eth0", netns: obs.name, protocol: ETH_P_ARP });
    sock.onFrame((f) => {
      const t = performance.now();
      if (f.length < 42) return;
      const spa = f.subarray(28, 32).join(".");
      const tpa = f.subarray(38, 42).join(".");
      const mac = Array.from(f.subarray(6, 12), (x) => x.toString(16).padStart(2, "0")).join(":");
      if (spa === VIP && tpa === VIP) garps.push({ t, mac });
    });
    const mMac = (await m.mac("eth0")).toLowerCase();
    const adverts = [];
    const vsock = PacketSocket.open({ interface: "eth0", netns: obs.name, protocol: ETH_P_IP });
    vsock.onFrame((f) => {
      const t = performance.now();
      if (f.length < 34 || f[23] !== 112) return;
      const mac = Array.from(f.subarray(6, 12), (x) => x.toString(16).padStart(2, "0")).join(":");
      if (mac === mMac) adverts.push(t);
    });
    const vipUp = [];
    const watcher = await watchNetlink({ netns: b.name });
    watcher.on("address", (ev) => {
      if (ev.type === "new" && ev.address.address === VIP) vipUp.push(performance.now());
    });
    const backup = start(kind, b, dir, conf(100, version, advert));
    const results = [];
    for (let run = 0; run < RUNS; run++) {
      const master = start(kind, m, dir, conf(200, version, advert));
      await until(async () => (await owns(m)) && !(await owns(b)), 20_000);
      // settle: a few adverts; the kill lands at a spread of phases of the advert cycle, the same
      // sequence for both daemons (golden-ratio steps, not Math.random)
      await sleep(advert * 1000 * 3 + ((run * 0.618034) % 1) * advert * 1000 + 200);
      const t0 = performance.now();
      master.kill();
      await master.exited;
      await until(
        () => vipUp.some((t) => t > t0) && garps.some((g) => g.t > t0 && g.mac === bMac),
        20_000,
        2,
      );
      const tVip = vipUp.find((t) => t > t0) - t0;
      const tGarp = garps.find((g) => g.t > t0 && g.mac === bMac).t - t0;
      const last = adverts.filter((t) => t < t0).at(-1) ?? t0;
      results.push({ tVip, tGarp, total: Math.max(tVip, tGarp), afterLast: tVip + t0 - last });
      // the killed master left its VIP behind (kill -9): the restarted one clears it
      process.stderr.write(
        `${kind} v${version} ${advert}s run ${run + 1}/${RUNS}: ${Math.max(tVip, tGarp).toFixed(1)} ms\n`,
      );
    }
    backup.kill();
    watcher.close();
    sock.close();
    vsock.close();
    return results;
  } finally {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const [version, advert] of [
  [2, 1],
  [3, 0.05],
]) {
  const mdi = 3 * advert * 1000 + (version === 2 ? (156 * 1000) / 256 : (156 * advert * 1000) / 256);
  for (const kind of ["keepalived", "lvs"]) {
    const r = await scenario(kind, version, advert);
    const total = stats(r.map((x) => x.total));
    const vip = stats(r.map((x) => x.tVip));
    const garp = stats(r.map((x) => x.tGarp));
    const after = stats(r.map((x) => x.afterLast - mdi));
    rows.push({ kind, version, advert, mdi, total, vip, garp, after });
  }
}
const f = (x) => x.toFixed(0);
console.log(`\nfailover, kill -9 → VIP up on the backup and its first GARP seen (${RUNS} runs each, ms)`);
console.log(
  "| adverts | daemon | Master_Down_Interval | median | p95 | min–max | VIP up (median) | first GARP (median) | VIP up − last advert − MDI (median / p95) |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| v${r.version}, ${r.advert} s | ${r.kind} | ${f(r.mdi)} | **${f(r.total.median)}** | ${f(r.total.p95)} | ${f(r.total.min)}–${f(r.total.max)} | ${f(r.vip.median)} | ${f(r.garp.median)} | ${r.after.median.toFixed(1)} / ${r.after.p95.toFixed(1)} |`,
  );
}
for (const [version, advert] of [
  [2, 1],
  [3, 0.05],
]) {
  const k = rows.find((r) => r.kind === "keepalived" && r.version === version);
  const l = rows.find((r) => r.kind === "lvs" && r.version === version);
  console.log(
    `v${version} ${advert} s: lvs median / keepalived median = ${(l.total.median / k.total.median).toFixed(3)}`,
  );
}
