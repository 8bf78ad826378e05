// The source import graph has no cycle: not between packages (through their index) and not between
// the files of one package, type-only imports included (a type cycle is where a runtime one starts).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, it } from "vitest";
import { workspacePackages } from "../src/workspace.js";

type Graph = Map<string, string[]>;

function sourceGraph(): Graph {
  const graph: Graph = new Map();
  const byName = new Map(workspacePackages().map((p) => [p.manifest.name, p.dir] as const));
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((e) => {
      const f = join(d, e);
      return statSync(f).isDirectory()
        ? walk(f)
        : /\.(ts|mts|cts)$/.test(e) && !e.endsWith(".d.ts")
          ? [f]
          : [];
    });
  for (const dir of byName.values()) {
    if (!existsSync(join(dir, "src"))) continue;
    for (const f of walk(join(dir, "src"))) {
      const deps: string[] = [];
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/g)) {
        const spec = m[1] as string;
        if (spec.startsWith(".")) {
          const base = resolve(dirname(f), spec).replace(/\.(m|c)?js$/, "");
          const target = [`${base}.ts`, `${base}.mts`, `${base}.cts`, join(base, "index.ts")].find(
            existsSync,
          );
          if (target) deps.push(target);
        } else {
          const pkg = spec.match(/^(@lvs\/[^/]+)/)?.[1];
          const target = pkg ? byName.get(pkg) : undefined;
          if (target) deps.push(join(target, "src", "index.ts"));
        }
      }
      graph.set(f, deps);
    }
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.includes(v)) out.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

it("finds a cycle when there is one (the checker itself)", () => {
  const g: Graph = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a"]],
    ["d", ["a"]],
  ]);
  expect(cycles(g).map((c) => c.sort())).toEqual([["a", "b", "c"]]);
});

it("no import cycle in any package's src (type-only imports included) nor between packages", () => {
  const graph = sourceGraph();
  expect(graph.size).toBeGreaterThan(100);
  const root = resolve(dirname(new URL(import.meta.url).pathname), "../../..");
  const found = cycles(graph).map((c) =>
    c
      .map((f) => relative(root, f))
      .sort()
      .join(" <-> "),
  );
  expect(found).toEqual([]);
});
