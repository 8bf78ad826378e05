// The shape of src/ (issue 14): no file over 500 lines, no function over 80, and no import
// cycle between its files (type-only imports count: a cycle is a cycle to a reader too).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 80;

const files = readdirSync(SRC)
  .filter((f) => f.endsWith(".ts"))
  .sort()
  .map((name) => {
    const text = readFileSync(join(SRC, name), "utf8");
    return { name, text, source: ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true) };
  });

const isFunction = (n: ts.Node) =>
  ts.isFunctionDeclaration(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isArrowFunction(n) ||
  ts.isFunctionExpression(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isGetAccessor(n) ||
  ts.isSetAccessor(n);

describe("packages/director/src", () => {
  it(`no file over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => [f.name, f.text.split("\n").length] as const)
      .filter(([, n]) => n > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const { name, source } of files) {
      const visit = (n: ts.Node) => {
        if (isFunction(n)) {
          const first = source.getLineAndCharacterOfPosition(n.getStart()).line;
          const last = source.getLineAndCharacterOfPosition(n.getEnd()).line;
          if (last - first + 1 > MAX_FUNCTION_LINES)
            long.push(`${name}:${first + 1} (${last - first + 1} lines)`);
        }
        ts.forEachChild(n, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });

  it("no import cycle", () => {
    const edges = new Map<string, string[]>();
    for (const { name, source } of files) {
      const to: string[] = [];
      for (const s of source.statements) {
        const spec =
          (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier
            ? (s.moduleSpecifier as ts.StringLiteral).text
            : undefined;
        if (spec?.startsWith("./"))
          to.push(
            resolve(dirname(join(SRC, name)), spec)
              .slice(SRC.length)
              .replace(/\.js$/, ".ts"),
          );
      }
      edges.set(name, to);
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const walk = (f: string) => {
      state.set(f, "open");
      stack.push(f);
      for (const g of edges.get(f) ?? []) {
        if (state.get(g) === "open") cycles.push([...stack.slice(stack.indexOf(g)), g].join(" → "));
        else if (!state.has(g)) walk(g);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of edges.keys()) if (!state.has(f)) walk(f);
    expect(cycles).toEqual([]);
  });
});
