import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example runs: keepalived's checksum form, Backup → Master after Master_Down_Interval", () => {
  expect(example()).toEqual({
    priority: 150,
    checksum: "pseudo-header",
    effects: ["state backup", "send", "add-addresses", "announce", "state master"],
    state: "master",
  });
});

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});

it("the README shows the router program the netns tests run (test/peers/router.mjs) verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./peers/router.mjs", import.meta.url),
  );
  expect(block).toBe(file);
});
