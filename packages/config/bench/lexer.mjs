// The reader on hostile input: N `{}` pairs on one line (which took quadratic time before the
// lexer walked lines by index). `pnpm bench:lexer` (after `pnpm build`). Reports, for 10k, 100k
// and 1M pairs, the median of BENCH_RUNS (default 5) of:
// - the default limits: the line is longer than limits.maxLineLength and rejected unread;
// - the line limit lifted: every brace lexed, the tree built, each `{` reported (errors counted,
//   the first 1,000 kept).
import { ConfigError, parseKeepalivedConf } from "../dist/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = (process.env.BENCH_PAIRS ?? "10000,100000,1000000").split(",").map(Number);
const lookupUser = () => ({ uid: 0, gid: 0 });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(text, limits) {
  const t = [];
  let result = "";
  for (let i = 0; i < RUNS; i++) {
    const s = process.hrtime.bigint();
    try {
      parseKeepalivedConf(text, { lookupUser, limits });
      result = "parsed";
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const n = err.errorCount;
      result = `${err.code}, ${n.toLocaleString("en-US")} error${n === 1 ? "" : "s"}`;
    }
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return { ms: median(t), result };
}

run("{}".repeat(1000), { maxLineLength: Number.POSITIVE_INFINITY }); // warm up the JIT
console.log(`node ${process.version}, median of ${RUNS} runs`);
for (const n of SIZES) {
  const text = "{}".repeat(n);
  const rejected = run(text, {});
  const lexed = run(text, { maxLineLength: Number.POSITIVE_INFINITY });
  const label = `${n.toLocaleString("en-US")} pairs (${(text.length / 1e6).toFixed(2)} MB)`;
  console.log(
    `${label.padEnd(24)} default limits: ${rejected.ms.toFixed(1).padStart(7)} ms (${rejected.result})`,
  );
  console.log(`${"".padEnd(24)} line limit off: ${lexed.ms.toFixed(1).padStart(7)} ms (${lexed.result})`);
}
