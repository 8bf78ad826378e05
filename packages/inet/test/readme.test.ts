import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example runs and prints what its comments say", () => {
  expect(example()).toEqual([
    "2001:db8::1:0:0:1",
    "10 [2001:db8::10]:443",
    "192.0.2.0/24 false",
    "ESTABLISHED Masq",
    "fired at 3000 ms",
  ]);
});

it("the README shows the example file verbatim", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = readFileSync(new URL("readme.example.ts", import.meta.url), "utf8");
  const body = code.slice(code.indexOf("import {"));
  expect(readme).toContain(body.trim());
});
