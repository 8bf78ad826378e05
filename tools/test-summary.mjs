// Sums the vitest JSON reports of every tier into one closing line: "N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const files = [];
for (const dir of ["packages", "examples", "tools"]) {
  const base = join(root, dir);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base)) {
    const res = join(base, name, "test-results");
    if (existsSync(res)) for (const f of readdirSync(res)) if (f.endsWith(".json")) files.push(join(res, f));
  }
}
if (existsSync(join(root, "test-results"))) {
  for (const f of readdirSync(join(root, "test-results")))
    if (f.endsWith(".json")) files.push(join(root, "test-results", f));
}
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of files) {
  const r = JSON.parse(readFileSync(f, "utf8"));
  passed += r.numPassedTests ?? 0;
  // A suite that failed to load has no failed tests of its own: count it once.
  failed += (r.numFailedTests ?? 0) || (r.numFailedTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (r.numFailedTests) console.error(`  failures in ${f.replace(root, "")}: ${r.numFailedTests}`);
}
console.log(`${files.length} reports`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
