// MemoryIpvs, the in-memory IPVS: the kernel's errno for each refusal, with the codes and objects
// IpvsClient reports; a batch goes on after a refusal; reads are copies; timeouts and sync daemons
// as the kernel keeps them. memory.kernel.test.ts runs the same operations against the real IPVS.
import { describe, expect, it } from "vitest";
import { DaemonState, Errno, Forward } from "../src/constants.js";
import { IpvsError, kernelError } from "../src/errors.js";
import { MemoryIpvs, type Operation } from "../src/index.js";

const svc = { protocol: 6, address: "10.0.0.1", port: 80 };
const dest = { address: "10.1.0.1", port: 8080, forward: Forward.MASQ, weight: 2 };

const refusal = (k: MemoryIpvs, op: Operation): IpvsError => {
  try {
    k.apply(op);
  } catch (err) {
    return err as IpvsError;
  }
  throw new Error(`${op.op} was accepted`);
};

describe("MemoryIpvs", () => {
  it.each([
    [[], { op: "editService", service: { ...svc, scheduler: "rr" } }, Errno.ESRCH, "IPVS_ESRCH_SERVICE"],
    [[], { op: "delService", service: svc }, Errno.ESRCH, "IPVS_ESRCH_SERVICE"],
    [[], { op: "addDest", service: svc, dest }, Errno.ESRCH, "IPVS_ESRCH_DEST"],
    [["svc"], { op: "addService", service: svc }, Errno.EEXIST, "IPVS_EEXIST_SERVICE"],
    [["svc", "dest"], { op: "addDest", service: svc, dest }, Errno.EEXIST, "IPVS_EEXIST_DEST"],
    [["svc"], { op: "editDest", service: svc, dest }, Errno.ENOENT, "IPVS_ENOENT_DEST"],
    [["svc"], { op: "delDest", service: svc, dest }, Errno.ENOENT, "IPVS_ENOENT_DEST"],
  ] as const)("with %j in place, %j is refused with errno %i (%s)", (have, op, errno, code) => {
    const k = new MemoryIpvs();
    if ((have as readonly string[]).includes("svc")) k.apply({ op: "addService", service: svc });
    if ((have as readonly string[]).includes("dest")) k.apply({ op: "addDest", service: svc, dest });
    const before = k.lines();
    const e = refusal(k, op as Operation);
    expect(e).toBeInstanceOf(IpvsError);
    expect(e).toMatchObject({ code, errno, errnoName: code.split("_")[1] });
    // The same error IpvsClient makes of the kernel's NLMSG_ERROR for this request.
    const dests = op.op.endsWith("Dest");
    const command = { add: "NEW", edit: "SET", del: "DEL" }[op.op.replace(/[A-Z].*/, "") as "add"];
    const object = dests ? "TCP 10.0.0.1:80 -> 10.1.0.1:8080" : "TCP 10.0.0.1:80";
    expect(e.object).toBe(object);
    expect(e.message).toBe(
      kernelError(errno, dests ? "DEST" : "SERVICE", `${command}_${dests ? "DEST" : "SERVICE"}`, object)
        .message,
    );
    expect(k.lines()).toEqual(before);
  });

  it("a batch reports each refusal and goes on; what succeeded stays", async () => {
    const k = new MemoryIpvs();
    const r = await k.batch([
      { op: "addService", service: svc },
      { op: "delDest", service: svc, dest },
      { op: "addDest", service: svc, dest },
      { op: "addService", service: svc },
    ]);
    expect(r.map((x) => x.error?.code)).toEqual([
      undefined,
      "IPVS_ENOENT_DEST",
      undefined,
      "IPVS_EEXIST_SERVICE",
    ]);
    expect(k.lines()).toEqual([
      "  6 10.0.0.1:80 -> 10.1.0.1:8080 fwd=0 w=2",
      "S 6 10.0.0.1:80 wlc f=0 t=0 m=32",
    ]);
    expect(k.log).toHaveLength(4);
  });

  it("edits keep counters; reads are copies; refuse and crashAfter script failures", async () => {
    const k = new MemoryIpvs();
    await k.batch([
      { op: "addService", service: svc },
      { op: "addDest", service: svc, dest },
    ]);
    k.dest("2/6/10.0.0.1/80", "10.1.0.1", 8080)!.activeConns = 5;
    await k.batch([{ op: "editDest", service: svc, dest: { ...dest, weight: 9 } }]);
    expect(k.dest("2/6/10.0.0.1/80", "10.1.0.1", 8080)).toMatchObject({ weight: 9, activeConns: 5 });
    const t = await k.table();
    t[0]!.dests[0]!.weight = 100;
    expect((await k.dests(svc))[0]!.weight).toBe(9);
    expect(k.reads).toEqual({ table: 1, service: 0, dests: 1 });
    await expect(k.service({ ...svc, port: 81 })).rejects.toMatchObject({ code: "IPVS_ESRCH_SERVICE" });

    k.refuse = (op) => (op.op === "delService" ? { errno: Errno.EPERM } : undefined);
    const [r] = await k.batch([{ op: "delService", service: svc }]);
    expect(r!.error).toMatchObject({ code: "IPVS_EPERM_SERVICE", errno: 1 });
    k.refuse = undefined;
    k.crashAfter = k.log.length + 1;
    await expect(
      k.batch([
        { op: "editService", service: { ...svc, scheduler: "rr" } },
        { op: "delService", service: svc },
      ]),
    ).rejects.toThrow("crashed");
    expect(k.lines()).toContain("S 6 10.0.0.1:80 rr f=0 t=0 m=32");
  });

  it("timeouts: the kernel's defaults, 0 leaves a value as it is", async () => {
    const k = new MemoryIpvs();
    expect(await k.timeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    await k.setTimeouts({ tcp: 60, tcpFin: 0, udp: 30 });
    expect(await k.timeouts()).toEqual({ tcp: 60, tcpFin: 120, udp: 30 });
  });

  it("sync daemons: one per state, EEXIST twice, ESRCH when none runs", async () => {
    const k = new MemoryIpvs();
    await k.startDaemon({ state: DaemonState.MASTER, mcastIfn: "eth0", syncId: 3 });
    await expect(
      k.startDaemon({ state: DaemonState.MASTER, mcastIfn: "eth1", syncId: 4 }),
    ).rejects.toMatchObject({ code: "IPVS_EEXIST_DAEMON", errno: Errno.EEXIST });
    await k.startDaemon({ state: DaemonState.BACKUP, mcastIfn: "eth0", syncId: 3 });
    expect((await k.daemons()).map((d) => d.state)).toEqual([DaemonState.MASTER, DaemonState.BACKUP]);
    await k.stopDaemon(DaemonState.MASTER);
    await expect(k.stopDaemon(DaemonState.MASTER)).rejects.toMatchObject({
      code: "IPVS_ESRCH_DAEMON",
      errno: Errno.ESRCH,
    });
  });

  it("flush empties the table", async () => {
    const k = new MemoryIpvs();
    await k.batch([{ op: "addService", service: svc }]);
    await k.flush();
    expect(await k.table()).toEqual([]);
    expect(k.flushes).toBe(1);
  });
});
