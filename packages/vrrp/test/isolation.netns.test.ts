// Netns tier: the router in a child process (IsolatedRouter) against real keepalived 2.2.7 as
// BACKUP, adverts captured and timed by a process of their own in an observer namespace. This
// process blocks its own event loop for 2 s (what parsing a big keepalived.conf on SIGHUP does):
// the isolated MASTER keeps advertising, the in-process one (the control) falls silent and
// keepalived takes over. Then what happens when the child dies, when the parent dies, and a
// reload with a configuration parsed here.
import { readdirSync, readFileSync } from "node:fs";
import { canUseNetns, type Netns } from "@lvs/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  type IsolatedRouter,
  type StateChange,
  spawnIsolatedRouter,
  type VrrpError,
  VrrpRouter,
  type VrrpRouterOptions,
} from "../src/index.js";
import {
  AdvertCapture,
  blockEventLoop,
  type Daemon,
  epochMs,
  gapStats,
  keepalivedConf,
  type Lan,
  makeLan,
  owns,
  sleep,
  startKeepalived,
  startOurs,
  until,
} from "./netns-helpers.js";

const BLOCK_MS = 2000;
const VRID = 93;
// keepalived at priority 100, advert_int 0.1: Master_Down_Interval 361 ms, Skew_Time 61 ms
const KA_MDI = 3 * 100 + ((256 - 100) * 100) / 256;
const KA_SKEW = ((256 - 100) * 100) / 256;
const MARGIN = 1500;

const base = { vrid: VRID, version: 3 as const, advertInt: 0.1 };
const ours = (netns: string, vips: string[]): VrrpRouterOptions => ({
  netns,
  version: 3,
  instances: [
    {
      name: "VI_1",
      interface: "eth0",
      vrid: VRID,
      priority: 150,
      advertInterval: 0.1,
      virtualAddresses: vips,
    },
  ],
});

/** The process has exited (no /proc entry, or a zombie nobody reaped yet). */
const gone = (pid: number) => {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
};

interface Rig {
  lan: Lan;
  us: Netns;
  kaNs: Netns;
  /** keepalived, once started behind our MASTER. */
  ka: Daemon;
  cap: AdvertCapture;
  vip: string;
  /** Our address on the LAN (the source of our adverts) and keepalived's. */
  me: string;
  peer: string;
}

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

/** A LAN with our namespace, one for keepalived and the capture in a third. */
async function rig(label: string, net: string): Promise<Rig> {
  const lan = await makeLan(label, ["us", "ka"], { v4: net });
  cleanup.push(() => lan.destroy());
  const [us, kaNs] = lan.nodes as [Netns, Netns];
  const cap = await AdvertCapture.open(lan, lan.obs);
  cleanup.push(() => cap.close());
  const r = { lan, us, kaNs, cap, vip: `${net}.100`, me: `${net}.1`, peer: `${net}.2` };
  return r as Rig;
}

/** keepalived at priority 100 behind our MASTER: BACKUP from its start. */
async function keepalivedBehind(r: Rig): Promise<void> {
  await until("ours master", () => owns(r.us, r.vip), 5000);
  r.ka = startKeepalived(r.lan, r.kaNs, keepalivedConf({ ...base, priority: 100, vips: [`${r.vip}/24`] }));
  cleanup.push(() => r.ka.stop());
  await r.ka.ready();
}

/** Starts `router`, waits until it is MASTER with keepalived BACKUP behind it. */
async function masterOverKeepalived(r: Rig, router: { start(): Promise<void>; stop(): Promise<void> }) {
  cleanup.push(() => router.stop());
  await router.start();
  await keepalivedBehind(r);
  await sleep(1000);
}

/** Blocks this event loop; the adverts from us around the block, and their gaps. */
async function blockAndMeasure(r: Rig) {
  const kaBefore = r.ka.output().length;
  const t0 = epochMs();
  blockEventLoop(BLOCK_MS);
  const t1 = epochMs();
  await sleep(1000);
  const adverts = r.cap.from(r.me, t0 - 300, t1 + 300).filter((a) => a.vrid === VRID);
  return {
    adverts,
    gaps: gapStats(adverts.map((a) => a.t)),
    kaTookOver: /Entering MASTER STATE/.test(r.ka.output().slice(kaBefore)),
  };
}

describe.skipIf(!canUseNetns())("VRRP in a child process (netns, keepalived 2.2.7 as BACKUP)", () => {
  it(`isolated: this process blocked ${BLOCK_MS} ms — the MASTER keeps its 100 ms rhythm (largest gap < 500 ms), keepalived never becomes MASTER`, async () => {
    const r = await rig("iso-block", "10.93.0");
    const router = spawnIsolatedRouter(ours(r.us.name, [`${r.vip}/24`]));
    const states: StateChange[] = [];
    router.on("state", (s: StateChange) => states.push(s));
    await masterOverKeepalived(r, router);
    const seen = states.length;
    const m = await blockAndMeasure(r);
    expect(m.adverts.length).toBeGreaterThan(15); // ~26 at 100 ms over the block and its margins
    expect(m.gaps.max).toBeLessThan(500);
    expect(m.adverts.every((a) => a.priority === 150)).toBe(true);
    expect(m.kaTookOver).toBe(false);
    expect(r.ka.output()).not.toMatch(/Entering MASTER STATE/);
    expect(await owns(r.us, r.vip)).toBe(true);
    expect(states.slice(seen)).toEqual([]);
  }, 40_000);

  it(`in process (the control): the same block silences the MASTER for > 1 s and keepalived takes over`, async () => {
    const r = await rig("iso-ctl", "10.94.0");
    const router = new VrrpRouter(ours(r.us.name, [`${r.vip}/24`]));
    await masterOverKeepalived(r, router);
    const m = await blockAndMeasure(r);
    expect(m.gaps.max).toBeGreaterThan(1000);
    expect(m.kaTookOver).toBe(true);
    // unblocked, ours (150) preempts keepalived (100) again
    await until("ours master again", () => owns(r.us, r.vip), 5000);
  }, 40_000);

  it("the child killed: an error event, FAULT reported, a new child after the back-off takes MASTER back", async () => {
    const r = await rig("iso-crash", "10.95.0");
    const router: IsolatedRouter = spawnIsolatedRouter(ours(r.us.name, [`${r.vip}/24`]), {
      restart: { initialDelayMs: 300 },
    });
    const errors: VrrpError[] = [];
    const states: StateChange[] = [];
    const children: unknown[] = [];
    router.on("error", (e: VrrpError) => errors.push(e));
    router.on("state", (s: StateChange) => states.push(s));
    router.on("child", (c) => children.push(c));
    await masterOverKeepalived(r, router);
    const first = router.pid as number;
    process.kill(first, "SIGKILL");
    await until("the crash reported", () => errors.some((e) => e.code === "VRRP_CHILD_EXIT"), 5000);
    expect(errors[0]?.message).toMatch(
      new RegExp(`VRRP child process ${first} exited \\(signal SIGKILL\\); restarting it in 300 ms`),
    );
    expect(states).toContainEqual(
      expect.objectContaining({
        name: "VI_1",
        from: "master",
        to: "fault",
        reason: "VRRP child process exited",
      }),
    );
    await until("a new child", () => router.pid !== undefined && router.pid !== first, 5000);
    expect(children).toContainEqual({ type: "spawned", pid: router.pid, restart: 1 });
    await until("ours master again", async () => router.status().instances[0]?.state === "master", 5000);
    await until(
      "the VIP on ours only",
      async () => (await owns(r.us, r.vip)) && !(await owns(r.kaNs, r.vip)),
      5000,
    );
  }, 40_000);

  it("the parent killed: the child stops cleanly (priority 0, VIP removed) and exits; keepalived takes over after ~Skew_Time", async () => {
    const r = await rig("iso-orphan", "10.96.0");
    const us = startOurs(r.lan, r.us, keepalivedConf({ ...base, priority: 150, vips: [`${r.vip}/24`] }), {
      isolated: true,
    });
    cleanup.push(() => us.stop());
    await us.ready();
    const child = Number(/"started":true,"pid":(\d+)/.exec(us.output())?.[1]);
    expect(child).toBeGreaterThan(0);
    await keepalivedBehind(r);
    await sleep(500);
    const t0 = epochMs();
    us.crash(); // SIGKILL of the parent: its IPC channel closes
    await until("the child gone", () => gone(child), 5000);
    expect(await owns(r.us, r.vip)).toBe(false);
    await until("keepalived master", () => owns(r.kaNs, r.vip), KA_MDI + MARGIN);
    // the capture runs in a process of its own: its line may come a little after the VIP
    await until("keepalived's first advert captured", () => r.cap.from(r.peer, t0).length > 0, 2000);
    const zero = r.cap.from(r.me, t0).filter((a) => a.vrid === VRID && a.priority === 0);
    expect(zero.length).toBeGreaterThan(0);
    // priority 0 lets keepalived take over after its Skew_Time, not a Master_Down_Interval
    const took = r.cap.from(r.peer, t0)[0];
    expect((took?.t ?? 0) - (zero[0]?.t ?? 0)).toBeLessThan(KA_SKEW + 200);
  }, 40_000);

  it("reload with a configuration parsed here: in place, no state change; one the child refuses changes nothing", async () => {
    const r = await rig("iso-reload", "10.97.0");
    const opts = ours(r.us.name, [`${r.vip}/24`]);
    const router = spawnIsolatedRouter(opts);
    const states: StateChange[] = [];
    router.on("state", (s: StateChange) => states.push(s));
    await masterOverKeepalived(r, router);
    const seen = states.length;
    const second = `${r.vip.replace(/\.100$/, ".101")}`;
    const summary = await router.reload(ours(r.us.name, [`${r.vip}/24`, `${second}/24`]));
    expect(summary.instances).toEqual({ unchanged: [], updated: ["VI_1"], added: [], removed: [] });
    await until("the second VIP on ours", () => owns(r.us, second), 5000);
    expect(router.status().instances[0]?.addresses).toEqual([`${r.vip}/24`, `${second}/24`]);
    const bad = ours(r.us.name, [`${r.vip}/24`]);
    (bad.instances[0] as { vrid: number }).vrid = 0;
    await expect(router.reload(bad)).rejects.toMatchObject({ name: "VrrpError", code: "VRRP_BAD_CONFIG" });
    expect(router.options.instances[0]?.virtualAddresses).toEqual([`${r.vip}/24`, `${second}/24`]);
    expect(await owns(r.us, second)).toBe(true);
    expect(states.slice(seen)).toEqual([]);
    expect(r.ka.output()).not.toMatch(/Entering MASTER STATE/);
  }, 40_000);

  it("vrrp_priority / vrrp_rt_priority: every thread of the child gets the nice value, and SCHED_RR when asked", async () => {
    const r = await rig("iso-prio", "10.96.0");
    const router = spawnIsolatedRouter(ours(r.us.name, [`${r.vip}/24`]), {
      priority: -7,
      realtimePriority: 10,
    });
    const warnings: string[] = [];
    router.on("warning", (w: string) => warnings.push(w));
    cleanup.push(() => router.stop());
    await router.start();
    const pid = router.pid as number;
    // /proc/PID/task/TID/stat after the command name: field 19 nice, 40 rt_priority, 41 policy
    const threads = () =>
      readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return { nice: Number(f[16]), rtPriority: Number(f[37]), policy: Number(f[38]) };
      });
    await expect
      .poll(threads, { timeout: 5000 })
      .toSatisfy((ts: ReturnType<typeof threads>) => ts.every((t) => t.policy === 2 && t.rtPriority === 10));
    expect(threads().length).toBeGreaterThan(1); // node's helper threads too, not just the main one
    expect(threads().every((t) => t.nice === -7)).toBe(true);
    expect(warnings).toEqual([]);
  }, 30_000);
});
