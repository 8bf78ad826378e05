#!/usr/bin/env node
// Isolation benchmark (root; keepalived 2.2.7 if installed, else our own router as the BACKUP
// peer): a MASTER (VRRPv3, advert_int 0.1 s, priority 150) run by THIS process, in process
// (VrrpRouter) and then isolated (IsolatedRouter: the router in a child process), while this
// process blocks its event loop the way a big reload does: it parses a generated ~5 MB
// keepalived.conf with @lvs/config PARSES times, then spins BUSY_MS. The master's adverts are
// captured and timed in an observer namespace by a process of their own
// (test/peers/capture-adverts.mjs); reported: the gaps between them over the block (p50, p99,
// max) and whether the BACKUP became MASTER.
//
//   pnpm --filter @lvs/vrrp build && node packages/vrrp/bench/isolation.mjs
//   (env: PARSES=3, BUSY_MS=2000, CONF_VS=10500 virtual servers × 4 real servers ≈ 5 MB,
//    MODES=in-process,isolated,isolated-nice — the last with the child at nice -10, keepalived's
//    `vrrp_priority`; SPIN=0 PARSES=0: this process waits instead, the host's own jitter)
// The whole daemon instead of a blocked loop — 20,000 checks running, SIGHUP reloads of a 5 MB
// keepalived.conf, vrrp_priority from the file — is packages/director/bench/vrrp-isolation.mjs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadKeepalivedConf } from "@lvs/config";
import { listAddresses } from "@lvs/netconf";
import { Topology } from "@lvs/testkit";
import { spawnIsolatedRouter, VrrpRouter } from "@lvs/vrrp";

const PARSES = Number(process.env.PARSES ?? 3);
const BUSY_MS = Number(process.env.BUSY_MS ?? 2000);
const CONF_VS = Number(process.env.CONF_VS ?? 10_500);
// SPIN=0: the busy loop waits instead (Atomics.wait): the loop is blocked without taking a CPU,
// which shows the host's own scheduling jitter (run it with PARSES=0)
const SPIN = process.env.SPIN !== "0";
const CAPTURE = fileURLToPath(new URL("../test/peers/capture-adverts.mjs", import.meta.url));
const ROUTER = fileURLToPath(new URL("../test/peers/router.mjs", import.meta.url));
const NET = "10.99.0";
const VIP = `${NET}.100`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const epochMs = () => performance.timeOrigin + performance.now();

async function until(what, pred, timeoutMs, step = 10) {
  const t0 = performance.now();
  while (!(await pred())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(step);
  }
}

const hasKeepalived = (() => {
  try {
    execFileSync("keepalived", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** A keepalived.conf of `n` virtual servers with 4 real servers and a TCP_CHECK each. */
function bigConf(n) {
  const out = ["global_defs {", "  router_id bench_isolation", "}"];
  for (let i = 0; i < n; i++) {
    out.push(`virtual_server 10.${(i >> 8) & 255}.${i & 255}.1 80 {`, "  delay_loop 6", "  lb_algo wlc");
    out.push("  lb_kind DR", "  protocol TCP");
    for (let r = 0; r < 4; r++) {
      out.push(`  real_server 172.${16 + ((i >> 8) & 15)}.${i & 255}.${r + 10} 80 {`, "    weight 1");
      out.push("    TCP_CHECK {", "      connect_timeout 3", "    }", "  }");
    }
    out.push("}");
  }
  return `${out.join("\n")}\n`;
}

const vrrpConf = (priority) => `global_defs {
  router_id bench_iso_${priority}
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 99
  priority ${priority}
  advert_int 0.1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

const ownerOptions = (netns) => ({
  netns,
  version: 3,
  instances: [
    {
      name: "VI_1",
      interface: "eth0",
      vrid: 99,
      priority: 150,
      advertInterval: 0.1,
      virtualAddresses: [`${VIP}/24`],
    },
  ],
});

const owns = async (ns) => (await listAddresses({ netns: ns.name })).some((a) => a.address === VIP);

function startBackup(ns, dir) {
  const file = join(dir, "backup.conf");
  writeFileSync(file, vrrpConf(100));
  if (!hasKeepalived) return ns.spawn([process.execPath, ROUTER, file]);
  return ns.spawn([
    "keepalived",
    "--vrrp",
    "-D",
    "-l",
    "-n",
    "-R",
    "-f",
    file,
    "-p",
    join(dir, "k.pid"),
    "-r",
    join(dir, "kv.pid"),
  ]);
}

function gapStats(times) {
  const gaps = times
    .slice(1)
    .map((t, i) => t - times[i])
    .sort((a, b) => a - b);
  const at = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))];
  return { adverts: times.length, p50: at(0.5), p99: at(0.99), max: gaps.at(-1) };
}

/** What a big reload does to this process's event loop: parses, then a busy loop. */
function blockLikeAReload(file) {
  const parses = [];
  for (let i = 0; i < PARSES; i++) {
    const s = performance.now();
    loadKeepalivedConf(file);
    parses.push(performance.now() - s);
  }
  if (!SPIN) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BUSY_MS);
    return parses;
  }
  const end = performance.now() + BUSY_MS;
  while (performance.now() < end) {
    // spin
  }
  return parses;
}

async function scenario(mode, bigFile) {
  const topo = await Topology.create(`bench-iso-${mode.slice(0, 3)}`);
  const dir = mkdtempSync(join(tmpdir(), "lvs-bench-iso-"));
  const stops = [];
  try {
    const br = await topo.addBridge("lan");
    const [m, b, obs] = [
      await topo.addNamespace("m"),
      await topo.addNamespace("b"),
      await topo.addNamespace("obs"),
    ];
    await topo.attach(m, br, { addr: `${NET}.1/24`, ifname: "eth0" });
    await topo.attach(b, br, { addr: `${NET}.2/24`, ifname: "eth0" });
    await topo.attach(obs, br, { addr: `${NET}.250/24`, ifname: "eth0" });
    const capFile = join(dir, "adverts.txt");
    writeFileSync(capFile, "");
    const cap = obs.spawn([process.execPath, CAPTURE, "eth0", capFile]);
    stops.push(async () => {
      cap.kill("SIGTERM");
      await cap.exited;
    });
    await until("capture", () => cap.output().includes("ready"), 10_000);
    const options = ownerOptions(m.name);
    const router =
      mode === "in-process"
        ? new VrrpRouter(options)
        : spawnIsolatedRouter(options, mode === "isolated-nice" ? { priority: -10 } : {});
    stops.push(() => router.stop());
    await router.start();
    await until("our MASTER", () => owns(m), 10_000);
    const backup = startBackup(b, dir);
    stops.push(async () => {
      backup.kill("SIGTERM");
      await backup.exited;
    });
    await sleep(1500);
    const outBefore = backup.output().length;
    const t0 = epochMs();
    const parses = blockLikeAReload(bigFile);
    const t1 = epochMs();
    await sleep(1500);
    const times = readFileSync(capFile, "utf8")
      .split("\n")
      .map((l) => l.split(" "))
      .filter(
        ([t, src, vrid]) =>
          src === `${NET}.1` && vrid === "99" && Number(t) >= t0 - 500 && Number(t) <= t1 + 500,
      )
      .map(([t]) => Number(t));
    const after = backup.output().slice(outBefore);
    const backupTookOver = /Entering MASTER STATE|"state":"master"/.test(after);
    return { mode, blockMs: t1 - t0, parses, ...gapStats(times), backupTookOver };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), "lvs-bench-iso-conf-"));
try {
  const bigFile = join(dir, "keepalived.conf");
  const text = bigConf(CONF_VS);
  writeFileSync(bigFile, text);
  const rows = [];
  for (const mode of (process.env.MODES ?? "in-process,isolated,isolated-nice").split(",")) {
    rows.push(await scenario(mode, bigFile));
    process.stderr.write(`${mode} done\n`);
  }
  const ms = (x) => (x === undefined ? "-" : `${x.toFixed(0)}`);
  console.log(
    `\nMASTER VRRPv3 advert_int 0.1 s; this process blocked by ${PARSES} parses of a ${(text.length / 1e6).toFixed(1)} MB keepalived.conf (${CONF_VS} virtual servers, ${CONF_VS * 4} real servers) + ${BUSY_MS} ms ${SPIN ? "busy loop" : "wait (no CPU)"}; BACKUP peer: ${hasKeepalived ? "keepalived 2.2.7" : "ours (separate process)"}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(
    "| router | loop blocked (ms) | parses (ms) | adverts | gap p50 | gap p99 | gap max (ms) | BACKUP became MASTER |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.mode} | ${ms(r.blockMs)} | ${r.parses.map(ms).join(", ")} | ${r.adverts} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.backupTookOver ? "yes" : "no"} |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
