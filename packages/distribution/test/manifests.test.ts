// Every public manifest is what a registry user needs, and no package reaches into another's
// internals or into a workspace-only path.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildsAddon,
  closure,
  isPure,
  NATIVE_THIRD_PARTY,
  publicPackages,
  workspacePackages,
} from "../src/workspace.js";

const pub = publicPackages();
const names = new Set(workspacePackages().map((p) => p.manifest.name));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const f = join(d, e);
      if (statSync(f).isDirectory()) walk(f);
      else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(e)) out.push(f);
    }
  };
  walk(dir);
  return out;
}

describe.each(pub.map((p) => [p.manifest.name, p] as const))("%s manifest", (_name, p) => {
  const m = p.manifest;

  it("has the fields a published package needs", () => {
    expect(m.type).toBe("module");
    expect(m.license).toBeTruthy();
    expect(m.description).toBeTruthy();
    expect(m.repository).toBeTruthy();
    expect(m.keywords?.length).toBeGreaterThan(0);
    expect(m.engines?.node).toMatch(/>=\s*20/);
    expect(m.sideEffects).toBe(false);
    expect(m.files).toEqual(expect.arrayContaining(["dist", "README.md"]));
  });

  it("exports ESM and CJS with types first in each condition", () => {
    const root = m.exports?.["."] as Record<string, Record<string, string>>;
    expect(Object.keys(root)).toEqual(["import", "require"]);
    expect(Object.keys(root.import as object)[0]).toBe("types");
    expect(Object.keys(root.require as object)[0]).toBe("types");
    expect(root.import?.default).toMatch(/\.js$/);
    expect(root.require?.default).toMatch(/\.cjs$/);
    expect(root.require?.types).toMatch(/\.d\.cts$/);
  });

  it("depends on workspace packages only by workspace range, and only on public ones at run time", () => {
    for (const [dep, range] of Object.entries(m.dependencies ?? {})) {
      if (!names.has(dep)) continue;
      expect(range).toMatch(/^workspace:/);
      const target = workspacePackages().find((w) => w.manifest.name === dep);
      expect(target?.manifest.private, `${m.name} depends on private ${dep}`).toBeFalsy();
    }
  });

  it("imports other packages through their index only (no deep imports, no relative reach-outs)", () => {
    const src = join(p.dir, "src");
    for (const f of sourceFiles(src)) {
      const text = readFileSync(f, "utf8");
      for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)["']([^"']+)["']/g)) {
        const spec = match[1] as string;
        expect(spec, `${relative(p.dir, f)} imports ${spec}`).not.toMatch(/^@lvs\/[^/]+\/(?!package\.json$)/);
        if (spec.startsWith(".")) {
          const resolved = join(f, "..", spec);
          expect(
            resolved.startsWith(p.dir),
            `${relative(p.dir, f)} reaches outside its package: ${spec}`,
          ).toBe(true);
        }
      }
    }
  });

  it("carries native addons only where it needs them", () => {
    const direct = Object.keys(m.dependencies ?? {}).filter((d) => NATIVE_THIRD_PARTY.has(d));
    for (const d of direct) {
      // The package must use the addon itself, not just pass it through.
      const used = sourceFiles(join(p.dir, "src")).some((f) => readFileSync(f, "utf8").includes(`"${d}"`));
      expect(used, `${m.name} depends on ${d} without using it`).toBe(true);
    }
    if (buildsAddon(p)) expect(m.files).toEqual(expect.arrayContaining(["binding.gyp"]));
  });
});

describe("pure packages", () => {
  it("@lvs/scheduler and @lvs/config (when present) need no compiler", () => {
    for (const n of ["@lvs/scheduler", "@lvs/config"]) {
      if (!names.has(n)) continue;
      expect(isPure(n), `${n} closure: ${[...closure(n).thirdParty].join(", ")}`).toBe(true);
    }
  });
});
