#!/usr/bin/env node
// Renders bench/benchmarks.json (every benchmark of the repo, with the figures its package README
// reports) as the root README's "Benchmarks" table, between the bench-table markers.
//   node tools/bench-table.mjs           # rewrite the table in README.md
//   node tools/bench-table.mjs --check   # exit 1 if README.md's table is not what this renders
// packages/distribution/test/bench-table.test.ts checks the same, plus the JSON against the
// bench/ directories, the package scripts and the package READMEs.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const START = "<!-- bench-table:start -->";
export const END = "<!-- bench-table:end -->";

const REQUIRED = ["id", "package", "script", "cwd", "command", "runsAs", "measures", "ours", "readme"];

export class BenchTableError extends Error {
  /** @param {string} code @param {string} message @param {Record<string, unknown>} [context] */
  constructor(code, message, context = {}) {
    super(message);
    this.name = "BenchTableError";
    this.code = code;
    this.context = context;
  }
}

/** @param {string} root */
export function readBenchmarks(root) {
  const file = join(root, "bench", "benchmarks.json");
  let data;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new BenchTableError("BENCH_TABLE_READ", `cannot read ${file}: ${e.message}`, { file });
  }
  if (!Array.isArray(data.benchmarks)) {
    throw new BenchTableError("BENCH_TABLE_FIELD", `${file}: "benchmarks" must be an array`, { file });
  }
  for (const [i, b] of data.benchmarks.entries()) {
    for (const f of REQUIRED) {
      if (typeof b[f] !== "string" || b[f] === "") {
        throw new BenchTableError(
          "BENCH_TABLE_FIELD",
          `${file}: benchmark ${b.id ?? `#${i}`} needs a string "${f}"`,
          {
            file,
            index: i,
            field: f,
          },
        );
      }
    }
  }
  return data;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchor(heading) {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const cell = (s) => String(s).replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (s) => (s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``);

/** Does the package's own `bench` script (what `pnpm bench` runs) run this benchmark's script? */
function inPnpmBench(root, b) {
  const dir = b.script.split("/").slice(0, 2).join("/");
  const manifest = join(root, dir, "package.json");
  if (!existsSync(manifest)) return false;
  const bench = JSON.parse(readFileSync(manifest, "utf8")).scripts?.bench ?? "";
  return bench.includes(b.script.slice(dir.length + 1));
}

/** The Markdown between the markers (markers excluded). */
export function renderTable(data, root) {
  const rows = [
    "| benchmark | command | where | peer | ours | peer's | ours / peer | aim | met | date | machine |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const notes = [];
  for (const b of data.benchmarks) {
    const link = b.section ? `[${b.id}](${b.readme}#${anchor(b.section)})` : b.id;
    const command = b.cwd && b.cwd !== "." ? `in \`${b.cwd}\`: ${code(b.command)}` : code(b.command);
    const ratio = b.ratio
      ? `${b.ratio}${b.ratioDerived ? "†" : ""} ${b.better === "higher" ? "↑" : "↓"}`
      : "—";
    const aim = b.aim ? `${b.aim}${b.aimFrom === "issue 20" ? " (#20)" : ""}` : "—";
    const date = b.dateFrom === "commit" ? `by ${b.date}` : b.date;
    rows.push(
      `| ${[
        `${link}: ${b.measures}`,
        command,
        b.runsAs,
        b.peer ?? "—",
        b.ours,
        b.peerFigure ?? "—",
        ratio,
        aim,
        b.met ?? "—",
        date,
        b.machine,
      ]
        .map(cell)
        .join(" | ")} |`,
    );
    if (b.note) notes.push(`- \`${b.id}\`: ${b.note}`);
  }
  // A VM row's script, run by `pnpm bench` on the host, only prints its `tools/vm` command.
  const run = data.benchmarks
    .filter((b) => inPnpmBench(root, b) && b.runsAs !== "VM")
    .map((b) => `\`${b.id}\``);
  return [
    ...rows,
    "",
    "↓ lower is better, ↑ higher is better; † ratio computed from the README's two figures (the README states none);",
    '"by DATE": the README gives no date, DATE is when the figures were committed; (#20) an aim of issue 20.',
    `\`pnpm bench\` runs ${run.join(", ")}; every other row runs by its own command.`,
    "",
    "Notes:",
    "",
    ...notes,
  ].join("\n");
}

/** README text with the block between the markers replaced by `table`. */
export function spliceReadme(readme, table) {
  const a = readme.indexOf(START);
  const z = readme.indexOf(END);
  if (a < 0 || z < a) {
    throw new BenchTableError("BENCH_TABLE_MARKERS", `README.md needs "${START}" followed by "${END}"`);
  }
  return `${readme.slice(0, a + START.length)}\n${table}\n${readme.slice(z)}`;
}

/** The block currently between the markers (what renderTable must equal). */
export function currentTable(readme) {
  const a = readme.indexOf(START);
  const z = readme.indexOf(END);
  if (a < 0 || z < a) {
    throw new BenchTableError("BENCH_TABLE_MARKERS", `README.md needs "${START}" followed by "${END}"`);
  }
  return readme
    .slice(a + START.length, z)
    .replace(/^\n/, "")
    .replace(/\n$/, "");
}

function main() {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const readmePath = join(root, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const data = readBenchmarks(root);
  const table = renderTable(data, root);
  if (process.argv.includes("--check")) {
    if (currentTable(readme) !== table) {
      console.error("README.md's benchmark table is stale: run `node tools/bench-table.mjs`");
      process.exitCode = 1;
    }
    return;
  }
  const next = spliceReadme(readme, table);
  if (next !== readme) writeFileSync(readmePath, next);
  console.log(`README.md: ${data.benchmarks.length} benchmarks${next === readme ? " (unchanged)" : ""}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof BenchTableError ? `${e.code}: ${e.message}` : e);
    process.exitCode = 1;
  }
}
