// Benchmarks of @lvs/scheduler. Run: pnpm build && pnpm bench   (BENCH_MS=… per measurement)
// - picks/s of every scheduler at 10 and 1,000 destinations: schedule() alone, and a full
//   connect() → establish() → expire() connection cycle;
// - Maglev table build at M = 65537 (the paper's size) and the kernel's 4093, N = 1,000;
// - bytes per mh table; hsiphash per second (32-bit halves vs BigInt).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  AF_INET,
  hsiphashU32,
  MH_HASH1_KEY,
  parseAddress,
  populateMaglev,
  SCHEDULER_NAMES,
  Service,
  sipKey,
} from "../dist/index.js";

if (!globalThis.gc && !process.env.BENCH_CHILD) {
  const r = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url)], {
    stdio: "inherit",
    env: { ...process.env, BENCH_CHILD: "1" },
  });
  process.exit(r.status ?? 1);
}

const MS = Number(process.env.BENCH_MS ?? 400);
const rip = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const clients = Array.from({ length: 4096 }, (_, i) => ({
  clientAddress: `172.16.${((i * 7) >> 8) & 255}.${(i * 7) & 255}`,
  clientPort: 1024 + ((i * 7919) % 60000),
}));

/** Runs fn(i) in batches until MS elapsed; returns calls per second. */
function rate(fn) {
  for (let i = 0; i < 2000; i++) fn(i);
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    for (let k = 0; k < 1000; k++) fn(n++);
    t = performance.now();
  }
  return (n / (t - t0)) * 1000;
}

function build(scheduler, n) {
  let r = 1;
  const svc = new Service({
    scheduler,
    address: "192.0.2.1",
    port: 80,
    clock: () => 0,
    random: (bound) => {
      r = (Math.imul(r, 1103515245) + 12345) >>> 0;
      return r % bound;
    },
  });
  for (let i = 0; i < n; i++) svc.addDest({ address: rip(i + 1), port: 80, weight: 1 + (i % 5) });
  return svc;
}

const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${Math.round(x / 1e3)} k`);
console.log(`node ${process.version}, ${MS} ms per figure\n`);
console.log(
  "| scheduler | schedule()/s, 10 dests | schedule()/s, 1,000 dests | connect+establish+expire/s, 10 | …, 1,000 |",
);
console.log("|---|---:|---:|---:|---:|");
for (const s of SCHEDULER_NAMES) {
  const row = [s];
  const cyc = [];
  for (const n of [10, 1000]) {
    const svc = build(s, n);
    row.push(fmt(rate((i) => svc.schedule(clients[i & 4095]))));
    const svc2 = build(s, n);
    cyc.push(
      fmt(
        rate((i) => {
          const c = svc2.connect(clients[i & 4095]);
          c?.establish();
          c?.expire();
        }),
      ),
    );
  }
  console.log(`| ${row.join(" | ")} | ${cyc.join(" | ")} |`);
}

// Maglev table builds (ip_vs_mh_permutate + ip_vs_mh_populate), median of repeated builds.
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
console.log("\n| Maglev build | median ms | p90 ms |");
console.log("|---|---:|---:|");
for (const [m, n] of [
  [65537, 1000],
  [4093, 1000],
  [4093, 10],
  [65521, 100],
]) {
  const dests = Array.from({ length: n }, (_, i) => ({
    addr: parseAddress(rip(i + 1)),
    port: 80,
    lastWeight: 1,
  }));
  const out = new Int32Array(m);
  const times = [];
  for (let k = 0; k < 5; k++) populateMaglev({ af: AF_INET, size: m, bits: 8, dests }, out);
  const end = performance.now() + MS * 2;
  while (performance.now() < end || times.length < 20) {
    const t = performance.now();
    populateMaglev({ af: AF_INET, size: m, bits: 8, dests }, new Int32Array(m));
    times.push(performance.now() - t);
  }
  const s = [...times].sort((a, b) => a - b);
  console.log(
    `| M=${m}, N=${n} | ${median(times).toFixed(3)} | ${s[Math.floor(s.length * 0.9)].toFixed(3)} |`,
  );
}
// Through the service: the rebuild that one more destination causes (add → ip_vs_mh_dest_changed).
{
  const svc = new Service({
    scheduler: "mh",
    mhTableSize: 65537,
    address: "192.0.2.1",
    port: 80,
    clock: () => 0,
  });
  for (let i = 0; i < 999; i++) svc.addDest({ address: rip(i + 1), port: 80 });
  const times = [];
  for (let k = 0; k < 30; k++) {
    const t = performance.now();
    svc.addDest({ address: rip(5000 + k), port: 80 });
    times.push(performance.now() - t);
    svc.deleteDest(rip(5000 + k), 80);
  }
  console.log(`| service.addDest(), M=65537, 1,000th dest | ${median(times).toFixed(3)} | |`);
}

// Disruption: how many of M slots change owner when one of N equal destinations fails (M/N is
// the minimum: the failed one's own slots). Mean over up to 8 choices of the failed one.
console.log("\n| Maglev disruption, one of N fails | slots moved / (M/N) |");
console.log("|---|---:|");
for (const [m, n] of [
  [4093, 10],
  [4093, 30],
  [4093, 100],
  [65521, 100],
  [65521, 1000],
]) {
  const dests = Array.from({ length: n }, (_, i) => ({
    addr: parseAddress(rip(i + 1)),
    port: 80,
    lastWeight: 1,
  }));
  const fill = (ds) => {
    const out = new Int32Array(m);
    populateMaglev({ af: AF_INET, size: m, bits: 6, dests: ds }, out);
    return Array.from(out, (i) => ds[i]);
  };
  const before = fill(dests);
  let sum = 0;
  const tries = Math.min(n, 8);
  for (let g = 0; g < tries; g++) {
    const after = fill(dests.filter((_, i) => i !== g));
    let moved = 0;
    for (let i = 0; i < m; i++) if (before[i] !== after[i]) moved++;
    sum += moved / (m / n);
  }
  console.log(`| M=${m}, N=${n} | ${(sum / tries).toFixed(2)} |`);
}

// Bytes per mh table: heap growth per service (1,000 destinations shared by reference counts).
console.log("\n| mh table | kernel bytes (8 × M) | bytes here (heap per service, measured) |");
console.log("|---|---:|---:|");
for (const m of [4093, 65537]) {
  const K = m > 10000 ? 20 : 100;
  const keep = [];
  globalThis.gc();
  const h0 = process.memoryUsage().heapUsed;
  for (let k = 0; k < K; k++) {
    const svc = new Service({
      scheduler: "mh",
      mhTableSize: m,
      address: "192.0.2.1",
      port: 80,
      clock: () => 0,
    });
    svc.addDest({ address: rip(1), port: 80 });
    keep.push(svc);
  }
  globalThis.gc();
  const per = (process.memoryUsage().heapUsed - h0) / K;
  console.log(`| M=${m} | ${keep[0].kernelTableBytes} | ${Math.round(per)} |`);
}

// hsiphash: the 32-bit-halves implementation against a BigInt one.
{
  const key = sipKey(BigInt(MH_HASH1_KEY), BigInt(MH_HASH1_KEY));
  const M64 = (1n << 64n) - 1n;
  const rotl = (x, b) => ((x << b) | (x >> (64n - b))) & M64;
  const big = (v) => {
    const k = BigInt(MH_HASH1_KEY);
    let v0 = 0x736f6d6570736575n ^ k;
    let v1 = 0x646f72616e646f6dn ^ k;
    let v2 = 0x6c7967656e657261n ^ k;
    let v3 = 0x7465646279746573n ^ k;
    const round = () => {
      v0 = (v0 + v1) & M64;
      v1 = rotl(v1, 13n) ^ v0;
      v0 = rotl(v0, 32n);
      v2 = (v2 + v3) & M64;
      v3 = rotl(v3, 16n) ^ v2;
      v0 = (v0 + v3) & M64;
      v3 = rotl(v3, 21n) ^ v0;
      v2 = (v2 + v1) & M64;
      v1 = rotl(v1, 17n) ^ v2;
      v2 = rotl(v2, 32n);
    };
    const b = (4n << 56n) | BigInt(v >>> 0);
    v3 ^= b;
    round();
    v0 ^= b;
    v2 ^= 0xffn;
    round();
    round();
    round();
    return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
  };
  let sink = 0;
  const a = rate((i) => {
    sink ^= hsiphashU32(key, i);
  });
  const b = rate((i) => {
    sink ^= big(i);
  });
  console.log(
    `\n| hsiphash of a u32 | per second |\n|---|---:|\n| 32-bit halves (used) | ${fmt(a)} |\n| BigInt | ${fmt(b)} |`,
  );
  if (sink === 0.5) console.log(sink);
}
