// Benchmark: sustained TCP / HTTP checks per second on one core, scheduling jitter p99 and
// memory per check. Run: pnpm build && pnpm bench  (uses taskset when available).
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { HealthCheckRunner, probe } from "../dist/index.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const hasTaskset = spawnSync("taskset", ["-V"]).status === 0;

if (hasTaskset && !process.env.BENCH_PINNED) {
  // Re-exec pinned to CPU 0; targets go to CPU 1.
  const r = spawnSync(
    "taskset",
    ["-c", "0", process.execPath, "--expose-gc", fileURLToPath(import.meta.url)],
    {
      stdio: "inherit",
      env: { ...process.env, BENCH_PINNED: "1" },
    },
  );
  process.exit(r.status ?? 1);
}

const targetsCmd = hasTaskset
  ? ["taskset", ["-c", "1", process.execPath, fileURLToPath(new URL("targets.mjs", import.meta.url)), "100"]]
  : [process.execPath, [fileURLToPath(new URL("targets.mjs", import.meta.url)), "100"]];
const targets = spawn(targetsCmd[0], targetsCmd[1], { stdio: ["pipe", "pipe", "inherit"] });
const ports = await new Promise((resolve) =>
  createInterface({ input: targets.stdout }).once("line", (l) => resolve(JSON.parse(l))),
);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const srcAddrs = Array.from({ length: 50 }, (_, i) => `127.0.0.${i + 2}`);

/** Closed loop: `concurrency` probes always in flight for SECONDS; returns checks/s. */
async function saturate(makeDef, concurrency) {
  let done = 0;
  let failed = 0;
  let i = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const r = await probe(makeDef(i++));
      done++;
      if (!r.up) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rate: done / ((performance.now() - t0) / 1000), failed, done };
}

/** The real scheduler: N distinct targets at delayLoop; achieved rate and start jitter. */
async function scheduled(n, delayLoop) {
  const defs = Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    check: {
      type: "tcp",
      connectIp: "127.0.0.1",
      connectPort: ports.tcp[i % ports.tcp.length],
      bindto: srcAddrs[Math.floor(i / ports.tcp.length) % srcAddrs.length],
      connectTimeout: 2,
    },
    policy: { delayLoop, retry: 0 },
  }));
  let failed = 0;
  const runner = new HealthCheckRunner({
    concurrency: 1024,
    onResult: (_id, r) => {
      if (!r.up) failed++;
    },
  });
  runner.configure(defs);
  // Skip the first delay_loop (staggered ramp-up), then measure.
  await new Promise((r) => setTimeout(r, delayLoop * 1000));
  const c0 = runner.stats.probesCompleted;
  runner.stats.jitterMs.length = 0;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const rate = (runner.stats.probesCompleted - c0) / ((performance.now() - t0) / 1000);
  const jit = runner.stats.jitterMs;
  const uniqueChecks = runner.uniqueChecks;
  runner.stop();
  return {
    demanded: n / delayLoop,
    rate,
    failed,
    jitterP50: pct(jit, 50),
    jitterP99: pct(jit, 99),
    samples: jit.length,
    uniqueChecks,
  };
}

function memoryPerTarget(n) {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const runner = new HealthCheckRunner();
  runner.configure(
    Array.from({ length: n }, (_, i) => ({
      id: `rs${i}`,
      check: {
        type: "http",
        connectIp: `127.0.${(i >> 8) & 255}.${i & 255}`,
        connectPort: 80,
        url: [{ path: "/health", statusCode: [200] }],
      },
      policy: { delayLoop: 3600, retry: 1, rise: 2, fall: 3, weight: 10, slowStart: 30 },
    })),
  );
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  runner.stop();
  return (after - before) / n;
}

const results = {};
results.memoryBytesPerTarget = Math.round(memoryPerTarget(10_000));
const tcpNoBind = await saturate(
  (i) => ({ type: "tcp", connectIp: "127.0.0.1", connectPort: ports.tcp[i % ports.tcp.length] }),
  128,
);
results.tcpChecksPerSecondNoBindto = Math.round(tcpNoBind.rate);
const tcp = await saturate(
  (i) => ({
    type: "tcp",
    connectIp: "127.0.0.1",
    connectPort: ports.tcp[i % ports.tcp.length],
    bindto: srcAddrs[i % srcAddrs.length],
  }),
  128,
);
results.tcpChecksPerSecond = Math.round(tcp.rate);
results.tcpFailed = tcp.failed;
const http = await saturate(
  (i) => ({
    type: "http",
    connectIp: "127.0.0.1",
    connectPort: ports.http[i % ports.http.length],
    bindto: srcAddrs[i % srcAddrs.length],
    url: [{ path: "/health", statusCode: [200] }],
  }),
  128,
);
results.httpChecksPerSecond = Math.round(http.rate);
results.httpFailed = http.failed;
const fmtSch = (sch) => ({
  ...sch,
  rate: Math.round(sch.rate),
  jitterP50: Number(sch.jitterP50.toFixed(2)),
  jitterP99: Number(sch.jitterP99.toFixed(2)),
});
results.scheduler5k = fmtSch(await scheduled(5000, 1));
results.scheduler10k = fmtSch(await scheduled(5000, 0.5));
console.log(
  JSON.stringify({ node: process.version, pinned: hasTaskset, seconds: SECONDS, ...results }, null, 2),
);
targets.stdin.end();
