// Netns tier: setns really moves the thread, and AF_PACKET frames cross a real veth.
import { readFileSync } from "node:fs";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ifNameToIndex, PacketSocket, SysError, withNetns } from "../src/index.js";

/** IEEE 802 "local experimental" ethertype: nothing on the link reacts to it. */
const ETH_P_EXPERIMENTAL = 0x88b5;

describe.skipIf(!canUseNetns())("@lvs/sys in network namespaces", () => {
  let topo: Topology;
  let a: Netns;
  let b: Netns;

  beforeAll(async () => {
    topo = await Topology.create("sys");
    a = await topo.addNamespace("a");
    b = await topo.addNamespace("b");
    await topo.link(a, b, { ifA: "veth-a", ifB: "veth-b" });
    await a.run("ip link add lvsdummy0 type veth peer name lvsdummy1");
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("withNetns reads the namespace's own /proc/net and interfaces, then switches back", () => {
    const inside = withNetns(a.name, () => readFileSync("/proc/thread-self/net/dev", "utf8"));
    expect(inside).toContain("lvsdummy0");
    expect(inside).toContain("veth-a");
    const outside = readFileSync("/proc/thread-self/net/dev", "utf8");
    expect(outside).not.toContain("lvsdummy0");
    expect(ifNameToIndex("veth-a", a.name)).toBeGreaterThan(0);
    expect(() => ifNameToIndex("veth-a")).toThrowError(SysError);
  });

  it("names the namespace and errno when it does not exist", () => {
    try {
      withNetns("lvs-no-such-netns", () => 1);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SysError);
      expect((err as SysError).code).toBe("SYS_NETNS_OPEN");
      expect((err as SysError).context.object).toBe("/run/netns/lvs-no-such-netns");
      expect((err as SysError).context.errnoName).toBe("ENOENT");
    }
  });

  it("refuses an async fn, which would escape the namespace", () => {
    expect(() => withNetns(a.name, async () => 1)).toThrowError(/synchronous/);
  });

  it("sends an Ethernet frame from one namespace that a packet socket receives in the other", async () => {
    const rx = PacketSocket.open({ interface: "veth-b", protocol: ETH_P_EXPERIMENTAL, netns: b.name });
    const tx = PacketSocket.open({ interface: "veth-a", protocol: ETH_P_EXPERIMENTAL, netns: a.name });
    try {
      const got: Buffer[] = [];
      rx.onFrame((frame) => got.push(frame));
      const srcMac = Buffer.from((await a.mac("veth-a")).split(":").map((h) => Number.parseInt(h, 16)));
      const frame = Buffer.concat([
        Buffer.from("ffffffffffff", "hex"),
        srcMac,
        Buffer.from([ETH_P_EXPERIMENTAL >> 8, ETH_P_EXPERIMENTAL & 0xff]),
        Buffer.from("lvs-sys-packet-test-payload-0123456789abcdef"),
      ]);
      tx.send(frame);
      await waitFor(() => got.length > 0, { what: "frame on veth-b", timeoutMs: 5000 });
      expect(got[0]!.subarray(0, frame.length).equals(frame)).toBe(true);
    } finally {
      rx.close();
      tx.close();
    }
  });
});
