// The reconcile pass against @lvs/ipvs's in-memory IPVS (the kernel's errno) behind the IPVS
// dataplane: minimal operations, drift repair counted, foreign services untouched, refusals
// reported and retried without rollback, ownership across restarts, scoped reads, a crash in the
// middle of an apply.
import { type DesiredService, IP_VS_CONN_F_MASQ, MemoryIpvs, serviceId } from "@lvs/ipvs";
import { beforeEach, describe, expect, it } from "vitest";
import { compilePlan, DirectorEngine, IpvsDataplane, keyFromServiceId, Reconciler } from "../src/index.js";
import { conf, vsBlock } from "./helpers.js";

const TEXT =
  vsBlock(
    "10.0.0.1 80",
    "lb_kind NAT\n real_server 10.1.0.1 8080 { weight 2 }\n real_server 10.1.0.2 8080 { }",
  ) + vsBlock("10.0.0.2 443", "lb_kind DR\n persistence_timeout 60\n real_server 10.1.0.3 443 { }");

function make(text = TEXT, owned: string[] = []) {
  const kernel = new MemoryIpvs();
  const engine = new DirectorEngine(() => 0);
  engine.load(compilePlan(conf(text)));
  let saved: string[] | undefined;
  const rec = new Reconciler({
    // The in-memory IPVS renders /proc/net/ip_vs itself: the dataplane's summary for quick passes.
    dataplane: new IpvsDataplane(kernel),
    engine,
    owned,
    saveOwned: (o) => {
      saved = [...o].sort();
    },
  });
  return { kernel, engine, rec, saved: () => saved };
}

const S1 = serviceId({ protocol: 6, address: "10.0.0.1", port: 80 });
const S2 = serviceId({ protocol: 6, address: "10.0.0.2", port: 443 });

describe("Reconciler", () => {
  let t: ReturnType<typeof make>;
  beforeEach(() => {
    t = make();
  });

  it("programs an empty kernel, then a second pass sends nothing", async () => {
    const r1 = await t.rec.pass();
    expect(r1.operations.map((o) => o.op)).toEqual([
      "addService",
      "addService",
      "addDest",
      "addDest",
      "addDest",
    ]);
    expect(r1.failed).toEqual([]);
    expect(t.kernel.lines()).toEqual([
      "  6 10.0.0.1:80 -> 10.1.0.1:8080 fwd=0 w=2",
      "  6 10.0.0.1:80 -> 10.1.0.2:8080 fwd=0 w=1",
      "  6 10.0.0.2:443 -> 10.1.0.3:443 fwd=3 w=1",
      "S 6 10.0.0.1:80 wlc f=0 t=0 m=32",
      "S 6 10.0.0.2:443 wlc f=1 t=60 m=32",
    ]);
    expect(t.saved()).toEqual([S1, S2].sort());
    const r2 = await t.rec.pass();
    expect(r2.operations).toEqual([]);
    expect(r2.drift).toEqual({ service: 0, dest: 0 });
  });

  it("drift: a real server deleted or edited behind our back is restored and counted", async () => {
    await t.rec.pass();
    t.kernel.apply({
      op: "delDest",
      service: keyFromServiceId(S1),
      dest: { address: "10.1.0.1", port: 8080 },
    });
    t.kernel.apply({
      op: "editDest",
      service: keyFromServiceId(S1),
      dest: { address: "10.1.0.2", port: 8080, forward: IP_VS_CONN_F_MASQ, weight: 9 },
    });
    const r = await t.rec.pass();
    expect(r.operations.map((o) => o.op).sort()).toEqual(["addDest", "editDest"]);
    expect(r.drift).toEqual({ service: 0, dest: 2 });
    expect(t.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(2);
    expect(t.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
  });

  it("drift: a deleted or edited service and a real server added by hand", async () => {
    await t.rec.pass();
    t.kernel.apply({ op: "delService", service: keyFromServiceId(S2) });
    t.kernel.apply({
      op: "editService",
      service: { protocol: 6, address: "10.0.0.1", port: 80, scheduler: "rr" },
    });
    t.kernel.apply({
      op: "addDest",
      service: keyFromServiceId(S1),
      dest: { address: "10.1.0.99", port: 8080, forward: 0 },
    });
    const r = await t.rec.pass();
    expect(r.drift).toEqual({ service: 2, dest: 2 }); // S2 + rr; 10.1.0.99 removed + S2's dest re-added
    expect(t.kernel.lines()).toContain("S 6 10.0.0.1:80 wlc f=0 t=0 m=32");
    expect(t.kernel.dest(S1, "10.1.0.99", 8080)).toBeUndefined();
    expect(t.kernel.dest(S2, "10.1.0.3", 443)).toBeDefined();
  });

  it("a desired change is not drift", async () => {
    await t.rec.pass();
    const e = t.engine;
    e.setWeight("TCP/10.0.0.1:80", "10.1.0.1:8080", 5);
    const r = await t.rec.pass();
    expect(r.operations.map((o) => o.op)).toEqual(["editDest"]);
    expect(r.drift).toEqual({ service: 0, dest: 0 });
  });

  it("services somebody else created are left alone", async () => {
    t.kernel.apply({ op: "addService", service: { protocol: 17, address: "192.0.2.1", port: 53 } });
    t.kernel.apply({
      op: "addDest",
      service: { protocol: 17, address: "192.0.2.1", port: 53 },
      dest: { address: "192.0.2.2", port: 53 },
    });
    await t.rec.pass();
    const r = await t.rec.pass();
    expect(r.operations).toEqual([]);
    expect(t.kernel.lines()).toContain("S 17 192.0.2.1:53 wlc f=0 t=0 m=32");
    expect(r.actual).toHaveLength(3);
  });

  it("a service already there with other settings is edited in place, never recreated", async () => {
    t.kernel.apply({
      op: "addService",
      service: { protocol: 6, address: "10.0.0.1", port: 80, scheduler: "sh" },
    });
    t.kernel.apply({
      op: "addDest",
      service: keyFromServiceId(S1),
      dest: { address: "10.1.0.1", port: 8080, forward: 0, weight: 7 },
    });
    const r = await t.rec.pass();
    expect(r.operations.filter((o) => o.service && serviceId(o.service) === S1).map((o) => o.op)).toEqual([
      "editService",
      "addDest",
      "editDest",
    ]);
    expect(r.operations.some((o) => o.op === "delService")).toBe(false);
  });

  it("refusals are reported with errno and retried; what succeeded stays", async () => {
    t.kernel.refuse = (op) =>
      op.op === "addDest" && op.dest.address === "10.1.0.2" ? { errno: 22, name: "EINVAL" } : undefined;
    const r1 = await t.rec.pass();
    expect(r1.failed).toEqual([
      expect.objectContaining({ code: "IPVS_EINVAL_DEST", errno: 22, errnoName: "EINVAL" }),
    ]);
    expect(t.kernel.dest(S1, "10.1.0.1", 8080)).toBeDefined();
    expect(t.kernel.dest(S2, "10.1.0.3", 443)).toBeDefined();
    const r2 = await t.rec.pass();
    expect(r2.operations.map((o) => o.op)).toEqual(["addDest"]);
    expect(r2.drift).toEqual({ service: 0, dest: 0 });
    t.kernel.refuse = undefined;
    const r3 = await t.rec.pass();
    expect(r3.failed).toEqual([]);
    expect(t.kernel.dest(S1, "10.1.0.2", 8080)).toBeDefined();
  });

  it("a service removed from the config is deleted; after a restart too (owned set persisted)", async () => {
    await t.rec.pass();
    const owned = t.saved() as string[];
    // Restart with only the first virtual server: the second is ours (owned) and goes.
    const next = make(
      vsBlock(
        "10.0.0.1 80",
        "lb_kind NAT\n real_server 10.1.0.1 8080 { weight 2 }\n real_server 10.1.0.2 8080 { }",
      ),
      owned,
    );
    for (const [k, v] of t.kernel.services) next.kernel.services.set(k, v);
    const r = await next.rec.pass();
    expect(r.operations.map((o) => o.op)).toEqual(["delService"]);
    expect(next.saved()).toEqual([S1]);
  });

  it("a scoped pass reads only the services it names", async () => {
    await t.rec.pass();
    t.kernel.reads = { table: 0, service: 0, dests: 0 };
    t.engine.setWeight("TCP/10.0.0.1:80", "10.1.0.2:8080", 3);
    const r = await t.rec.pass({ scope: new Set([S1]) });
    expect(r.kind).toBe("scoped");
    expect(t.kernel.reads).toEqual({ table: 0, service: 1, dests: 1 });
    expect(r.operations.map((o) => o.op)).toEqual(["editDest"]);
  });

  it("dry run computes and sends nothing", async () => {
    const r = await t.rec.pass({ dryRun: true });
    expect(r.operations).toHaveLength(5);
    expect(t.kernel.services.size).toBe(0);
  });

  it("a crash in the middle of an apply: the owned set was written first, a new pass converges", async () => {
    t.kernel.crashAfter = 2;
    await expect(t.rec.pass()).rejects.toThrow("crashed");
    expect(t.saved()).toEqual([S1, S2].sort());
    expect(t.kernel.services.size).toBe(2);
    t.kernel.crashAfter = undefined;
    const fresh = make(TEXT, t.saved() as string[]);
    for (const [k, v] of t.kernel.services) fresh.kernel.services.set(k, v);
    await fresh.rec.pass();
    const ref = make();
    await ref.rec.pass();
    expect(fresh.kernel.lines()).toEqual(ref.kernel.lines());
  });

  it("keyFromServiceId round-trips ids", () => {
    for (const k of [
      { af: 2, protocol: 6, address: "10.0.0.1", port: 80 },
      { af: 10, protocol: 17, address: "fd00::1", port: 53 },
      { af: 2, fwmark: 7 },
      { af: 10, fwmark: 8 },
    ]) {
      expect(serviceId(keyFromServiceId(serviceId(k)))).toBe(serviceId(k));
    }
  });

  it("desired services keep the @lvs/ipvs shape", () => {
    const d: DesiredService[] = t.engine.desired();
    expect(d.map((x) => serviceId(x.service))).toEqual([S1, S2]);
  });

  it("quick pass: /proc shows nothing to do → no netlink read at all", async () => {
    await t.rec.pass();
    t.kernel.reads = { table: 0, service: 0, dests: 0 };
    const r = await t.rec.pass({ quick: true });
    expect(r.kind).toBe("quick");
    expect(r.operations).toEqual([]);
    expect(t.kernel.reads).toEqual({ table: 0, service: 0, dests: 0 });
  });

  it("quick pass: what /proc shows differs → netlink read of those services only, repaired and counted", async () => {
    await t.rec.pass();
    t.kernel.apply({
      op: "delDest",
      service: keyFromServiceId(S1),
      dest: { address: "10.1.0.1", port: 8080 },
    });
    t.kernel.reads = { table: 0, service: 0, dests: 0 };
    const r = await t.rec.pass({ quick: true });
    expect(r.kind).toBe("scoped");
    expect(t.kernel.reads).toEqual({ table: 0, service: 1, dests: 1 });
    expect(r.operations.map((o) => o.op)).toEqual(["addDest"]);
    expect(r.drift).toEqual({ service: 0, dest: 1 });
  });

  it("quick pass: a setting /proc does not show (thresholds) waits for a full pass", async () => {
    await t.rec.pass();
    t.kernel.apply({
      op: "editDest",
      service: keyFromServiceId(S1),
      dest: { address: "10.1.0.2", port: 8080, forward: IP_VS_CONN_F_MASQ, weight: 1, upperThreshold: 50 },
    });
    expect((await t.rec.pass({ quick: true })).kind).toBe("quick");
    const full = await t.rec.pass();
    expect(full.operations.map((o) => o.op)).toEqual(["editDest"]);
    expect(full.drift.dest).toBe(1);
  });
});
