import { createServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";
import { workersExample } from "./readme.workers.example.js";

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

it("the README's worker-thread example brings every listener UP from the workers", async () => {
  const servers = await Promise.all(
    [0, 1, 2, 3].map(async () => {
      const s = createNetServer((c) => c.destroy());
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
      return s;
    }),
  );
  try {
    const events = await workersExample(servers.map((s) => (s.address() as AddressInfo).port));
    expect(events.map((e) => e.id).sort()).toEqual(["rs0", "rs1", "rs2", "rs3"]);
    for (const e of events) expect(e).toMatchObject({ kind: "up", reason: "connected", weight: 1 });
  } finally {
    for (const s of servers) s.close();
  }
});

it("the README shows the worker-thread example verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.workers.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});
