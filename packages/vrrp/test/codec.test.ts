// Codec: hand-computed golden bytes both ways, every decode error, checksum variants, property
// round-trips. (Bytes captured from real keepalived: keepalived-golden.test.ts.)
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  advertLength,
  authDataText,
  bytesToAddress,
  decodeAdvert,
  decodeIpv4Packet,
  decodeIpv6Packet,
  encodeAdvert,
  encodeIpv4Packet,
  internetChecksum,
  passwordAuthData,
  tryDecodeAdvert,
  VrrpError,
  verifyChecksum,
} from "../src/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));

describe("golden bytes (RFC 3768 §5.1 / RFC 9568 §5.1 layouts, checksums summed by hand)", () => {
  // 0x2101 + 0x6401 + 0x0001 + 0xc0a8 + 0x0101 = 0x146ad → 0x46ae → ~ = 0xb952
  const v2 = "21 01 64 01 00 01 b9 52 c0 a8 01 01 0000000000000000";
  // 0x310a + 0xc801 + 0x0064 + 0x0a00 + 0x0001 = 0x10370 → 0x0371 → ~ = 0xfc8e
  const v3msg = "31 0a c8 01 00 64 fc 8e 0a 00 00 01";

  it("VRRPv2, no authentication, one address", () => {
    const a = decodeAdvert(bytes(v2), 4);
    expect(a).toMatchObject({
      version: 2,
      type: 1,
      vrid: 1,
      priority: 100,
      addresses: ["192.168.1.1"],
      intervalCs: 100,
      authType: 0,
      checksum: 0xb952,
    });
    expect(
      hex(
        encodeAdvert(
          { version: 2, vrid: 1, priority: 100, addresses: ["192.168.1.1"], intervalCs: 100 },
          { family: 4 },
        ),
      ),
    ).toBe(v2.replace(/\s+/g, ""));
    expect(verifyChecksum(bytes(v2), { family: 4 })).toBe("message");
  });

  it("VRRPv3 over IPv4, RFC 9568 message-only checksum", () => {
    const a = decodeAdvert(bytes(v3msg), 4);
    expect(a).toMatchObject({
      version: 3,
      vrid: 10,
      priority: 200,
      addresses: ["10.0.0.1"],
      intervalCs: 100,
      reserved: 0,
    });
    expect(
      hex(
        encodeAdvert(
          { version: 3, vrid: 10, priority: 200, addresses: ["10.0.0.1"], intervalCs: 100 },
          { family: 4, v3Ipv4Checksum: "message" },
        ),
      ),
    ).toBe(v3msg.replace(/\s+/g, ""));
    expect(verifyChecksum(bytes(v3msg), { family: 4, source: "10.0.0.2", destination: "224.0.0.18" })).toBe(
      "message",
    );
  });

  it("simple password: the text NUL-padded to 8 octets (RFC 3768 §5.3.10)", () => {
    expect(hex(passwordAuthData("abc"))).toBe("6162630000000000");
    expect(authDataText(passwordAuthData("secret12"))).toBe("secret12");
    expect(() => passwordAuthData("123456789")).toThrowError(VrrpError);
    expect(() => passwordAuthData("")).toThrowError(/1 to 8 bytes/);
  });

  it("IPv4 header as keepalived builds it: tos 0xc0, DF clear, TTL 255, protocol 112", () => {
    const p = encodeIpv4Packet({
      source: "10.0.0.2",
      destination: "224.0.0.18",
      payload: bytes(v3msg),
      id: 7,
    });
    // version/IHL 45, TOS c0, total length 0x20, id 7, no flags/offset, TTL ff, protocol 0x70
    expect(hex(p.subarray(0, 10))).toBe("45c0002000070000ff70");
    expect(internetChecksum([p.subarray(0, 20)])).toBe(0);
    const back = decodeIpv4Packet(p);
    expect(back).toMatchObject({
      family: 4,
      source: "10.0.0.2",
      destination: "224.0.0.18",
      ttl: 255,
      protocol: 112,
      totalLength: 32,
    });
    expect(hex(back.payload)).toBe(v3msg.replace(/\s+/g, ""));
  });

  it("IPv6 packets: extension headers skipped, fragments refused", () => {
    const payload = encodeAdvert(
      { version: 3, vrid: 9, priority: 100, addresses: ["fd00::9"], intervalCs: 100 },
      { family: 6, source: "fe80::1", destination: "ff02::12" },
    );
    const fixed = (next: number, len: number) => {
      const h = new Uint8Array(40);
      h[0] = 0x60;
      h[4] = len >> 8;
      h[5] = len & 0xff;
      h[6] = next;
      h[7] = 255;
      h.set(Buffer.from("fe800000000000000000000000000001", "hex"), 8);
      h.set(Buffer.from("ff020000000000000000000000000012", "hex"), 24);
      return h;
    };
    const hbh = new Uint8Array(8);
    hbh[0] = 112; // next header VRRP, length 0 (8 bytes)
    const pkt = Buffer.concat([fixed(0, 8 + payload.length), hbh, payload]);
    const ip = decodeIpv6Packet(pkt);
    expect(ip).toMatchObject({
      family: 6,
      source: "fe80::1",
      destination: "ff02::12",
      ttl: 255,
      protocol: 112,
    });
    expect(verifyChecksum(ip.payload, ip)).toBe("pseudo-header");
    const frag = Buffer.concat([fixed(44, 8 + payload.length), new Uint8Array(8), payload]);
    expect(() => decodeIpv6Packet(frag)).toThrowError(/fragmented/);
  });
});

describe("decode errors are typed VrrpErrors", () => {
  const good = encodeAdvert(
    { version: 2, vrid: 1, priority: 100, addresses: ["10.0.0.1"], intervalCs: 100 },
    { family: 4 },
  );
  it.each([
    ["header truncated", good.subarray(0, 7), "VRRP_TRUNCATED"],
    ["address list truncated", good.subarray(0, 12), "VRRP_TRUNCATED"],
    ["trailing bytes", Buffer.concat([good, Buffer.alloc(4)]), "VRRP_BAD_LENGTH"],
    ["version 1", Buffer.from([0x11, ...good.subarray(1)]), "VRRP_BAD_VERSION"],
    ["version 4", Buffer.from([0x41, ...good.subarray(1)]), "VRRP_BAD_VERSION"],
  ])("%s", (_name, input, code) => {
    const r = tryDecodeAdvert(input, 4);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(VrrpError);
      expect(r.error.code).toBe(code);
      expect(r.error.context.offset).toBeTypeOf("number");
    }
  });

  it("refuses to encode out-of-range fields, naming the field", () => {
    const base = { version: 3 as const, vrid: 1, priority: 100, addresses: ["10.0.0.1"], intervalCs: 100 };
    expect(() => encodeAdvert({ ...base, vrid: 256 }, { family: 4, v3Ipv4Checksum: "message" })).toThrowError(
      /vrid/,
    );
    expect(() =>
      encodeAdvert({ ...base, intervalCs: 4096 }, { family: 4, v3Ipv4Checksum: "message" }),
    ).toThrowError(/intervalCs/);
    expect(() => encodeAdvert({ ...base, version: 2, intervalCs: 5 }, { family: 4 })).toThrowError(
      /whole seconds/,
    );
    expect(() =>
      encodeAdvert({ ...base, addresses: ["fd00::1"] }, { family: 4, v3Ipv4Checksum: "message" }),
    ).toThrowError(/IPv4 address/);
    expect(() => encodeAdvert(base, { family: 4 })).toThrowError(/pseudo-header checksum needs/);
  });
});

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((q) => q.join("."));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => bytesToAddress(b));

describe("property: decode(encode(x)) ≡ x", () => {
  it("VRRPv2 over IPv4 (auth none / password)", () => {
    fc.assert(
      fc.property(
        fc.record({
          vrid: fc.nat(255),
          priority: fc.nat(255),
          addresses: fc.array(ipv4, { maxLength: 20 }),
          seconds: fc.nat(255),
          authType: fc.constantFrom(0, 1),
          authData: fc.uint8Array({ minLength: 8, maxLength: 8 }),
        }),
        (r) => {
          const input = {
            version: 2 as const,
            vrid: r.vrid,
            priority: r.priority,
            addresses: r.addresses,
            intervalCs: r.seconds * 100,
            authType: r.authType,
            authData: r.authData,
          };
          const wire = encodeAdvert(input, { family: 4 });
          expect(wire.length).toBe(advertLength(2, 4, r.addresses.length));
          expect(verifyChecksum(wire, { family: 4 })).toBe("message");
          const back = decodeAdvert(wire, 4);
          expect({ ...back, checksum: 0 }).toEqual({ ...input, type: 1, checksum: 0 });
          expect(hex(encodeAdvert(back, { family: 4 }))).toBe(hex(wire));
        },
      ),
    );
  });

  it("VRRPv3 over IPv4 and IPv6, every checksum form", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.record({
          vrid: fc.nat(255),
          priority: fc.nat(255),
          intervalCs: fc.nat(4095),
          reserved: fc.nat(15),
          n: fc.nat(8),
          mode: fc.constantFrom("pseudo-header" as const, "message" as const),
        }),
        fc.array(ipv4, { minLength: 8, maxLength: 8 }),
        fc.array(ipv6, { minLength: 8, maxLength: 8 }),
        (v6, r, a4, a6) => {
          const family = v6 ? 6 : 4;
          const input = {
            version: 3 as const,
            vrid: r.vrid,
            priority: r.priority,
            intervalCs: r.intervalCs,
            reserved: r.reserved,
            addresses: (v6 ? a6 : a4).slice(0, r.n),
          };
          const ctx = {
            family: family as 4 | 6,
            source: v6 ? "fe80::1" : "10.0.0.1",
            destination: v6 ? "ff02::12" : "224.0.0.18",
            v3Ipv4Checksum: r.mode,
          };
          const wire = encodeAdvert(input, ctx);
          expect(verifyChecksum(wire, ctx)).toBe(
            v6 || r.mode === "pseudo-header" ? "pseudo-header" : "message",
          );
          const back = decodeAdvert(wire, family);
          expect({ ...back, checksum: 0 }).toEqual({ ...input, type: 1, checksum: 0 });
        },
      ),
    );
  });

  it("keepalived ≤ 1.3.6 unicast checksum (224.0.0.18 in the pseudo-header) is recognised", () => {
    const wire = encodeAdvert(
      { version: 3, vrid: 5, priority: 100, addresses: ["10.0.0.9"], intervalCs: 100 },
      { family: 4, source: "10.0.0.1", destination: "224.0.0.18" },
    );
    expect(verifyChecksum(wire, { family: 4, source: "10.0.0.1", destination: "10.0.0.2" })).toBe(
      "pseudo-header-group",
    );
  });
});
