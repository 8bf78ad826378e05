#!/usr/bin/env node
// Builds lvsctl as a Node single executable application (SEA): the bundle (scripts/bundle.mjs)
// injected into a copy of this node binary. The native addons stay beside it in native/.
//
//   node scripts/sea.mjs [--out DIR]    (default: bundle/)  → DIR/lvsctl + DIR/native/*.node
//
// Needs Node ≥ 20 built with SEA support (node:sea); exits 3 with a message where it is missing.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = resolve(here, "..");
const { values } = parseArgs({ options: { out: { type: "string", default: join(pkgDir, "bundle") } } });
const outDir = resolve(values.out);

try {
  createRequire(import.meta.url)("node:sea");
} catch {
  console.error(`sea: this node (${process.version}) has no single-executable support`);
  process.exit(3);
}

if (!existsSync(join(outDir, "lvsctl.cjs"))) {
  execFileSync(process.execPath, [join(here, "bundle.mjs"), "--out", outDir], { stdio: "inherit" });
}
const blob = join(outDir, ".sea-prep.blob");
const config = join(outDir, ".sea-config.json");
writeFileSync(
  config,
  JSON.stringify({ main: join(outDir, "lvsctl.cjs"), output: blob, disableExperimentalSEAWarning: true }),
);
execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: "inherit" });
const exe = join(outDir, "lvsctl");
rmSync(exe, { force: true });
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
execFileSync(
  process.execPath,
  [postject, exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"],
  { stdio: ["ignore", "ignore", "inherit"] },
);
rmSync(blob);
rmSync(config);
console.log(`sea: ${exe} (native addons in ${join(outDir, "native")})`);
