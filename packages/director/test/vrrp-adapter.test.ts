// The director's VRRP component (vrrp-adapter.ts) over a VrrpRouter whose I/O is replaced by
// recording doubles on a fake clock: a reload applies only the VRRP difference (in place, as
// keepalived), never a stop and start of the router. The real sockets and keepalived are in
// @lvs/vrrp's netns tier (reload.netns.test.ts) and test/vrrp.netns.test.ts here.
import { parseKeepalivedConf } from "@lvs/config";
import {
  type AddressState,
  FakeClock,
  type NetOps,
  Notifier,
  type OutgoingPacket,
  type ReloadSummary,
  type VipSpec,
  VrrpRouter,
  type VrrpTransport,
} from "@lvs/vrrp";
import { describe, expect, it } from "vitest";
import { createVrrpComponent, type VrrpStateChange } from "../src/index.js";

const config = (
  instances: Array<{ name: string; vrid: number; priority: number; vips: string[]; extra?: string }>,
) =>
  parseKeepalivedConf(
    instances
      .map(
        (i) =>
          `vrrp_instance ${i.name} {\n  interface eth0\n  virtual_router_id ${i.vrid}\n  priority ${i.priority}\n  advert_int 1\n${i.extra ?? ""}  virtual_ipaddress {\n${i.vips.map((v) => `    ${v}\n`).join("")}  }\n}\n`,
      )
      .join(""),
    { lookupUser: () => ({ uid: 0, gid: 0 }), configId: "test" },
  ).config;

function rig() {
  const clock = new FakeClock();
  const sent: OutgoingPacket[] = [];
  const ops: string[] = [];
  let addrs: AddressState[] = [
    { dev: "eth0", family: 4, address: "10.0.0.1", prefixLength: 24, scope: 0, flags: 0 },
  ];
  const transport: VrrpTransport = {
    open: () => {},
    close: () => {},
    onError: () => {},
    onPacket: () => {},
    shutdown: () => {},
    send: (_i, _f, pkt, done) => {
      sent.push(pkt);
      done?.();
    },
  };
  const net: NetOps = {
    addAddress: async (v: VipSpec) => {
      ops.push(`add ${v.address}`);
      addrs.push({ dev: v.dev, family: v.family, address: v.address, prefixLength: 32, scope: 0, flags: 0 });
      return { changed: true };
    },
    removeAddress: async (v: VipSpec) => {
      ops.push(`remove ${v.address}`);
      addrs = addrs.filter((a) => a.address !== v.address);
      return { changed: true };
    },
    announce: async () => {},
    links: async () => [{ name: "eth0", index: 2, up: true }],
    addresses: async () => addrs.map((a) => ({ ...a })),
    watch: async () => () => {},
    close: () => {},
  };
  const notifier = new Notifier({ run: async () => ({ ok: true, code: 0, signal: null, timedOut: false }) });
  let routers = 0;
  const summaries: ReloadSummary[] = [];
  const changes: VrrpStateChange[] = [];
  const vrrp = createVrrpComponent({
    createRouter: (options) => {
      routers++;
      return new VrrpRouter(options, { clock, transport, net, notifier });
    },
    onReload: (s) => summaries.push(s),
  });
  vrrp.on("state", (c) => changes.push(c));
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10);
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
  };
  return { vrrp, sent, ops, summaries, changes, advance, routers: () => routers };
}

describe("director VRRP component: reload in place", () => {
  it("the same router takes the difference: unchanged instance untouched, a VIP added, an instance removed with priority 0", async () => {
    const r = rig();
    const web = { name: "WEB", vrid: 51, priority: 150, vips: ["10.0.0.100"] };
    const db = { name: "DB", vrid: 52, priority: 150, vips: ["10.0.0.200"] };
    await r.vrrp.start(config([web, db]));
    await r.advance(4000);
    expect(r.vrrp.states().map((s) => [s.name, s.state])).toEqual([
      ["WEB", "MASTER"],
      ["DB", "MASTER"],
    ]);
    const changes = r.changes.length;
    const ops = r.ops.length;
    // a VIP added to WEB, DB removed
    await r.vrrp.reload(config([{ ...web, vips: ["10.0.0.100", "10.0.0.101"] }]));
    await r.advance(10);
    expect(r.routers()).toBe(1);
    expect(r.summaries.at(-1)?.instances).toEqual({
      unchanged: [],
      updated: ["WEB"],
      added: [],
      removed: ["DB"],
    });
    expect(r.ops.slice(ops).sort()).toEqual(["add 10.0.0.101", "remove 10.0.0.200"]);
    expect(r.changes.slice(changes)).toEqual([
      { instance: "DB", from: "MASTER", to: "STOP", reason: "removed by reload" },
    ]);
    expect(r.sent.some((p) => p.payload[1] === 52 && p.payload[2] === 0)).toBe(true);
    expect(r.sent.some((p) => p.payload[1] === 51 && p.payload[2] === 0)).toBe(false);
    expect(r.vrrp.states()).toMatchObject([
      { name: "WEB", state: "MASTER", vips: ["10.0.0.100", "10.0.0.101"] },
    ]);
    // the same file again: nothing at all
    const sent = r.sent.length;
    await r.vrrp.reload(config([{ ...web, vips: ["10.0.0.100", "10.0.0.101"] }]));
    await r.advance(10);
    expect(r.sent.length).toBe(sent);
    await r.vrrp.stop();
  });

  it("a configuration the router refuses fails the reload and leaves the running one", async () => {
    const r = rig();
    const web = { name: "WEB", vrid: 51, priority: 150, vips: ["10.0.0.100"] };
    await r.vrrp.start(config([web]));
    await r.advance(4000);
    // @lvs/config takes it; the router does not (VRRPv3 advertises at least one address)
    const bad = config([web, { name: "EMPTY", vrid: 52, priority: 100, vips: [], extra: "  version 3\n" }]);
    await expect(r.vrrp.reload(bad)).rejects.toThrow(/VRRPv3 needs at least one virtual address/);
    expect(r.vrrp.states()).toMatchObject([{ name: "WEB", state: "MASTER" }]);
    // and the next good one still applies
    await r.vrrp.reload(config([{ ...web, priority: 120 }]));
    expect(r.vrrp.states()).toMatchObject([{ name: "WEB", state: "MASTER", priority: 120 }]);
    await r.vrrp.stop();
  });
});
