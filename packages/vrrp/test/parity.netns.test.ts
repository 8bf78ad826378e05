// Netns tier, issue 18: the elections that depend on configuration — nopreempt, preempt_delay,
// the address owner (priority 255) and sync groups — proven against real keepalived 2.2.7 in
// both directions (lvs as the router already running, keepalived joining, and the reverse).
// Timing is asserted only as generous upper bounds on the protocol timers; preempt_delay's lower
// bound is a protocol guarantee measured from before the joining daemon was spawned.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canUseNetns, type Netns, Topology } from "@lvs/testkit";
import { describe, expect, it } from "vitest";
import {
  AdvertWatch,
  type Daemon,
  keepalivedConf,
  type Lan,
  makeLan,
  owns,
  sleep,
  startKeepalived,
  startOurs,
  until,
} from "./netns-helpers.js";

/** Master_Down_Interval (VRRPv3) in ms. */
const mdi = (intervalMs: number, prio: number) => 3 * intervalMs + ((256 - prio) * intervalMs) / 256;
/** Slack for scheduling and 10 ms polling (MARGIN) and for starting a process on a busy host (STARTUP). */
const MARGIN = 1500;
const STARTUP = 10_000;

/** Has the daemon logged `name` entering `state`? (keepalived's log line, or our JSON line.) */
function entered(d: Daemon, name: string, state: "MASTER" | "BACKUP" | "FAULT"): boolean {
  const out = d.output();
  if (d.kind === "keepalived") return out.includes(`(${name}) Entering ${state} STATE`);
  return out
    .split("\n")
    .some((l) => l.includes(`"state":"${state.toLowerCase()}"`) && l.includes(`"name":"${name}"`));
}

/** keepalived must not have rejected anything we sent. */
function cleanLog(d: Daemon): void {
  const bad = d
    .output()
    .split("\n")
    .filter((l) => /invalid|checksum|wrong version|mismatch|unexpected|too (long|short)|TTL/i.test(l));
  expect(bad).toEqual([]);
}

const start = (kind: "keepalived" | "lvs", lan: Lan, ns: Netns, conf: string) =>
  kind === "keepalived" ? startKeepalived(lan, ns, conf) : startOurs(lan, ns, conf);

type Kind = "keepalived" | "lvs";
const DIRECTIONS: Array<{ first: Kind; joiner: Kind }> = [
  { first: "lvs", joiner: "keepalived" },
  { first: "keepalived", joiner: "lvs" },
];

describe.skipIf(!canUseNetns()).concurrent("keepalived parity: elections (netns)", () => {
  it.each(
    DIRECTIONS,
  )("nopreempt: $first is MASTER, a higher-priority $joiner joins (state BACKUP + nopreempt on both) and does not take over", async ({
    first,
    joiner,
  }) => {
    const net = first === "lvs" ? "10.121.0" : "10.122.0";
    const lan = await makeLan(`pv-nopre-${first[0]}`, ["first", "join"], { v4: net });
    try {
      const [firstNs, joinNs] = lan.nodes as [Netns, Netns];
      const vip = `${net}.100`;
      const base = {
        vrid: 121,
        version: 3 as const,
        advertInt: 0.3,
        vips: [`${vip}/24`],
        extra: "  nopreempt",
      };
      const a = start(first, lan, firstNs, keepalivedConf({ ...base, priority: 100 }));
      await until("first master", () => owns(firstNs, vip), mdi(300, 100) + STARTUP);
      const watch = new AdvertWatch(lan.obs);
      try {
        const b = start(joiner, lan, joinNs, keepalivedConf({ ...base, priority: 200 }));
        await b.ready();
        await until("joiner in BACKUP", () => entered(b, "VI_1", "BACKUP"), STARTUP);
        // four of the joiner's Master_Down_Intervals: it hears the lower master and stays BACKUP
        await sleep(4 * mdi(300, 200));
        expect(await owns(firstNs, vip)).toBe(true);
        expect(await owns(joinNs, vip)).toBe(false);
        expect(entered(b, "VI_1", "MASTER")).toBe(false);
        // a BACKUP sends nothing; every advert on the link is the first one's, at priority 100
        expect(watch.from(`${net}.2`)).toEqual([]);
        expect(watch.from(`${net}.1`).length).toBeGreaterThan(5);
        expect(new Set(watch.from(`${net}.1`).map((s) => s.priority))).toEqual(new Set([100]));
        // the joiner was alive and listening all along: the first one's clean stop hands over
        void a.stop();
        await until("joiner after the first's priority 0", () => owns(joinNs, vip), MARGIN);
        for (const d of [a, b]) if (d.kind === "keepalived") cleanLog(d);
      } finally {
        watch.close();
      }
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it.each(
    DIRECTIONS,
  )("preempt_delay 2: $first is MASTER, a higher-priority $joiner takes over only after the delay, within delay + Master_Down_Interval", async ({
    first,
    joiner,
  }) => {
    const net = first === "lvs" ? "10.123.0" : "10.124.0";
    const lan = await makeLan(`pv-pdel-${first[0]}`, ["first", "join"], { v4: net });
    try {
      const [firstNs, joinNs] = lan.nodes as [Netns, Netns];
      const vip = `${net}.100`;
      const delayMs = 2000;
      const base = { vrid: 123, version: 3 as const, advertInt: 0.3, vips: [`${vip}/24`] };
      const a = start(first, lan, firstNs, keepalivedConf({ ...base, priority: 100 }));
      await until("first master", () => owns(firstNs, vip), mdi(300, 100) + STARTUP);
      const watch = new AdvertWatch(lan.obs);
      try {
        // the delay starts when the joiner first hears the lower master, so never before it was spawned
        const spawned = performance.now();
        const b = start(
          joiner,
          lan,
          joinNs,
          keepalivedConf({ ...base, priority: 200, extra: `  preempt_delay ${delayMs / 1000}` }),
        );
        await b.ready();
        await until("joiner in BACKUP", () => entered(b, "VI_1", "BACKUP"), STARTUP);
        const backupSeen = performance.now();
        await until(
          "joiner takes over after its preempt_delay",
          () => watch.from(`${net}.2`).some((s) => s.priority === 200),
          delayMs + mdi(300, 200) + STARTUP,
        );
        const firstAdvert = watch.from(`${net}.2`)[0]!;
        const delay = firstAdvert.t - spawned;
        // keepalived's rule: lower-priority adverts are accepted until preempt_delay has run from
        // the first one heard; after that they are discarded and the Master_Down_Timer of the last
        // one accepted expires — the takeover comes at most a Master_Down_Interval after the delay
        expect(delay).toBeGreaterThanOrEqual(delayMs);
        expect(delay).toBeLessThan(delayMs + mdi(300, 200) + STARTUP);
        await until(
          "VIP moved",
          async () => (await owns(joinNs, vip)) && !(await owns(firstNs, vip)),
          MARGIN,
        );
        await until("first in BACKUP", () => entered(a, "VI_1", "BACKUP"), MARGIN);
        console.log(
          `preempt_delay ${delayMs} ms, ${joiner} joining ${first}: takeover ${Math.round(delay)} ms after spawn, ${Math.round(firstAdvert.t - backupSeen)} ms after its BACKUP line was seen`,
        );
        for (const d of [a, b]) if (d.kind === "keepalived") cleanLog(d);
      } finally {
        watch.close();
      }
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it.each(
    DIRECTIONS,
  )("owner (priority 255, state MASTER): $first is MASTER at 100, the owner $joiner takes over at once (adverts at 255), not after a Master_Down_Interval", async ({
    first,
    joiner,
  }) => {
    const net = first === "lvs" ? "10.125.0" : "10.126.0";
    const lan = await makeLan(`pv-own-${first[0]}`, ["first", "join"], { v4: net });
    try {
      const [firstNs, joinNs] = lan.nodes as [Netns, Netns];
      const vip = `${net}.100`;
      // advert_int 1 s: a non-owner joining would wait 3 × 1 s + Skew_Time before it could be MASTER
      const intervalMs = 1000;
      const base = { vrid: 125, version: 3 as const, advertInt: intervalMs / 1000, vips: [`${vip}/24`] };
      const a = start(first, lan, firstNs, keepalivedConf({ ...base, priority: 100 }));
      await until("first master", () => owns(firstNs, vip), mdi(intervalMs, 100) + STARTUP);
      const watch = new AdvertWatch(lan.obs);
      try {
        const spawned = performance.now();
        const b = start(joiner, lan, joinNs, keepalivedConf({ ...base, priority: 255, state: "MASTER" }));
        // counted from when the joiner runs: keepalived (C) from its spawn, ours once it logged
        // `started` (Node's own start-up on this shared host takes seconds, not the protocol)
        const running = joiner === "keepalived" ? spawned : spawned + (await b.ready());
        await until(
          "owner's VIP",
          async () => (await owns(joinNs, vip)) && !(await owns(firstNs, vip)),
          mdi(intervalMs, 255) + MARGIN,
        );
        const took = performance.now() - running;
        // well inside the shortest Master_Down_Interval a non-owner would have waited (3 s)
        expect(took).toBeLessThan(3 * intervalMs);
        const theirs = watch.from(`${net}.2`);
        expect(theirs.length).toBeGreaterThan(0);
        expect(new Set(theirs.map((s) => s.priority))).toEqual(new Set([255]));
        expect(theirs[0]!.t - running).toBeLessThan(3 * intervalMs);
        // the first one yields to the owner's advert: BACKUP, and it sends nothing more after that
        await until("first in BACKUP", () => entered(a, "VI_1", "BACKUP"), MARGIN);
        expect(entered(b, "VI_1", "MASTER")).toBe(true);
        const quiet = performance.now();
        await sleep(3 * intervalMs + 500);
        expect(watch.from(`${net}.1`, quiet)).toEqual([]);
        expect(watch.from(`${net}.2`, quiet).length).toBeGreaterThanOrEqual(2);
        console.log(`owner ${joiner} over ${first}: VIP ${Math.round(took)} ms after it ran`);
        for (const d of [a, b]) if (d.kind === "keepalived") cleanLog(d);
      } finally {
        watch.close();
      }
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it.each([
    "keepalived",
    "lvs",
  ] as const)("owner priority 255 with `state BACKUP` (%s): no immediate takeover; MASTER by the Master_Down_Timer, as keepalived", async (kind) => {
    const net = kind === "lvs" ? "10.127.0" : "10.128.0";
    const lan = await makeLan(`pv-ownb-${kind[0]}`, ["first", "join"], { v4: net });
    try {
      const [firstNs, joinNs] = lan.nodes as [Netns, Netns];
      const vip = `${net}.100`;
      const intervalMs = 1000;
      const base = { vrid: 127, version: 3 as const, advertInt: intervalMs / 1000, vips: [`${vip}/24`] };
      // the first one is keepalived at 100 both times: only the joiner differs
      startKeepalived(lan, firstNs, keepalivedConf({ ...base, priority: 100 }));
      await until("first master", () => owns(firstNs, vip), mdi(intervalMs, 100) + STARTUP);
      const watch = new AdvertWatch(lan.obs);
      try {
        const spawned = performance.now();
        const b = start(kind, lan, joinNs, keepalivedConf({ ...base, priority: 255 }));
        await until("joiner in BACKUP", () => entered(b, "VI_1", "BACKUP"), STARTUP);
        await until("joiner MASTER", () => owns(joinNs, vip), mdi(intervalMs, 255) + STARTUP);
        const first255 = watch.from(`${net}.2`)[0];
        expect(first255?.priority).toBe(255);
        // it discarded the lower master's adverts and waited for its Master_Down_Timer (≈ 3 s from
        // its start, which came after the spawn): never the owner's immediate takeover
        expect(first255!.t - spawned).toBeGreaterThan(2 * intervalMs);
        expect(first255!.t - spawned).toBeLessThan(mdi(intervalMs, 255) + STARTUP);
      } finally {
        watch.close();
      }
    } finally {
      await lan.destroy();
    }
  }, 60_000);
});

/**
 * Two routers ("a", "b") on two links: eth0 on bridge A (`${netA}.x/24`), eth1 on bridge B
 * (`${netB}.x/24`), a = .1, b = .2; an observer on A.
 */
async function makeTwoLinks(label: string, netA: string, netB: string): Promise<Lan> {
  const topo = await Topology.create(label);
  const dir = mkdtempSync(join(tmpdir(), `lvs-vrrp-${label}-`));
  const destroy = async () => {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const brA = await topo.addBridge("A");
    const brB = await topo.addBridge("B");
    const nodes: Netns[] = [];
    for (const [i, n] of ["a", "b"].entries()) {
      const ns = await topo.addNamespace(n);
      await topo.attach(ns, brA, { addr: `${netA}.${i + 1}/24`, ifname: "eth0" });
      await topo.attach(ns, brB, { addr: `${netB}.${i + 1}/24`, ifname: "eth1" });
      nodes.push(ns);
    }
    const obs = await topo.addNamespace("obs");
    await topo.attach(obs, brA, { addr: `${netA}.250/24`, ifname: "eth0" });
    return { topo, nodes, obs, bridge: brA.ns, dir, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** A vrrp_sync_group of two instances, VI_A on eth0 and VI_B on eth1, both at `priority`. */
function syncGroupConf(priority: number, vipA: string, vipB: string): string {
  const inst = (name: string, iface: string, vrid: number, vip: string) => `vrrp_instance ${name} {
  state BACKUP
  interface ${iface}
  virtual_router_id ${vrid}
  priority ${priority}
  advert_int 0.1
  virtual_ipaddress {
    ${vip}/24
  }
}
`;
  return `global_defs {
  router_id sg_${priority}
  vrrp_version 3
}
vrrp_sync_group G1 {
  group {
    VI_A
    VI_B
  }
}
${inst("VI_A", "eth0", 131, vipA)}${inst("VI_B", "eth1", 132, vipB)}`;
}

describe.skipIf(!canUseNetns()).concurrent("keepalived parity: sync groups (netns)", () => {
  it.each(
    DIRECTIONS,
  )("vrrp_sync_group of two instances on two links: $first's group MASTER; its eth1 fails → $joiner's group takes both VIPs; eth1 back → both return", async ({
    first,
    joiner,
  }) => {
    const [netA, netB] = first === "lvs" ? ["10.131.0", "10.132.0"] : ["10.133.0", "10.134.0"];
    const lan = await makeTwoLinks(`pv-sync-${first[0]}`, netA, netB);
    try {
      const [aNs, bNs] = lan.nodes as [Netns, Netns];
      const vipA = `${netA}.100`;
      const vipB = `${netB}.100`;
      const both = async (ns: Netns) => (await owns(ns, vipA)) && (await owns(ns, vipB));
      const none = async (ns: Netns) => !(await owns(ns, vipA)) && !(await owns(ns, vipB));
      const a = start(first, lan, aNs, syncGroupConf(150, vipA, vipB));
      const b = start(joiner, lan, bNs, syncGroupConf(100, vipA, vipB));
      // both running and b's members BACKUP under a's group before anything fails
      await a.ready();
      await b.ready();
      await until(
        "b's members in BACKUP",
        () => entered(b, "VI_A", "BACKUP") && entered(b, "VI_B", "BACKUP"),
        STARTUP,
      );
      await until(
        "a's group MASTER",
        async () => (await both(aNs)) && (await none(bNs)),
        mdi(100, 100) + STARTUP,
      );
      await sleep(500);
      expect(await both(aNs)).toBe(true);
      // one member fails (its link goes down): the whole group leaves MASTER, VI_A too
      const cut = Date.now();
      await aNs.run("ip link set eth1 down");
      const t = await until(
        "b's group takes both VIPs",
        async () => (await both(bNs)) && !(await owns(aNs, vipA)),
        mdi(100, 100) + MARGIN,
      ).catch((err) => {
        // what each side did, to tell a slow host from a wrong transition
        throw new Error(`${err.message} (link cut at ${cut})\n--- a\n${a.output()}\n--- b\n${b.output()}`);
      });
      expect(t).toBeLessThan(mdi(100, 100) + MARGIN);
      await until("a's VI_B in FAULT", () => entered(a, "VI_B", "FAULT"), MARGIN);
      await until("a's VI_A in FAULT with it", () => entered(a, "VI_A", "FAULT"), MARGIN);
      // the group's MASTER at priority 100 stays while a is in FAULT
      await sleep(500);
      expect(await both(bNs)).toBe(true);
      expect(await none(aNs)).toBe(true);
      // eth1 back: a's group (150) preempts both instances together
      await aNs.run("ip link set eth1 up");
      await until("a's group MASTER again", async () => (await both(aNs)) && (await none(bNs)), STARTUP);
      for (const d of [a, b]) if (d.kind === "keepalived") cleanLog(d);
    } finally {
      await lan.destroy();
    }
  }, 60_000);
});

describe
  .skipIf(!canUseNetns())
  .concurrent("keepalived parity: unicast_fault_no_peer, track_src_ip (netns)", () => {
    it("unicast_fault_no_peer without peers: keepalived and lvs both stay in FAULT and send nothing; the keyword removed by a reload, both run multicast and elect keepalived (200)", async () => {
      const net = "10.135.0";
      const lan = await makeLan("pv-ufnp", ["ka", "us"], { v4: net });
      try {
        const [kaNs, usNs] = lan.nodes as [Netns, Netns];
        const vip = `${net}.100`;
        const base = { vrid: 135, version: 3 as const, advertInt: 0.1, vips: [`${vip}/24`] };
        const faulty = (priority: number, src: string) =>
          keepalivedConf({ ...base, priority, unicastSrc: src, extra: "  unicast_fault_no_peer" });
        const watch = new AdvertWatch(lan.obs);
        try {
          const ka = startKeepalived(lan, kaNs, faulty(200, `${net}.1`));
          const us = startOurs(lan, usNs, faulty(150, `${net}.2`));
          // keepalived logs no state line for a configuration fault, only why
          await until(
            "keepalived refusing multicast",
            () => ka.output().includes("(VI_1) Cannot use unicast without any peers - going to fault state"),
            STARTUP,
          );
          await until("ours in FAULT", () => entered(us, "VI_1", "FAULT"), STARTUP);
          // ten Master_Down_Intervals: nobody advertises, nobody holds the VIP
          await sleep(10 * mdi(100, 150));
          expect(watch.seen.filter((s) => s.vrid === 135)).toEqual([]);
          expect(await owns(kaNs, vip)).toBe(false);
          expect(await owns(usNs, vip)).toBe(false);
          expect(entered(us, "VI_1", "MASTER") || entered(us, "VI_1", "BACKUP")).toBe(false);
          // control: the same routers without the keyword fall back to multicast (keepalived's
          // deprecated default) and elect the higher priority
          const plain = (priority: number, src: string) =>
            keepalivedConf({ ...base, priority, unicastSrc: src });
          await us.reload(plain(150, `${net}.2`));
          await ka.reload(plain(200, `${net}.1`));
          await until(
            "keepalived MASTER over multicast, ours not",
            async () => (await owns(kaNs, vip)) && !(await owns(usNs, vip)),
            STARTUP,
          );
          await until("ours BACKUP", () => entered(us, "VI_1", "BACKUP"), STARTUP);
          expect(watch.from(`${net}.1`).some((s) => s.priority === 200)).toBe(true);
        } finally {
          watch.close();
        }
      } finally {
        await lan.destroy();
      }
    }, 60_000);

    it("track_src_ip: our MASTER's configured mcast_src_ip removed → FAULT, keepalived takes the VIP; the address back → ours preempts again", async () => {
      const net = "10.136.0";
      const lan = await makeLan("pv-tsrc", ["ka", "us"], { v4: net });
      try {
        const [kaNs, usNs] = lan.nodes as [Netns, Netns];
        const vip = `${net}.100`;
        const src = "10.137.0.2";
        await usNs.run(`ip addr add ${src}/24 dev eth0`);
        const base = { vrid: 136, version: 3 as const, advertInt: 0.1, vips: [`${vip}/24`] };
        const ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 100 }));
        const us = startOurs(
          lan,
          usNs,
          keepalivedConf({ ...base, priority: 150, extra: `  mcast_src_ip ${src}\n  track_src_ip` }),
        );
        await until("ours MASTER", async () => (await owns(usNs, vip)) && !(await owns(kaNs, vip)), STARTUP);
        await until("keepalived BACKUP", () => entered(ka, "VI_1", "BACKUP"), STARTUP);
        await usNs.run(`ip addr del ${src}/24 dev eth0`);
        await until("keepalived takes over", () => owns(kaNs, vip), mdi(100, 100) + MARGIN);
        await until("ours in FAULT", () => entered(us, "VI_1", "FAULT"), MARGIN);
        expect(await owns(usNs, vip)).toBe(false);
        await usNs.run(`ip addr add ${src}/24 dev eth0`);
        await until(
          "ours preempts again",
          async () => (await owns(usNs, vip)) && !(await owns(kaNs, vip)),
          STARTUP,
        );
        cleanLog(ka);
      } finally {
        await lan.destroy();
      }
    }, 60_000);
  });
