// The README's example is test/readme.example.mjs, verbatim (readme.netns.test.ts runs it in a
// fresh network namespace and compares its output with the README's).
import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.mjs", import.meta.url),
  );
  expect(block).toBe(file);
});
