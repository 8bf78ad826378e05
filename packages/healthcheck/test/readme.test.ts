import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example runs and reports UP after rise successes, weight 1 at slow-start", async () => {
  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  try {
    const { once, events } = await example((server.address() as AddressInfo).port);
    expect(once).toBe("UP /health status 200");
    expect(events).toMatchObject([{ id: "10.0.0.2:80@vs1", kind: "up", reason: "connected", weight: 1 }]);
  } finally {
    server.close();
  }
});

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});
