import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example runs: model, YAML round trip, positioned error", () => {
  const r = example();
  expect(r.summary).toBe("VI_1 vrid 51 prio 101 tracks chk_down; HTTP_GET http every 60s; 0 warnings");
  expect(r.sameModel).toBe(true);
  expect(r.yaml).toContain("virtualRouterId: 51");
  expect(r.error).toBe(
    "k.conf:4:12: priority must be an integer 1..255 (255 = address owner); write `priority 100` (CONFIG_SCHEMA)",
  );
});

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});
