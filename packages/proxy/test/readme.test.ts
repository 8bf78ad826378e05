import { readFileSync } from "node:fs";
import { Service } from "@lvs/scheduler";
import { expect, it } from "vitest";
import { freePort } from "./peers.js";
import { example } from "./readme.example.js";

it("the README example runs and lands where the kernel's wrr would", async () => {
  const { banners, conns } = await example(await freePort());
  // The same service in @lvs/scheduler's model of the kernel.
  const model = new Service({ scheduler: "wrr", address: "127.0.0.1", port: 1 });
  for (const i of [0, 1, 2]) model.addDest({ address: `10.0.0.${i + 1}`, port: 1, weight: 3 - i });
  const want = Array.from({ length: 6 }, (_, i) => {
    const c = model.connect({ clientAddress: "127.0.0.1", clientPort: 1000 + i })!;
    return `rs${c.destAddress.slice(-1)}`;
  });
  expect(banners).toEqual(want);
  expect(conns).toEqual([1n, 2n, 3n]); // rs3, rs2, rs1: 3:2:1 over one wrr cycle
});

it("the README shows the example file verbatim", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = readFileSync(new URL("readme.example.ts", import.meta.url), "utf8");
  expect(readme).toContain(code.trim());
});
