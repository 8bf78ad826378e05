// Netns tier: promote_secondaries sets net.ipv4.conf.IF.promote_secondaries=1 while the router
// runs and puts the old value back at stop (keepalived does the same for the instance's interface).
import { canUseNetns } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VrrpRouter } from "../src/index.js";
import { type Lan, makeLan } from "./netns-helpers.js";

describe.skipIf(!canUseNetns())("promote_secondaries (netns)", () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await makeLan("promsec", ["us"], { v4: "10.91.0" });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it("set to 1 at start, restored at stop; untouched without the keyword", async () => {
    const us = lan.nodes[0]!;
    const read = async () => (await us.run("sysctl -n net.ipv4.conf.eth0.promote_secondaries")).trim();
    await us.run("sysctl -qw net.ipv4.conf.eth0.promote_secondaries=0");
    const inst = { interface: "eth0", priority: 150, advertInterval: 1, virtualAddresses: ["10.91.0.71/24"] };
    const plain = new VrrpRouter({ netns: us.name, instances: [{ ...inst, name: "PLAIN", vrid: 71 }] });
    await plain.start();
    expect(await read()).toBe("0");
    await plain.stop();
    const router = new VrrpRouter({
      netns: us.name,
      instances: [{ ...inst, name: "PROMOTE", vrid: 72, promoteSecondaries: true }],
    });
    await router.start();
    expect(await read()).toBe("1");
    await router.stop();
    expect(await read()).toBe("0");
  });
});
