// Netns tier: Accept_Mode. A master that is not the owner and has `no_accept` drops traffic to
// its VIPs (nftables, as keepalived); with `accept` (keepalived's default) it answers.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { canUseNetns } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptRuleset, runScript, VrrpRouter } from "../src/index.js";
import { type Lan, makeLan, until } from "./netns-helpers.js";

describe("acceptRuleset", () => {
  it("one inet table, IPv4 and IPv6 sets", () => {
    expect(acceptRuleset("t", ["10.0.0.1", "fd00::1", "10.0.0.2"])).toBe(
      "table inet t {\n  chain input {\n    type filter hook input priority -10; policy accept;\n" +
        "    ip daddr { 10.0.0.1, 10.0.0.2 } drop\n    ip6 daddr { fd00::1 } drop\n  }\n}\n",
    );
  });
});

describe.skipIf(!canUseNetns())("Accept_Mode (netns)", () => {
  let lan: Lan;
  let router: VrrpRouter;
  beforeAll(async () => {
    lan = await makeLan("accept", ["us"], { v4: "10.90.0" });
    router = new VrrpRouter({
      netns: (lan.nodes[0] as typeof lan.obs).name,
      version: 3,
      instances: [
        {
          name: "NOACC",
          interface: "eth0",
          vrid: 71,
          priority: 150,
          advertInterval: 0.1,
          accept: false,
          virtualAddresses: ["10.90.0.71/24"],
        },
        {
          name: "ACC",
          interface: "eth0",
          vrid: 72,
          priority: 150,
          advertInterval: 0.1,
          virtualAddresses: ["10.90.0.72/24"],
        },
      ],
    });
    await router.start();
    await until("both master", () => router.status().instances.every((i) => i.state === "master"), 5000);
  });
  afterAll(async () => {
    await router?.stop();
    await lan?.destroy();
  });

  it("drops traffic to a no_accept master's VIP, answers on an accepting one; the rules go at stop", async () => {
    const ping = (ip: string) => lan.obs.exec(["ping", "-c", "1", "-W", "1", ip]);
    expect((await ping("10.90.0.72")).code).toBe(0);
    expect((await ping("10.90.0.71")).code).not.toBe(0);
    const us = lan.nodes[0] as typeof lan.obs;
    expect(await us.run("nft list tables")).toMatch(/lvs_vrrp_/);
    await router.stop();
    expect(await us.run("nft list tables")).not.toMatch(/lvs_vrrp_/);
  }, 20_000);

  it("scripts of a router in a namespace run in that namespace", async () => {
    const us = lan.nodes[0] as typeof lan.obs;
    const out = join(lan.dir, "links");
    const r = await runScript({ argv: ["/bin/sh", "-c", `ip -o link show eth0 > ${out}`] }, 5000, us.name);
    expect(r.ok).toBe(true);
    expect(readFileSync(out, "utf8")).toContain(lan.bridge.name); // the veth's peer is in the bridge's namespace
  });
});
