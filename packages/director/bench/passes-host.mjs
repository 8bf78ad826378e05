#!/usr/bin/env node
// The no-op passes' JavaScript on any host (no IPVS, no root): the reconciler over the in-memory
// IPVS model (@lvs/ipvs MemoryIpvs, which also renders /proc/net/ip_vs's text), BENCH_SERVICES
// (5,000) virtual servers × BENCH_DESTS (4) real servers, DR, programmed by a first pass; then
// BENCH_PASSES (10) no-op full passes (read, diff, nothing sent) and as many periodic ones
// (/proc/net/ip_vs's text, rendered once beforehand as the kernel would, parsed and compared). MemoryIpvs hands its table over without netlink, so the
// full pass here is the director's own work only; `run.mjs reconcile` in the VM has the kernel's.
// Each figure is the best and the median of the passes, after BENCH_WARMUP (3) untimed ones.
// Run with the daemon's young generation, as `lvsctl up` runs it:
//
//   pnpm build && node --max-semi-space-size=2 bench/passes-host.mjs
//
// BENCH_DIST: another build of the director to compare with (a directory beside dist/).
const { Reconciler, DirectorEngine, IpvsDataplane, compilePlan } = await import(
  `../${process.env.BENCH_DIST ?? "dist"}/index.js`
);
const { MemoryIpvs } = await import("@lvs/ipvs");
const { parseKeepalivedConf } = await import("@lvs/config");

const SERVICES = Number(process.env.BENCH_SERVICES ?? 5000);
const DESTS = Number(process.env.BENCH_DESTS ?? 4);
const PASSES = Number(process.env.BENCH_PASSES ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

const conf = [];
for (let i = 0; i < SERVICES; i++) {
  conf.push(`virtual_server 10.100.${i >> 8}.${i & 255} 80 {\n protocol TCP\n delay_loop 60\n lb_kind DR\n`);
  for (let j = 0; j < DESTS; j++) {
    const n = i * DESTS + j;
    conf.push(` real_server 10.200.${1 + ((n >> 8) % 250)}.${n & 255} 80 {\n }\n`);
  }
  conf.push("}\n");
}
const plan = compilePlan(
  parseKeepalivedConf(conf.join(""), { lookupUser: () => ({ uid: 0, gid: 0 }) }).config,
);
const engine = new DirectorEngine(Date.now);
engine.load(plan);
const kernel = new MemoryIpvs();
// /proc/net/ip_vs as the kernel would print it, rendered once after programming: in a director the
// kernel writes that text, so rendering it is not the pass's JavaScript.
let procText = "";
const rec = new Reconciler({
  dataplane: new IpvsDataplane(kernel, { readProc: async () => procText }),
  engine: { desired: (scope) => engine.desired(scope) },
});

const ms = (t) => `${t.toFixed(1)} ms`;
let t = performance.now();
const first = await rec.pass();
const programMs = performance.now() - t;
procText = await kernel.procText();
console.log(
  `passes (host, MemoryIpvs): ${SERVICES} × ${DESTS}; program from empty ${ms(programMs)} (${first.operations.length} operations)`,
);

async function timed(label, opts, kind) {
  const times = [];
  for (let k = 0; k < WARMUP + PASSES; k++) {
    t = performance.now();
    const r = await rec.pass(opts);
    const took = performance.now() - t;
    if (r.operations.length || r.kind !== kind)
      throw new Error(
        `${label}: expected a ${kind} no-op, got ${r.kind} with ${r.operations.length} operations`,
      );
    if (k >= WARMUP) times.push(took);
  }
  times.sort((a, b) => a - b);
  const best = times[0];
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `  ${label}: best ${ms(best)}, median ${ms(median)} (${PASSES} passes after ${WARMUP} untimed)`,
  );
}

await timed("no-op full pass (table handed over, diff)", {}, "full");
await timed("no-op periodic pass (/proc/net/ip_vs text parsed, compared)", { quick: true }, "quick");
