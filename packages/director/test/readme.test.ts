import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { example } from "./readme.example.js";

it("the README example starts a director on real checks, drains over the API, prints the status table", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lvs-readme-"));
  const a = createServer((_q, r) => r.end("ok"));
  const b = createServer((_q, r) => r.end("ok"));
  await new Promise<void>((r) => a.listen(0, "127.0.0.1", () => r()));
  await new Promise<void>((r) => b.listen(0, "127.0.0.2", () => r()));
  const pa = (a.address() as AddressInfo).port;
  const pb = (b.address() as AddressInfo).port;
  try {
    const { table, status, drained } = await example(dir, [pa, pb]);
    // No connections on the drained server: removed at once.
    expect(table).toBe(`  6 10.0.0.1:80 -> 127.0.0.1:${pa} fwd=0 w=2\nS 6 10.0.0.1:80 wlc f=0 t=0 m=32`);
    expect(drained).toEqual([`127.0.0.2:${pb} drained`]);
    expect(status).toContain("TCP 10.0.0.1:80");
    expect(status).toMatch(
      new RegExp(`-> 127\\.0\\.0\\.2:${pb}\\s+Masq\\s+-\\s+0\\s+0\\s+DRAINED\\s+TCP_CHECK`),
    );
  } finally {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("./readme.example.ts", import.meta.url),
  );
  expect(block).toBe(file);
});
