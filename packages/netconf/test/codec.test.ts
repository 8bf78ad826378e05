// The announcement codecs, byte for byte: frames captured from the kernel and keepalived, frames
// written by hand from the RFCs, round trips, and every drop rule of RFC 4861 §7.1.2.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeArpFrame,
  decodeNaFrame,
  encodeArpFrame,
  encodeGratuitousArp,
  encodeNaFrame,
  encodeUnsolicitedNa,
  GARP_FRAME_LEN,
  gratuitousForm,
  icmpv6Checksum,
  NetconfError,
  parseIp,
  parseMac,
  targetLinkLayerAddress,
  tryDecodeArpFrame,
  tryDecodeNaFrame,
  UNSOLICITED_NA_FRAME_LEN,
} from "../src/index.js";

interface Fixture {
  name: string;
  kind: "garp" | "na";
  mac: string;
  ip: string;
  form?: "request" | "reply";
  requestTarget?: "zero" | "broadcast";
  router?: boolean;
  hex: string;
}
const fixtures = (
  JSON.parse(readFileSync(new URL("./fixtures/announcements.json", import.meta.url), "utf8")) as {
    frames: Fixture[];
  }
).frames;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));

describe("frames captured from the real peers", () => {
  it.each(fixtures.map((f) => [f.name, f] as const))("%s: our encoder writes the same bytes", (_n, f) => {
    const mac = parseMac(f.mac);
    const ip = parseIp(f.ip).bytes;
    const ours =
      f.kind === "garp"
        ? encodeGratuitousArp({
            mac,
            ip,
            form: f.form ?? "request",
            requestTarget: f.requestTarget ?? "zero",
          })
        : encodeUnsolicitedNa({ mac, ip, router: f.router === true });
    expect(hex(ours)).toBe(f.hex);
  });

  it.each(
    fixtures.map((f) => [f.name, f] as const),
  )("%s: decodes to what was announced and re-encodes exactly", (_n, f) => {
    const bytes = unhex(f.hex);
    if (f.kind === "garp") {
      const frame = decodeArpFrame(bytes);
      expect(hex(frame.arp.senderMac)).toBe(hex(parseMac(f.mac)));
      expect(hex(frame.arp.senderIp)).toBe(hex(parseIp(f.ip).bytes));
      expect(gratuitousForm(frame.arp)).toBe("request");
      expect(hex(encodeArpFrame(frame))).toBe(f.hex);
    } else {
      const frame = decodeNaFrame(bytes);
      expect(frame.na).toMatchObject({ override: true, solicited: false, router: f.router === true });
      expect(hex(frame.na.target)).toBe(hex(parseIp(f.ip).bytes));
      expect(hex(targetLinkLayerAddress(frame.na) ?? new Uint8Array())).toBe(hex(parseMac(f.mac)));
      expect(frame.ipv6.hopLimit).toBe(255);
      expect(hex(encodeNaFrame(frame))).toBe(f.hex);
      // The captured checksum verifies under our one's-complement sum.
      const icmp = bytes.subarray(54);
      expect(icmpv6Checksum(frame.ipv6.src, frame.ipv6.dst, icmp, true)).toBe(0);
      expect(icmpv6Checksum(frame.ipv6.src, frame.ipv6.dst, icmp)).toBe(frame.checksum);
    }
  });
});

describe("gratuitous ARP written by hand from RFC 826 / RFC 5944 §4.6", () => {
  // Reply form: op 2, target hardware address = sender's (what Linux's arp_is_garp() requires).
  const reply = [
    "ffffffffffff 001122334455 0806", // broadcast, source MAC, ETH_P_ARP
    "0001 0800 06 04 0002", // Ethernet, IPv4, hlen 6, plen 4, REPLY
    "001122334455 c0000201", // sender 00:11:22:33:44:55 192.0.2.1
    "001122334455 c0000201", // target = sender
  ].join("");
  const request = [
    "ffffffffffff 001122334455 0806",
    "0001 0800 06 04 0001",
    "001122334455 c0000201",
    "000000000000 c0000201", // RFC 5227 §2.3: target hardware address zero
  ].join("");

  it("encodes the reply and request forms", () => {
    const mac = parseMac("00:11:22:33:44:55");
    const ip = parseIp("192.0.2.1").bytes;
    expect(hex(encodeGratuitousArp({ mac, ip, form: "reply" }))).toBe(hex(unhex(reply)));
    expect(hex(encodeGratuitousArp({ mac, ip }))).toBe(hex(unhex(request)));
    expect(encodeGratuitousArp({ mac, ip }).length).toBe(GARP_FRAME_LEN);
  });

  it("classifies forms as the kernel does", () => {
    expect(gratuitousForm(decodeArpFrame(unhex(reply)).arp)).toBe("reply");
    expect(gratuitousForm(decodeArpFrame(unhex(request)).arp)).toBe("request");
    // A reply whose target MAC differs from the sender's is not gratuitous (arp_is_garp()).
    const r = decodeArpFrame(unhex(reply));
    r.arp.targetMac = parseMac("00:00:00:00:00:00");
    expect(gratuitousForm(r.arp)).toBeUndefined();
    // Sender IP ≠ target IP: an ordinary request.
    const q = decodeArpFrame(unhex(request));
    q.arp.targetIp = parseIp("192.0.2.2").bytes;
    expect(gratuitousForm(q.arp)).toBeUndefined();
  });

  it("keeps Ethernet padding on decode so re-encoding is exact", () => {
    const padded = new Uint8Array(60);
    padded.set(unhex(request));
    const f = decodeArpFrame(padded);
    expect(f.trailer.length).toBe(18);
    expect(hex(encodeArpFrame(f))).toBe(hex(padded));
  });

  it("refuses what is not Ethernet/IPv4 ARP", () => {
    const b = unhex(request);
    expect(tryDecodeArpFrame(b.subarray(0, 41))).toMatchObject({
      ok: false,
      error: { code: "NETCONF_BAD_FRAME" },
    });
    const wrongType = b.slice();
    wrongType[13] = 0x00; // ethertype 0x0800
    expect(() => decodeArpFrame(wrongType)).toThrow(/not ARP/);
    const wrongPro = b.slice();
    wrongPro[17] = 0xdd;
    wrongPro[16] = 0x86;
    expect(() => decodeArpFrame(wrongPro)).toThrow(/not Ethernet\/IPv4/);
    expect(() =>
      encodeGratuitousArp({ mac: parseMac("00:11:22:33:44:55"), ip: parseIp("2001:db8::1").bytes }),
    ).toThrow(NetconfError);
  });
});

describe("neighbour advertisement rules (RFC 4861 §4.4, §7.1.2)", () => {
  const mac = parseMac("02:00:00:00:00:0c");
  const ip = parseIp("2001:db8:99::100").bytes;
  const good = encodeUnsolicitedNa({ mac, ip });

  it("is 86 bytes to 33:33:00:00:00:01 / ff02::1 with hop limit 255 and O set, S clear", () => {
    expect(good.length).toBe(UNSOLICITED_NA_FRAME_LEN);
    expect(hex(good.subarray(0, 6))).toBe("333300000001");
    const f = decodeNaFrame(good);
    expect(hex(f.ipv6.dst)).toBe("ff020000000000000000000000000001");
    expect(hex(f.ipv6.src)).toBe(hex(ip));
    expect(f.na).toMatchObject({ override: true, solicited: false, router: false, reserved: 0 });
  });

  const mutate = (at: number, value: number) => {
    const b = good.slice();
    b[at] = value;
    return b;
  };
  it.each([
    ["hop limit 64", mutate(14 + 7, 64), /hop limit 64/],
    ["a flipped payload bit", mutate(70, good[70]! ^ 1), /checksum/],
    ["code 1", mutate(55, 1), /code 1/],
    ["type 135 (a solicitation)", mutate(54, 135), /type 135/],
    ["next header 0 (hop-by-hop)", mutate(20, 0), /next header 0/],
    ["IP version 4", mutate(14, 0x40), /IP version 4/],
  ])("drops %s", (_n, bytes, why) => {
    const r = tryDecodeNaFrame(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(NetconfError);
      expect(r.error.code).toBe("NETCONF_BAD_FRAME");
      expect(r.error.message).toMatch(why);
    }
  });

  it("drops an option of length 0 and Solicited on a multicast destination (checksums fixed up)", () => {
    const f = decodeNaFrame(good);
    const zeroOpt = encodeNaFrame(f);
    zeroOpt[14 + 40 + 24 + 1] = 0;
    const v = new DataView(zeroOpt.buffer);
    v.setUint16(56, 0);
    v.setUint16(56, icmpv6Checksum(f.ipv6.src, f.ipv6.dst, zeroOpt.subarray(54)));
    expect(() => decodeNaFrame(zeroOpt)).toThrow(/length 0/);
    const solicited = encodeNaFrame({ ...f, na: { ...f.na, solicited: true } });
    expect(() => decodeNaFrame(solicited)).toThrow(/Solicited flag on a multicast/);
  });

  it("refuses options that are not a multiple of 8 octets", () => {
    const f = decodeNaFrame(good);
    expect(() =>
      encodeNaFrame({ ...f, na: { ...f.na, options: [{ type: 2, data: new Uint8Array(5) }] } }),
    ).toThrow(/multiple of 8/);
  });
});

describe("properties", () => {
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
  it("GARP: decode(encode(x)) carries x, both forms", () => {
    fc.assert(
      fc.property(
        mac,
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.constantFrom("request", "reply"),
        (m, ip, form) => {
          const f = decodeArpFrame(encodeGratuitousArp({ mac: m, ip, form: form as "request" | "reply" }));
          expect(hex(f.arp.senderMac)).toBe(hex(m));
          expect(hex(f.arp.targetIp)).toBe(hex(ip));
          expect(gratuitousForm(f.arp)).toBe(form);
        },
      ),
    );
  });

  it("NA: decode(encode(x)) carries x and the checksum always verifies", () => {
    fc.assert(
      fc.property(mac, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (m, ip, router) => {
        const f = decodeNaFrame(encodeUnsolicitedNa({ mac: m, ip, router }));
        expect(hex(f.na.target)).toBe(hex(ip));
        expect(f.na.router).toBe(router);
        expect(hex(targetLinkLayerAddress(f.na) ?? new Uint8Array())).toBe(hex(m));
      }),
    );
  });

  it("fuzzed frames never throw out of tryDecode*", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        const a = tryDecodeArpFrame(b);
        const n = tryDecodeNaFrame(b);
        for (const r of [a, n]) if (!r.ok) expect(r.error).toBeInstanceOf(NetconfError);
      }),
    );
  });

  it("single-byte corruptions of a good NA are caught (checksum or a field rule) or decode to valid NAs", () => {
    const good = encodeUnsolicitedNa({
      mac: parseMac("02:00:00:00:00:0c"),
      ip: parseIp("2001:db8::1").bytes,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 14, max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          const b = good.slice();
          b[at] = (b[at] as number) ^ x;
          const r = tryDecodeNaFrame(b);
          // Bytes covered by the checksum (src, dst, ICMPv6) or checked fields must not pass unnoticed.
          if (at >= 14 + 8) expect(r.ok).toBe(false);
        },
      ),
    );
  });
});
