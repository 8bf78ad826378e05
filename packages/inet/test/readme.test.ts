import { readmeBlock } from "@lvs/testkit";
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
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});
