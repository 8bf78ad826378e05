// @lvs/proxy against haproxy 2.6 `mode tcp`, both on one pinned core, same real servers, same run:
//   pnpm build && node bench/vs-haproxy.mjs            (BENCH_S=4 seconds per wrk/iperf3 run)
// New connections/s (wrk, `Connection: close`), bulk throughput (iperf3), latency p50/p99 added
// over a direct connection (wrk keep-alive), and memory per 10,000 idle connections (RSS delta of
// the balancer's process, measured with IDLE connections and scaled). Loopback only. The real
// servers are a second haproxy (`http-request return`) and iperf3 -s, pinned to the other core.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SECONDS = Number(process.env.BENCH_S ?? 4);
const IDLE = Number(process.env.BENCH_IDLE ?? 9000); // a process may hold 20,000 fds here: 2 per connection
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LB_CORE = process.env.BENCH_LB_CORE ?? "1";
const PEER_CORE = process.env.BENCH_PEER_CORE ?? "0";
// A fresh port range each run: iperf3 -s will not bind a port that still has TIME_WAIT entries.
const B = 20_000 + 10 * Math.floor(Math.random() * 1200); // below the ephemeral range (32768-)
const P = {
  be: [B, B + 1, B + 2],
  iperf: B + 3,
  haproxy: B + 4,
  haproxyIperf: B + 5,
  ours: B + 6,
  oursIperf: B + 7,
};
const dir = mkdtempSync(join(tmpdir(), "lvs-proxy-bench-"));
const children = [];

function start(cmd, args, name) {
  const p = spawn("taskset", ["-c", name === "peer" ? PEER_CORE : LB_CORE, cmd, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d) => {
    out += d;
  };
  p.stdout.on("data", keep);
  p.stderr.on("data", keep);
  p.output = () => out;
  children.push(p);
  return p;
}
const r2 = (x) => Number(x.toFixed(2));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = (cmd, args) =>
  new Promise((resolve, reject) =>
    execFile("taskset", ["-c", PEER_CORE, cmd, ...args], { maxBuffer: 1 << 24 }, (e, out, err) =>
      e ? reject(new Error(`${cmd} ${args.join(" ")}: ${e.message}\n${err}`)) : resolve(out),
    ),
  );
async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listens on ${port}:\n${children.map((c) => c.output()).join("\n")}`);
}
function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}
function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime
}
const pick = (results, k) => ({ haproxy: results.haproxy[k], ours: results.ours[k] });
const ms = (v, unit) => Number(v) * { us: 0.001, ms: 1, s: 1000 }[unit];

async function wrk(port, close) {
  const args = ["-t1", close ? "-c50" : "-c10", `-d${SECONDS}s`, "--latency"];
  if (close) args.push("-H", "Connection: close");
  const out = await run("wrk", [...args, `http://127.0.0.1:${port}/`]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return ms(m[1], m[2]);
  };
  const errors = /Socket errors: (.*)/.exec(out)?.[1];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  return { rps, p50: pct(50), p99: pct(99), errors, non2xx };
}

async function iperf(port) {
  const out = JSON.parse(
    await run("iperf3", ["-c", "127.0.0.1", "-p", String(port), "-t", String(SECONDS), "-J"]),
  );
  return out.end.sum_received.bits_per_second / 1e9;
}

async function idleMemory(pid, port) {
  const before = rssKiB(pid);
  const socks = [];
  let connected = 0;
  for (let i = 0; i < IDLE; i++) {
    const s = connect({
      host: "127.0.0.1",
      port,
      localAddress: `127.0.${1 + (i % 200)}.${1 + (((i / 200) | 0) % 250)}`,
    });
    s.on("connect", () => connected++);
    s.on("error", () => {});
    socks.push(s);
    if (i % 500 === 499) await sleep(20);
  }
  for (let i = 0; i < 400 && connected < IDLE; i++) await sleep(25);
  await sleep(1500);
  const after = rssKiB(pid);
  for (const s of socks) s.destroy();
  await sleep(1500);
  return { connected, deltaKiB: after - before, per10kMiB: r2(((after - before) / 1024) * (10_000 / IDLE)) };
}

const haproxyCfg = (extra) => `
global
  nbthread 1
  maxconn 9800
defaults
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-request 60s
${extra}`;

try {
  const version = (await new Promise((r) => execFile("haproxy", ["-v"], (_e, o) => r(o)))).split("\n")[0];
  writeFileSync(
    join(dir, "be.cfg"),
    haproxyCfg(`frontend be
  mode http
${P.be.map((p) => `  bind 127.0.0.1:${p}`).join("\n")}
  http-request return status 200 content-type text/plain string "ok"
`),
  );
  writeFileSync(
    join(dir, "lb.cfg"),
    haproxyCfg(`listen lb
  mode tcp
  bind 127.0.0.1:${P.haproxy}
  balance roundrobin
${P.be.map((p, i) => `  server s${i} 127.0.0.1:${p}`).join("\n")}
listen lb_iperf
  mode tcp
  bind 127.0.0.1:${P.haproxyIperf}
  server iperf 127.0.0.1:${P.iperf}
`),
  );
  start("haproxy", ["-db", "-f", join(dir, "be.cfg")], "peer");
  start("iperf3", ["-s", "-p", String(P.iperf)], "peer");
  const lb = start("haproxy", ["-db", "-f", join(dir, "lb.cfg")], "lb");
  const ours = start(
    process.execPath,
    [
      new URL("proxy-child.mjs", import.meta.url).pathname,
      JSON.stringify([
        { port: P.ours, scheduler: "rr", dests: P.be },
        { port: P.oursIperf, dests: [P.iperf] },
      ]),
    ],
    "lb",
  );
  for (const p of [...P.be, P.iperf, P.haproxy, P.ours]) await waitPort(p);
  const lbs = {
    haproxy: { pid: lb.pid, port: P.haproxy, iperf: P.haproxyIperf },
    ours: { pid: ours.pid, port: P.ours, iperf: P.oursIperf },
  };

  const results = {
    haproxy: { cps: [], cpuPerConnUs: [], gbps: [], cpuPerGB: [] },
    ours: { cps: [], cpuPerConnUs: [], gbps: [], cpuPerGB: [] },
  };
  // Warm both up (JIT, haproxy's pools), then alternate so drift on a shared host hits both.
  await wrk(P.haproxy, true);
  await wrk(P.ours, true);
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of ["haproxy", "ours"]) {
      const t0 = cpuTicks(lbs[name].pid);
      const w = await wrk(lbs[name].port, true);
      const cpuS = (cpuTicks(lbs[name].pid) - t0) / 100;
      results[name].cps.push(Math.round(w.rps));
      results[name].cpuPerConnUs.push(Math.round((cpuS / (w.rps * SECONDS)) * 1e6));
      if (w.errors || w.non2xx)
        console.error(`${name}: wrk errors ${w.errors ?? ""} non-2xx ${w.non2xx ?? 0}`);
    }
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of ["haproxy", "ours"]) {
      const t0 = cpuTicks(lbs[name].pid);
      const gbps = await iperf(lbs[name].iperf);
      const cpuS = (cpuTicks(lbs[name].pid) - t0) / 100;
      results[name].gbps.push(Number(gbps.toFixed(2)));
      results[name].cpuPerGB.push(Number((cpuS / ((gbps * SECONDS) / 8)).toFixed(3)));
    }
  }
  const lat = {};
  for (const [name, port] of [
    ["direct", P.be[0]],
    ["haproxy", P.haproxy],
    ["ours", P.ours],
  ]) {
    const w = await wrk(port, false);
    lat[name] = { p50: r2(w.p50 * 1000) / 1000, p99: r2(w.p99), rps: Math.round(w.rps) };
  }
  const mem = {};
  for (const name of ["haproxy", "ours"]) mem[name] = await idleMemory(lbs[name].pid, lbs[name].port);

  const best = (a) => Math.max(...a);
  const least = (a) => Math.min(...a);
  const out = {
    haproxy: version,
    node: process.version,
    seconds: SECONDS,
    rounds: ROUNDS,
    // Wall-clock figures are capped by whatever is slowest on the host (often the peers' core);
    // CPU per unit of the balancer's own process is what "on one core" compares.
    connsPerSecond: {
      ...pick(results, "cps"),
      ratio: r2(best(results.ours.cps) / best(results.haproxy.cps)),
    },
    lbCpuMicrosecondsPerConn: {
      ...pick(results, "cpuPerConnUs"),
      oneCoreRatio: r2(least(results.haproxy.cpuPerConnUs) / least(results.ours.cpuPerConnUs)),
    },
    throughputGbps: {
      ...pick(results, "gbps"),
      ratio: r2(best(results.ours.gbps) / best(results.haproxy.gbps)),
    },
    lbCpuSecondsPerGB: {
      ...pick(results, "cpuPerGB"),
      oneCoreRatio: r2(least(results.haproxy.cpuPerGB) / least(results.ours.cpuPerGB)),
    },
    latencyMs: {
      ...lat,
      addedP50: { haproxy: r2(lat.haproxy.p50 - lat.direct.p50), ours: r2(lat.ours.p50 - lat.direct.p50) },
      addedP99: { haproxy: r2(lat.haproxy.p99 - lat.direct.p99), ours: r2(lat.ours.p99 - lat.direct.p99) },
    },
    idle: { connections: IDLE, ...mem },
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  for (const c of children) c.kill("SIGTERM");
}
