// Codec: golden bytes both ways (FRR 8.4's own messages and ours, as FRR accepted them), lossless
// round trips, framing, and each decode error mapped to the NOTIFICATION RFC 4271 §6 prescribes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  AS_TRANS,
  BgpError,
  type BgpMessage,
  buildAnnouncements,
  buildOpen,
  buildWithdrawals,
  COMMUNITY_GRACEFUL_SHUTDOWN,
  ceaseNotification,
  decodeMessage,
  encodeMessage,
  Framer,
  type OpenMessage,
  parseCommunity,
  parseRoute,
  shutdownCommunication,
  type UpdateMessage,
} from "../src/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));
const MARKER = "ff".repeat(16);
const frr = JSON.parse(
  readFileSync(new URL("./fixtures/frr-8.4-messages.json", import.meta.url), "utf8"),
) as {
  messages: { name: string; hex: string }[];
};
const frrMsg = (i: number) => decodeMessage(bytes(frr.messages[i]?.hex ?? ""));

/** A message built from raw body hex and a type, header computed. */
function frame(type: number, body: string): Uint8Array {
  const b = bytes(body);
  const len = 19 + b.length;
  return bytes(`${MARKER}${len.toString(16).padStart(4, "0")}${type.toString(16).padStart(2, "0")}${hex(b)}`);
}

/** The error a decode throws, or undefined if it decodes. */
function decodeError(b: Uint8Array): BgpError | undefined {
  try {
    decodeMessage(b);
    return undefined;
  } catch (err) {
    if (err instanceof BgpError) return err;
    throw err;
  }
}

describe("FRR 8.4's messages (captured)", () => {
  it.each(frr.messages.map((m) => [m.name, m.hex] as const))("%s: decode → encode is byte-exact", (_n, h) => {
    expect(hex(encodeMessage(decodeMessage(bytes(h))))).toBe(h);
  });

  it("FRR's OPEN: version 4, AS 65000 in AS4, hold 3, both families, route refresh; the rest kept raw", () => {
    const open = frrMsg(0) as OpenMessage;
    expect(open).toMatchObject({ type: "OPEN", version: 4, myAs: 65000, holdTime: 3, bgpId: "10.177.0.1" });
    const caps = open.params.flatMap((p) => ("capabilities" in p ? p.capabilities : []));
    expect(caps.filter((c) => c.kind !== "unknown")).toEqual([
      { kind: "multiprotocol", afi: 1, safi: 1 },
      { kind: "multiprotocol", afi: 2, safi: 1 },
      { kind: "route-refresh" },
      { kind: "as4", asn: 65000 },
    ]);
    // Cisco route refresh 128, enhanced RR 70, extended message 6, add-path 69, FQDN 73, GR 64, LLGR 71
    expect(caps.filter((c) => c.kind === "unknown").map((c) => (c.kind === "unknown" ? c.code : 0))).toEqual([
      128, 70, 6, 69, 73, 64, 71,
    ]);
  });

  it("FRR's UPDATEs: our route echoed with both communities; IPv6 in MP_REACH_NLRI with a 32-octet next hop", () => {
    const echo = frrMsg(2) as UpdateMessage;
    expect(echo.nlri).toEqual([{ address: "192.0.2.10", length: 32 }]);
    expect(echo.attributes.find((a) => a.kind === "as-path")).toMatchObject({
      segments: [{ type: 2, asns: [65000, 65001] }],
    });
    expect(echo.attributes.find((a) => a.kind === "communities")).toMatchObject({
      communities: [parseCommunity("65001:100"), COMMUNITY_GRACEFUL_SHUTDOWN],
    });
    const v6 = frrMsg(3) as UpdateMessage;
    const mp = v6.attributes.find((a) => a.kind === "mp-reach");
    expect(mp).toMatchObject({ afi: 2, safi: 1, nlri: [{ address: "2001:db8:ff::", length: 48 }] });
    expect(mp?.kind === "mp-reach" && mp.nextHops.length).toBe(2);
    expect(mp?.flags).toBe(0x90); // optional + extended length, kept
    expect(frrMsg(5)).toMatchObject({ type: "NOTIFICATION", code: 6, subcode: 4 });
  });
});

const bird = JSON.parse(
  readFileSync(new URL("./fixtures/bird-2.0-messages.json", import.meta.url), "utf8"),
) as {
  messages: { name: string; hex: string }[];
};

describe("BIRD 2.0's messages (captured)", () => {
  it.each(
    bird.messages.map((m) => [m.name, m.hex] as const),
  )("%s: decode → encode is byte-exact", (_n, h) => {
    expect(hex(encodeMessage(decodeMessage(bytes(h))))).toBe(h);
  });

  it("BIRD's OPEN puts every capability in one optional parameter; End-of-RIB markers decode as empty UPDATEs", () => {
    const open = decodeMessage(bytes(bird.messages[0]?.hex ?? "")) as OpenMessage;
    expect(open.params).toHaveLength(1);
    const caps = open.params.flatMap((p) => ("capabilities" in p ? p.capabilities : []));
    expect(caps).toContainEqual({ kind: "as4", asn: 65000 });
    expect(caps).toContainEqual({ kind: "multiprotocol", afi: 2, safi: 1 });
    expect(decodeMessage(bytes(bird.messages[2]?.hex ?? ""))).toEqual({
      type: "UPDATE",
      withdrawn: [],
      attributes: [],
      nlri: [],
    });
    expect(decodeMessage(bytes(bird.messages[3]?.hex ?? ""))).toMatchObject({
      attributes: [{ kind: "mp-unreach", afi: 2, safi: 1, withdrawn: [] }],
    });
  });
});

describe("our messages (golden; FRR 8.4 accepted each of them)", () => {
  it("OPEN: AS 65001, hold 9, id 10.177.0.2, MP ipv4 + ipv6, route refresh, AS4", () => {
    const open = buildOpen({
      localAs: 65001,
      holdTime: 9,
      routerId: "10.177.0.2",
      families: ["ipv4", "ipv6"],
    });
    const b = encodeMessage(open);
    expect(hex(b)).toBe(
      `${MARKER}00390104fde900090ab100021c0206010400010001020601040002000102020200020641040000fde9`,
    );
    expect(decodeMessage(b)).toEqual(open);
  });

  it("OPEN with a 4-octet AS: My AS is AS_TRANS, the AS4 capability carries the real one", () => {
    const open = buildOpen({
      localAs: 4_200_000_001,
      holdTime: 90,
      routerId: "192.0.2.1",
      families: ["ipv4"],
    });
    expect(open.myAs).toBe(AS_TRANS);
    const back = decodeMessage(encodeMessage(open)) as OpenMessage;
    expect(back.params.flatMap((p) => ("capabilities" in p ? p.capabilities : []))).toContainEqual({
      kind: "as4",
      asn: 4_200_000_001,
    });
  });

  it("UPDATE: 192.0.2.10/32, next hop 10.177.0.2, community 65001:100", () => {
    const [u] = buildAnnouncements([parseRoute({ prefix: "192.0.2.10/32", communities: ["65001:100"] })], {
      localAs: 65001,
      ibgp: false,
      as4: true,
      selfNextHop: { ipv4: "10.177.0.2" },
    });
    expect(hex(encodeMessage(u as UpdateMessage))).toBe(
      `${MARKER}0037020000001b4001010040020602010000fde94003040ab10002c00804fde9006420c000020a`,
    );
  });

  it("UPDATE withdrawing 192.0.2.10/32 and a Cease with a shutdown communication", () => {
    const [w] = buildWithdrawals([parseRoute({ prefix: "192.0.2.10" })]);
    expect(hex(encodeMessage(w as UpdateMessage))).toBe(`${MARKER}001c02000520c000020a0000`);
    const cease = ceaseNotification(2, "bye from lvs");
    expect(hex(encodeMessage(cease))).toBe(`${MARKER}00220306020c6279652066726f6d206c7673`);
    expect(shutdownCommunication(cease)).toBe("bye from lvs");
  });

  it("IPv6 goes in MP_REACH_NLRI / MP_UNREACH_NLRI and round-trips", () => {
    const r = parseRoute({
      prefix: "2001:db8::10/128",
      nextHop: "fd00:177::2",
      communities: [COMMUNITY_GRACEFUL_SHUTDOWN],
    });
    const [u] = buildAnnouncements([r], { localAs: 65001, ibgp: false, as4: true, selfNextHop: {} });
    const b = encodeMessage(u as UpdateMessage);
    expect(decodeMessage(b)).toEqual(u);
    expect((u as UpdateMessage).attributes[0]).toMatchObject({
      kind: "mp-reach",
      afi: 2,
      safi: 1,
      nextHops: ["fd00:177::2"],
    });
    const [w] = buildWithdrawals([r]);
    expect(decodeMessage(encodeMessage(w as UpdateMessage))).toEqual(w);
  });

  it("iBGP: empty AS_PATH and LOCAL_PREF 100; an old (2-octet) peer gets AS_TRANS + AS4_PATH", () => {
    const r = parseRoute({ prefix: "192.0.2.0/24", nextHop: "10.0.0.1" });
    const [ib] = buildAnnouncements([r], { localAs: 65001, ibgp: true, as4: true, selfNextHop: {} });
    expect(ib?.attributes.find((a) => a.kind === "as-path")).toMatchObject({ segments: [] });
    expect(ib?.attributes.find((a) => a.kind === "local-pref")).toMatchObject({ value: 100 });
    const [old] = buildAnnouncements([r], {
      localAs: 4_200_000_001,
      ibgp: false,
      as4: false,
      selfNextHop: {},
    });
    const back = decodeMessage(encodeMessage(old as UpdateMessage, { as4: false }), {
      as4: false,
    }) as UpdateMessage;
    expect(back.attributes.find((a) => a.kind === "as-path")).toMatchObject({
      segments: [{ type: 2, asns: [AS_TRANS] }],
    });
    expect(back.attributes.find((a) => a.kind === "as4-path")).toMatchObject({
      segments: [{ type: 2, asns: [4_200_000_001] }],
    });
  });

  it("many routes are split so no UPDATE exceeds 4096 octets, and none is lost", () => {
    const routes = Array.from({ length: 2000 }, (_, i) =>
      parseRoute({ prefix: `10.${i >> 8}.${i & 255}.0/24` }),
    );
    const ups = buildAnnouncements(routes, {
      localAs: 65001,
      ibgp: false,
      as4: true,
      selfNextHop: { ipv4: "10.0.0.1" },
    });
    expect(ups.length).toBeGreaterThan(1);
    let n = 0;
    for (const u of ups) {
      const b = encodeMessage(u);
      expect(b.length).toBeLessThanOrEqual(4096);
      n += (decodeMessage(b) as UpdateMessage).nlri.length;
    }
    expect(n).toBe(2000);
    const wd = buildWithdrawals(routes);
    expect(wd.reduce((s, u) => s + u.withdrawn.length, 0)).toBe(2000);
  });

  it("KEEPALIVE and ROUTE-REFRESH", () => {
    expect(hex(encodeMessage({ type: "KEEPALIVE" }))).toBe(`${MARKER}001304`);
    const rr: BgpMessage = { type: "ROUTE_REFRESH", afi: 2, safi: 1 };
    expect(hex(encodeMessage(rr))).toBe(`${MARKER}00170500020001`);
    expect(decodeMessage(encodeMessage(rr))).toEqual(rr);
  });
});

describe("framing", () => {
  it("reassembles messages split and joined at any byte", () => {
    const all = frr.messages.map((m) => bytes(m.hex));
    const stream = Buffer.concat(all);
    for (const step of [1, 7, 19, 100, stream.length]) {
      const f = new Framer();
      const out: string[] = [];
      for (let i = 0; i < stream.length; i += step)
        for (const m of f.push(stream.subarray(i, i + step))) out.push(hex(m));
      expect(out).toEqual(frr.messages.map((m) => m.hex));
      expect(f.buffered).toBe(0);
    }
  });
});

describe("decode errors → NOTIFICATION (RFC 4271 §6)", () => {
  const open = (body: string) => frame(1, body);
  const update = (body: string) => frame(2, body);
  const ORIGIN = "40010100";
  const AS_PATH = "400206020100000001"; // AS_SEQUENCE [1]
  const NEXT_HOP = "4003040a000001"; // 10.0.0.1
  /** An UPDATE with these attributes (length computed) and NLRI (default 192.0.2.0/24). */
  const upd = (attrs: string, nlri = "18c00002") =>
    update(`0000${(attrs.length / 2).toString(16).padStart(4, "0")}${attrs}${nlri}`);
  const cases: Array<[string, Uint8Array, number, number, string?]> = [
    ["marker not all ones", bytes(`${"ff".repeat(15)}fe001304`), 1, 1],
    ["length 18", bytes(`${MARKER}001204`), 1, 2, "0012"],
    ["length 4097", bytes(`${MARKER}100104`), 1, 2, "1001"],
    ["KEEPALIVE of 20 octets", frame(4, "00"), 1, 2, "0014"],
    ["unknown type 9", frame(9, ""), 1, 3, "09"],
    ["OPEN version 3", open("03fde9005a0ab1000200"), 2, 1, "0004"],
    ["OPEN hold time 2", open("04fde900020ab1000200"), 2, 6],
    ["OPEN BGP Identifier 0", open("04fde9005a0000000000"), 2, 3],
    ["OPEN optional parameter 1 (authentication)", open("04fde9005a0ab1000203010100"), 2, 4],
    ["OPEN optional parameters length past the end", open("04fde9005a0ab1000209020241"), 2, 0],
    ["UPDATE withdrawn length past the end", update("00ff0000"), 3, 1],
    ["UPDATE attribute length past the end", update("000000ff"), 3, 1],
    ["UPDATE ORIGIN 3", upd(`40010103${AS_PATH}${NEXT_HOP}`), 3, 6, "40010103"],
    ["UPDATE ORIGIN twice", upd("4001010040010100", ""), 3, 1],
    ["UPDATE ORIGIN flags optional", upd(`c0010100${AS_PATH}${NEXT_HOP}`), 3, 4, "c0010100"],
    ["UPDATE NEXT_HOP of 3 octets", upd(`${ORIGIN}${AS_PATH}4003030a0000`), 3, 5, "4003030a0000"],
    ["UPDATE NEXT_HOP 0.0.0.0", upd(`${ORIGIN}${AS_PATH}40030400000000`), 3, 8, "40030400000000"],
    ["UPDATE NLRI without NEXT_HOP", upd(`${ORIGIN}${AS_PATH}`), 3, 3, "03"],
    ["UPDATE NLRI length 33", upd(`${ORIGIN}${AS_PATH}${NEXT_HOP}`, "21c0000201"), 3, 10],
    ["UPDATE AS_PATH segment type 5", upd(`${ORIGIN}400206050100000001${NEXT_HOP}`), 3, 11],
    ["UPDATE unknown well-known attribute 99", upd("406300", ""), 3, 2, "406300"],
    ["UPDATE COMMUNITIES of 3 octets", upd("c00803010203", ""), 3, 9, "c00803010203"],
    ["UPDATE MP_REACH next hop of 5 octets", upd("800e0a00020105000000000000", ""), 3, 9],
  ];
  it.each(cases)("%s → %i/%i", (_name, b, code, subcode, data) => {
    const err = decodeError(b);
    expect(err?.context.notification).toMatchObject({ code, subcode });
    if (data !== undefined) expect(hex(err?.context.notification?.data ?? new Uint8Array())).toBe(data);
    expect(err?.code).toMatch(/^BGP_BAD_/);
  });

  it("RFC 7606: attribute-content errors are treat-as-withdraw, structural ones reset the session", () => {
    expect(decodeError(upd(`40010103${AS_PATH}${NEXT_HOP}`))?.context.treatAsWithdraw).toBe(true);
    expect(decodeError(update("000000ff"))?.context.treatAsWithdraw).toBeUndefined();
    expect(decodeError(upd("800e0a00020105000000000000", ""))?.context.treatAsWithdraw).toBeUndefined();
  });

  it("a well-formed UPDATE of the same shape decodes (so the cases above fail for their one fault)", () => {
    const ok = decodeMessage(upd(`${ORIGIN}${AS_PATH}${NEXT_HOP}`)) as UpdateMessage;
    expect(ok.nlri).toEqual([{ address: "192.0.2.0", length: 24 }]);
    expect(ok.attributes.find((a) => a.kind === "next-hop")).toMatchObject({ nextHop: "10.0.0.1" });
  });
});

describe("encode and route errors", () => {
  it("refuses values that do not fit, naming the field", () => {
    expect(() =>
      encodeMessage({ type: "OPEN", version: 4, myAs: 70000, holdTime: 90, bgpId: "1.2.3.4", params: [] }),
    ).toThrow(
      expect.objectContaining({
        code: "BGP_BAD_FIELD",
        context: expect.objectContaining({ object: "my-as" }),
      }),
    );
    expect(() => parseRoute({ prefix: "192.0.2.300/32" })).toThrow(
      expect.objectContaining({ code: "BGP_BAD_CONFIG" }),
    );
    expect(() => parseRoute({ prefix: "192.0.2.1/32", nextHop: "fd00::1" })).toThrow(
      expect.objectContaining({ code: "BGP_BAD_CONFIG" }),
    );
    expect(() => parseCommunity("65536:1")).toThrow(
      expect.objectContaining({ code: "BGP_BAD_CONFIG", context: { object: "65536:1" } }),
    );
    expect(parseRoute({ prefix: "192.0.2.77/24" }).prefix).toBe("192.0.2.0/24");
    expect(() =>
      buildAnnouncements([parseRoute({ prefix: "2001:db8::1/128" })], {
        localAs: 1,
        ibgp: false,
        as4: true,
        selfNextHop: { ipv4: "10.0.0.1" },
      }),
    ).toThrow(expect.objectContaining({ code: "BGP_NO_NEXT_HOP" }));
  });
});
