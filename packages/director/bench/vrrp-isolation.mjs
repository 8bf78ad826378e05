#!/usr/bin/env node
// VRRP rhythm under a loaded daemon (root, on the host: network namespaces, keepalived 2.2.7 as
// the BACKUP peer). The daemon (bench/fixtures/memory-daemon.mjs: runDaemon as `lvsctl up -f`
// runs it, in-memory IPVS) runs a MASTER (VRRPv3, advert_int 0.1 s, priority 150) and 20,000
// TCP checks (5,000 virtual servers × 4 real servers, delay_loop 6: ~3,300 connects/s to a
// namespace that accepts them) from a ~5 MB keepalived.conf, and is sent SIGHUP RELOADS times in
// a row (each reload parses the 5 MB file and diffs 20,000 real servers on the daemon's loop).
// The MASTER's adverts are captured and timed in an observer namespace by a process of their own
// (tcpdump: the kernel's receive timestamps; else vrrp/test/peers/capture-adverts.mjs); reported:
// the gaps between them from the first SIGHUP to 1 s after the last reload finished, the window's
// edges counted as adverts (a MASTER silent for the whole window shows the window as its largest
// gap), p50 / p99 / max, and whether keepalived became MASTER.
//
//   pnpm --filter @lvs/director... build && node packages/director/bench/vrrp-isolation.mjs
//   env: RELOADS=3, MODES=in-process,isolated-nice0,isolated (isolated: lvs's default, nice -10
//        as root; isolated-nice0: `vrrp_priority 0`, keepalived's default; isolated-rt:
//        `vrrp_rt_priority 50`), SERVICES=5000, DELAY_LOOP=6, RUNS=1
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Topology } from "@lvs/testkit";

const RELOADS = Number(process.env.RELOADS ?? 3);
const SERVICES = Number(process.env.SERVICES ?? 5000);
const DELAY_LOOP = Number(process.env.DELAY_LOOP ?? 6);
const RUNS = Number(process.env.RUNS ?? 1);
const MODES = (process.env.MODES ?? "in-process,isolated-nice0,isolated").split(",");
const DAEMON = fileURLToPath(new URL("./fixtures/memory-daemon.mjs", import.meta.url));
const CAPTURE = fileURLToPath(new URL("../../vrrp/test/peers/capture-adverts.mjs", import.meta.url));
const NET = "10.99.0";
const VIP = `${NET}.100`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const epochMs = () => performance.timeOrigin + performance.now();

async function until(what, pred, timeoutMs, step = 50) {
  const t0 = performance.now();
  while (!(await pred())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(step);
  }
}

const schedulingLine = (mode) =>
  mode === "isolated-nice0" ? "  vrrp_priority 0\n" : mode === "isolated-rt" ? "  vrrp_rt_priority 50\n" : "";

/**
 * The daemon's keepalived.conf: one VRRP instance and SERVICES virtual servers × 4 real servers
 * with a TCP_CHECK each (the real servers' addresses are all accepted by the "rs" namespace),
 * written out with the options a production file carries (~1 kB per virtual server).
 */
function daemonConf(mode, variant) {
  const out = [
    "global_defs {",
    "  router_id bench_vrrp_isolation",
    "  vrrp_version 3",
    `${schedulingLine(mode)}}`,
    "vrrp_instance VI_1 {",
    "  state BACKUP",
    "  interface eth0",
    "  virtual_router_id 99",
    "  priority 150",
    "  advert_int 0.1",
    "  virtual_ipaddress {",
    `    ${VIP}/24`,
    "  }",
    "}",
  ];
  for (let i = 0; i < SERVICES; i++) {
    out.push(`virtual_server 10.${(i >> 8) & 255}.${i & 255}.1 80 {`);
    out.push(`  delay_loop ${DELAY_LOOP}`, "  lb_algo wlc", "  lb_kind DR", "  protocol TCP");
    out.push("  persistence_timeout 300", "  quorum 1", "  hysteresis 0", "  alpha", "  omega");
    for (let r = 0; r < 4; r++) {
      // the first real server's weight alternates between reloads: each reload changes something
      const weight = i === 0 && r === 0 ? 1 + variant : 1;
      out.push(`  real_server 172.${16 + ((i >> 8) & 15)}.${i & 255}.${r + 10} 80 {`);
      out.push(`    weight ${weight}`, "    inhibit_on_failure", "    uthreshold 10000", "    lthreshold 0");
      out.push("    TCP_CHECK {", "      connect_port 80", "      connect_timeout 3", "      retry 2");
      out.push("      delay_before_retry 2", "    }", "  }");
    }
    out.push("}");
  }
  return `${out.join("\n")}\n`;
}

const TCPDUMP = (() => {
  try {
    execFileSync("tcpdump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The capture file's adverts: tcpdump's text lines, or capture-adverts.mjs's. */
function readAdverts(file) {
  const out = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (TCPDUMP) {
      // 1733527200.123456 IP 10.99.0.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 99, prio 150, …
      const m = /^(\d+\.\d+) IP (\S+) > \S+ VRRPv\d, Advertisement, vrid (\d+)/.exec(line);
      if (m) out.push({ t: Number(m[1]) * 1000, src: m[2], vrid: Number(m[3]) });
    } else {
      const [t, src, vrid] = line.split(" ");
      if (t && src) out.push({ t: Number(t), src, vrid: Number(vrid) });
    }
  }
  return out;
}

const hasKeepalived = (() => {
  try {
    execFileSync("keepalived", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

function startBackup(ns, dir) {
  const file = join(dir, "backup.conf");
  writeFileSync(
    file,
    `global_defs {\n  router_id bench_backup\n  vrrp_version 3\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 99\n  priority 100\n  advert_int 0.1\n  virtual_ipaddress {\n    ${VIP}/24\n  }\n}\n`,
  );
  return ns.spawn([
    "keepalived",
    "--vrrp",
    "-D",
    "-l",
    "-n",
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

const owns = async (ns) => (await ns.run("ip -4 -o addr show dev eth0")).includes(` ${VIP}/`);

async function scenario(mode, conf) {
  const topo = await Topology.create(`bviso-${mode.slice(-3)}`);
  const dir = mkdtempSync(join(tmpdir(), "lvs-bench-viso-"));
  const stops = [];
  try {
    const br = await topo.addBridge("lan");
    const [m, b, obs, rs] = [
      await topo.addNamespace("m"),
      await topo.addNamespace("b"),
      await topo.addNamespace("obs"),
      await topo.addNamespace("rs"),
    ];
    await topo.attach(m, br, { addr: `${NET}.1/24`, ifname: "eth0" });
    await topo.attach(b, br, { addr: `${NET}.2/24`, ifname: "eth0" });
    await topo.attach(obs, br, { addr: `${NET}.250/24`, ifname: "eth0" });
    // The real servers: every address of 172.16.0.0/12 is local in "rs" (AnyIP), one listener.
    await topo.link(m, rs, { a: "192.168.99.1/30", b: "192.168.99.2/30", ifA: "eth1", ifB: "eth0" });
    await m.addRoute("172.16.0.0/12 via 192.168.99.2");
    await rs.run("ip route add local 172.16.0.0/12 dev lo");
    const listener = rs.spawn([
      process.execPath,
      "-e",
      "let n = 0; require('node:net').createServer((s) => { n++; s.destroy(); }).listen({ port: 80, host: '0.0.0.0', backlog: 4096 }, () => console.log('listening')); setInterval(() => console.log('accepted ' + n), 1000);",
    ]);
    stops.push(async () => {
      listener.kill("SIGKILL");
      await listener.exited;
    });
    await until("the real servers", () => listener.output().includes("listening"), 20_000);

    const capFile = join(dir, "adverts.txt");
    writeFileSync(capFile, "");
    // tcpdump's timestamps are the kernel's (taken as the frame arrives), so a loaded host cannot
    // delay them; without tcpdump, a node capture process of its own times them on arrival.
    const cap = TCPDUMP
      ? obs.spawn(["sh", "-c", `exec tcpdump -i eth0 -n -tt -l 'ip proto 112' > ${capFile}`])
      : obs.spawn([process.execPath, CAPTURE, "eth0", capFile]);
    stops.push(async () => {
      cap.kill("SIGTERM");
      await cap.exited;
    });
    await until("capture", () => cap.output().includes(TCPDUMP ? "listening on" : "ready"), 20_000);

    const confFile = join(dir, "keepalived.conf");
    writeFileSync(confFile, conf(0));
    const daemon = m.spawn([
      process.execPath,
      DAEMON,
      confFile,
      ...(mode === "in-process" ? ["--vrrp-in-process"] : []),
    ]);
    stops.push(async () => {
      daemon.kill("SIGTERM");
      const t = setTimeout(() => daemon.kill("SIGKILL"), 15_000);
      await daemon.exited;
      clearTimeout(t);
    });
    await until("the daemon", () => daemon.output().includes("daemon started"), 180_000);
    await until("our MASTER", () => owns(m), 30_000, 200);
    const backup = hasKeepalived ? startBackup(b, dir) : undefined;
    if (backup)
      stops.push(async () => {
        backup.kill("SIGTERM");
        await backup.exited;
      });
    // two rounds of checks before the reloads
    await sleep(2 * DELAY_LOOP * 1000);
    const outBefore = backup?.output().length ?? 0;
    const accepted = () => Number(/accepted (\d+)\n(?![\s\S]*accepted)/.exec(listener.output())?.[1] ?? 0);
    const accepted0 = accepted();
    const t0 = epochMs();
    const reloadMs = [];
    for (let k = 1; k <= RELOADS; k++) {
      writeFileSync(confFile, conf(k % 2));
      daemon.child.kill("SIGHUP");
      await until(`reload ${k}`, () => daemon.output().includes(`reloaded ${k} in`), 300_000, 20);
      reloadMs.push(Number(new RegExp(`reloaded ${k} in (\\d+) ms`).exec(daemon.output())?.[1]));
    }
    await sleep(1000);
    const t1 = epochMs();
    const checksPerSecond = ((accepted() - accepted0) * 1000) / (t1 - t0);
    const times = readAdverts(capFile)
      .filter((a) => a.src === `${NET}.1` && a.vrid === 99 && a.t >= t0 && a.t <= t1)
      .map((a) => a.t);
    const before = backup?.output().slice(0, outBefore) ?? "";
    const after = backup?.output().slice(outBefore) ?? "";
    return {
      mode,
      windowMs: t1 - t0,
      reloadMs,
      ...gapStats([t0, ...times, t1]),
      adverts: times.length,
      backupTookOver: /Entering MASTER STATE/.test(after)
        ? "in the window"
        : /Entering MASTER STATE/.test(before)
          ? "before the window"
          : "no",
      load: loadavg()[0],
      checksPerSecond,
      failed: /reload failed/.test(daemon.output()),
    };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
const loadBefore = loadavg();
let size = 0;
for (let run = 1; run <= RUNS; run++) {
  for (const mode of MODES) {
    const conf = (variant) => daemonConf(mode, variant);
    size = conf(0).length;
    const r = await scenario(mode, conf);
    rows.push({ run, ...r });
    process.stderr.write(`run ${run} ${mode}: max gap ${r.max?.toFixed(0)} ms\n`);
  }
}
const ms = (x) => (x === undefined || Number.isNaN(x) ? "-" : `${x.toFixed(0)}`);
console.log(
  `\nMASTER VRRPv3 advert_int 0.1 s in the daemon (runDaemon, in-memory IPVS) with ${SERVICES * 4} TCP checks (delay_loop ${DELAY_LOOP}) from a ${(size / 1e6).toFixed(1)} MB keepalived.conf, ${RELOADS} SIGHUP reloads in a row; BACKUP: ${hasKeepalived ? "keepalived 2.2.7" : "none"}; adverts timed by ${TCPDUMP ? "tcpdump (kernel timestamps)" : "capture-adverts.mjs"}; load average before ${loadBefore.map((l) => l.toFixed(1)).join(" ")}`,
);
console.log(
  "| run | router | reloads (ms) | window (ms) | adverts | gap p50 | gap p99 | gap max (ms) | BACKUP became MASTER | checks/s | load avg |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.run} | ${r.mode} | ${r.reloadMs.map(ms).join(", ")} | ${ms(r.windowMs)} | ${r.adverts} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.backupTookOver} | ${ms(r.checksPerSecond)} | ${r.load.toFixed(1)} |`,
  );
}
