// The README's example (examples/netns-frame.mjs), run as written against a namespace whose eth0
// is a veth: it lists the namespace's interfaces, and its frame arrives at the other end. The
// README shows the file verbatim.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { canUseNetns, readmeBlock, Topology, waitFor } from "@lvs/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { PacketSocket } from "../src/index.js";

const EXAMPLE = fileURLToPath(new URL("../examples/netns-frame.mjs", import.meta.url));

it("the README shows examples/netns-frame.mjs verbatim", () => {
  const { block, file } = readmeBlock(new URL("../README.md", import.meta.url), EXAMPLE);
  expect(block).toBe(file);
});

describe.skipIf(!canUseNetns())("examples/netns-frame.mjs", () => {
  let topo: Topology | undefined;
  afterAll(async () => {
    await topo?.destroy();
  });

  it("prints the namespace's interfaces and sends its frame out of eth0", async () => {
    topo = await Topology.create("sys-example");
    const director = await topo.addNamespace("director");
    const peer = await topo.addNamespace("peer");
    await topo.link(director, peer, { ifA: "eth0", ifB: "eth0" });
    const rx = PacketSocket.open({ interface: "eth0", protocol: 0x88b5, netns: peer.name });
    try {
      const got: Buffer[] = [];
      rx.onFrame((f) => got.push(f));
      const out = execFileSync("node", [EXAMPLE, director.name, "eth0"], { encoding: "utf8" });
      expect(out).toMatch(/^\s*eth0:/m);
      expect(out).toMatch(/^\s*lo:/m);
      await waitFor(() => got.length > 0, { what: "the example's frame on the peer", timeoutMs: 5000 });
      expect(got[0]?.subarray(14, 48).toString()).toBe("hello from @lvs/sys: one raw frame");
    } finally {
      rx.close();
    }
  });
});
