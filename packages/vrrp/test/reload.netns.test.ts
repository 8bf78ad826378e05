// Netns tier: in-place reload (SIGHUP → VrrpRouter.reload, test/peers/router.mjs) of our router
// against real keepalived 2.2.7 on one bridge, an observer namespace watching adverts and GARPs.
// keepalived keeps instance state across a reload; so must we: an unchanged file changes nothing
// on the wire, a VIP added appears and is announced without a state change, a priority lowered
// below keepalived's hands over by preemption (no priority 0), a VRID change is a removal
// (priority 0, keepalived takes over after Skew_Time) plus an addition.
import { canUseNetns } from "@lvs/testkit";
import { describe, expect, it } from "vitest";
import {
  AdvertWatch,
  AnnounceWatch,
  type Daemon,
  keepalivedConf,
  makeLan,
  owns,
  sleep,
  startKeepalived,
  startOurs,
  until,
} from "./netns-helpers.js";

const mdi = (intervalMs: number, prio: number) => 3 * intervalMs + ((256 - prio) * intervalMs) / 256;
const skew = (intervalMs: number, prio: number) => ((256 - prio) * intervalMs) / 256;
const MARGIN = 1500;
const STARTUP = 4000;

/** Our log lines (JSON) written after `from` characters of output. */
const linesAfter = (d: Daemon, from: number) =>
  d
    .output()
    .slice(from)
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!canUseNetns()).concurrent("in-place reload against keepalived 2.2.7 (netns)", () => {
  it("an unchanged file reloaded three times: our MASTER keeps the VIP and its rhythm, keepalived sees no priority 0 and never becomes MASTER; then a VRID change hands the old VRID over after Skew_Time", async () => {
    const lan = await makeLan("rl-same", ["us", "ka"], { v4: "10.91.0" });
    const adverts = new AdvertWatch(lan.obs);
    try {
      const [usNs, kaNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.91.0.100";
      const base = { vrid: 91, version: 3 as const, advertInt: 0.1, vips: [`${vip}/24`] };
      const ours = keepalivedConf({ ...base, priority: 150 });
      const us = startOurs(lan, usNs, ours);
      await until("ours master", () => owns(usNs, vip), mdi(100, 150) + STARTUP);
      const ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 100 }));
      await ka.ready();
      await sleep(1000);
      const t0 = performance.now();
      const out = us.output().length;
      for (let i = 0; i < 3; i++) {
        await us.reload(ours);
        await sleep(300);
      }
      await sleep(1000);
      expect(await owns(usNs, vip)).toBe(true);
      expect(await owns(kaNs, vip)).toBe(false);
      expect(ka.output()).not.toMatch(/Entering MASTER STATE/);
      const after = linesAfter(us, out);
      expect(after.filter((l) => "state" in l)).toEqual([]);
      const summaries = after.filter((l) => "reloaded" in l).map((l) => l.reloaded as { instances: unknown });
      expect(summaries).toHaveLength(3);
      for (const s of summaries)
        expect(s.instances).toEqual({ unchanged: ["VI_1"], updated: [], added: [], removed: [] });
      const mine = adverts.from("10.91.0.1", t0 - 500).filter((a) => a.vrid === 91);
      expect(mine.length).toBeGreaterThan(15);
      expect(mine.every((a) => a.priority === 150)).toBe(true);
      // The rhythm never broke: a restart would leave a gap of a whole process start (seconds) and
      // hand the VIP to keepalived after its Master_Down_Interval (both checked above). The bound
      // is generous on purpose: on the 2-core CI host, with other suites running, the observer's
      // own timestamps have shown gaps of 324–427 ms while keepalived stayed BACKUP throughout.
      const gaps = mine.slice(1).map((a, i) => a.t - (mine[i] as { t: number }).t);
      expect(Math.max(...gaps)).toBeLessThan(1000);

      // a VRID change: VRID 91 leaves with priority 0, keepalived takes it after its Skew_Time
      const t1 = performance.now();
      await us.reload(keepalivedConf({ ...base, vrid: 95, vips: ["10.91.0.101/24"], priority: 150 }));
      const took = await until("keepalived takes VRID 91", () => owns(kaNs, vip), skew(100, 100) + MARGIN);
      expect(performance.now() - t1).toBeLessThan(skew(100, 100) + MARGIN);
      expect(took).toBeLessThan(mdi(100, 100)); // priority 0, not a Master_Down_Interval
      expect(adverts.from("10.91.0.1", t1).some((a) => a.vrid === 91 && a.priority === 0)).toBe(true);
      await until("ours master of VRID 95", () => owns(usNs, "10.91.0.101"), mdi(100, 150) + MARGIN);
      expect(await owns(usNs, vip)).toBe(false);
      expect(us.output()).toMatch(/"removed":\["VI_1"\]/);
    } finally {
      adverts.close();
      await lan.destroy();
    }
  }, 60_000);

  it("a reload that adds a VIP: it appears on our MASTER and is announced (GARP seen from a third namespace), no state change, keepalived stays BACKUP; removed again, it goes", async () => {
    const lan = await makeLan("rl-vip", ["us", "ka"], { v4: "10.92.0" });
    const garps = new AnnounceWatch(lan.obs);
    const adverts = new AdvertWatch(lan.obs);
    try {
      const [usNs, kaNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const [vip1, vip2] = ["10.92.0.100", "10.92.0.101"];
      const base = { vrid: 92, version: 3 as const, advertInt: 0.1 };
      const us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 150, vips: [`${vip1}/24`] }));
      await until("ours master", () => owns(usNs, vip1), mdi(100, 150) + STARTUP);
      // keepalived as operators run it during a rolling change: the address list of the same master is not checked
      const ka = startKeepalived(
        lan,
        kaNs,
        keepalivedConf({
          ...base,
          priority: 100,
          vips: [`${vip1}/24`],
          globalExtra: "vrrp_skip_check_adv_addr",
        }),
      );
      await ka.ready();
      await sleep(500);
      const out = us.output().length;
      const t0 = performance.now();
      await us.reload(keepalivedConf({ ...base, priority: 150, vips: [`${vip1}/24`, `${vip2}/24`] }));
      await until("the new VIP on ours", () => owns(usNs, vip2), 2000);
      await until("a GARP for the new VIP", () => garps.first(vip2, t0) !== undefined, 2000);
      await until(
        "adverts with two addresses",
        () => adverts.from("10.92.0.1", t0).some((a) => a.count === 2),
        2000,
      );
      await sleep(1000);
      expect(await owns(usNs, vip1)).toBe(true);
      expect(await owns(kaNs, vip1)).toBe(false);
      expect(await owns(kaNs, vip2)).toBe(false);
      expect(ka.output()).not.toMatch(/Entering MASTER STATE/);
      expect(linesAfter(us, out).filter((l) => "state" in l)).toEqual([]);
      expect(adverts.from("10.92.0.1", t0).every((a) => a.priority === 150)).toBe(true);
      // and back
      await us.reload(keepalivedConf({ ...base, priority: 150, vips: [`${vip1}/24`] }));
      await until("the VIP gone from ours", async () => !(await owns(usNs, vip2)), 2000);
      expect(await owns(usNs, vip1)).toBe(true);
      expect(linesAfter(us, out).filter((l) => "state" in l)).toEqual([]);
    } finally {
      garps.close();
      adverts.close();
      await lan.destroy();
    }
  }, 60_000);

  it("a reload that lowers our MASTER's priority below keepalived's: keepalived preempts within its Master_Down_Interval, ours goes BACKUP, no priority 0", async () => {
    const lan = await makeLan("rl-prio", ["us", "ka"], { v4: "10.93.0" });
    const adverts = new AdvertWatch(lan.obs);
    try {
      const [usNs, kaNs] = lan.nodes as [typeof lan.obs, typeof lan.obs];
      const vip = "10.93.0.100";
      const base = { vrid: 93, version: 3 as const, advertInt: 0.1, vips: [`${vip}/24`] };
      const us = startOurs(lan, usNs, keepalivedConf({ ...base, priority: 150 }));
      await until("ours master", () => owns(usNs, vip), mdi(100, 150) + STARTUP);
      const ka = startKeepalived(lan, kaNs, keepalivedConf({ ...base, priority: 100 }));
      await ka.ready();
      await sleep(500);
      const out = us.output().length;
      const t0 = performance.now();
      await us.reload(keepalivedConf({ ...base, priority: 50 }));
      const took = await until("keepalived preempts", () => owns(kaNs, vip), mdi(100, 100) + MARGIN);
      expect(performance.now() - t0).toBeLessThan(mdi(100, 100) + MARGIN);
      expect(took).toBeGreaterThan(0);
      await until("ours releases the VIP", async () => !(await owns(usNs, vip)), 2000);
      expect(ka.output()).toMatch(/Entering MASTER STATE/);
      const states = linesAfter(us, out).filter((l) => "state" in l);
      expect(states).toMatchObject([{ state: "backup", from: "master", priority: 50 }]);
      const mine = adverts.from("10.93.0.1", t0);
      expect(mine.some((a) => a.priority === 50)).toBe(true);
      expect(mine.some((a) => a.priority === 0)).toBe(false);
      // keepalived stays MASTER over our 50
      await sleep(1000);
      expect(await owns(kaNs, vip)).toBe(true);
      expect(await owns(usNs, vip)).toBe(false);
    } finally {
      adverts.close();
      await lan.destroy();
    }
  }, 60_000);
});
