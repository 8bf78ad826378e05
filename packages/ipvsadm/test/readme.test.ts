import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example runs: an operation, ipvsadm's refusal, ipvsadm -Sn text", () => {
  const { operation, refused, saved } = example();
  expect(operation).toEqual({
    op: "addDest",
    service: { af: 2, protocol: 6, address: "10.0.0.1", port: 80 },
    dest: {
      af: 2,
      address: "10.0.0.2",
      port: 8080,
      forward: 0,
      weight: 3,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnelType: 0,
      tunnelPort: 0,
      tunnelFlags: 0,
    },
  });
  expect(refused).toEqual({ exit: 2, stdout: "", stderr: "multiple 'scheduler' options specified\n" });
  expect(saved).toBe("-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3\n");
});

it("the README shows the example file verbatim", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = readFileSync(new URL("readme.example.ts", import.meta.url), "utf8");
  const body = code.slice(code.indexOf("import "));
  expect(readme).toContain(body.trim());
});
