// Netns tier: our router against real keepalived 2.2.7 (`keepalived --vrrp -D -l -n`) and against
// itself, each daemon a process in its own namespace, all on one bridge. Scenarios run in
// parallel, each on its own LAN. Takeover times are asserted only as generous upper bounds on
// the protocol timers (Master_Down_Interval or Skew_Time + a margin); the measured figures are
// in the benchmark (bench/failover.mjs).
import { canUseNetns } from "@lvs/testkit";
import { describe, expect, it } from "vitest";
import {
  AnnounceWatch,
  cutLink,
  type Daemon,
  keepalivedConf,
  makeLan,
  owns,
  restoreLink,
  sleep,
  startKeepalived,
  startOurs,
  until,
} from "./netns-helpers.js";

/** Master_Down_Interval in ms: v2 skew is (256 − p)/256 s, v3 skew scales with the interval. */
const mdi = (version: 2 | 3, intervalMs: number, prio: number) =>
  3 * intervalMs + (version === 2 ? ((256 - prio) * 1000) / 256 : ((256 - prio) * intervalMs) / 256);
const skew = (version: 2 | 3, intervalMs: number, prio: number) =>
  version === 2 ? ((256 - prio) * 1000) / 256 : ((256 - prio) * intervalMs) / 256;
/** Slack for process start-up, scheduling and 10 ms polling: generous on purpose. */
const MARGIN = 1500;
const STARTUP = 4000;

/** keepalived must not have rejected anything we sent. */
function cleanLog(d: Daemon): void {
  const bad = d
    .output()
    .split("\n")
    .filter((l) => /invalid|checksum|wrong version|mismatch|unexpected|too (long|short)|TTL/i.test(l));
  expect(bad).toEqual([]);
}

const owner = async (a: Daemon, b: Daemon, vip: string) =>
  [(await owns(a.ns, vip)) ? "a" : "", (await owns(b.ns, vip)) ? "b" : ""].join("");

describe.skipIf(!canUseNetns()).concurrent("interop with keepalived 2.2.7 (netns)", () => {
  it("v2, 1 s: ours at higher priority preempts keepalived; kill -9 → keepalived within Master_Down_Interval; clean stop → keepalived after ~Skew_Time", async () => {
    const lan = await makeLan("ka-v2", ["ka", "us"], { v4: "10.81.0" });
    try {
      const [kaNs, usNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.81.0.100";
      const base = { vrid: 51, version: 2 as const, advertInt: 1, vips: [`${vip}/24`] };
      const ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 100 }));
      await until("keepalived master", () => owns(kaNs, vip), mdi(2, 1000, 100) + STARTUP);
      let us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 150 }));
      await until(
        "ours preempts",
        async () => (await owner(ka, us, vip)) === "b",
        mdi(2, 1000, 150) + STARTUP,
      );
      // kill -9 of our master: keepalived owns the VIP within its Master_Down_Interval
      us.crash();
      const t = await until("keepalived takes over", () => owns(kaNs, vip), mdi(2, 1000, 100) + MARGIN);
      expect(t).toBeLessThan(mdi(2, 1000, 100) + MARGIN);
      // ours again: it removes its stale VIP and preempts
      us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 150 }));
      await until(
        "ours preempts again",
        async () => (await owner(ka, us, vip)) === "b",
        mdi(2, 1000, 150) + STARTUP,
      );
      // clean stop: priority 0 → keepalived takes over after its Skew_Time, not a Master_Down_Interval
      const t0 = performance.now();
      const exited = us.stop();
      await until(
        "keepalived takes over after our priority 0",
        () => owns(kaNs, vip),
        skew(2, 1000, 100) + MARGIN,
      );
      const took = performance.now() - t0;
      expect(took).toBeLessThan(skew(2, 1000, 100) + 1000);
      expect(await exited).toBe(0);
      expect(await owns(usNs, vip)).toBe(false); // removed on the way out
      cleanLog(ka);
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it("v2, 1 s: keepalived at higher priority preempts ours; kill -9 of keepalived → ours within Master_Down_Interval; its clean stop → ours after ~Skew_Time", async () => {
    const lan = await makeLan("ka-v2r", ["us", "ka"], { v4: "10.82.0" });
    try {
      const [usNs, kaNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.82.0.100";
      const base = { vrid: 52, version: 2 as const, advertInt: 1, vips: [`${vip}/24`] };
      const us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 100 }));
      await until("ours master", () => owns(usNs, vip), mdi(2, 1000, 100) + STARTUP);
      let ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 150 }));
      await until(
        "keepalived preempts",
        async () => (await owner(us, ka, vip)) === "b",
        mdi(2, 1000, 150) + STARTUP,
      );
      ka.crash();
      const t = await until("ours takes over", () => owns(usNs, vip), mdi(2, 1000, 100) + MARGIN);
      expect(t).toBeLessThan(mdi(2, 1000, 100) + MARGIN);
      ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 150 }));
      await until(
        "keepalived preempts again",
        async () => (await owner(us, ka, vip)) === "b",
        mdi(2, 1000, 150) + STARTUP,
      );
      const t0 = performance.now();
      void ka.stop();
      await until(
        "ours takes over after keepalived's priority 0",
        () => owns(usNs, vip),
        skew(2, 1000, 100) + MARGIN,
      );
      expect(performance.now() - t0).toBeLessThan(skew(2, 1000, 100) + 1000);
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it("v3, advert_int 0.05: kill -9 either way, takeover within Master_Down_Interval (180 ms) + margin", async () => {
    const lan = await makeLan("ka-v3f", ["ka", "us"], { v4: "10.83.0" });
    try {
      const [kaNs, usNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.83.0.100";
      const base = { vrid: 53, version: 3 as const, advertInt: 0.05, vips: [`${vip}/24`] };
      let ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 200 }));
      await until("keepalived master", () => owns(kaNs, vip), STARTUP);
      const us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 100 }));
      // ours hears keepalived's 50 ms adverts and stays backup
      await us.ready();
      await sleep(2000);
      expect(await owner(ka, us, vip)).toBe("a");
      ka.crash();
      const t = await until("ours takes over", () => owns(usNs, vip), mdi(3, 50, 100) + 1000);
      expect(t).toBeLessThan(mdi(3, 50, 100) + 1000);
      // keepalived back at priority 200 preempts; then ours at higher priority after a restart of keepalived at 50
      ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 200 }));
      await until("keepalived preempts", async () => (await owner(ka, us, vip)) === "a", STARTUP);
      await ka.stop();
      await until("ours after keepalived's stop", () => owns(usNs, vip), skew(3, 50, 100) + MARGIN);
      ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 50 }));
      await ka.ready();
      await sleep(1500);
      expect(await owner(ka, us, vip)).toBe("b"); // keepalived accepts our 50 ms adverts
      us.crash();
      const t2 = await until("keepalived takes over", () => owns(kaNs, vip), mdi(3, 50, 50) + 1000);
      expect(t2).toBeLessThan(mdi(3, 50, 50) + 1000);
      cleanLog(ka);
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it("IPv6 (v3, link-local sources, ff02::12): each accepts the other's adverts; kill -9 either way; unsolicited NA seen", async () => {
    const lan = await makeLan("ka-v6", ["ka", "us"], { v4: "10.84.0", v6: "fd84" });
    try {
      const [kaNs, usNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "fd84::100";
      const base = { vrid: 54, version: 3 as const, advertInt: 0.1, vips: [`${vip}/64`] };
      const watch = new AnnounceWatch(lan.obs);
      try {
        const ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 100 }));
        await until("keepalived master", () => owns(kaNs, vip), STARTUP);
        let us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 150 }));
        // keepalived yields to our higher priority: it accepted our IPv6 advert (checksum, hop limit)
        await until("ours preempts", async () => (await owner(ka, us, vip)) === "b", STARTUP);
        const usMac = await usNs.mac("eth0");
        await until(
          "our unsolicited NA",
          () =>
            watch.first(vip, 0)?.mac === usMac ||
            watch.seen.some((s) => s.address === vip && s.mac === usMac),
          2000,
        );
        us.crash();
        const t = await until("keepalived takes over", () => owns(kaNs, vip), mdi(3, 100, 100) + MARGIN);
        expect(t).toBeLessThan(mdi(3, 100, 100) + MARGIN);
        // ours at lower priority stays backup under keepalived: it accepted keepalived's IPv6 adverts
        us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 50 }));
        await us.ready();
        await sleep(2000);
        expect(await owner(ka, us, vip)).toBe("a");
        ka.crash();
        const since = performance.now();
        const t2 = await until("ours takes over", () => owns(usNs, vip), mdi(3, 100, 50) + MARGIN);
        expect(t2).toBeLessThan(mdi(3, 100, 50) + MARGIN);
        await until("NA after the takeover", () => watch.first(vip, since)?.mac === usMac, 2000);
        cleanLog(ka);
      } finally {
        watch.close();
      }
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it("unicast peers (v3, 0.1 s): ours preempts keepalived, clean stop hands back after ~Skew_Time", async () => {
    const lan = await makeLan("ka-uni", ["ka", "us"], { v4: "10.85.0" });
    try {
      const [kaNs, usNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.85.0.100";
      const base = { vrid: 55, version: 3 as const, advertInt: 0.1, vips: [`${vip}/24`] };
      const ka = startKeepalived(
        lan,
        kaNs,
        keepalivedConf({ ...base, priority: 100, unicastSrc: "10.85.0.1", unicastPeers: ["10.85.0.2"] }),
      );
      await until("keepalived master", () => owns(kaNs, vip), STARTUP);
      const us = startOurs(
        lan,
        usNs,
        keepalivedConf({ ...base, priority: 150, unicastSrc: "10.85.0.2", unicastPeers: ["10.85.0.1"] }),
      );
      await until("ours preempts", async () => (await owner(ka, us, vip)) === "b", STARTUP);
      const t0 = performance.now();
      void us.stop();
      await until("keepalived after our priority 0", () => owns(kaNs, vip), skew(3, 100, 100) + MARGIN);
      expect(performance.now() - t0).toBeLessThan(skew(3, 100, 100) + 1000);
      cleanLog(ka);
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it("unicast peers + simple password (v2, 1 s): ours stays backup under keepalived, kill -9 → ours within Master_Down_Interval", async () => {
    const lan = await makeLan("ka-pass", ["ka", "us"], { v4: "10.86.0" });
    try {
      const [kaNs, usNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.86.0.100";
      const base = { vrid: 56, version: 2 as const, advertInt: 1, vips: [`${vip}/24`], authPass: "s3cret" };
      const ka = startKeepalived(
        lan,
        kaNs,
        keepalivedConf({ ...base, priority: 150, unicastSrc: "10.86.0.1", unicastPeers: ["10.86.0.2"] }),
      );
      await until("keepalived master", () => owns(kaNs, vip), mdi(2, 1000, 150) + STARTUP);
      const us = startOurs(
        lan,
        usNs,
        keepalivedConf({ ...base, priority: 100, unicastSrc: "10.86.0.2", unicastPeers: ["10.86.0.1"] }),
      );
      await us.ready();
      await sleep(mdi(2, 1000, 100) + 1000);
      expect(await owner(ka, us, vip)).toBe("a");
      ka.crash();
      const t = await until("ours takes over", () => owns(usNs, vip), mdi(2, 1000, 100) + MARGIN);
      expect(t).toBeLessThan(mdi(2, 1000, 100) + MARGIN);
    } finally {
      await lan.destroy();
    }
  }, 60_000);
  it("tracking: our interface down → FAULT, keepalived takes over; a maintenance file (track_script, weight −60) hands over and back", async () => {
    const lan = await makeLan("ka-track", ["ka", "us"], { v4: "10.80.0" });
    try {
      const [kaNs, usNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.80.0.100";
      const down = `${lan.dir}/down`;
      const base = { vrid: 50, version: 3 as const, advertInt: 0.1, vips: [`${vip}/24`] };
      const ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 120 }));
      const us = startOurs(
        lan,
        usNs,
        keepalivedConf({
          ...base,
          priority: 150,
          preamble: `vrrp_script chk_down {\n  script "/usr/bin/test ! -e ${down}"\n  interval 1\n  weight -60\n  fall 2\n  rise 1\n}`,
          extra: "  track_script {\n    chk_down\n  }",
        }),
      );
      await until("ours master", async () => (await owner(ka, us, vip)) === "b", STARTUP + 2000);
      await usNs.run("ip link set eth0 down");
      await until("keepalived after our link went down", () => owns(kaNs, vip), mdi(3, 100, 120) + MARGIN);
      expect(await owns(usNs, vip)).toBe(false); // FAULT removed it
      await usNs.run("ip link set eth0 up");
      await until("ours back after link up", async () => (await owner(ka, us, vip)) === "b", STARTUP);
      await usNs.run(`touch ${down}`); // two failed runs (0.4 s): priority 90 < 120
      await until(
        "keepalived preempts the lowered master",
        async () => (await owner(ka, us, vip)) === "a",
        3000,
      );
      await usNs.run(`rm -f ${down}`);
      await until("ours preempts again", async () => (await owner(ka, us, vip)) === "b", 3000);
      cleanLog(ka);
    } finally {
      await lan.destroy();
    }
  }, 60_000);
});

describe.skipIf(!canUseNetns()).concurrent("two of ours (netns)", () => {
  it("preempt, kill -9 → the backup within Master_Down_Interval, clean stop → ~Skew_Time", async () => {
    const lan = await makeLan("us-us", ["a", "b"], { v4: "10.87.0" });
    try {
      const [aNs, bNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.87.0.100";
      const base = { vrid: 57, version: 3 as const, advertInt: 0.2, vips: [`${vip}/24`] };
      const a = startOurs(lan, aNs, keepalivedConf({ ...base, priority: 100 }));
      await until("a master", () => owns(aNs, vip), STARTUP);
      let b = startOurs(lan, bNs, keepalivedConf({ ...base, priority: 150 }));
      await until("b preempts", async () => (await owner(a, b, vip)) === "b", STARTUP);
      b.crash();
      const t = await until("a takes over", () => owns(aNs, vip), mdi(3, 200, 100) + MARGIN);
      expect(t).toBeLessThan(mdi(3, 200, 100) + MARGIN);
      b = startOurs(lan, bNs, keepalivedConf({ ...base, priority: 150 }));
      await until("b preempts again", async () => (await owner(a, b, vip)) === "b", STARTUP);
      const t0 = performance.now();
      void b.stop();
      await until("a after b's priority 0", () => owns(aNs, vip), skew(3, 200, 100) + MARGIN);
      expect(performance.now() - t0).toBeLessThan(skew(3, 200, 100) + 1000);
    } finally {
      await lan.destroy();
    }
  }, 60_000);

  it("split brain: cut link (nft) → two masters; restored → exactly one master and a fresh GARP from it", async () => {
    const lan = await makeLan("us-split", ["a", "b"], { v4: "10.88.0" });
    try {
      const [aNs, bNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.88.0.100";
      // vrrp_higher_prio_send_advert: the master that yields sends one last advert, so the winner
      // always hears a lower-priority master and re-announces (keepalived's option for this case;
      // without it the winner re-announces only if the loser's advert crosses first)
      const base = {
        vrid: 58,
        version: 3 as const,
        advertInt: 0.1,
        vips: [`${vip}/24`],
        globalExtra: "vrrp_higher_prio_send_advert true",
      };
      const watch = new AnnounceWatch(lan.obs);
      try {
        const a = startOurs(lan, aNs, keepalivedConf({ ...base, priority: 150 }));
        const b = startOurs(lan, bNs, keepalivedConf({ ...base, priority: 100 }));
        await until("a master, b backup", async () => (await owner(a, b, vip)) === "a", STARTUP);
        await sleep(500);
        expect(await owner(a, b, vip)).toBe("a");
        // bridge ports: a → p0, b → p1, obs → p2
        await cutLink(lan, "p0", "p1");
        await until(
          "split brain: both masters",
          async () => (await owner(a, b, vip)) === "ab",
          mdi(3, 100, 100) + MARGIN,
        );
        const restoredAt = performance.now();
        await restoreLink(lan);
        await until("one master again", async () => (await owner(a, b, vip)) === "a", 2000);
        // a, hearing b's lower-priority adverts, re-announces (keepalived garp_lower_prio_repeat)
        const aMac = await aNs.mac("eth0");
        await until(
          "fresh GARP from the winner",
          () => watch.seen.some((g) => g.t >= restoredAt && g.address === vip && g.mac === aMac),
          2000,
        );
        await sleep(1000);
        expect(await owner(a, b, vip)).toBe("a");
        // the last word on the link for the VIP is the winner's: the observer's ARP cache points at a
        expect(watch.seen.filter((g) => g.address === vip).at(-1)?.mac).toBe(aMac);
      } finally {
        watch.close();
      }
    } finally {
      await lan.destroy();
    }
  }, 60_000);
});
