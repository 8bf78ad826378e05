// The README's examples are examples/program-a-service.ts and apply-desired.ts, verbatim
// (client.kernel.test.ts runs both against the kernel's IPVS in the VM; the declarative one also
// runs here against MemoryIpvs).
import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";
import { applyWebService } from "../examples/apply-desired.js";
import { Forward } from "../src/constants.js";
import { MemoryIpvs } from "../src/memory.js";

it("the README shows the example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("../examples/program-a-service.ts", import.meta.url),
  );
  expect(block).toBe(file);
});

it("the README shows the declarative example file verbatim", () => {
  const { block, file } = readmeBlock(
    new URL("../README.md", import.meta.url),
    new URL("../examples/apply-desired.ts", import.meta.url),
  );
  expect(block).toBe(file);
});

it("the declarative example runs against MemoryIpvs: only the real server it does not describe goes", async () => {
  const ipvs = new MemoryIpvs();
  // What the first example leaves behind: wlc on TCP 10.0.0.1:80 with two real servers.
  const web = { protocol: 6, address: "10.0.0.1", port: 80 };
  await ipvs.batch([
    { op: "addService", service: { ...web, scheduler: "wlc" } },
    {
      op: "addDest",
      service: web,
      dest: { address: "10.0.0.2", port: 8080, forward: Forward.MASQ, weight: 2 },
    },
    {
      op: "addDest",
      service: web,
      dest: { address: "10.0.0.3", port: 8080, forward: Forward.MASQ, weight: 1 },
    },
  ]);
  // apply() reads the table and writes one batch: the parts MemoryIpvs stands in for.
  const report = await applyWebService(ipvs as unknown as Parameters<typeof applyWebService>[0]);
  expect(report.failed).toEqual([]);
  expect(report.operations.map((o) => o.op)).toEqual(["delDest"]);
  const [svc] = await ipvs.table();
  expect(svc?.dests.map((d) => `${d.address}:${d.port} w${d.weight}`)).toEqual(["10.0.0.2:8080 w2"]);
});
