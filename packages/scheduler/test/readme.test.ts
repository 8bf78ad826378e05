import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example runs and gives wrr's kernel order", () => {
  expect(example()).toEqual([
    "10.0.1.2:8080",
    "10.0.1.1:8080",
    "10.0.1.1:8080",
    "10.0.1.1:8080",
    "10.0.1.2:8080",
    "10.0.1.1:8080",
    "10.0.1.1:8080",
    "10.0.1.1:8080",
  ]);
});

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});
