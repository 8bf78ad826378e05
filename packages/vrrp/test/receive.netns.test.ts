// Netns tier, real sockets: a router (in this process, working in its own namespace) receives
// crafted adverts from a raw socket in another namespace. Good ones count as advert_rcvd; every
// bad one is dropped and counted under keepalived's counter, and the router stays BACKUP.
import { ETH_P_IPV6, PacketSocket } from "@lvs/sys";
import { canUseNetns } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addressToBytes,
  encodeAdvert,
  type OutgoingPacket,
  passwordAuthData,
  RawTransport,
  VrrpRouter,
  type VrrpStats,
} from "../src/index.js";
import { type Lan, makeLan, sleep, until } from "./netns-helpers.js";

describe.skipIf(!canUseNetns())("receive path on real sockets (netns)", () => {
  let lan: Lan;
  let router: VrrpRouter;
  let rawRouter: VrrpRouter;
  let tx: RawTransport;
  let ll: string;
  beforeAll(async () => {
    lan = await makeLan("rx", ["us", "bad", "raw6"], { v4: "10.89.0", v6: "fd89" });
    const [us, bad, raw6] = lan.nodes as [typeof lan.obs, typeof lan.obs, typeof lan.obs];
    ll = (/inet6 (fe80[^/]+)/.exec(await bad.run("ip -6 addr show dev eth0 scope link")) ?? [])[1] ?? "";
    const instances = [
      {
        name: "V2",
        interface: "eth0",
        vrid: 61,
        priority: 100,
        virtualAddresses: ["10.89.0.100/24"],
        authentication: { type: "PASS" as const, password: "pw" },
      },
      {
        name: "V6",
        interface: "eth0",
        vrid: 62,
        priority: 100,
        advertInterval: 0.1,
        virtualAddresses: ["fd89::100/64"],
      },
    ];
    router = new VrrpRouter({ netns: us.name, instances });
    // the raw-mode router uses VRID 63 so the two routers do not hear each other
    rawRouter = new VrrpRouter({
      netns: raw6.name,
      ipv6Receive: "raw",
      instances: [{ ...(instances[1] as (typeof instances)[1]), vrid: 63 }],
    });
    await router.start();
    await rawRouter.start();
    tx = new RawTransport({ netns: bad.name });
    tx.open("eth0", 4, { multicast: false });
    tx.open("eth0", 6, { multicast: false });
  });
  afterAll(async () => {
    tx?.shutdown();
    await router?.stop();
    await rawRouter?.stop();
    await lan?.destroy();
  });

  const send4 = (
    o: Partial<Parameters<typeof encodeAdvert>[0]> & { ttl?: number; corrupt?: boolean } = {},
  ) => {
    const payload = encodeAdvert(
      {
        version: 2,
        vrid: 61,
        priority: 200,
        addresses: ["10.89.0.100"],
        intervalCs: 100,
        authType: 1,
        authData: passwordAuthData("pw"),
        ...o,
      },
      { family: 4, source: "10.89.0.2", destination: "224.0.0.18" },
    );
    if (o.corrupt) payload[7] = (payload[7] as number) ^ 0x55;
    const pkt: OutgoingPacket = {
      source: "10.89.0.2",
      destination: "224.0.0.18",
      payload,
      id: 1,
      ...(o.ttl ? { ttl: o.ttl } : {}),
    };
    return new Promise<void>((r) => tx.send("eth0", 4, pkt, () => r()));
  };
  const stats = (name: string): VrrpStats => {
    const i = router.status().instances.find((x) => x.name === name);
    if (!i) throw new Error(name);
    return i.stats;
  };

  it("a good advert keeps the backup down; each kind of bad one is dropped under its counter", async () => {
    // keep the router backup with good adverts while the bad ones go out
    const keep = setInterval(() => void send4(), 300);
    try {
      await until("first advert", () => stats("V2").advert_rcvd > 0, 3000);
      await send4({ ttl: 64 });
      await send4({ vrid: 99 });
      await send4({ corrupt: true });
      await send4({ authData: passwordAuthData("nope") });
      await send4({ authType: 0, authData: new Uint8Array(8) });
      await send4({ intervalCs: 200 });
      await send4({ addresses: ["10.89.0.100", "10.89.0.101"] });
      await send4({ addresses: ["10.89.0.199"] });
      await sleep(300);
      const s = stats("V2");
      expect(s).toMatchObject({
        ip_ttl_err: 1,
        checksum_err: 1,
        auth_failure: 1,
        authtype_mismatch: 1,
        advert_interval_err: 1,
        addr_list_err: 2,
      });
      expect(router.status().interfaces.find((i) => i.family === 4)?.stats.vrid_err).toBe(1);
      await sleep(4000); // > Master_Down_Interval: still BACKUP, the good adverts were accepted
      expect(router.status().instances.find((i) => i.name === "V2")?.state).toBe("backup");
      expect(router.status().instances.find((i) => i.name === "V2")?.master).toEqual({
        address: "10.89.0.2",
        priority: 200,
      });
    } finally {
      clearInterval(keep);
    }
  }, 20_000);

  it("IPv6: hop limit 255 required (AF_PACKET receive); the raw receive mode cannot see it", async () => {
    // Whole frames through AF_PACKET (synchronous sends): an IPv6 header with hop limit 64
    // around a valid advert, multicast to ff02::12 from the `bad` namespace.
    const bad = lan.nodes[1] as typeof lan.obs;
    const mac = (await bad.mac("eth0")).split(":").map((h) => Number.parseInt(h, 16));
    const sock = PacketSocket.open({ interface: "eth0", netns: bad.name, protocol: ETH_P_IPV6 });
    try {
      for (const vrid of [62, 63]) {
        const payload = encodeAdvert(
          { version: 3, vrid, priority: 200, addresses: ["fd89::100"], intervalCs: 10 },
          { family: 6, source: ll, destination: "ff02::12" },
        );
        const frame = new Uint8Array(14 + 40 + payload.length);
        frame.set([0x33, 0x33, 0, 0, 0, 0x12], 0); // ff02::12's multicast MAC
        frame.set(mac, 6);
        frame.set([0x86, 0xdd], 12);
        const ip6 = new DataView(frame.buffer, 14, 40);
        ip6.setUint32(0, 0x60000000); // version 6, no traffic class, no flow label
        ip6.setUint16(4, payload.length);
        ip6.setUint8(6, 112); // next header: VRRP
        ip6.setUint8(7, 64); // hop limit: not 255
        frame.set(addressToBytes(ll), 14 + 8);
        frame.set(addressToBytes("ff02::12"), 14 + 24);
        frame.set(payload, 14 + 40);
        for (let i = 0; i < 3; i++) sock.send(frame);
      }
      await until(
        "the six adverts counted",
        () =>
          (router.status().instances.find((x) => x.name === "V6")?.stats.ip_ttl_err ?? 0) >= 3 &&
          (rawRouter.status().instances[0]?.stats.advert_rcvd ?? 0) >= 3,
        5000,
      );
      await sleep(200);
      const v6 = router.status().instances.find((x) => x.name === "V6");
      expect(v6?.stats.ip_ttl_err).toBe(3);
      expect(v6?.stats.advert_rcvd).toBe(0);
      // the raw-socket receive path cannot see the hop limit: it takes them
      expect(rawRouter.status().instances[0]?.stats.advert_rcvd).toBe(3);
      expect(rawRouter.status().instances[0]?.stats.ip_ttl_err).toBe(0);
    } finally {
      sock.close();
    }
  }, 20_000);
});
