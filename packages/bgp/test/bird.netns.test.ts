// Netns tier: our speaker against BIRD 2.0 (`bird -f -c CONF -s SOCK` in a namespace): the
// session comes up with a 3 s hold time, BIRD holds our IPv4 and IPv6 routes with our next hops
// and communities and exports them to its kernel table, and our Cease shows in `birdc show
// protocols all` with its shutdown communication.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canUseNetns, kernelNextHops, type Netns, sh, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BgpSpeaker } from "../src/index.js";

const haveBird = existsSync("/usr/sbin/bird") && existsSync("/usr/sbin/birdc");

describe.skipIf(!canUseNetns() || !haveBird)("interop with BIRD 2.0 (netns)", () => {
  let topo: Topology;
  let r: Netns;
  let d: Netns;
  let dir: string;
  const birdc = async (cmd: string) =>
    (await sh(["birdc", "-s", join(dir, "bird.ctl"), ...cmd.split(" ")])).stdout;

  beforeAll(async () => {
    topo = await Topology.create("bgp-bird");
    r = await topo.addNamespace("r");
    d = await topo.addNamespace("d");
    await topo.link(r, d, { a: ["10.182.1.1/24", "fd00:182::1/64"], b: ["10.182.1.2/24", "fd00:182::2/64"] });
    dir = mkdtempSync(join(tmpdir(), "lvs-bird-"));
    writeFileSync(
      join(dir, "bird.conf"),
      `log stderr all;
router id 10.182.1.1;
protocol device {}
protocol direct { ipv6; }
protocol kernel { ipv4 { export all; }; }
protocol kernel { ipv6 { export all; }; }
protocol bgp lvs {
  local 10.182.1.1 as 65000;
  neighbor 10.182.1.2 as 65001;
  hold time 3;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`,
    );
    r.spawn(["bird", "-f", "-c", join(dir, "bird.conf"), "-s", join(dir, "bird.ctl")]);
    await waitFor(async () => (await birdc("show status")).includes("Daemon is up"), { what: "bird up" });
  });
  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("Established (hold 3 s); BIRD holds and installs our IPv4 and IPv6 routes with communities; Cease text shown", async () => {
    const speaker = new BgpSpeaker({
      localAs: 65001,
      peerAs: 65000,
      peer: "10.182.1.1",
      netns: d.name,
      localAddress: "10.182.1.2",
      nextHopSelf: { ipv6: "fd00:182::2" },
      routes: [{ prefix: "192.0.2.20/32", communities: ["65001:100"] }, { prefix: "2001:db8::20/128" }],
    });
    try {
      speaker.start();
      await speaker.waitFor("Established", 10_000);
      expect(speaker.session.negotiated).toMatchObject({
        holdTime: 3,
        as4: true,
        families: ["ipv4", "ipv6"],
      });
      const v4 = await waitFor(
        async () => {
          const out = await birdc("show route 192.0.2.20/32 all");
          return out.includes("BGP.community") ? out : undefined;
        },
        { what: "BIRD holding 192.0.2.20/32" },
      );
      expect(v4).toMatch(/via 10\.182\.1\.2/);
      expect(v4).toMatch(/BGP\.as_path: 65001/);
      expect(v4).toMatch(/BGP\.community: \(65001,100\)/);
      const v6 = await birdc("show route 2001:db8::20/128 all");
      expect(v6).toMatch(/via fd00:182::2/);
      await waitFor(async () => (await kernelNextHops(r, "192.0.2.20")).join() === "10.182.1.2", {
        what: "kernel route v4",
      });
      await waitFor(async () => (await kernelNextHops(r, "2001:db8::20")).join() === "fd00:182::2", {
        what: "kernel route v6",
      });
    } finally {
      await speaker.stop("lvs says bye to bird");
    }
    await waitFor(async () => (await birdc("show protocols all lvs")).includes("lvs says bye to bird"), {
      what: "BIRD showing our Cease",
    });
    expect(await birdc("show protocols all lvs")).toMatch(/Received: Administrative shutdown/);
    await waitFor(async () => (await kernelNextHops(r, "192.0.2.20")).length === 0, { what: "route gone" });
  });
});
