// Netns tier: addresses and links over rtnetlink in a real namespace, checked against iproute2,
// and the watcher's events for link down/up and address add/remove.
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AddressEvent,
  addAddress,
  getLink,
  type LinkEvent,
  listAddresses,
  listLinks,
  NetconfError,
  RtnlClient,
  removeAddress,
  setLinkUp,
  watchNetlink,
} from "../src/index.js";

interface IpAddr {
  ifname: string;
  addr_info: Array<{
    family: string;
    local: string;
    prefixlen: number;
    label?: string;
    scope: string;
    nodad?: boolean;
  }>;
}

describe.skipIf(!canUseNetns())("rtnetlink in a network namespace", () => {
  let topo: Topology;
  let a: Netns;
  let b: Netns;
  const ipAddrs = async (ns: Netns): Promise<IpAddr[]> =>
    JSON.parse(await ns.run("ip -j addr show")) as IpAddr[];

  beforeAll(async () => {
    topo = await Topology.create("nc-rtnl");
    a = await topo.addNamespace("a");
    b = await topo.addNamespace("b");
    await topo.link(a, b, { ifA: "veth-a", ifB: "veth-b", a: "10.61.0.1/24" });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("adds IPv4 and IPv6 VIPs as ip(8) shows them: /32 with label, /128 nodad, scope", async () => {
    const ns = { netns: a.name };
    expect(await addAddress({ dev: "lo", address: "10.61.9.1", label: "lo:vip" }, ns)).toEqual({
      changed: true,
    });
    expect(await addAddress({ dev: "veth-a", address: "2001:db8:61::1" }, ns)).toEqual({ changed: true });
    expect(
      await addAddress({ dev: "veth-a", address: "10.61.1.1", prefixLength: 24, scope: "link" }, ns),
    ).toEqual({
      changed: true,
    });
    const ip = await ipAddrs(a);
    const lo = ip.find((i) => i.ifname === "lo")?.addr_info.find((x) => x.local === "10.61.9.1");
    expect(lo).toMatchObject({ prefixlen: 32, label: "lo:vip", scope: "global" });
    const veth = ip.find((i) => i.ifname === "veth-a")?.addr_info ?? [];
    expect(veth.find((x) => x.local === "2001:db8:61::1")).toMatchObject({ prefixlen: 128, nodad: true });
    expect(veth.find((x) => x.local === "10.61.1.1")).toMatchObject({ prefixlen: 24, scope: "link" });
  });

  it("is idempotent: adding what is there and removing what is not change nothing", async () => {
    const ns = { netns: a.name };
    expect(await addAddress({ dev: "lo", address: "10.61.9.1", label: "lo:vip" }, ns)).toEqual({
      changed: false,
    });
    expect(await removeAddress({ dev: "lo", address: "10.61.9.99" }, ns)).toEqual({ changed: false });
    expect(await removeAddress({ dev: "veth-a", address: "2001:db8:61::1" }, ns)).toEqual({ changed: true });
    expect(await removeAddress({ dev: "veth-a", address: "2001:db8:61::1" }, ns)).toEqual({ changed: false });
    const ip = await ipAddrs(a);
    expect(ip.flatMap((i) => i.addr_info.map((x) => x.local))).not.toContain("2001:db8:61::1");
  });

  it("lists exactly what ip(8) lists, filtered by device and family", async () => {
    const ours = await listAddresses({ netns: a.name });
    const theirs = (await ipAddrs(a)).flatMap((i) =>
      i.addr_info.map((x) => `${i.ifname} ${x.local}/${x.prefixlen}`),
    );
    expect(ours.map((e) => `${e.dev} ${e.address}/${e.prefixLength}`).sort()).toEqual(theirs.sort());
    const v4lo = await listAddresses({ netns: a.name, dev: "lo", family: 4 });
    expect(v4lo.map((e) => e.address).sort()).toEqual(["10.61.9.1", "127.0.0.1"]);
    expect(v4lo.find((e) => e.address === "10.61.9.1")).toMatchObject({
      label: "lo:vip",
      scope: 0,
      prefixLength: 32,
    });
  });

  it("lists links with state, MAC, MTU and kind as ip(8) does", async () => {
    const links = await listLinks({ netns: a.name });
    const theirs = JSON.parse(await a.run("ip -j -d link show")) as Array<{
      ifname: string;
      ifindex: number;
      address: string;
      mtu: number;
      operstate: string;
      linkinfo?: { info_kind: string };
    }>;
    expect(links.map((l) => l.name).sort()).toEqual(theirs.map((l) => l.ifname).sort());
    for (const t of theirs) {
      const l = links.find((x) => x.name === t.ifname);
      expect(l).toMatchObject({ index: t.ifindex, mac: t.address, mtu: t.mtu, operState: t.operstate });
      if (t.linkinfo) expect(l?.kind).toBe(t.linkinfo.info_kind);
    }
    expect(await getLink("veth-a", { netns: a.name })).toMatchObject({
      up: true,
      running: true,
      kind: "veth",
    });
  });

  it("names the object, namespace and errno when the kernel refuses", async () => {
    try {
      await addAddress({ dev: "nosuch0", address: "10.61.9.2" }, { netns: a.name });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(NetconfError);
      expect((err as NetconfError).code).toBe("NETCONF_NO_INTERFACE");
      expect((err as NetconfError).context).toMatchObject({
        object: "nosuch0",
        errno: 19,
        errnoName: "ENODEV",
        netns: a.name,
      });
    }
    try {
      // IPv4 on an interface the kernel refuses to address: a prefix the kernel rejects.
      const c = RtnlClient.open({ netns: a.name });
      try {
        await c.request(20, 0x400, [new Uint8Array(8)], "a truncated ifaddrmsg");
      } finally {
        c.close();
      }
      expect.unreachable();
    } catch (err) {
      expect((err as NetconfError).code).toBe("NETCONF_NETLINK");
      expect((err as NetconfError).context.object).toBe("a truncated ifaddrmsg");
      expect((err as NetconfError).context.errno).toBeGreaterThan(0);
      expect((err as NetconfError).context.errnoName).toMatch(/^E/);
    }
    await expect(
      addAddress({ dev: "lo", address: "10.61.9.3" }, { netns: "lvs-no-such-netns" }),
    ).rejects.toMatchObject({
      code: "NETCONF_NETNS",
      context: { errnoName: "ENOENT" },
    });
  });

  it("adds 200 VIPs through one client and removes them", async () => {
    const c = RtnlClient.open({ netns: a.name });
    try {
      const vips = Array.from({ length: 200 }, (_, i) => `10.62.${i >> 8}.${i & 255}`);
      for (const v of vips) expect((await c.addAddress({ dev: "lo", address: v })).changed).toBe(true);
      const listed = new Set((await c.listAddresses({ dev: "lo", family: 4 })).map((e) => e.address));
      for (const v of vips) expect(listed.has(v)).toBe(true);
      for (const v of vips) expect((await c.removeAddress({ dev: "lo", address: v })).changed).toBe(true);
      expect((await c.listAddresses({ dev: "lo" })).some((e) => e.address.startsWith("10.62."))).toBe(false);
    } finally {
      c.close();
    }
  });

  it("close() fails what is in flight at once (no caller waits for the request timeout)", async () => {
    const c = RtnlClient.open({ netns: a.name });
    await c.listLinks(); // the socket works
    const pending = [c.listLinks(), c.listAddresses(), c.addAddress({ dev: "lo", address: "10.63.0.1" })];
    c.close();
    const settled = await Promise.allSettled(pending);
    for (const r of settled) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "NETCONF_CLOSED" });
    }
  });

  it("the watcher reports link down/up (with the previous state) and address add/remove", async () => {
    const w = await watchNetlink({ netns: a.name });
    const links: LinkEvent[] = [];
    const addrs: AddressEvent[] = [];
    w.on("link", (e) => links.push(e));
    w.on("address", (e) => addrs.push(e));
    try {
      // The peer going down takes our carrier: veth-a stays up but stops running.
      await b.run("ip link set veth-b down");
      await waitFor(() => links.some((e) => e.link.name === "veth-a" && !e.link.running), {
        what: "veth-a loses carrier",
        timeoutMs: 5000,
      });
      const down = links.find((e) => e.link.name === "veth-a" && !e.link.running);
      expect(down).toMatchObject({ type: "new", link: { up: true, lowerUp: false } });
      expect(down?.link.operState).not.toBe("UP");
      expect(down?.previous?.running).toBe(true);

      await setLinkUp("veth-a", false, { netns: a.name });
      await waitFor(() => links.some((e) => e.link.name === "veth-a" && !e.link.up), {
        what: "veth-a down",
        timeoutMs: 5000,
      });
      await setLinkUp("veth-a", true, { netns: a.name });
      await b.run("ip link set veth-b up");
      await waitFor(() => links.some((e) => e.link.name === "veth-a" && e.link.running), {
        what: "veth-a running again",
        timeoutMs: 5000,
      });

      await addAddress({ dev: "lo", address: "10.61.9.7" }, { netns: a.name });
      await addAddress({ dev: "lo", address: "2001:db8:61::7" }, { netns: a.name });
      await removeAddress({ dev: "lo", address: "10.61.9.7" }, { netns: a.name });
      await a.run("ip addr add 10.61.9.8/32 dev lo"); // changes made by others are seen too
      await waitFor(() => addrs.some((e) => e.address.address === "10.61.9.8"), {
        what: "address events",
        timeoutMs: 5000,
      });
      const seen = (family: 4 | 6) =>
        addrs
          .filter((e) => e.address.dev === "lo" && e.address.family === family)
          .filter((e) => /^(10\.61\.9\.[78]|2001:db8:61::7)$/.test(e.address.address))
          .map((e) => `${e.type} ${e.address.address}/${e.address.prefixLength}`);
      // In order per family (IPv6 notifications come from the DAD worker, so not interleaved in order).
      expect(seen(4)).toEqual(["new 10.61.9.7/32", "del 10.61.9.7/32", "new 10.61.9.8/32"]);
      await waitFor(() => seen(6).length > 0, { what: "IPv6 address event", timeoutMs: 5000 });
      expect(seen(6)).toEqual(["new 2001:db8:61::7/128"]);
      // Nothing from another namespace leaks in.
      await b.run("ip addr add 10.61.9.9/32 dev lo");
      await addAddress({ dev: "lo", address: "10.61.9.10" }, { netns: a.name });
      await waitFor(() => addrs.some((e) => e.address.address === "10.61.9.10"), {
        what: "marker",
        timeoutMs: 5000,
      });
      expect(addrs.some((e) => e.address.address === "10.61.9.9")).toBe(false);
      expect(w.stats.invalid).toBe(0);
    } finally {
      w.close();
    }
  });
});
