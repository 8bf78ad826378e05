// Releases through changesets, in a scratch copy of the repository: `changeset version` gives
// coherent versions and changelogs, and `pnpm -r publish --dry-run` shows every public package
// would publish with the right files and no workspace-only ranges.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Manifest, pnpmBin, publicPackages, ROOT } from "../src/workspace.js";

const run = promisify(execFile);
let copy = "";
let pending: { file: string; bumps: Map<string, string>; summary: string }[] = [];
let before = new Map<string, Manifest>();
let publishLog = "";

/** The changesets waiting in .changeset/: which packages each bumps, and its text. */
function readChangesets(dir: string) {
  return readdirSync(join(dir, ".changeset"))
    .filter((f) => f.endsWith(".md") && f !== "README.md")
    .map((file) => {
      const text = readFileSync(join(dir, ".changeset", file), "utf8");
      const [, front = "", body = ""] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text) ?? [];
      const bumps = new Map<string, string>();
      for (const m of front.matchAll(/^"?([^":]+)"?:\s*(major|minor|patch)\s*$/gm))
        bumps.set(m[1] as string, m[2] as string);
      return { file, bumps, summary: body.trim() };
    });
}

const manifestOf = (dir: string, name: string): Manifest => {
  const p = publicPackages().find((x) => x.manifest.name === name);
  const rel = p ? p.dir.slice(ROOT.length) : "";
  return JSON.parse(readFileSync(join(dir, rel, "package.json"), "utf8")) as Manifest;
};

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), "lvs-release-"));
  // The working tree as a clone would have it, plus the built dist/ folders publish needs.
  execFileSync("sh", [
    "-c",
    `tar -C "${ROOT}" --exclude=node_modules --exclude=.git --exclude=.turbo --exclude=.cache --exclude=test-results --exclude=bundle -cf - . | tar -C "${copy}" -xf -`,
  ]);
  pending = readChangesets(copy);
  before = new Map(publicPackages().map((p) => [p.manifest.name, p.manifest]));
  await run(process.execPath, [join(ROOT, "node_modules", "@changesets", "cli", "bin.js"), "version"], {
    cwd: copy,
  });
  // pnpm resolves workspace: ranges from the installed workspace; offline, from the store.
  await run(
    pnpmBin(),
    ["install", "--offline", "--ignore-scripts", "--frozen-lockfile", "--reporter=silent"],
    { cwd: copy },
  );
  const r = await run(pnpmBin(), ["-r", "publish", "--dry-run", "--no-git-checks"], {
    cwd: copy,
    maxBuffer: 64 << 20,
  });
  publishLog = `${r.stdout}\n${r.stderr}`;
});
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe("changeset version", () => {
  it("has changesets to release (every user-visible change carries one)", () => {
    expect(pending.length).toBeGreaterThan(0);
  });

  it("bumps each package by its largest pending bump and writes its changelog", () => {
    const order = ["patch", "minor", "major"];
    for (const [name, old] of before) {
      const wanted = pending
        .map((c) => c.bumps.get(name))
        .filter((b): b is string => !!b)
        .sort((a, b) => order.indexOf(b) - order.indexOf(a))[0];
      const now = manifestOf(copy, name).version;
      const [maj, min, pat] = old.version.split(".").map(Number) as [number, number, number];
      if (wanted === "major") expect(now).toBe(`${maj + 1}.0.0`);
      else if (wanted === "minor") expect(now).toBe(`${maj}.${min + 1}.0`);
      else if (wanted === "patch") expect(now).toBe(`${maj}.${min}.${pat + 1}`);
      if (wanted) {
        const p = publicPackages().find((x) => x.manifest.name === name);
        const log = readFileSync(join(copy, (p?.dir ?? "").slice(ROOT.length), "CHANGELOG.md"), "utf8");
        expect(log).toContain(`## ${now}`);
        for (const c of pending.filter((c) => c.bumps.has(name)))
          expect(log).toContain(c.summary.split("\n")[0]);
      }
    }
  });

  it("consumes the changesets", () => {
    expect(readChangesets(copy)).toEqual([]);
  });
});

describe("pnpm -r publish --dry-run", () => {
  it.each(
    publicPackages().map((p) => p.manifest.name),
  )("%s would publish its built files and README", (name) => {
    const version = manifestOf(copy, name).version;
    const start = publishLog.indexOf(`📦  ${name}@${version}`);
    expect(start, `${name}@${version} missing from the publish dry-run`).toBeGreaterThanOrEqual(0);
    const block = publishLog.slice(start, publishLog.indexOf("Tarball Details", start));
    const files = [...block.matchAll(/npm notice [\d.]+k?M?B\s+(\S+)/g)].map((m) => m[1] as string);
    expect(files).toEqual(
      expect.arrayContaining([
        "README.md",
        "package.json",
        "dist/index.js",
        "dist/index.cjs",
        "dist/index.d.ts",
        "dist/index.d.cts",
      ]),
    );
    // Tests, sources and configuration stay home (a native addon's C++ source is the exception).
    expect(
      files.filter(
        (f) => /^(test|bench)\//.test(f) || /^src\/.*\.ts$/.test(f) || f.endsWith("tsconfig.json"),
      ),
    ).toEqual([]);
  });

  it("publishes manifests without workspace: ranges, pinned to the versions just made", () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-release-pack-"));
    try {
      for (const p of publicPackages()) {
        const rel = p.dir.slice(ROOT.length);
        const out = execFileSync(pnpmBin(), ["pack", "--pack-destination", dir, "--json"], {
          cwd: join(copy, rel),
          encoding: "utf8",
        });
        const { filename } = JSON.parse(out.slice(out.indexOf("{"))) as { filename: string };
        const packed = JSON.parse(
          execFileSync(
            "tar",
            ["-xzOf", filename.startsWith("/") ? filename : join(dir, filename), "package/package.json"],
            { encoding: "utf8" },
          ),
        ) as Manifest;
        for (const [dep, range] of Object.entries(packed.dependencies ?? {})) {
          expect(range, `${p.manifest.name} → ${dep}`).not.toMatch(/^workspace:/);
          if (dep.startsWith("@lvs/")) expect(range).toBe(manifestOf(copy, dep).version);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(copy)).toBe(true);
  });
});
