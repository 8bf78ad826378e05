#!/usr/bin/env node
// The director's own memory, on any host (no IPVS, no root): the daemon in check mode over the
// in-memory IPVS model (@lvs/ipvs MemoryIpvs), BENCH_SERVICES (5,000) virtual servers × 4 real
// servers, each with its own TCP_CHECK (delay_loop 60) against a loopback listener. Prints RSS
// and V8 heap after start and after BENCH_WAIT_MS (70 s: a whole check cycle) of checks; BENCH_SNAPSHOT=FILE writes a
// heap snapshot at the end (open it in Chrome DevTools → Memory). MemoryIpvs stands in for the
// kernel: its operation log is dropped (the kernel keeps none in our process), and the heap its
// table takes is printed apart, since on a real director that memory is the kernel's. Like
// `lvsctl up`, it first restarts itself with the young generation capped ($LVS_MAX_SEMI_SPACE_MIB,
// default 2 MiB; 0 = V8's default), sets V8's --optimize-for-size when $LVS_V8_OPTIMIZE_FOR_SIZE=1
// asks for it (lvsctl's --optimize-for-size) and starts the heap reducer (every 30 s unless
// $LVS_HEAP_REDUCE_INTERVAL_S says otherwise; 0 = off), so the figure is the daemon's. It also
// prints the event loop's delay while the checks run (what a GC pause would show as).
//
//   pnpm build && node --expose-gc packages/director/bench/memory-host.mjs
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const {
  Director,
  capYoungGeneration,
  createLogger,
  heapReduceIntervalS,
  optimizeHeapForSize,
  semiSpaceMib,
  startHeapReducer,
  wantsOptimizeForSize,
} = await import("../dist/index.js");
// As `lvsctl up` does: heap sizing for memory if asked ($LVS_V8_OPTIMIZE_FOR_SIZE=1), young generation cap.
const sized = wantsOptimizeForSize(undefined);
if (sized) optimizeHeapForSize();
await capYoungGeneration(semiSpaceMib(undefined), (m) => console.error(m));
const reduceS = heapReduceIntervalS(undefined);
const reducer = startHeapReducer({ intervalMs: reduceS * 1000 });
const { MemoryIpvs } = await import("@lvs/ipvs");
const SERVICES = Number(process.env.BENCH_SERVICES ?? 5000);
const DESTS = 4;
// 70 s: one delay_loop (60 s: each check's first probe comes within its warmup, which defaults to
// the delay_loop) and 10 s more, so every check has run at least once and holds its results; the
// 10 s point used before saw a sixth of them run.
const WAIT_MS = Number(process.env.BENCH_WAIT_MS ?? 70_000);
const mb = (b) => `${(b / 1048576).toFixed(1)} MiB`;
const gc = () => (globalThis.gc ? globalThis.gc() : undefined);
const v8 = await import("node:v8");
const { monitorEventLoopDelay } = await import("node:perf_hooks");

/** MemoryIpvs without its log of every operation (a test's record, not the kernel's memory). */
class KernelStandIn extends MemoryIpvs {
  async batch(ops) {
    const out = await super.batch(ops);
    this.log.length = 0;
    return out;
  }
}

const server = createServer((c) => c.destroy());
await new Promise((r) => server.listen(0, "0.0.0.0", r));
const port = server.address().port;

function bigConfig() {
  const out = [];
  for (let i = 0; i < SERVICES; i++) {
    out.push(`virtual_server 10.100.${i >> 8}.${i & 255} 80 {\n protocol TCP\n delay_loop 60\n lb_kind DR\n`);
    for (let j = 0; j < DESTS; j++) {
      const n = i * DESTS + j;
      out.push(
        ` real_server 10.200.${1 + ((n >> 8) % 250)}.${n & 255} 80 {\n  TCP_CHECK {\n   connect_ip 127.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}\n   connect_port ${port}\n   connect_timeout 2\n  }\n }\n`,
      );
    }
    out.push("}\n");
  }
  return out.join("");
}

const dir = mkdtempSync(join(tmpdir(), "lvs-mem-bench-"));
try {
  const cfg = join(dir, "memory.conf");
  writeFileSync(cfg, bigConfig());
  gc();
  const kernel = new KernelStandIn();
  const before = process.memoryUsage();
  const director = new Director({
    configPath: cfg,
    socketPath: null,
    mode: "check",
    reconcileIntervalMs: 3_600_000,
    client: kernel,
    log: createLogger({ destination: { write: () => {} } }),
  });
  const t = performance.now();
  await director.start();
  const startMs = performance.now() - t;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  gc();
  const started = process.memoryUsage();
  // RSS at 10 s as well (the figure this bench printed before it waited a whole check cycle).
  let early;
  setTimeout(
    () => {
      early = process.memoryUsage().rss;
    },
    Math.min(10_000, WAIT_MS),
  ).unref();
  await new Promise((r) => setTimeout(r, WAIT_MS));
  loopDelay.disable();
  gc();
  const after = process.memoryUsage();
  const st = await director.status();
  const checked = st.virtualServers
    .flatMap((v) => v.realServers.flatMap((r) => r.checks))
    .filter((c) => c.at !== null).length;
  console.log(
    `memory (host, MemoryIpvs): ${SERVICES} services, ${SERVICES * DESTS} checks; start ${startMs.toFixed(0)} ms; --optimize-for-size ${sized ? "on" : "off"}; heap reducer ${reduceS ? `every ${reduceS} s` : "off"}`,
  );
  console.log(`  before the director: RSS ${mb(before.rss)}, heap used ${mb(before.heapUsed)}`);
  console.log(`  right after start:   RSS ${mb(started.rss)}, heap total ${mb(started.heapTotal)}`);
  if (early !== undefined) console.log(`  at 10 s of checks:   RSS ${mb(early)}`);
  console.log(
    `  after ${WAIT_MS / 1000} s of checks: RSS ${mb(after.rss)}, heap used ${mb(after.heapUsed)} (+${mb(after.heapUsed - before.heapUsed)}), heap total ${mb(after.heapTotal)}; ${checked} checks ran`,
  );
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  console.log(
    `  of which: external ${mb(after.external)}, array buffers ${mb(after.arrayBuffers)}, V8 new space ${mb(newSpace?.physical_space_size ?? 0)}`,
  );
  const { checks, reductions } = reducer.stats();
  console.log(
    `  heap reducer: ${reductions} of ${checks} looks asked V8 to compact; event loop delay while checks ran: p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
  );
  // The stand-in kernel's table, measured as a copy of it (the same objects, the same shapes).
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const copy = structuredClone([...kernel.services.values()]);
  gc();
  console.log(
    `  MemoryIpvs's table (the kernel's memory on a real director): ~${mb(process.memoryUsage().heapUsed - h0)} of the heap (${copy.length} services)`,
  );
  if (process.env.BENCH_SNAPSHOT) {
    console.log(`  heap snapshot: ${v8.writeHeapSnapshot(process.env.BENCH_SNAPSHOT)}`);
  }
  await director.stop();
} finally {
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
