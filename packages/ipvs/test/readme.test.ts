// The README's examples are examples/program-a-service.ts and apply-desired.ts, verbatim
// (client.kernel.test.ts runs both against the kernel's IPVS in the VM).
import { readmeBlock } from "@lvs/testkit";
import { expect, it } from "vitest";

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
