#!/usr/bin/env node
// The fuzz driver: every decoder of every package, mutated captured inputs, one fixed printed seed.
//
//   pnpm fuzz                               1,000,000 cases over all decoders, seed 0x1f52026
//   pnpm fuzz --seed 7 --cases 200000       another seed / count (split evenly over decoders)
//   pnpm fuzz --only ipvs/genl,sync         decoders whose name starts with one of these
//   pnpm fuzz --only ipvs/genl --first 123 --cases 1 --seed 7    replay one case
//   pnpm fuzz --list
//
// Decoders are found in packages/*/test/fuzz-targets.ts (`export const fuzzTargets = [...]`):
// adding one is one entry there. Each runs in a worker thread with a memory cap; the main thread
// watches the case index the worker publishes and stops a case that runs longer than --hang-ms
// (a hang), reporting its index. Failures (input hex, problem, replay command) go to stdout and
// .cache/fuzz/failures.json; commit such an input as a regression fixture of the package.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const REGISTER = pathToFileURL(join(ROOT, "tools/fuzz/register.mjs")).href;
const DEFAULT_SEED = 0x1f52026;

function targetFiles() {
  return readdirSync(join(ROOT, "packages"))
    .sort()
    .map((pkg) => join(ROOT, "packages", pkg, "test", "fuzz-targets.ts"))
    .filter((file) => existsSync(file));
}

async function loadTargets(files) {
  const out = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(file).href);
    for (const t of mod.fuzzTargets) out.push({ file, target: t });
  }
  return out;
}

if (!isMainThread) {
  // Worker: one target, all its cases.
  const { file, name, seed, cases, first, progress } = workerData;
  const { runFuzz } = await import(pathToFileURL(join(ROOT, "packages/testkit/src/fuzz.ts")).href);
  const mod = await import(pathToFileURL(file).href);
  const target = mod.fuzzTargets.find((t) => t.name === name);
  const report = runFuzz(target, { seed, cases, first, progress: new Int32Array(progress) });
  parentPort.postMessage(report);
} else {
  await main();
}

async function main() {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      cases: { type: "string" },
      first: { type: "string" },
      only: { type: "string" },
      "hang-ms": { type: "string" },
      "memory-mb": { type: "string" },
      list: { type: "boolean" },
    },
  });
  await import(REGISTER);
  const num = (s, d) => (s === undefined ? d : Number(s.replace(/_/g, "")));
  const seed = num(values.seed, DEFAULT_SEED) >>> 0;
  const total = num(values.cases, 1_000_000);
  const first = num(values.first, 0);
  const hangMs = num(values["hang-ms"], 10_000);
  const memoryMb = num(values["memory-mb"], 512);
  const only = values.only?.split(",").filter(Boolean);

  let all = await loadTargets(targetFiles());
  if (only) all = all.filter(({ target }) => only.some((o) => target.name.startsWith(o)));
  if (values.list) {
    for (const { file, target } of all) {
      console.log(`${target.name.padEnd(22)} ${target.seeds.length} seeds  ${relative(ROOT, file)}`);
    }
    return;
  }
  if (all.length === 0) throw new Error(`no decoder matches --only ${values.only}`);
  const per = Math.ceil(total / all.length);
  const hex = `0x${seed.toString(16)}`;
  console.log(
    `fuzz: seed ${hex}, ${fmt(per * all.length)} cases over ${all.length} decoders (${fmt(per)} each)`,
  );

  const failures = [];
  const t0 = performance.now();
  let cases = 0;
  for (const { file, target } of all) {
    const r = await runOne(file, target.name, seed, per, first, hangMs, memoryMb);
    cases += r.cases;
    failures.push(...r.failures);
    const rate = r.ms > 0 ? Math.round((r.cases / r.ms) * 1000) : 0;
    const verdict = r.failures.length ? `FAIL (${r.failures.length})` : "ok";
    console.log(
      `  ${target.name.padEnd(20)} ${fmt(r.cases).padStart(9)} cases ${(r.ms / 1000).toFixed(1).padStart(6)} s ` +
        `${fmt(rate).padStart(8)} cases/s  rejected ${pct(r.rejected, r.cases)}  ` +
        `slowest ${r.slowestMs.toFixed(1)} ms  ${verdict}`,
    );
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `total: ${fmt(cases)} cases in ${secs.toFixed(1)} s (${fmt(Math.round(cases / secs))} cases/s), ` +
      `seed ${hex}, ${failures.length} failures`,
  );
  if (failures.length) {
    mkdirSync(join(ROOT, ".cache/fuzz"), { recursive: true });
    writeFileSync(join(ROOT, ".cache/fuzz/failures.json"), `${JSON.stringify(failures, null, 1)}\n`);
    for (const f of failures) {
      console.log(`\n${f.target} case ${f.index}: ${f.problem}`);
      console.log(`  input ${f.input.length > 400 ? `${f.input.slice(0, 400)}…` : f.input}`);
      console.log(`  replay: pnpm fuzz --only ${f.target} --seed ${hex} --first ${f.index} --cases 1`);
    }
    console.log("\nall inputs: .cache/fuzz/failures.json");
    process.exitCode = 1;
  }
}

/** One target in a worker, with the hang watchdog and a heap cap. */
function runOne(file, name, seed, cases, first, hangMs, memoryMb) {
  const progress = new SharedArrayBuffer(4);
  const index = new Int32Array(progress);
  index[0] = -1;
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { file, name, seed, cases, first, progress },
    execArgv: ["--import", REGISTER],
    resourceLimits: { maxOldGenerationSizeMb: memoryMb },
  });
  return new Promise((resolve) => {
    const failed = (problem) => ({
      target: name,
      seed,
      cases: Math.max(0, index[0] - first),
      ms: 0,
      rejected: 0,
      slowestMs: 0,
      failures: [{ target: name, seed, index: index[0], input: "(see replay)", problem }],
    });
    let last = -2;
    let since = performance.now();
    const watch = setInterval(() => {
      if (index[0] !== last) {
        last = index[0];
        since = performance.now();
      } else if (index[0] >= 0 && performance.now() - since > hangMs) {
        clearInterval(watch);
        worker.terminate();
        resolve(failed(`hang: case ${index[0]} ran over ${hangMs} ms`));
      }
    }, 250);
    worker.on("message", (report) => {
      clearInterval(watch);
      resolve(report);
    });
    worker.on("error", (err) => {
      clearInterval(watch);
      resolve(failed(`worker died at case ${index[0]}: ${err.code ?? ""} ${err.message}`));
    });
  });
}

function fmt(n) {
  return n.toLocaleString("en-US");
}

function pct(a, b) {
  return `${b ? Math.round((a / b) * 100) : 0}%`.padStart(4);
}
