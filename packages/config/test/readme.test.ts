import { readFileSync } from "node:fs";
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

it("the README shows the example file as it is", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const src = readFileSync(new URL("./readme.example.ts", import.meta.url), "utf8");
  const body = src.slice(src.indexOf("export function")).trim();
  expect(readme).toContain(body.split("\n").slice(1, 6).join("\n"));
});
