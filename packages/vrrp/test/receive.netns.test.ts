// Netns tier, real sockets: a router (in this process, working in its own namespace) receives
// crafted adverts from a raw socket in another namespace. Good ones count as advert_rcvd; every
// bad one is dropped and counted under keepalived's counter, and the router stays BACKUP.
import { createRequire } from "node:module";
import { withNetns } from "@lvs/sys";
import { canUseNetns } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
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
    const require = createRequire(import.meta.url);
    const raw = require("raw-socket") as {
      createSocket(o: { protocol: number; addressFamily: number }): {
        setOption(l: number, o: number, v: number): void;
        send(b: Buffer, off: number, len: number, addr: string, cb: (e: Error | null) => void): void;
        close(): void;
      };
      AddressFamily: { IPv6: number };
    };
    const bad = lan.nodes[1] as typeof lan.obs;
    const sock = withNetns(bad.name, () =>
      raw.createSocket({ protocol: 112, addressFamily: raw.AddressFamily.IPv6 }),
    );
    try {
      const ifindex = Number((await bad.run("cat /sys/class/net/eth0/ifindex")).trim());
      sock.setOption(41, 17, ifindex); // IPV6_MULTICAST_IF
      sock.setOption(41, 18, 64); // IPV6_MULTICAST_HOPS: not 255
      for (const vrid of [62, 63]) {
        const payload = Buffer.from(
          encodeAdvert(
            { version: 3, vrid, priority: 200, addresses: ["fd89::100"], intervalCs: 10 },
            { family: 6, source: ll, destination: "ff02::12" },
          ),
        );
        for (let i = 0; i < 3; i++)
          await new Promise<void>((r, j) =>
            sock.send(payload, 0, payload.length, "ff02::12", (e) => (e ? j(e) : r())),
          );
      }
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
