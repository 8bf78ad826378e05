// The workspace's packages as the registry would see them: manifests, dependency closure, which
// ones carry native addons. Read from packages/*/package.json, never hard-coded, so a new package
// is covered by every test here the day it lands.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  type?: string;
  repository?: unknown;
  keywords?: string[];
  engines?: Record<string, string>;
  sideEffects?: boolean;
  main?: string;
  module?: string;
  types?: string;
  exports?: Record<string, unknown>;
  files?: string[];
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  gypfile?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
}

/** Third-party packages that compile or load a native addon. */
export const NATIVE_THIRD_PARTY = new Set(["netlink", "raw-socket"]);

export function workspacePackages(): WorkspacePackage[] {
  const base = join(ROOT, "packages");
  return readdirSync(base)
    .filter((d) => existsSync(join(base, d, "package.json")))
    .map((d) => ({
      dir: join(base, d),
      manifest: JSON.parse(readFileSync(join(base, d, "package.json"), "utf8")) as Manifest,
    }))
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

export function publicPackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => !p.manifest.private);
}

/** Does this package itself build a native addon (binding.gyp / gypfile)? */
export function buildsAddon(p: WorkspacePackage): boolean {
  return p.manifest.gypfile === true || existsSync(join(p.dir, "binding.gyp"));
}

/** The runtime dependency closure of a workspace package: workspace names and third-party names. */
export function closure(
  name: string,
  all = workspacePackages(),
): { workspace: Set<string>; thirdParty: Set<string> } {
  const byName = new Map(all.map((p) => [p.manifest.name, p]));
  const workspace = new Set<string>();
  const thirdParty = new Set<string>();
  const visit = (n: string): void => {
    const p = byName.get(n);
    if (!p) {
      thirdParty.add(n);
      return;
    }
    if (workspace.has(n)) return;
    workspace.add(n);
    for (const d of Object.keys(p.manifest.dependencies ?? {})) visit(d);
  };
  visit(name);
  return { workspace, thirdParty };
}

/** True when installing this package compiles or loads no native code at all. */
export function isPure(name: string, all = workspacePackages()): boolean {
  const byName = new Map(all.map((p) => [p.manifest.name, p]));
  const c = closure(name, all);
  for (const w of c.workspace) {
    const p = byName.get(w);
    if (p && buildsAddon(p)) return false;
  }
  for (const t of c.thirdParty) if (NATIVE_THIRD_PARTY.has(t)) return false;
  return true;
}

/** pnpm, as tools/bootstrap installs it. */
export function pnpmBin(): string {
  const local = join(ROOT, ".cache", "pnpm", "node_modules", ".bin", "pnpm");
  return existsSync(local) ? local : "pnpm";
}

/** `pnpm pack` of every public package into `dest`; returns name → tarball path. */
export function packAll(dest: string): Map<string, string> {
  mkdirSync(dest, { recursive: true });
  const out = new Map<string, string>();
  for (const p of publicPackages()) {
    const text = execFileSync(pnpmBin(), ["pack", "--pack-destination", dest, "--json"], {
      cwd: p.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const info = JSON.parse(text.slice(text.indexOf("{"))) as { filename: string };
    out.set(p.manifest.name, info.filename.startsWith("/") ? info.filename : join(dest, info.filename));
  }
  return out;
}
