// The published artifacts, outside the workspace: `pnpm pack` every public package, install the
// tarballs with npm into a fresh project in a temp directory, and load each package by itself
// (ESM import and CJS require, each in a process of its own), then type-check a consumer under
// moduleResolution node16 and bundler. Pure packages install with no compiler on PATH.
import { execFile, execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closure, isPure, packAll, publicPackages, ROOT, workspacePackages } from "../src/workspace.js";

const run = promisify(execFile);
const pub = publicPackages();
const names = pub.map((p) => p.manifest.name);
const NPM = execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim();
const TSC = join(ROOT, "node_modules", ".bin", "tsc");

let work = "";
let tarballs = new Map<string, string>();

/** A consumer project depending on `deps` (tarballs), the @lvs ones pinned to our tarballs. */
function consumer(dir: string, deps: string[], extra: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  const spec = (n: string) => `file:${tarballs.get(n)}`;
  // Every workspace package a dependency pulls in must come from our tarballs, not the registry.
  const pinned = Object.fromEntries([...tarballs.keys()].map((n) => [n, spec(n)]));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify(
      {
        name: "lvs-consumer",
        private: true,
        type: "module",
        dependencies: { ...Object.fromEntries(deps.map((n) => [n, spec(n)])), ...extra },
        overrides: pinned,
        // npm ≥ 11 runs dependency install scripts only when allowed: the addons build here.
        allowScripts: { "@lvs/sys": true, netlink: true, "raw-socket": true },
      },
      null,
      2,
    ),
  );
}

async function npmInstall(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await run(NPM, ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: dir,
    env: { ...env, npm_config_nodedir: existsSync("/usr/include/node") ? "/usr" : "" },
    maxBuffer: 64 << 20,
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "lvs-dist-"));
  tarballs = packAll(join(work, "tarballs"));
  consumer(join(work, "all"), names, { "@types/node": "^20.19.0" });
  await npmInstall(join(work, "all"));
});
afterAll(() => {
  if (work && !process.env.LVS_KEEP_DIST) rmSync(work, { recursive: true, force: true });
});

describe("each package installs and loads alone", () => {
  it("packs every public package", () => {
    expect([...tarballs.keys()].sort()).toEqual([...names].sort());
    for (const f of tarballs.values()) expect(statSync(f).size).toBeGreaterThan(1000);
  });

  it.each(names)("%s: require() and import() each in a fresh process", async (name) => {
    const dir = join(work, "all");
    const cjs = await run(
      process.execPath,
      ["-e", `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).length)`],
      { cwd: dir },
    );
    expect(Number(cjs.stdout.trim())).toBeGreaterThan(0);
    const esm = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length)`,
      ],
      { cwd: dir },
    );
    // The two builds export the same names.
    expect(esm.stdout.trim()).toBe(cjs.stdout.trim());
    // What loaded came from the installed tarball, not the workspace.
    const where = await run(process.execPath, ["-p", `require.resolve(${JSON.stringify(name)})`], {
      cwd: dir,
    });
    expect(where.stdout.trim().startsWith(join(dir, "node_modules"))).toBe(true);
  });

  it("lvsctl runs from the installed package's bin", async () => {
    const r = await run(join(work, "all", "node_modules", ".bin", "lvsctl"), ["--help"]);
    expect(r.stdout).toContain("Usage: lvsctl");
  });

  it.each([
    ["node16", { module: "node16", moduleResolution: "node16" }],
    ["bundler", { module: "esnext", moduleResolution: "bundler" }],
  ])("types resolve under moduleResolution %s (ESM and CJS consumers)", async (label, options) => {
    const dir = join(work, "all");
    const esmLines = names.map(
      (n, i) =>
        `import * as m${i} from ${JSON.stringify(n)};\nexport const k${i}: string[] = Object.keys(m${i});`,
    );
    writeFileSync(join(dir, `consumer-${label}.ts`), `${esmLines.join("\n")}\n`);
    const files = [`consumer-${label}.ts`];
    if (label === "node16") {
      // A CommonJS consumer gets the .d.cts declarations through the "require" condition.
      const cjsLines = names.map(
        (n, i) =>
          `import m${i} = require(${JSON.stringify(n)});\nexport const c${i}: string[] = Object.keys(m${i});`,
      );
      writeFileSync(join(dir, "consumer-cjs.cts"), `${cjsLines.join("\n")}\n`);
      files.push("consumer-cjs.cts");
    }
    writeFileSync(
      join(dir, `tsconfig.${label}.json`),
      JSON.stringify({
        compilerOptions: {
          ...options,
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
        },
        files,
      }),
    );
    const r = await run(TSC, ["-p", `tsconfig.${label}.json`], { cwd: dir }).catch(
      (e: { stdout: string }) => e,
    );
    expect(r.stdout).toBe("");
  });
});

describe("pure packages install with no compiler present", () => {
  const all = workspacePackages();
  const pure = names.filter((n) => isPure(n, all));

  it.skipIf(pure.length === 0).each(pure)("%s", async (name) => {
    const dir = join(work, `pure-${name.replace("@lvs/", "")}`);
    const deps = [...closure(name, all).workspace];
    consumer(dir, deps);
    // PATH holds node and npm only: no cc, g++, make or python for node-gyp to find.
    const bin = join(dir, ".bin-nocompiler");
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, "node"));
    symlinkSync(NPM, join(bin, "npm"));
    await npmInstall(dir, { ...process.env, PATH: bin });
    const nodeFiles: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d)) {
        const f = join(d, e);
        if (statSync(f).isDirectory()) walk(f);
        else if (e.endsWith(".node") || e === "binding.gyp") nodeFiles.push(f);
      }
    };
    walk(join(dir, "node_modules"));
    expect(nodeFiles).toEqual([]);
    const r = await run(
      join(bin, "node"),
      [
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length)`,
      ],
      {
        cwd: dir,
        env: { PATH: bin },
      },
    );
    expect(Number(r.stdout.trim())).toBeGreaterThan(0);
    void dirname;
  });
});
