// Benchmark: sustained TCP / HTTP checks per second on one core, scheduling jitter p99 and
// memory per check; then 20,000 TCP checks/s on two worker threads (both cores).
// Run: pnpm build && pnpm bench  (uses taskset when available).
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// BENCH_DIST: another build's dist/index.js (e.g. main's), for before/after runs in one minute.
const { HealthCheckRunner, probe, WorkerCheckRunner } = await import(
  process.env.BENCH_DIST ?? new URL("../dist/index.js", import.meta.url).href
);

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const hasTaskset = spawnSync("taskset", ["-V"]).status === 0;
const targetsScript = fileURLToPath(new URL("targets.mjs", import.meta.url));

/** Loopback targets (100 TCP + 100 HTTP listeners on 127.0.0.1) in their own process. */
async function startTargets(cpu) {
  const [cmd, args] =
    hasTaskset && cpu !== undefined
      ? ["taskset", ["-c", cpu, process.execPath, targetsScript, "100"]]
      : [process.execPath, [targetsScript, "100"]];
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  const ports = await new Promise((resolve) =>
    createInterface({ input: child.stdout }).once("line", (l) => resolve(JSON.parse(l))),
  );
  return { ports, stop: () => child.stdin.end() };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const srcAddrs = Array.from({ length: 50 }, (_, i) => `127.0.0.${i + 2}`);

/** `n` distinct TCP targets over the listeners, from `bindto` source addresses. */
function tcpTargets(ports, n, delayLoop) {
  const combos = ports.tcp.length * srcAddrs.length;
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    check: {
      type: "tcp",
      connectIp: "127.0.0.1",
      connectPort: ports.tcp[i % ports.tcp.length],
      bindto: srcAddrs[Math.floor(i / ports.tcp.length) % srcAddrs.length],
      // Beyond 5,000 targets the timeout keeps every check distinct (no dedup).
      connectTimeout: 2 + Math.floor(i / combos),
    },
    policy: { delayLoop, retry: 0 },
  }));
}

/**
 * A runner (either kind) over `n` targets at delayLoop: after one delay_loop of ramp-up, the
 * achieved rate, start jitter (scheduled → connect() call) and this process's CPU time per check
 * (user + system, all threads; steadier than wall-clock figures on a shared host).
 */
async function measureRunner(runner, n, delayLoop, ports, failedRef) {
  runner.configure(tcpTargets(ports, n, delayLoop));
  await new Promise((r) => setTimeout(r, delayLoop * 1000));
  const c0 = runner.stats.probesCompleted;
  runner.stats.jitterMs.length = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const done = runner.stats.probesCompleted - c0;
  const cpu = process.cpuUsage(cpu0);
  const rate = done / ((performance.now() - t0) / 1000);
  const jit = runner.stats.jitterMs;
  return {
    demanded: n / delayLoop,
    rate: Math.round(rate),
    failed: failedRef.failed,
    jitterP50: Number(pct(jit, 50).toFixed(2)),
    jitterP99: Number(pct(jit, 99).toFixed(2)),
    samples: jit.length,
    uniqueChecks: runner.uniqueChecks,
    cpuUsPerCheck: Number(((cpu.user + cpu.system) / done).toFixed(1)),
  };
}

/** 20,000 checks/s demanded on two worker threads, unpinned (both cores), as are the targets. */
async function workerPhase() {
  if (!WorkerCheckRunner) return "no WorkerCheckRunner in this build";
  const t = await startTargets(undefined);
  const failedRef = { failed: 0 };
  const runner = new WorkerCheckRunner({
    threads: 2,
    concurrency: 1024,
    onResult: (_id, r) => {
      if (!r.up) failedRef.failed++;
    },
  });
  try {
    return { threads: 2, ...(await measureRunner(runner, 10_000, 0.5, t.ports, failedRef)) };
  } finally {
    await runner.close();
    t.stop();
  }
}

if (process.env.BENCH_PHASE === "workers") {
  console.log(JSON.stringify({ workers20k: await workerPhase() }, null, 2));
  process.exit(0);
}

if (hasTaskset && !process.env.BENCH_PINNED) {
  // The one-core phases re-exec pinned to CPU 0 (their targets on CPU 1); the worker phase runs
  // here afterwards, unpinned.
  const r = spawnSync(
    "taskset",
    ["-c", "0", process.execPath, "--expose-gc", fileURLToPath(import.meta.url)],
    {
      stdio: ["inherit", "pipe", "inherit"],
      env: { ...process.env, BENCH_PINNED: "1" },
      encoding: "utf8",
    },
  );
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? "");
    process.exit(r.status ?? 1);
  }
  const out = JSON.parse(r.stdout);
  out.workers20k = await workerPhase();
  console.log(JSON.stringify(out, null, 2));
  process.exit(0);
}

const targets = await startTargets(hasTaskset ? "1" : undefined);
const ports = targets.ports;

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

/** The real scheduler on this thread: N distinct targets at delayLoop. */
async function scheduled(n, delayLoop) {
  const failedRef = { failed: 0 };
  const runner = new HealthCheckRunner({
    concurrency: 1024,
    onResult: (_id, r) => {
      if (!r.up) failedRef.failed++;
    },
  });
  try {
    return await measureRunner(runner, n, delayLoop, ports, failedRef);
  } finally {
    runner.stop();
  }
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
const phases = (process.env.BENCH_PHASES ?? "memory,saturate,scheduler").split(",");
if (phases.includes("memory")) results.memoryBytesPerTarget = Math.round(memoryPerTarget(10_000));
if (phases.includes("saturate")) {
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
}
if (phases.includes("scheduler")) {
  results.scheduler5k = await scheduled(5000, 1);
  results.scheduler10k = await scheduled(5000, 0.5);
}
const out = { node: process.version, pinned: hasTaskset, seconds: SECONDS, ...results };
targets.stop();
if (process.env.BENCH_PINNED) console.log(JSON.stringify(out));
else {
  // No taskset: the worker phase runs here, after the others.
  out.workers20k = await workerPhase();
  console.log(JSON.stringify(out, null, 2));
}
