// The README's example, run as written (against the built package).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";

it("examples/codec.mjs prints what the README says", () => {
  const out = execFileSync("node", [fileURLToPath(new URL("../examples/codec.mjs", import.meta.url))], {
    encoding: "utf8",
  });
  expect(out).toBe(
    [
      "TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED",
      "TCP [2001:db8::5]:40002 [2001:db8::1]:80 [2001:db8::b]:8080 FIN_WAIT",
      "SYNC_SIZE_MISMATCH",
      "",
    ].join("\n"),
  );
});

it("the README shows examples/codec.mjs verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("../examples/codec.mjs", import.meta.url),
  );
  expect(block).toBe(file);
});
