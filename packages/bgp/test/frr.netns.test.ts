// Netns tier: our speaker against a real router, FRR 8.4 (zebra + bgpd, pathspace -N, no
// systemd). One router namespace and two "directors", each on its own veth link:
//
//   D1 10.178.1.2 ── 10.178.1.1  R (AS 65000, maximum-paths 8)  10.178.2.1 ── 10.178.2.2 D2
//
// Proves: the session reaches Established; FRR holds our prefix with our next hop and
// communities and zebra installs it; withdraw removes it; IPv6 over MP_REACH_NLRI; a 3 s hold
// time expires on both sides when the link goes silent; stop() sends Cease that FRR logs; two
// directors give one ECMP route with two next hops, kill -9 of one leaves one, SIGTERM of the
// other withdraws it. Times are asserted only as generous bounds on the protocol timers.
import { fileURLToPath } from "node:url";
import {
  canUseNetns,
  cleanupFrr,
  type Frr,
  frrPaths,
  frrPeerState,
  haveFrr,
  kernelNextHops,
  type Netns,
  type SpawnedProcess,
  startFrr,
  Topology,
  waitFor,
} from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BgpSpeaker, decodeMessage, encodeMessage, Framer, type SessionEffect } from "../src/index.js";

const D1 = "10.178.1.2";
const D2 = "10.178.2.2";
const FRR_CONF = `frr defaults datacenter
hostname r
log stdout informational
router bgp 65000
 bgp router-id 10.178.0.1
 no bgp ebgp-requires-policy
 neighbor ${D1} remote-as 65001
 neighbor ${D1} timers 1 3
 neighbor ${D2} remote-as 65001
 neighbor ${D2} timers 1 3
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
 address-family ipv6 unicast
  neighbor ${D1} activate
  neighbor ${D2} activate
  maximum-paths 8
 exit-address-family
`;
/** Slack for process start-up and polling on a loaded 2-core host: generous on purpose. */
const MARGIN = 2500;
const SPEAKER = fileURLToPath(new URL("./peers/speaker.mjs", import.meta.url));

describe.skipIf(!canUseNetns() || !haveFrr()).sequential("interop with FRR 8.4 bgpd (netns)", () => {
  let topo: Topology;
  let r: Netns;
  let d1: Netns;
  let d2: Netns;
  let frr: Frr;

  beforeAll(async () => {
    topo = await Topology.create("bgp-frr");
    r = await topo.addNamespace("r");
    d1 = await topo.addNamespace("d1");
    d2 = await topo.addNamespace("d2");
    await topo.link(r, d1, { a: ["10.178.1.1/24", "fd00:178:1::1/64"], b: [`${D1}/24`, "fd00:178:1::2/64"] });
    await topo.link(r, d2, { a: ["10.178.2.1/24", "fd00:178:2::1/64"], b: [`${D2}/24`, "fd00:178:2::2/64"] });
    frr = await startFrr(r, FRR_CONF);
  });
  afterAll(async () => {
    await topo?.destroy();
    cleanupFrr(frr);
  });

  it("Established; FRR holds 192.0.2.10/32 (next hop us, communities) and 2001:db8::10/128 via MP_REACH; withdraw; Cease on stop", async () => {
    const events: SessionEffect[] = [];
    const received = new Framer();
    const fromFrr: Uint8Array[] = [];
    const speaker = new BgpSpeaker({
      localAs: 65001,
      peerAs: 65000,
      peer: "10.178.1.1",
      netns: d1.name,
      localAddress: D1,
      nextHopSelf: { ipv6: "fd00:178:1::2" },
      routes: [
        { prefix: "192.0.2.10/32", communities: ["65001:100", "graceful-shutdown"] },
        { prefix: "2001:db8::10/128" },
      ],
    });
    speaker.on((e) => events.push(e));
    const receive = speaker.session.receive.bind(speaker.session);
    speaker.session.receive = (chunk) => {
      fromFrr.push(...received.push(chunk));
      receive(chunk);
    };
    try {
      speaker.start();
      await speaker.waitFor("Established", 10_000);
      expect(events.filter((e) => e.type === "state").map((e) => (e.type === "state" ? e.to : ""))).toEqual([
        "Connect",
        "OpenSent",
        "OpenConfirm",
        "Established",
      ]);
      expect(speaker.session.negotiated).toMatchObject({
        holdTime: 3,
        keepaliveTime: 1,
        as4: true,
        families: ["ipv4", "ipv6"],
      });

      const v4 = await waitFor(async () => (await frrPaths(frr, "ipv4", "192.0.2.10/32"))[0], {
        what: "FRR holding 192.0.2.10/32",
      });
      expect(v4).toMatchObject({ valid: true, path: "65001", nexthops: [{ ip: D1 }] });
      const detail = await frr.json<{ paths: { community?: { string: string } }[] }>(
        "show bgp ipv4 unicast 192.0.2.10/32 json",
      );
      expect(detail.paths[0]?.community?.string).toBe("65001:100 graceful-shutdown");
      const v6 = await waitFor(async () => (await frrPaths(frr, "ipv6", "2001:db8::10/128"))[0], {
        what: "FRR holding 2001:db8::10/128",
      });
      expect(v6).toMatchObject({
        valid: true,
        nexthops: expect.arrayContaining([expect.objectContaining({ ip: "fd00:178:1::2" })]),
      });
      // zebra installed both in the router's kernel, via us
      await waitFor(async () => (await kernelNextHops(r, "192.0.2.10")).join() === D1, {
        what: "kernel route 192.0.2.10",
      });
      await waitFor(async () => (await kernelNextHops(r, "2001:db8::10")).join() === "fd00:178:1::2", {
        what: "kernel route 2001:db8::10",
      });

      speaker.withdraw(["192.0.2.10/32"]);
      await waitFor(async () => (await frrPaths(frr, "ipv4", "192.0.2.10/32")).length === 0, {
        what: "FRR dropping 192.0.2.10/32",
      });
      expect(await frrPaths(frr, "ipv6", "2001:db8::10/128")).toHaveLength(1); // the other stays

      // Every message FRR sent us decodes and re-encodes byte for byte (live golden check).
      expect(fromFrr.map((m) => decodeMessage(m).type)).toContain("OPEN");
      for (const m of fromFrr)
        expect(Buffer.from(encodeMessage(decodeMessage(m))).equals(Buffer.from(m))).toBe(true);
    } finally {
      await speaker.stop("lvs test done");
    }
    await waitFor(
      () =>
        /received from neighbor 10\.178\.1\.2 6\/2 \(Cease\/Administrative Shutdown\) "lvs test done"/.test(
          frr.log(),
        ),
      {
        what: "FRR logging our Cease",
      },
    );
    await waitFor(async () => (await frrPaths(frr, "ipv6", "2001:db8::10/128")).length === 0, {
      timeoutMs: MARGIN,
      what: "FRR dropping 2001:db8::10/128 after our Cease",
    });
    expect(speaker.state).toBe("Idle");
  });

  it("hold time 3 s: a silent link → FRR sends Hold Timer Expired and so do we, each within 3 s (+ margin)", async () => {
    const speaker = new BgpSpeaker({
      localAs: 65001,
      peerAs: 65000,
      peer: "10.178.2.1",
      netns: d2.name,
      localAddress: D2,
      connectRetryMs: 60_000,
    });
    const notes: SessionEffect[] = [];
    speaker.on((e) => {
      if (e.type === "notification" || e.type === "state") notes.push(e);
    });
    try {
      speaker.start();
      await speaker.waitFor("Established", 10_000);
      const logBefore = frr.log().length;
      // Drop everything between R and D2 in both directions: no FIN, no RST, just silence.
      await r.run(
        `nft add table inet lvsbgp && nft add chain inet lvsbgp in '{ type filter hook input priority 0; }' && nft add chain inet lvsbgp out '{ type filter hook output priority 0; }' && nft add rule inet lvsbgp in ip saddr ${D2} drop && nft add rule inet lvsbgp out ip daddr ${D2} drop`,
      );
      const t0 = performance.now();
      const idle = speaker.waitFor("Idle", 3000 + MARGIN);
      await waitFor(
        () => /sent to neighbor 10\.178\.2\.2 4\/0 \(Hold Timer Expired\)/.test(frr.log().slice(logBefore)),
        {
          timeoutMs: 3000 + MARGIN,
          intervalMs: 50,
          what: "FRR's hold timer",
        },
      );
      expect(performance.now() - t0).toBeLessThan(3000 + MARGIN);
      await idle;
      expect(notes.find((e) => e.type === "notification")).toMatchObject({
        direction: "sent",
        code: 4,
        subcode: 0,
      });
      expect(performance.now() - t0).toBeLessThan(3000 + MARGIN);
    } finally {
      await r.run("nft delete table inet lvsbgp").catch(() => {});
      await speaker.stop();
    }
  });

  it("ECMP: two directors announce 192.0.2.100/32 → two next hops; kill -9 one → one; SIGTERM the other → withdrawn, Cease logged", async () => {
    const opts = (local: string, peer: string) =>
      JSON.stringify({
        localAs: 65001,
        peerAs: 65000,
        peer,
        localAddress: local,
        connectRetryMs: 500,
        routes: [{ prefix: "192.0.2.100/32" }],
      });
    const procs: SpawnedProcess[] = [
      d1.spawn(["node", SPEAKER, opts(D1, "10.178.1.1")]),
      d2.spawn(["node", SPEAKER, opts(D2, "10.178.2.1")]),
    ];
    const [p1, p2] = procs as [SpawnedProcess, SpawnedProcess];
    try {
      await waitFor(async () => (await kernelNextHops(r, "192.0.2.100")).length === 2, {
        timeoutMs: 15_000,
        what: `two next hops (speakers: ${p1.output()} | ${p2.output()})`,
      });
      expect(await kernelNextHops(r, "192.0.2.100")).toEqual([D1, D2]);
      expect(await frrPaths(frr, "ipv4", "192.0.2.100/32")).toHaveLength(2);

      // kill -9: the kernel closes the dead speaker's socket, FRR drops the session at once
      p1.kill("SIGKILL");
      const t0 = performance.now();
      await waitFor(async () => (await kernelNextHops(r, "192.0.2.100")).join() === D2, {
        timeoutMs: 3000 + MARGIN,
        intervalMs: 50,
        what: "one next hop left",
      });
      expect(performance.now() - t0).toBeLessThan(3000 + MARGIN);
      expect(await frrPeerState(frr, D1)).not.toBe("Established");

      // SIGTERM: withdraw + Cease, the route is gone and FRR logged why
      p2.kill("SIGTERM");
      expect(await p2.exited).toBe(0);
      await waitFor(async () => (await kernelNextHops(r, "192.0.2.100")).length === 0, {
        timeoutMs: MARGIN,
        intervalMs: 50,
        what: "route withdrawn",
      });
      expect(frr.log()).toMatch(
        /received from neighbor 10\.178\.2\.2 6\/2 \(Cease\/Administrative Shutdown\) "lvs speaker stopping"/,
      );
      expect(p2.output()).toMatch(/"stopped":true/);
    } finally {
      for (const p of procs) p.kill("SIGKILL");
    }
  });
});
