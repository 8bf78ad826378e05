#!/usr/bin/env node
// Event-loop stalls during the director's passes, on any host (no IPVS, no root): the daemon in
// check mode over the in-memory IPVS model (@lvs/ipvs MemoryIpvs), BENCH_SERVICES (5,000)
// virtual servers × 4 real servers, BENCH_CHECKED (10) of them TCP-checked every second against
// loopback listeners, the periodic pass every BENCH_INTERVAL_MS (1,000; the daemon's is 5,000, so
// more passes land in the window) with every BENCH_FULL_EVERY-th (4) a full read. For
// BENCH_WAIT_MS (30 s) a 1 ms timer measures how late it fires (what a check's completion or a
// targeted edit waits when a pass holds the one JavaScript thread), and perf_hooks'
// monitorEventLoopDelay says the same at 1 ms resolution. A failed check waits behind the longest
// of these stretches, so the max is what counts.
//
// MemoryIpvs stands in for the kernel and is made to cost what the kernel costs this process: its
// /proc text is rendered once (the kernel writes it), its table read yields every 64 services
// (as @lvs/ipvs's netlink decode does per callback).
//
//   pnpm build && node packages/director/bench/stalls-host.mjs
//   BENCH_STALLS=/tmp/stalls.json node --cpu-prof --cpu-prof-dir=/tmp/prof packages/director/bench/stalls-host.mjs  # who stalls
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";

// BENCH_DIST: another build of the director to compare with (a directory beside dist/).
const { Director, createLogger } = await import(`../${process.env.BENCH_DIST ?? "dist"}/index.js`);
const { MemoryIpvs } = await import("@lvs/ipvs");
const SERVICES = Number(process.env.BENCH_SERVICES ?? 5000);
const DESTS = 4;
const CHECKED = Math.min(Number(process.env.BENCH_CHECKED ?? 10), SERVICES);
const WAIT_MS = Number(process.env.BENCH_WAIT_MS ?? 30_000);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 1000);
const FULL_EVERY = Number(process.env.BENCH_FULL_EVERY ?? 4);
const nextTurn = () => new Promise((r) => setImmediate(r));

/** The kernel's costs, not MemoryIpvs's: /proc rendered by "the kernel", reads decoded in callbacks. */
class KernelStandIn extends MemoryIpvs {
  text = undefined;
  sent = 0;
  async batch(ops) {
    this.sent += ops.length;
    const out = await super.batch(ops);
    this.log.length = 0;
    this.text = undefined;
    return out;
  }
  async procText() {
    this.text ??= await super.procText();
    return this.text;
  }
  async table() {
    const out = [];
    let n = 0;
    for (const s of this.services.values()) {
      if (++n % 64 === 0) await nextTurn();
      out.push({ service: { ...s.service }, dests: s.dests.map((d) => ({ ...d })) });
    }
    return out;
  }
}

const server = createServer((c) => c.destroy());
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;
const checkedAt = new Set(
  Array.from({ length: CHECKED }, (_, k) => Math.floor((k * SERVICES) / CHECKED) * DESTS),
);

function bigConfig() {
  const out = [];
  for (let i = 0; i < SERVICES; i++) {
    out.push(`virtual_server 10.100.${i >> 8}.${i & 255} 80 {\n protocol TCP\n delay_loop 1\n lb_kind DR\n`);
    for (let j = 0; j < DESTS; j++) {
      const n = i * DESTS + j;
      const check = checkedAt.has(n)
        ? `  TCP_CHECK {\n   connect_ip 127.0.0.1\n   connect_port ${port}\n   connect_timeout 1\n   retry 0\n  }\n`
        : "";
      out.push(` real_server 10.200.${1 + ((n >> 8) % 250)}.${n & 255} 80 {\n${check} }\n`);
    }
    out.push("}\n");
  }
  return out.join("");
}

const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const dir = mkdtempSync(join(tmpdir(), "lvs-stalls-bench-"));
try {
  const cfg = join(dir, "stalls.conf");
  writeFileSync(cfg, bigConfig());
  const kernel = new KernelStandIn();
  const director = new Director({
    configPath: cfg,
    socketPath: null,
    mode: "check",
    reconcileIntervalMs: INTERVAL_MS,
    fullPassEvery: FULL_EVERY,
    client: kernel,
    log: createLogger({ destination: { write: () => {} } }),
  });
  let t = performance.now();
  await director.start();
  console.log(
    `stalls (host, MemoryIpvs): ${SERVICES} × ${DESTS}, ${CHECKED} checks (delay_loop 1); start ${(performance.now() - t).toFixed(0)} ms`,
  );
  await kernel.procText(); // rendered before the window: it is the kernel's work, not ours
  const passesBefore = (await director.status()).reconcile?.passes ?? 0;
  const sentBefore = kernel.sent;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const late = [];
  // The host may be shared (a VM on the other core): a tick can be late because this process was
  // not running. The CPU time this process spent between two ticks bounds what it held the thread.
  const busy = [];
  let cpu = process.cpuUsage();
  // BENCH_STALLS=FILE: the stretches over 10 ms (monotonic µs, the clock of --cpu-prof's samples).
  const stalls = [];
  const us = () => Number(process.hrtime.bigint() / 1000n);
  let tUs = us();
  t = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    late.push(now - t - 1);
    busy.push(Math.min(now - t - 1, (used.user + used.system) / 1000));
    if (now - t > 10) stalls.push([tUs, us(), (used.user + used.system) / 1000]);
    t = now;
    tUs = us();
  }, 1);
  await new Promise((r) => setTimeout(r, WAIT_MS));
  clearInterval(timer);
  histogram.disable();
  const st = await director.status();
  late.sort((a, b) => a - b);
  busy.sort((a, b) => a - b);
  const f = (x) => `${x.toFixed(1)} ms`;
  console.log(
    `  ${WAIT_MS / 1000} s, ${(st.reconcile?.passes ?? 0) - passesBefore} passes (every ${INTERVAL_MS} ms, full every ${FULL_EVERY}th), ${kernel.sent - sentBefore} operations sent`,
  );
  console.log(
    `  1 ms timer lateness: p50 ${f(pct(late, 50))}, p99 ${f(pct(late, 99))}, p99.9 ${f(pct(late, 99.9))}, max ${f(late.at(-1) ?? 0)}; > 5 ms: ${late.filter((x) => x > 5).length}, > 20 ms: ${late.filter((x) => x > 20).length}`,
  );
  console.log(
    `  of which this process's CPU time: p99 ${f(pct(busy, 99))}, p99.9 ${f(pct(busy, 99.9))}, max ${f(busy.at(-1) ?? 0)}; > 5 ms: ${busy.filter((x) => x > 5).length}, > 20 ms: ${busy.filter((x) => x > 20).length}`,
  );
  const ns = (x) => f(x / 1e6);
  console.log(
    `  monitorEventLoopDelay: p50 ${ns(histogram.percentile(50))}, p99 ${ns(histogram.percentile(99))}, max ${ns(histogram.max)}`,
  );
  if (process.env.BENCH_STALLS) writeFileSync(process.env.BENCH_STALLS, JSON.stringify(stalls));
  await director.stop();
} finally {
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
