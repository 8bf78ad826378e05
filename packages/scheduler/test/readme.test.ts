import { readFileSync } from "node:fs";
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
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = readFileSync(new URL("readme.example.ts", import.meta.url), "utf8");
  const body = code.slice(code.indexOf("import {"));
  expect(readme).toContain(body.trim());
});
