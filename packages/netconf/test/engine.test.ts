// The pure engines: profile planning against a snapshot, and the paced announcement queue under
// a fake clock (no sleeping).
import { FakeClock } from "@lvs/inet";
import { describe, expect, it } from "vitest";
import {
  type AddressEntry,
  describeChange,
  desiredDirector,
  desiredRealServer,
  formatReport,
  type LinkEntry,
  PacedQueue,
  planUp,
  type Snapshot,
} from "../src/index.js";

const link = (name: string, up = true): LinkEntry => ({
  index: name.length,
  name,
  up,
  running: up,
  lowerUp: up,
  operState: up ? "UP" : "DOWN",
  mtu: 1500,
  linkType: "ETHER",
  flags: up ? 1 : 0,
});

function snap(
  values: Record<string, string>,
  links: LinkEntry[] = [link("lo")],
  addresses: AddressEntry[] = [],
): Snapshot {
  return { sysctl: (k) => values[k], links, addresses };
}

const fresh = {
  "net.ipv4.conf.all.arp_ignore": "0",
  "net.ipv4.conf.all.arp_announce": "0",
  "net.ipv4.conf.lo.arp_ignore": "0",
  "net.ipv4.conf.lo.arp_announce": "0",
  "net.ipv4.conf.tunl0.arp_ignore": "0",
  "net.ipv4.conf.tunl0.arp_announce": "0",
  "net.ipv4.conf.tunl0.rp_filter": "1",
  "net.ipv4.conf.all.rp_filter": "1",
  "net.ipv4.ip_forward": "0",
  "net.ipv6.conf.all.forwarding": "0",
  "net.ipv4.conf.all.send_redirects": "1",
  "net.ipv4.conf.default.send_redirects": "1",
  "net.ipv4.conf.eth1.send_redirects": "1",
};

describe("real-server profiles", () => {
  it("DR: arp_ignore=1, arp_announce=2 on all and lo, VIPs on lo as /32 and /128", () => {
    const plan = planUp(
      desiredRealServer({ mode: "dr", vips: ["10.0.0.100", "2001:db8::100"] }),
      snap(fresh),
    );
    expect(plan.changes.map(describeChange)).toEqual([
      "sysctl net.ipv4.conf.all.arp_ignore: 0 -> 1",
      "sysctl net.ipv4.conf.all.arp_announce: 0 -> 2",
      "sysctl net.ipv4.conf.lo.arp_ignore: 0 -> 1",
      "sysctl net.ipv4.conf.lo.arp_announce: 0 -> 2",
      "ip address add 10.0.0.100/32 dev lo",
      "ip address add 2001:db8::100/128 dev lo",
    ]);
  });

  it("DR with only IPv6 VIPs touches no sysctl (ND answers only for the receiving interface)", () => {
    const plan = planUp(desiredRealServer({ mode: "dr", vips: ["2001:db8::100"] }), snap(fresh));
    expect(plan.changes.map((c) => c.kind)).toEqual(["address-add"]);
  });

  it("is idempotent: what is in place is reported unchanged; arp_ignore=2 already hides", () => {
    const done = {
      ...fresh,
      "net.ipv4.conf.all.arp_ignore": "2",
      "net.ipv4.conf.all.arp_announce": "2",
      "net.ipv4.conf.lo.arp_ignore": "1",
      "net.ipv4.conf.lo.arp_announce": "2",
    };
    const addr: AddressEntry = {
      index: 1,
      dev: "lo",
      family: 4,
      address: "10.0.0.100",
      prefixLength: 32,
      scope: 0,
      flags: 0x80,
    };
    const plan = planUp(
      desiredRealServer({ mode: "dr", vips: ["10.0.0.100"] }),
      snap(done, [link("lo")], [addr]),
    );
    expect(plan.changes).toEqual([]);
    expect(plan.unchanged).toContain("net.ipv4.conf.all.arp_ignore = 2");
    expect(plan.unchanged).toContain("10.0.0.100/32 on lo");
  });

  it("TUN: tunl0 up, VIPs on it, ARP sysctls on all and tunl0, rp_filter relaxed", () => {
    const plan = planUp(
      desiredRealServer({ mode: "tun", vips: ["10.0.0.100"] }),
      snap(fresh, [link("lo"), link("tunl0", false)]),
    );
    expect(plan.changes.map(describeChange)).toEqual([
      "ip link set tunl0 up",
      "sysctl net.ipv4.conf.all.arp_ignore: 0 -> 1",
      "sysctl net.ipv4.conf.all.arp_announce: 0 -> 2",
      "sysctl net.ipv4.conf.tunl0.arp_ignore: 0 -> 1",
      "sysctl net.ipv4.conf.tunl0.arp_announce: 0 -> 2",
      "sysctl net.ipv4.conf.tunl0.rp_filter: 1 -> 0",
      "sysctl net.ipv4.conf.all.rp_filter: 1 -> 2",
      "ip address add 10.0.0.100/32 dev tunl0",
    ]);
    // Loose (2) or off (0) already passes decapsulated packets: nothing to do.
    const loose = planUp(
      desiredRealServer({ mode: "tun", vips: ["10.0.0.100"] }),
      snap({ ...fresh, "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.tunl0.rp_filter": "2" }, [
        link("lo"),
        link("tunl0"),
      ]),
    );
    expect(loose.changes.some((c) => c.kind === "sysctl" && c.key.endsWith("rp_filter"))).toBe(false);
  });

  it("TUN without the ipip module says what to load", () => {
    expect(() => planUp(desiredRealServer({ mode: "tun", vips: ["10.0.0.100"] }), snap(fresh))).toThrowError(
      expect.objectContaining({ code: "NETCONF_NO_TUNL0", message: expect.stringMatching(/modprobe ipip/) }),
    );
    expect(() => planUp(desiredRealServer({ mode: "tun", vips: ["2001:db8::1"] }), snap(fresh))).toThrowError(
      /modprobe ip6_tunnel/,
    );
  });

  it("refuses no VIPs, bad VIPs and unknown modes", () => {
    expect(() => desiredRealServer({ mode: "dr", vips: [] })).toThrowError(/at least one VIP/);
    expect(() => desiredRealServer({ mode: "dr", vips: ["10.0.0.300"] })).toThrowError(
      expect.objectContaining({ code: "NETCONF_BAD_ADDRESS" }),
    );
    expect(() => desiredRealServer({ mode: "nat" as "dr", vips: ["10.0.0.1"] })).toThrowError(
      /not dr or tun/,
    );
  });
});

describe("director profiles", () => {
  it("NAT: ip_forward=1 and send_redirects=0 on all, default and the named interfaces", () => {
    const plan = planUp(desiredDirector({ mode: "nat", devices: ["eth1"], ipv6: true }), snap(fresh));
    expect(plan.changes.map(describeChange)).toEqual([
      "sysctl net.ipv4.ip_forward: 0 -> 1",
      "sysctl net.ipv6.conf.all.forwarding: 0 -> 1",
      "sysctl net.ipv4.conf.all.send_redirects: 1 -> 0",
      "sysctl net.ipv4.conf.default.send_redirects: 1 -> 0",
      "sysctl net.ipv4.conf.eth1.send_redirects: 1 -> 0",
    ]);
  });

  it("DR and TUN leave ip_forward alone", () => {
    for (const mode of ["dr", "tun"] as const) {
      const keys = desiredDirector({ mode }).sysctls.map((s) => s.key);
      expect(keys).not.toContain("net.ipv4.ip_forward");
      expect(keys).toContain("net.ipv4.conf.all.send_redirects");
    }
  });

  it("net.ipv4.vs.* extras are skipped when IPVS is not loaded; other missing keys are errors", () => {
    const plan = planUp(
      desiredDirector({ mode: "dr", sysctls: { "net.ipv4.vs.expire_nodest_conn": 1 } }),
      snap(fresh),
    );
    expect(plan.skipped).toEqual([{ object: "net.ipv4.vs.expire_nodest_conn", reason: expect.any(String) }]);
    expect(() => planUp(desiredDirector({ mode: "dr", devices: ["eth9"] }), snap(fresh))).toThrowError(
      expect.objectContaining({
        code: "NETCONF_SYSCTL_MISSING",
        context: { object: "net.ipv4.conf.eth9.send_redirects" },
      }),
    );
  });

  it("the dry-run report lists each change the way sysctl(8) and ip(8) would", () => {
    const plan = planUp(desiredDirector({ mode: "nat" }), snap(fresh));
    const text = formatReport({
      role: "director",
      mode: "nat",
      dryRun: true,
      stateFile: "/x",
      ...plan,
      notes: [],
    });
    expect(text).toBe(
      [
        "director nat: dry run, 3 changes would be made",
        "  sysctl net.ipv4.ip_forward: 0 -> 1",
        "  sysctl net.ipv4.conf.all.send_redirects: 1 -> 0",
        "  sysctl net.ipv4.conf.default.send_redirects: 1 -> 0",
        "",
      ].join("\n"),
    );
  });
});

const frame = (n: number) => Uint8Array.of(n);

describe("paced announcement queue", () => {
  it("spaces frames on one interface by pacingMs, across calls, in due order", async () => {
    const clock = new FakeClock();
    const sent: Array<[number, number]> = [];
    const q = new PacedQueue((f) => sent.push([clock.now(), f[0] as number]), 10, clock);
    const a = q.enqueue([1, 2, 3].map((n) => ({ frame: frame(n), due: 0 })));
    const b = q.enqueue([{ frame: frame(9), due: 5 }]);
    clock.advance(100);
    expect(await a).toEqual({ sent: 3 });
    expect(await b).toEqual({ sent: 1 });
    expect(sent).toEqual([
      [0, 1],
      [10, 2],
      [20, 3],
      [30, 9],
    ]);
  });

  it("repeats are due intervalMs apart; pacing 0 sends what is due at once", async () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    const q = new PacedQueue(() => sent.push(clock.now()), 0, clock);
    const p = q.enqueue([0, 0, 1000, 1000, 2000, 2000].map((due, i) => ({ frame: frame(i), due })));
    clock.advance(2500);
    expect(await p).toEqual({ sent: 6 });
    expect(sent).toEqual([0, 0, 1000, 1000, 2000, 2000]);
  });

  it("cancel resolves pending calls with what was sent", async () => {
    const clock = new FakeClock();
    let n = 0;
    const q = new PacedQueue(() => n++, 50, clock);
    const p = q.enqueue([0, 0, 0, 0].map(() => ({ frame: frame(0), due: 0 })));
    clock.advance(60); // two frames: t=0 and t=50
    q.cancel();
    expect(await p).toEqual({ sent: 2, cancelled: true });
    expect(n).toBe(2);
    clock.advance(1000);
    expect(n).toBe(2);
    q.close();
    await expect(q.enqueue([{ frame: frame(0), due: 0 }])).rejects.toMatchObject({ code: "NETCONF_CLOSED" });
  });

  it("retries a frame the kernel has no buffer for, and fails a call on a hard error", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const busy = Object.assign(new Error("busy"), { context: { errnoName: "EAGAIN" } });
    const q = new PacedQueue(
      () => {
        calls++;
        if (calls <= 3) throw busy;
      },
      0,
      clock,
    );
    const p = q.enqueue([{ frame: frame(1), due: 0 }]);
    clock.advance(10);
    expect(await p).toEqual({ sent: 1 });
    expect(calls).toBe(4);

    const hard = Object.assign(new Error("down"), { context: { errno: 100, errnoName: "ENETDOWN" } });
    const q2 = new PacedQueue(
      () => {
        throw hard;
      },
      0,
      clock,
      "eth0",
    );
    const p2 = q2.enqueue([{ frame: frame(1), due: 0 }]);
    clock.advance(10);
    await expect(p2).rejects.toMatchObject({
      code: "NETCONF_PACKET",
      context: { object: "eth0", errno: 100, errnoName: "ENETDOWN" },
    });
  });
});
