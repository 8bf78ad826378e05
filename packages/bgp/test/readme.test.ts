import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example runs: Established, the route announced, keepalives at hold/3, withdrawn and Cease on stop", () => {
  expect(example()).toEqual({
    states: ["Connect", "OpenSent", "OpenConfirm", "Established", "Idle"],
    sent: ["OPEN", "KEEPALIVE", "UPDATE", "KEEPALIVE", "UPDATE", "NOTIFICATION"],
    holdTime: 3,
  });
});

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});

it("the README shows the speaker program the netns tests run (test/peers/speaker.mjs) verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./peers/speaker.mjs", import.meta.url),
  );
  expect(block).toBe(file);
});
