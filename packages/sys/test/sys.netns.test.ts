// Netns tier: setns really moves the thread, and AF_PACKET frames cross a real veth.
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ifNameToIndex, openDeviceSocket, PacketSocket, SysError, withNetns } from "../src/index.js";

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

  it("openDeviceSocket: a UDP socket bound to a device and address, adopted by dgram, carries datagrams", async () => {
    const [rxFd, txFd] = withNetns(a.name, () => [
      openDeviceSocket({ family: 4, type: "udp", ifname: "lo", localAddress: "127.0.0.1", localPort: 40999 }),
      openDeviceSocket({ family: 4, type: "udp", ifname: "lo" }),
    ]);
    const rx = createSocket("udp4");
    const tx = createSocket("udp4");
    try {
      const got = new Promise<string>((resolve) => rx.once("message", (m) => resolve(m.toString())));
      await new Promise<void>((r) => rx.bind({ fd: rxFd as number }, r));
      await new Promise<void>((r) => tx.bind({ fd: txFd as number }, r));
      expect(rx.address()).toMatchObject({ address: "127.0.0.1", port: 40999 });
      tx.send("over lo", 40999, "127.0.0.1");
      expect(await got).toBe("over lo");
    } finally {
      rx.close();
      tx.close();
    }
  });

  it("openDeviceSocket names the device and errno: ENODEV, EADDRNOTAVAIL, a family mismatch", () => {
    const fail = (f: () => unknown): SysError => {
      try {
        f();
      } catch (err) {
        return err as SysError;
      }
      throw new Error("no error");
    };
    const noDev = fail(() =>
      withNetns(a.name, () => openDeviceSocket({ family: 4, type: "tcp", ifname: "lvsnosuch0" })),
    );
    expect(noDev).toBeInstanceOf(SysError);
    expect(noDev).toMatchObject({
      code: "SYS_DEVICE_SOCKET",
      context: {
        object: "tcp socket on device lvsnosuch0",
        errnoName: "ENODEV",
        syscall: "setsockopt(SO_BINDTODEVICE)",
      },
    });
    const notLocal = fail(() =>
      withNetns(a.name, () =>
        openDeviceSocket({ family: 4, type: "udp", ifname: "veth-a", localAddress: "192.0.2.9" }),
      ),
    );
    expect(notLocal).toMatchObject({
      code: "SYS_DEVICE_SOCKET",
      context: { errnoName: "EADDRNOTAVAIL", syscall: "bind" },
    });
    const mismatch = fail(() =>
      openDeviceSocket({ family: 4, type: "udp", ifname: "lo", localAddress: "::1" }),
    );
    expect(mismatch).toMatchObject({ code: "SYS_DEVICE_SOCKET", context: { errnoName: "EINVAL" } });
  });
});
