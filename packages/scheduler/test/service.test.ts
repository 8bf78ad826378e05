// The service model: list order, trash, connection counters, timers with an injected clock,
// persistence templates, errors.
import { describe, expect, it } from "vitest";
import { SchedulerError, Service } from "../src/index.js";

const TCP_SVC = { address: "10.0.0.1", port: 80 } as const;
const pkt = (c: number, port = 40000) => ({ clientAddress: `10.9.0.${c}`, clientPort: port });

function caught(fn: () => unknown): SchedulerError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SchedulerError) return e;
    throw e;
  }
  throw new Error("did not throw");
}

describe("destinations", () => {
  it("are kept in the kernel's list order: the newest first, edits in place", () => {
    const svc = new Service({ ...TCP_SVC, scheduler: "rr", clock: () => 0 });
    for (const a of ["10.1.0.1", "10.1.0.2", "10.1.0.3"]) svc.addDest({ address: a, port: 80 });
    svc.editDest({ address: "10.1.0.1", port: 80, weight: 5 });
    expect(svc.destinations.map((d) => d.address)).toEqual(["10.1.0.3", "10.1.0.2", "10.1.0.1"]);
    svc.deleteDest("10.1.0.2", 80);
    svc.addDest({ address: "10.1.0.2", port: 80 });
    expect(svc.destinations.map((d) => d.address)).toEqual(["10.1.0.2", "10.1.0.3", "10.1.0.1"]);
  });

  it("a deleted destination with connections comes back from the trash with its counters", () => {
    const svc = new Service({ ...TCP_SVC, scheduler: "wlc", clock: () => 0 });
    svc.addDest({ address: "10.1.0.1", port: 80 });
    const c = svc.connect(pkt(1))!.establish();
    const d = c.destination;
    svc.deleteDest("10.1.0.1", 80);
    expect(d.available).toBe(false);
    expect(svc.connect(pkt(2))).toBeUndefined();
    const back = svc.addDest({ address: "10.1.0.1", port: 80, weight: 3 });
    expect(back).toBe(d);
    expect(back).toMatchObject({ activeConns: 1, weight: 3, available: true });
    // Without connections it is gone from the trash: a new object with clean counters.
    c.expire();
    svc.deleteDest("10.1.0.1", 80);
    expect(svc.addDest({ address: "10.1.0.1", port: 80 })).not.toBe(d);
  });

  it("errors carry the kernel's errno and the object", () => {
    const svc = new Service({ ...TCP_SVC, clock: () => 0 });
    svc.addDest({ address: "10.1.0.1", port: 80 });
    expect(caught(() => svc.addDest({ address: "10.1.0.1", port: 80 }))).toMatchObject({
      code: "SCHED_DEST_EXISTS",
      errno: "EEXIST",
      object: "10.1.0.1:80",
    });
    expect(caught(() => svc.editDest({ address: "10.1.0.2", port: 80 }))).toMatchObject({
      code: "SCHED_NO_DEST",
      errno: "ENOENT",
    });
    expect(caught(() => svc.deleteDest("10.1.0.2", 80)).code).toBe("SCHED_NO_DEST");
    expect(
      caught(() => svc.addDest({ address: "10.1.0.3", lowerThreshold: 5, upperThreshold: 2 })),
    ).toMatchObject({
      code: "SCHED_BAD_THRESHOLD",
      errno: "ERANGE",
    });
    expect(caught(() => svc.addDest({ address: "10.1.0.3", weight: -1 })).code).toBe("SCHED_BAD_VALUE");
    expect(caught(() => new Service({ scheduler: "fast" })).code).toBe("SCHED_UNKNOWN_SCHEDULER");
    expect(caught(() => new Service({ scheduler: "rr", flags: "sh-port" })).code).toBe("SCHED_BAD_FLAG");
    expect(caught(() => new Service({ scheduler: "sh", flags: "sh-bogus" })).code).toBe("SCHED_BAD_FLAG");
    expect(caught(() => svc.connect({ clientAddress: "2001:db8::1", clientPort: 1 })).code).toBe(
      "SCHED_BAD_PACKET",
    );
    expect(caught(() => svc.connect({ ...pkt(1), virtualPort: 81 })).code).toBe("SCHED_BAD_PACKET");
  });
});

describe("connections move the counters as the kernel's state tables do", () => {
  it("TCP: SYN active, ESTABLISHED active, closed inactive, expired gone", () => {
    let now = 0;
    const svc = new Service({ ...TCP_SVC, scheduler: "rr", clock: () => now });
    const d = svc.addDest({ address: "10.1.0.1", port: 8080, forward: "masq" });
    const c = svc.connect(pkt(1))!;
    expect(c.state).toBe("SYN_RECV");
    expect(c.destEndpoint).toBe("10.1.0.1:8080");
    expect([d.activeConns, d.inactConns]).toEqual([1, 0]);
    c.establish();
    expect(c.state).toBe("ESTABLISHED");
    c.close();
    expect(c.state).toBe("TIME_WAIT");
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
    now += 119_999;
    svc.advance();
    expect(d.inactConns).toBe(1);
    now += 1;
    svc.advance();
    expect([d.activeConns, d.inactConns, c.expired]).toEqual([0, 0, true]);
    expect(() => c.establish()).toThrow(SchedulerError);
  });

  it("TCP: an idle ESTABLISHED entry expires after 15 min (ipvsadm --set tcp changes it)", () => {
    let now = 0;
    const svc = new Service({ ...TCP_SVC, clock: () => now, timeouts: { tcp: 60 } });
    const d = svc.addDest({ address: "10.1.0.1", port: 80 });
    svc.connect(pkt(1))!.establish();
    now = 59_999;
    expect(svc.connections.length).toBe(1);
    now = 60_000;
    expect(svc.connections.length).toBe(0);
    expect(d.activeConns).toBe(0);
  });

  it("direct routing uses the input-only table: the client's FIN alone makes it FIN_WAIT", () => {
    const svc = new Service({ ...TCP_SVC, clock: () => 0 });
    svc.addDest({ address: "10.1.0.1", port: 80, forward: "route" });
    const c = svc.connect(pkt(1))!.establish();
    c.tcp("in", { fin: true, ack: true });
    expect(c.state).toBe("FIN_WAIT");
    expect(c.active).toBe(false);
    c.tcp("in", { rst: true });
    expect(c.state).toBe("CLOSE");
  });

  it("UDP is never active; one-packet scheduling expires the entry at once", () => {
    const svc = new Service({ ...TCP_SVC, protocol: "udp", clock: () => 0 });
    const d = svc.addDest({ address: "10.1.0.1", port: 80 });
    const c = svc.connect(pkt(1))!.establish();
    expect([c.state, d.activeConns, d.inactConns]).toEqual(["UDP", 0, 1]);
    svc.edit({ onePacket: true });
    expect(svc.connect(pkt(2))!.expired).toBe(true);
    expect(d.inactConns).toBe(1);
  });

  it("OVERLOAD: set at the upper threshold, cleared under the lower one, or 3/4 of the upper", () => {
    const svc = new Service({ ...TCP_SVC, scheduler: "wlc", clock: () => 0 });
    const a = svc.addDest({ address: "10.1.0.1", port: 80, upperThreshold: 4, lowerThreshold: 2 });
    const b = svc.addDest({ address: "10.1.0.2", port: 80, upperThreshold: 4 });
    const conns = Array.from({ length: 8 }, (_, i) => svc.connect(pkt(i + 1))!.establish());
    expect([a.overloaded, b.overloaded]).toEqual([true, true]);
    expect(svc.connect(pkt(99))).toBeUndefined();
    const onA = conns.filter((c) => c.destination === a);
    const onB = conns.filter((c) => c.destination === b);
    onA[0]!.expire();
    onA[1]!.expire(); // 2 left: not under 2
    expect(a.overloaded).toBe(true);
    onA[2]!.expire(); // 1 < 2
    expect(a.overloaded).toBe(false);
    onB[0]!.expire(); // 3 * 4 = 12 is not < 4 * 3
    expect(b.overloaded).toBe(true);
    onB[1]!.expire(); // 2 * 4 < 12
    expect(b.overloaded).toBe(false);
    // Raising the upper threshold clears the flag at once (__ip_vs_update_dest()).
    const c = svc.addDest({ address: "10.1.0.3", port: 80, upperThreshold: 1 });
    svc.connect(pkt(50))!.establish();
    expect(c.overloaded).toBe(true);
    svc.editDest({ address: "10.1.0.3", port: 80, upperThreshold: 5 });
    expect(c.overloaded).toBe(false);
  });
});

describe("persistence templates", () => {
  it("live `timeout` after their last use, and 60 s longer each time while they control connections", () => {
    let now = 0;
    const svc = new Service({ ...TCP_SVC, scheduler: "rr", persistent: { timeout: 300 }, clock: () => now });
    svc.addDest({ address: "10.1.0.1", port: 80 });
    svc.addDest({ address: "10.1.0.2", port: 80 });
    const first = svc.connect(pkt(1))!.establish();
    expect(svc.persistenceTemplates).toMatchObject([
      { clientNet: "10.9.0.1", virtualPort: 80, controls: 1, expiresAt: 300_000 },
    ]);
    expect(first.destination.persistConns).toBe(1);
    now = 299_000;
    expect(svc.connect(pkt(1, 40001))!.destAddress).toBe(first.destAddress);
    // The template's timer restarted at 299 s; at 599 s it still controls two connections → +60 s.
    now = 599_000;
    expect(svc.persistenceTemplates[0]!.expiresAt).toBe(659_000);
    for (const c of svc.connections) c.expire();
    now = 659_000;
    expect(svc.persistenceTemplates).toEqual([]);
    expect(first.destination.persistConns).toBe(0);
    // A new template: rr moves on to the other destination.
    expect(svc.connect(pkt(1, 40002))!.destAddress).not.toBe(first.destAddress);
  });

  it("a template whose destination was deleted is retired and the client rescheduled", () => {
    const svc = new Service({ ...TCP_SVC, scheduler: "rr", persistent: true, clock: () => 0 });
    svc.addDest({ address: "10.1.0.1", port: 80 });
    svc.addDest({ address: "10.1.0.2", port: 80 });
    const c = svc.connect(pkt(1))!;
    svc.deleteDest(c.destAddress, 80);
    const again = svc.connect(pkt(1, 40001))!;
    expect(again.destAddress).not.toBe(c.destAddress);
    expect(svc.persistenceTemplates.length).toBe(2);
  });

  it("a quiesced destination (weight 0) keeps its persistent clients unless expire_quiescent_template", () => {
    for (const expireQuiescentTemplate of [false, true]) {
      const svc = new Service({
        ...TCP_SVC,
        scheduler: "rr",
        persistent: true,
        clock: () => 0,
        expireQuiescentTemplate,
      });
      svc.addDest({ address: "10.1.0.1", port: 80 });
      svc.addDest({ address: "10.1.0.2", port: 80 });
      const c = svc.connect(pkt(1))!;
      svc.editDest({ address: c.destAddress, port: 80, weight: 0 });
      const again = svc.connect(pkt(1, 40001))!;
      expect(again.destAddress === c.destAddress).toBe(!expireQuiescentTemplate);
    }
  });

  it("fwmark services share one template per client across addresses and ports", () => {
    const svc = new Service({ fwmark: 5, scheduler: "rr", persistent: true, clock: () => 0 });
    svc.addDest({ address: "10.1.0.1", port: 0 });
    svc.addDest({ address: "10.1.0.2", port: 0 });
    const a = svc.connect({ ...pkt(1), virtualAddress: "10.0.0.1", virtualPort: 80 })!;
    const b = svc.connect({
      ...pkt(1, 40001),
      virtualAddress: "10.0.0.2",
      virtualPort: 443,
      protocol: "udp",
    })!;
    expect(b.destAddress).toBe(a.destAddress);
    // Persistent fwmark connections keep the port the client asked for.
    expect(b.destEndpoint).toBe(`${a.destAddress}:443`);
    expect(svc.persistenceTemplates.length).toBe(1);
  });

  it("a non-persistent port-0 service never schedules (ip_vs_schedule()); client port 20 never does", () => {
    const svc = new Service({ address: "10.0.0.1", port: 0, clock: () => 0 });
    svc.addDest({ address: "10.1.0.1" });
    expect(svc.connect({ ...pkt(1), virtualPort: 80 })).toBeUndefined();
    const svc2 = new Service({ ...TCP_SVC, clock: () => 0 });
    svc2.addDest({ address: "10.1.0.1" });
    expect(svc2.connect(pkt(1, 20))).toBeUndefined();
    expect(svc2.connect(pkt(1, 21))!.destEndpoint).toBe("10.1.0.1:80");
  });
});

describe("schedulers in detail", () => {
  it("twos: two weighted random draws, the less loaded per weight wins", () => {
    const draws: number[] = [];
    let next: number[] = [];
    const svc = new Service({
      ...TCP_SVC,
      scheduler: "twos",
      clock: () => 0,
      random: (bound) => {
        draws.push(bound);
        return next.shift()!;
      },
    });
    const a = svc.addDest({ address: "10.1.0.1", port: 80, weight: 1 }); // list: c, b, a
    const b = svc.addDest({ address: "10.1.0.2", port: 80, weight: 2 });
    const c = svc.addDest({ address: "10.1.0.3", port: 80, weight: 3 });
    // Total weight 6 → draws in [0, 7). r = 0 or ≤ 3 lands on c (first, weight 3), 4..5 on b, 6 on a.
    next = [0, 6];
    expect(svc.connect(pkt(1))!.destination).toBe(c); // both idle: ties keep the first draw
    expect(draws).toEqual([7, 7]);
    next = [2, 6];
    expect(svc.connect(pkt(2))!.destination).toBe(a); // c busier (1 vs 0 active)
    next = [5, 4];
    expect(svc.connect(pkt(3))!.destination).toBe(b);
    expect([a.activeConns, b.activeConns, c.activeConns]).toEqual([1, 1, 1]);
  });

  it("mh: the table size follows CONFIG_IP_VS_MH_TAB_INDEX, or any prime", () => {
    expect(new Service({ scheduler: "mh" }).mhTableSize).toBe(4093);
    expect(new Service({ scheduler: "mh", mhTableIndex: 8 }).mhTableSize).toBe(251);
    expect(new Service({ scheduler: "mh", mhTableIndex: 17 }).kernelTableBytes).toBe(131071 * 8);
    expect(new Service({ scheduler: "mh", mhTableSize: 65537 }).mhTableSize).toBe(65537);
    expect(caught(() => new Service({ scheduler: "mh", mhTableSize: 65536 })).code).toBe("SCHED_BAD_VALUE");
    expect(caught(() => new Service({ scheduler: "mh", mhTableIndex: 18 })).code).toBe("SCHED_BAD_VALUE");
  });

  it("changing the scheduler rebinds it to the current destinations", () => {
    const svc = new Service({ ...TCP_SVC, scheduler: "rr", clock: () => 0 });
    svc.addDest({ address: "10.1.0.1", port: 80, weight: 1 });
    svc.addDest({ address: "10.1.0.2", port: 80, weight: 9 });
    svc.edit({ scheduler: "fo" });
    expect(svc.scheduler).toBe("fo");
    expect(svc.schedule(pkt(1))!.address).toBe("10.1.0.2");
    svc.edit({ scheduler: "sh", flags: "sh-port" });
    expect(svc.flags & 0x10).toBe(0x10);
  });
});

describe("observeCounters: a live table's counters in place of replayed connections", () => {
  it("wlc picks by the observed counts; OVERLOAD follows the upper threshold; bad input is refused", () => {
    const svc = new Service({ scheduler: "wlc", address: "10.0.0.1", port: 80 });
    svc.addDest({ address: "10.0.1.1", port: 80, weight: 1 });
    svc.addDest({ address: "10.0.1.2", port: 80, weight: 1, upperThreshold: 5 });
    // Unobserved, both are idle: the kernel's list head (the newest, .2) wins the tie.
    expect(svc.schedule({ clientAddress: "192.0.2.1", clientPort: 1000 })?.address).toBe("10.0.1.2");
    svc.observeCounters("10.0.1.2", 80, { active: 3, inactive: 0 });
    svc.observeCounters("10.0.1.1", 80, { active: 1, inactive: 7 });
    // Overheads: .2 = 3×256 = 768, .1 = 256 + 7 = 263.
    expect(svc.schedule({ clientAddress: "192.0.2.1", clientPort: 1001 })?.address).toBe("10.0.1.1");
    svc.observeCounters("10.0.1.1", 80, { active: 9, inactive: 0 });
    expect(svc.schedule({ clientAddress: "192.0.2.1", clientPort: 1002 })?.address).toBe("10.0.1.2");
    const d = svc.observeCounters("10.0.1.2", 80, { active: 5, inactive: 0 });
    expect(d.overloaded).toBe(true);
    expect(svc.schedule({ clientAddress: "192.0.2.1", clientPort: 1003 })?.address).toBe("10.0.1.1");
    expect(() => svc.observeCounters("10.0.1.9", 80, { active: 0, inactive: 0 })).toThrow(
      expect.objectContaining({ code: "SCHED_NO_DEST", errno: "ENOENT" }),
    );
    expect(() => svc.observeCounters("10.0.1.1", 80, { active: -1, inactive: 0 })).toThrow(
      expect.objectContaining({ code: "SCHED_BAD_VALUE" }),
    );
  });
});
