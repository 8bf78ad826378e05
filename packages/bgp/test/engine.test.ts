// The RFC 4271 FSM on a FakeClock: every transition of an announce-only speaker, its timers
// (ConnectRetry back-off, hold/keepalive from the negotiated hold time, 0 = none), the
// NOTIFICATIONs it sends, and what it announces/withdraws. No sockets: the effects are the output.
import { FakeClock } from "@lvs/inet";
import { describe, expect, it } from "vitest";
import {
  type BgpMessage,
  BgpSession,
  buildOpen,
  COMMUNITY_GRACEFUL_SHUTDOWN,
  ceaseNotification,
  decodeMessage,
  encodeMessage,
  type FsmState,
  parseRoute,
  type SessionConfig,
  type SessionEffect,
  type UpdateMessage,
} from "../src/index.js";

const PEER_OPEN = (over: Partial<Parameters<typeof buildOpen>[0]> = {}) =>
  encodeMessage(
    buildOpen({ localAs: 65000, holdTime: 9, routerId: "10.0.0.1", families: ["ipv4", "ipv6"], ...over }),
  );
const KEEPALIVE = encodeMessage({ type: "KEEPALIVE" });

function harness(cfg: Partial<SessionConfig> = {}) {
  const clock = new FakeClock(0);
  const effects: SessionEffect[] = [];
  const s = new BgpSession(
    { localAs: 65001, peerAs: 65000, routerId: "10.0.0.2", holdTime: 9, random: () => 1, ...cfg },
    clock,
    (e) => effects.push(e),
  );
  const take = () => effects.splice(0);
  const sent = (list: SessionEffect[]) =>
    list.flatMap((e) => (e.type === "send" ? [decodeMessage(e.bytes) as BgpMessage] : []));
  const kinds = (list: SessionEffect[]) =>
    list.map((e) =>
      e.type === "send"
        ? e.message.type
        : e.type === "state"
          ? `→${e.to}`
          : e.type === "notification"
            ? `${e.direction} ${e.name}`
            : e.type,
    );
  /** Start, connect, exchange OPENs and KEEPALIVEs: Established. */
  const establish = (open = PEER_OPEN()) => {
    s.start();
    s.tcpConnected("10.0.0.2");
    s.receive(open);
    s.receive(KEEPALIVE);
  };
  return { s, clock, effects, take, sent, kinds, establish };
}

describe("BgpSession (RFC 4271 §8 FSM)", () => {
  it("Idle → Connect → OpenSent → OpenConfirm → Established, sending OPEN then KEEPALIVE", () => {
    const h = harness();
    const states: FsmState[] = [];
    h.s.start();
    expect(h.kinds(h.take())).toEqual(["→Connect", "connect"]);
    h.s.tcpConnected("10.0.0.2");
    const afterTcp = h.take();
    expect(h.kinds(afterTcp)).toEqual(["OPEN", "→OpenSent"]);
    expect(h.sent(afterTcp)[0]).toMatchObject({ type: "OPEN", myAs: 65001, holdTime: 9, bgpId: "10.0.0.2" });
    h.s.receive(PEER_OPEN());
    expect(h.kinds(h.take())).toEqual(["KEEPALIVE", "→OpenConfirm"]);
    expect(h.s.negotiated).toMatchObject({
      holdTime: 9,
      keepaliveTime: 3,
      as4: true,
      families: ["ipv4", "ipv6"],
      peerAs: 65000,
    });
    h.s.receive(KEEPALIVE);
    for (const e of h.take()) if (e.type === "state") states.push(e.to);
    expect(states).toEqual(["Established"]);
    expect(h.s.stats.established).toBe(1);
  });

  it("a message split across reads and several in one read are both handled", () => {
    const h = harness();
    h.s.start();
    h.s.tcpConnected("10.0.0.2");
    const both = Buffer.concat([PEER_OPEN(), KEEPALIVE]);
    h.s.receive(both.subarray(0, 5));
    h.s.receive(both.subarray(5));
    expect(h.s.state).toBe("Established");
  });

  it("negotiated hold time is the smaller one; KEEPALIVE every third of it; hold timer expiry → NOTIFICATION 4 and Idle", () => {
    const h = harness({ holdTime: 30 });
    h.establish(PEER_OPEN({ holdTime: 6 }));
    expect(h.s.negotiated?.holdTime).toBe(6);
    h.take();
    h.clock.advance(2000);
    expect(h.kinds(h.take())).toEqual(["KEEPALIVE"]);
    h.s.receive(KEEPALIVE); // restarts the hold timer at t=2 s
    h.clock.advance(2000);
    expect(h.kinds(h.take())).toEqual(["KEEPALIVE"]);
    h.clock.advance(3999); // t=7.999 s: one more KEEPALIVE (t=6); the hold timer (restarted at 2 s) not yet expired
    expect(h.kinds(h.take())).toEqual(["KEEPALIVE"]);
    expect(h.s.state).toBe("Established");
    h.clock.advance(1);
    const out = h.take();
    expect(h.kinds(out)).toContain("sent Hold Timer Expired");
    expect(h.sent(out).at(-1)).toMatchObject({ type: "NOTIFICATION", code: 4, subcode: 0 });
    expect(h.s.state).toBe("Idle");
  });

  it("hold time 0 on either side: no KEEPALIVEs and no hold timer", () => {
    const h = harness({ holdTime: 0 });
    h.establish();
    expect(h.s.negotiated).toMatchObject({ holdTime: 0, keepaliveTime: 0 });
    h.take();
    h.clock.advance(3_600_000);
    expect(h.take()).toEqual([]);
    expect(h.s.state).toBe("Established");
  });

  it("OpenSent waits 240 s (the large hold value) for an OPEN", () => {
    const h = harness();
    h.s.start();
    h.s.tcpConnected("10.0.0.2");
    h.take();
    h.clock.advance(239_999);
    expect(h.s.state).toBe("OpenSent");
    h.clock.advance(1);
    expect(h.s.state).toBe("Idle");
    expect(h.s.stats.lastNotificationSent).toBe("Hold Timer Expired");
  });

  it("ConnectRetry back-off: refused connections retry after 1, 2, 4 … s, capped, reset once Established", () => {
    const h = harness({ connectRetryMs: 1000, maxConnectRetryMs: 8000 });
    h.s.start();
    const connectsAt: number[] = [];
    h.take();
    for (let i = 0; i < 6; i++) {
      h.s.tcpFailed("ECONNREFUSED"); // Connect → Active
      expect(h.s.state).toBe("Active");
      const t0 = h.clock.now();
      while (!h.effects.some((e) => e.type === "connect")) h.clock.advance(100);
      connectsAt.push(h.clock.now() - t0);
      h.take();
    }
    expect(connectsAt).toEqual([2000, 4000, 8000, 8000, 8000, 8000]);
    h.s.tcpConnected("10.0.0.2");
    h.s.receive(PEER_OPEN());
    h.s.receive(KEEPALIVE);
    expect(h.s.state).toBe("Established");
    h.s.tcpFailed("reset");
    expect(h.s.state).toBe("Idle");
    h.take();
    h.clock.advance(1999);
    expect(h.s.state).toBe("Idle"); // back-off restarted from 1 s and doubled once for this failure
    h.clock.advance(1);
    expect(h.s.state).toBe("Connect");
  });

  it("jitter (RFC 4271 §10) scales ConnectRetry into 0.75..1 of its value", () => {
    const h = harness({ connectRetryMs: 1000, random: () => 0 });
    h.s.start();
    h.take();
    h.clock.advance(749);
    expect(h.effects.some((e) => e.type === "connect")).toBe(false);
    h.clock.advance(1);
    expect(h.kinds(h.take())).toEqual(["close", "→Connect", "connect"]);
  });

  it("a connect attempt with no answer is dropped and retried when ConnectRetryTimer expires", () => {
    const h = harness({ connectRetryMs: 5000 });
    h.s.start();
    h.take();
    h.clock.advance(5000);
    expect(h.kinds(h.take())).toEqual(["close", "→Connect", "connect"]);
  });

  it("OPEN checks: wrong peer AS → 2/2 (Bad Peer AS); same identifier on iBGP → 2/3; hold 2 → 2/6", () => {
    const a = harness();
    a.s.start();
    a.s.tcpConnected("10.0.0.2");
    a.take();
    a.s.receive(PEER_OPEN({ localAs: 65099 }));
    expect(a.sent(a.take())).toEqual([
      { type: "NOTIFICATION", code: 2, subcode: 2, data: new Uint8Array(0) },
    ]);
    expect(a.s.state).toBe("Idle");

    const b = harness({ localAs: 65000, peerAs: 65000 });
    b.s.start();
    b.s.tcpConnected("10.0.0.2");
    b.take();
    b.s.receive(PEER_OPEN({ routerId: "10.0.0.2" }));
    expect(b.sent(b.take())[0]).toMatchObject({ code: 2, subcode: 3 });

    const c = harness();
    c.s.start();
    c.s.tcpConnected("10.0.0.2");
    c.take();
    const bad = PEER_OPEN();
    bad[22] = 0;
    bad[23] = 2; // Hold Time field = 2
    c.s.receive(bad);
    expect(c.sent(c.take())[0]).toMatchObject({ code: 2, subcode: 6 });
  });

  it("unexpected messages → FSM Error with the state's subcode (RFC 6608)", () => {
    const a = harness();
    a.s.start();
    a.s.tcpConnected("10.0.0.2");
    a.take();
    a.s.receive(KEEPALIVE);
    expect(a.sent(a.take())[0]).toMatchObject({ code: 5, subcode: 1 });

    const b = harness();
    b.s.start();
    b.s.tcpConnected("10.0.0.2");
    b.s.receive(PEER_OPEN());
    b.take();
    b.s.receive(PEER_OPEN());
    expect(b.sent(b.take())[0]).toMatchObject({ code: 5, subcode: 2 });

    const c = harness();
    c.establish();
    c.take();
    c.s.receive(PEER_OPEN());
    expect(c.sent(c.take())[0]).toMatchObject({ code: 5, subcode: 3 });
    expect(c.s.state).toBe("Idle");
  });

  it("a malformed header → Message Header Error and Idle; then automatic restart after the back-off", () => {
    const h = harness({ connectRetryMs: 1000 });
    h.establish();
    h.take();
    const bad = Uint8Array.from(KEEPALIVE);
    bad[3] = 0;
    h.s.receive(bad);
    const out = h.take();
    expect(h.sent(out)).toEqual([{ type: "NOTIFICATION", code: 1, subcode: 1, data: new Uint8Array(0) }]);
    expect(h.kinds(out).slice(-2)).toEqual(["close", "→Idle"]);
    h.clock.advance(2000);
    expect(h.s.state).toBe("Connect");
  });

  it("RFC 7606 treat-as-withdraw UPDATEs are counted and ignored; good UPDATEs counted", () => {
    const h = harness();
    h.establish();
    h.take();
    const bad = encodeMessage({
      type: "UPDATE",
      withdrawn: [],
      attributes: [{ flags: 0x40, kind: "origin", origin: 0 }],
      nlri: [{ address: "198.51.100.0", length: 24 }],
    }); // AS_PATH and NEXT_HOP missing
    h.s.receive(bad);
    expect(h.s.state).toBe("Established");
    expect(h.s.stats.malformedUpdatesIn).toBe(1);
    const good = encodeMessage({
      type: "UPDATE",
      withdrawn: [],
      attributes: [
        { flags: 0x40, kind: "origin", origin: 0 },
        { flags: 0x40, kind: "as-path", segments: [{ type: 2, asns: [65000] }] },
        { flags: 0x40, kind: "next-hop", nextHop: "10.0.0.1" },
      ],
      nlri: [{ address: "198.51.100.0", length: 24 }],
    });
    h.s.receive(good);
    expect(h.s.stats).toMatchObject({ updatesIn: 2, prefixesIn: 1 });
    expect(h.take().filter((e) => e.type === "send")).toEqual([]); // nothing sent back
  });

  it("announces on Established (next-hop self, communities), then only the changes; ROUTE-REFRESH re-sends", () => {
    const h = harness();
    h.s.setRoutes([
      parseRoute({ prefix: "192.0.2.10/32", communities: ["65001:7"] }),
      parseRoute({ prefix: "2001:db8::10/128", nextHop: "fd00::2" }),
    ]);
    h.establish();
    const ups = h.sent(h.take()).filter((m): m is UpdateMessage => m.type === "UPDATE");
    expect(ups).toHaveLength(2);
    expect(ups[0]?.nlri).toEqual([{ address: "192.0.2.10", length: 32 }]);
    expect(ups[0]?.attributes.find((a) => a.kind === "next-hop")).toMatchObject({ nextHop: "10.0.0.2" });
    expect(ups[0]?.attributes.find((a) => a.kind === "communities")).toMatchObject({
      communities: [((65001 << 16) | 7) >>> 0],
    });
    expect(ups[1]?.attributes[0]).toMatchObject({
      kind: "mp-reach",
      nextHops: ["fd00::2"],
      nlri: [{ address: "2001:db8::10", length: 128 }],
    });

    // add one, change one's communities (graceful shutdown), remove one
    h.s.setRoutes([
      parseRoute({ prefix: "192.0.2.10/32", communities: ["65001:7", COMMUNITY_GRACEFUL_SHUTDOWN] }),
      parseRoute({ prefix: "192.0.2.11/32" }),
    ]);
    const delta = h.sent(h.take()) as UpdateMessage[];
    expect(delta.flatMap((u) => u.attributes.filter((a) => a.kind === "mp-unreach"))).toMatchObject([
      { withdrawn: [{ address: "2001:db8::10", length: 128 }] },
    ]);
    expect(
      delta
        .flatMap((u) => u.nlri)
        .map((p) => p.address)
        .sort(),
    ).toEqual(["192.0.2.10", "192.0.2.11"]);

    h.s.receive(encodeMessage({ type: "ROUTE_REFRESH", afi: 1, safi: 1 }));
    const again = h.sent(h.take()) as UpdateMessage[];
    expect(
      again
        .flatMap((u) => u.nlri)
        .map((p) => p.address)
        .sort(),
    ).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(h.s.stats.routeRefreshesIn).toBe(1);
  });

  it("an IPv6 route is not announced when the peer did not offer IPv6 unicast (a warning says so)", () => {
    const h = harness();
    h.s.setRoutes([parseRoute({ prefix: "2001:db8::10/128", nextHop: "fd00::2" })]);
    h.establish(PEER_OPEN({ families: ["ipv4"] }));
    const out = h.take();
    expect(h.sent(out).filter((m) => m.type === "UPDATE")).toEqual([]);
    expect(out.find((e) => e.type === "warning")).toMatchObject({
      message: expect.stringContaining("2001:db8::10/128"),
    });
  });

  it("stop(): withdraw everything, Cease/Administrative Shutdown with the text, close, and stay Idle", () => {
    const h = harness();
    h.s.setRoutes([parseRoute({ prefix: "192.0.2.10/32" })]);
    h.establish();
    h.take();
    h.s.stop("maintenance");
    const out = h.take();
    expect(h.sent(out)).toEqual([
      { type: "UPDATE", withdrawn: [{ address: "192.0.2.10", length: 32 }], attributes: [], nlri: [] },
      ceaseNotification(2, "maintenance"),
    ]);
    expect(h.kinds(out).slice(-3)).toEqual(["sent Cease/Administrative Shutdown", "close", "→Idle"]);
    h.clock.advance(600_000);
    expect(h.s.state).toBe("Idle");
    expect(h.clock.pending).toBe(0);
  });

  it("a NOTIFICATION from the peer → Idle, its name and shutdown text reported", () => {
    const h = harness();
    h.establish();
    h.take();
    h.s.receive(encodeMessage(ceaseNotification(2, "router reboot")));
    expect(h.take().find((e) => e.type === "notification")).toEqual({
      type: "notification",
      direction: "received",
      code: 6,
      subcode: 2,
      name: "Cease/Administrative Shutdown",
      text: "router reboot",
    });
    expect(h.s.state).toBe("Idle");
  });

  it("refuses a bad configuration with a stable code", () => {
    const clock = new FakeClock();
    const mk = (c: Partial<SessionConfig>) => () =>
      new BgpSession({ localAs: 1, peerAs: 2, routerId: "1.1.1.1", ...c }, clock, () => {});
    expect(mk({ holdTime: 2 })).toThrow(
      expect.objectContaining({ code: "BGP_BAD_CONFIG", context: { object: "hold-time" } }),
    );
    expect(mk({ localAs: 0 })).toThrow(expect.objectContaining({ code: "BGP_BAD_CONFIG" }));
    expect(mk({ routerId: "0.0.0.0" })).toThrow(
      expect.objectContaining({ code: "BGP_BAD_CONFIG", context: { object: "router-id" } }),
    );
  });
});
