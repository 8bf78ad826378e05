// The director stays in pieces a reader can hold: no source file over 500 lines and no function
// or method over 80 (issue 14's limits), measured on the TypeScript syntax tree.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { expect, it } from "vitest";

const ROOT = new URL("../../..", import.meta.url).pathname;
const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 80;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const f = join(dir, e);
    return statSync(f).isDirectory() ? files(f) : /\.ts$/.test(e) && !e.endsWith(".generated.ts") ? [f] : [];
  });
}

/** Files over the line limit and functions over theirs, as `path:line name (N lines)`. */
function oversized(path: string, text: string): string[] {
  const src = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const line = (pos: number) => src.getLineAndCharacterOfPosition(pos).line + 1;
  const out: string[] = [];
  const total = line(src.end);
  if (total > MAX_FILE_LINES) out.push(`${path} (${total} lines)`);
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && "body" in n && n.body) {
      const lines = line(n.end) - line(n.getStart(src)) + 1;
      if (lines > MAX_FUNCTION_LINES) {
        const name = "name" in n && n.name ? n.name.getText(src) : "(anonymous)";
        out.push(`${path}:${line(n.getStart(src))} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

it("the checker finds a long function and a long file", () => {
  const body = Array.from({ length: 90 }, (_, i) => `  x += ${i};`).join("\n");
  expect(oversized("f.ts", `function long() {\n  let x = 0;\n${body}\n}\n`)).toEqual([
    "f.ts:1 long (93 lines)",
  ]);
  expect(oversized("g.ts", "const a = 1;\n".repeat(501))).toEqual(["g.ts (502 lines)"]);
});

it(`@lvs/director: no file over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}`, () => {
  const dir = join(ROOT, "packages/director/src");
  const found = files(dir).flatMap((f) => oversized(relative(ROOT, f), readFileSync(f, "utf8")));
  expect(found).toEqual([]);
});
