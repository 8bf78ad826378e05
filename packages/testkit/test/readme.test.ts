// readmeBlock: finds the block that shows the file, and shows a difference as one.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codeBlocks, readmeBlock } from "../src/readme.js";

describe("readmeBlock", () => {
  const dir = mkdtempSync(join(tmpdir(), "readme-"));
  const example = join(dir, "example.ts");
  writeFileSync(example, 'import { a } from "x";\n\nconsole.log(a(1));\n');
  const readme = (body: string) => {
    const f = join(dir, `README-${Math.random()}.md`);
    writeFileSync(f, body);
    return f;
  };

  it("picks the block showing the file among others", () => {
    const r = readme(
      '# x\n\n```sh\nnpm i x\n```\n\n```ts\nimport { a } from "x";\n\nconsole.log(a(1));\n```\n\n```ts\nother();\n```\n',
    );
    const { block, file } = readmeBlock(r, example);
    expect(block).toBe(file);
  });

  it("an edited README block differs from the file", () => {
    const r = readme('```ts\nimport { a } from "x";\n\nconsole.log(a(2));\n```\n');
    const { block, file } = readmeBlock(r, example);
    expect(block).not.toBe(file);
    expect(block).toContain("a(2)");
  });

  it("codeBlocks: fences of three or more backticks or tildes", () => {
    expect(codeBlocks("a\n```ts\n1\n2\n```\nb\n~~~~\n3\n~~~~\n")).toEqual(["1\n2", "3"]);
  });
});
