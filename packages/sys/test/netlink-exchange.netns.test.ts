// Netns tier: NetlinkExchangeSocket against the real kernel's rtnetlink, inside a namespace the
// test made: a multi-part dump, an error reply, a timeout, and the socket's namespace.

import { execFileSync } from "node:child_process";
import { canUseNetns, type Netns, Topology } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetlinkExchangeSocket, SysError } from "../src/index.js";

const NETLINK_ROUTE = 0;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLM_F_DUMP = 0x300;
const IFLA_IFNAME = 3;
const IFF_UP = 1;

/** nlmsghdr + ifinfomsg: `type` for link `ifindex` (0: all), with ifi_flags/ifi_change. */
function ifinfo(
  type: number,
  seq: number,
  flags: number,
  ifindex: number,
  ifiFlags = 0,
  ifiChange = 0,
): Uint8Array {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(32, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(NLM_F_REQUEST | flags, 6);
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(ifindex, 20);
  b.writeUInt32LE(ifiFlags, 24);
  b.writeUInt32LE(ifiChange, 28);
  return b;
}
/** Asks for one link (by index) or all of them. */
const getLink = (seq: number, flags: number, ifindex = 0): Uint8Array =>
  ifinfo(RTM_GETLINK, seq, flags, ifindex);
/** Sets (or clears) IFF_UP on link `ifindex`, with an ACK. */
const setLinkUp = (seq: number, ifindex: number, up: boolean): Uint8Array =>
  ifinfo(RTM_NEWLINK, seq, NLM_F_ACK, ifindex, up ? IFF_UP : 0, IFF_UP);

interface Msg {
  type: number;
  seq: number;
  payload: Buffer;
}
function split(data: Buffer): Msg[] {
  const out: Msg[] = [];
  for (let at = 0; at + 16 <= data.length; ) {
    const len = data.readUInt32LE(at);
    if (len < 16) break;
    out.push({
      type: data.readUInt16LE(at + 4),
      seq: data.readUInt32LE(at + 8),
      payload: data.subarray(at + 16, at + len),
    });
    at += (len + 3) & ~3;
  }
  return out;
}
function linkName(payload: Buffer): string | undefined {
  for (let at = 16; at + 4 <= payload.length; ) {
    const len = payload.readUInt16LE(at);
    if (len < 4) break;
    if (payload.readUInt16LE(at + 2) === IFLA_IFNAME)
      return payload.subarray(at + 4, at + len - 1).toString();
    at += (len + 3) & ~3;
  }
  return undefined;
}

describe.skipIf(!canUseNetns() || !NetlinkExchangeSocket.available())("NetlinkExchangeSocket", () => {
  let topo: Topology;
  let a: Netns;

  beforeAll(async () => {
    topo = await Topology.create("nlx");
    a = await topo.addNamespace("a");
    for (let i = 0; i < 40; i += 2) await a.run(`ip link add nlx${i} type veth peer name nlx${i + 1}`);
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("dumps the namespace's links in several parts, then answers an error, in one exchange", async () => {
    const sock = NetlinkExchangeSocket.open(NETLINK_ROUTE, { netns: a.name });
    try {
      // write 1: a dump of every link; write 2: one link that does not exist, with an ACK.
      const r = await sock.exchange([getLink(7, NLM_F_DUMP), getLink(8, NLM_F_ACK, 999_999)], [7, 8], 2000);
      expect(r.error).toBeUndefined();
      expect(r.completed).toBe(2);
      const msgs = split(r.data);
      const names = msgs.filter((m) => m.seq === 7 && m.type === RTM_NEWLINK).map((m) => linkName(m.payload));
      expect(names).toContain("lo");
      for (let i = 0; i < 40; i++) expect(names).toContain(`nlx${i}`);
      expect(names).not.toContain("eth0"); // the host's links are not in this namespace
      expect(msgs.some((m) => m.seq === 7 && m.type === NLMSG_DONE)).toBe(true);
      const err = msgs.find((m) => m.seq === 8 && m.type === NLMSG_ERROR);
      expect(err?.payload.readInt32LE(0)).toBe(-19); // ENODEV
    } finally {
      sock.close();
    }
  });

  it("stops with ETIMEDOUT when the awaited answer never comes, keeping what arrived", async () => {
    const sock = NetlinkExchangeSocket.open(NETLINK_ROUTE, { netns: a.name });
    try {
      // A GET without NLM_F_ACK is answered by the link alone: no NLMSG_ERROR ever ends it.
      const r = await sock.exchange([getLink(9, 0, 1), getLink(10, NLM_F_ACK, 1)], [9, 10], 200);
      expect(r.completed).toBe(0);
      expect(r.error).toBeInstanceOf(SysError);
      expect(r.error?.context.errnoName).toBe("ETIMEDOUT");
      expect(r.error?.message).toMatch(/write 1 of 2/);
      expect(split(r.data).map((m) => linkName(m.payload))).toEqual(["lo"]);
    } finally {
      sock.close();
    }
  });

  it("takes the writes laid end to end in one block (exchangeJoined), at an offset of it", async () => {
    const sock = NetlinkExchangeSocket.open(NETLINK_ROUTE, { netns: a.name });
    try {
      // A view into a larger buffer, as a caller encoding many requests into one block passes.
      const backing = new Uint8Array(8 + 64 + 8).fill(0xee);
      backing.set(getLink(11, NLM_F_DUMP), 8);
      backing.set(getLink(12, NLM_F_ACK, 999_999), 40);
      const joined = backing.subarray(8, 72);
      const r = await sock.exchangeJoined(joined, Uint32Array.of(32, 32), [11, 12], 2000);
      expect(r.error).toBeUndefined();
      expect(r.completed).toBe(2);
      const msgs = split(r.data);
      expect(
        msgs.filter((m) => m.seq === 11 && m.type === RTM_NEWLINK).map((m) => linkName(m.payload)),
      ).toContain("nlx39");
      expect(msgs.find((m) => m.seq === 12 && m.type === NLMSG_ERROR)?.payload.readInt32LE(0)).toBe(-19);
      // Lengths that do not add up to the block are refused before anything is sent.
      await expect(sock.exchangeJoined(joined, Uint32Array.of(32, 16), [11, 12], 100)).rejects.toThrow(
        /add up to 48 bytes, the writes hold 64/,
      );
    } finally {
      sock.close();
    }
  });

  it("starts the next queued exchange before the previous one's handler runs", async () => {
    const sock = NetlinkExchangeSocket.open(NETLINK_ROUTE, { netns: a.name });
    const linkUp = (): boolean =>
      /[<,]UP[,>]/.test(execFileSync("ip", ["-n", a.name, "-o", "link", "show", "nlx2"]).toString());
    try {
      const ifindex = JSON.parse(
        execFileSync("ip", ["-n", a.name, "-j", "link", "show", "nlx2"]).toString(),
      )[0].ifindex as number;
      expect(linkUp()).toBe(false);
      // The first exchange's handler blocks this thread; the second (IFF_UP on nlx2) must reach
      // the kernel meanwhile, i.e. be handed to a pool thread before that handler runs.
      let seenDuringHandler = false;
      const first = sock.exchange([getLink(21, NLM_F_DUMP)], [21], 2000).then((r) => {
        expect(r.completed).toBe(1);
        const until = Date.now() + 3000;
        while (!seenDuringHandler && Date.now() < until) seenDuringHandler = linkUp();
      });
      const second = sock.exchange([setLinkUp(22, ifindex, true)], [22], 2000);
      await first;
      const r = await second;
      expect(r.completed).toBe(1);
      expect(
        split(r.data)
          .find((m) => m.seq === 22 && m.type === NLMSG_ERROR)
          ?.payload.readInt32LE(0),
      ).toBe(0);
      expect(seenDuringHandler).toBe(true);
    } finally {
      sock.close();
      execFileSync("ip", ["-n", a.name, "link", "set", "nlx2", "down"]);
    }
  });

  it("reads a dump in the small parts a socket with a small receiveBytes gets from the kernel", async () => {
    const big = NetlinkExchangeSocket.open(NETLINK_ROUTE, { netns: a.name });
    const small = NetlinkExchangeSocket.open(NETLINK_ROUTE, { netns: a.name, receiveBytes: 4096 });
    try {
      const names = (data: Buffer) =>
        split(data)
          .filter((m) => m.type === RTM_NEWLINK)
          .map((m) => linkName(m.payload))
          .sort();
      const rBig = await big.exchange([getLink(41, NLM_F_DUMP)], [41], 2000);
      const rSmall = await small.exchange([getLink(42, NLM_F_DUMP)], [42], 2000);
      expect(rSmall.error).toBeUndefined();
      expect(names(rSmall.data)).toEqual(names(rBig.data));
      expect(names(rSmall.data)).toHaveLength(41); // lo and the 40 veth ends
      // The kernel sized its parts to the socket's largest read: more, smaller datagrams.
      expect(rSmall.datagrams).toBeGreaterThanOrEqual(2 * rBig.datagrams);
      expect(rSmall.data.length / rSmall.datagrams).toBeLessThanOrEqual(4096);
    } finally {
      big.close();
      small.close();
    }
    expect(() => NetlinkExchangeSocket.open(NETLINK_ROUTE, { receiveBytes: 0.5 })).toThrow(
      /positive integer/,
    );
  });

  it("refuses an exchange after close", async () => {
    const sock = NetlinkExchangeSocket.open(NETLINK_ROUTE);
    sock.close();
    await expect(sock.exchange([getLink(1, NLM_F_DUMP)], [1], 100)).rejects.toMatchObject({
      code: "SYS_NETLINK_CLOSED",
    });
  });
});
