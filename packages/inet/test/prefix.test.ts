import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  InetError,
  isPrefixLength,
  maskAddress,
  maskToPrefix,
  maxPrefixLength,
  parseAddress,
  parseCidr,
  parseNetmask,
  prefixContains,
  prefixToMask,
} from "../src/index.js";
import { caught } from "./helpers.js";

describe("netmask ↔ prefix length (IPv4)", () => {
  it.each([
    [0, 0x00000000],
    [1, 0x80000000],
    [8, 0xff000000],
    [24, 0xffffff00],
    [29, 0xfffffff8],
    [31, 0xfffffffe],
    [32, 0xffffffff],
  ])("/%i ↔ %s", (prefix, mask) => {
    expect(prefixToMask(prefix)).toBe(mask);
    expect(maskToPrefix(mask)).toBe(prefix);
  });

  it("a mask with a hole has no prefix length", () => {
    expect(maskToPrefix(0xff00ff00)).toBeUndefined();
    expect(maskToPrefix(0x00ffffff)).toBeUndefined();
    expect(maskToPrefix(0xfffffffd)).toBeUndefined();
  });

  it("every prefix length round-trips", () => {
    for (let p = 0; p <= 32; p++) expect(maskToPrefix(prefixToMask(p))).toBe(p);
  });
});

describe("parseNetmask (ipvsadm -M, persistence_granularity)", () => {
  it("takes a dotted IPv4 mask or a prefix length", () => {
    expect(parseNetmask("255.255.255.248", AF_INET)).toBe(29);
    expect(parseNetmask("0.0.0.0", AF_INET)).toBe(0);
    expect(parseNetmask(28, AF_INET)).toBe(28);
    expect(parseNetmask("32", AF_INET)).toBe(32);
    expect(parseNetmask("64", AF_INET6)).toBe(64);
    expect(parseNetmask(128, AF_INET6)).toBe(128);
  });

  it.each([
    ["255.0.255.0", AF_INET, /contiguous/],
    ["255.255.255.0", AF_INET6, /prefix length/],
    ["33", AF_INET, /0\.\.32/],
    [129, AF_INET6, /0\.\.128/],
    [24.5, AF_INET, /prefix length/],
    ["/24", AF_INET, /dotted mask/],
    ["255.255.255", AF_INET, /dotted mask/],
  ])("refuses %j (af %i) with INET_BAD_NETMASK", (mask, af, why) => {
    const err = caught(() => parseNetmask(mask, af));
    expect(err).toBeInstanceOf(InetError);
    expect(err.code).toBe("INET_BAD_NETMASK");
    expect(err.object).toBe(String(mask));
    expect(err.message).toMatch(why);
  });
});

describe("masking and containment", () => {
  it.each([
    ["10.1.2.3", 24, "10.1.2.0"],
    ["10.1.2.3", 0, "0.0.0.0"],
    ["10.1.2.3", 32, "10.1.2.3"],
    ["10.1.2.255", 25, "10.1.2.128"],
    ["2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::"],
    ["2001:db8:1:2:3456:4:5:6", 72, "2001:db8:1:2:3400::"],
    ["2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6"],
    ["2001:db8:1:2:3:4:5:6", 0, "::"],
  ])("%s/%i → %s", (addr, prefix, want) => {
    const net = maskAddress(parseAddress(addr), prefix);
    expect(net.text).toBe(want);
    expect(prefixContains(net, prefix, parseAddress(addr))).toBe(true);
  });

  it("contains: same family and same first bits only", () => {
    const net = parseAddress("192.0.2.0");
    expect(prefixContains(net, 24, parseAddress("192.0.2.200"))).toBe(true);
    expect(prefixContains(net, 24, parseAddress("192.0.3.1"))).toBe(false);
    expect(prefixContains(net, 23, parseAddress("192.0.3.1"))).toBe(true);
    expect(prefixContains(parseAddress("::"), 0, parseAddress("10.0.0.1"))).toBe(false);
    expect(prefixContains(parseAddress("fe80::"), 10, parseAddress("febf::1"))).toBe(true);
    expect(prefixContains(parseAddress("fe80::"), 10, parseAddress("fec0::1"))).toBe(false);
  });

  it("property: the masked network contains the address, and differs only past the prefix", () => {
    const addr = fc.oneof(fc.ipV4(), fc.ipV6()).map((t) => parseAddress(t));
    fc.assert(
      fc.property(addr, fc.nat(128), (a, n) => {
        const p = n % (maxPrefixLength(a.af) + 1);
        const net = maskAddress(a, p);
        expect(prefixContains(net, p, a)).toBe(true);
        expect(maskAddress(net, p)).toEqual(net);
        if (p < maxPrefixLength(a.af)) {
          // flipping the first host bit leaves the network; flipping the last network bit leaves it
          const flipped = a.bytes.slice();
          flipped[p >> 3] = (flipped[p >> 3] as number) ^ (0x80 >> (p & 7));
          expect(prefixContains(net, p, { ...a, bytes: flipped })).toBe(true);
          if (p > 0) {
            const out = a.bytes.slice();
            out[(p - 1) >> 3] = (out[(p - 1) >> 3] as number) ^ (0x80 >> ((p - 1) & 7));
            expect(prefixContains(net, p, { ...a, bytes: out })).toBe(false);
          }
        }
      }),
    );
  });
});

describe("CIDR text", () => {
  it("address/prefix or a bare address", () => {
    expect(parseCidr("10.0.0.1/24")).toMatchObject({ text: "10.0.0.1", prefixLength: 24, version: 4 });
    expect(parseCidr("2001:DB8::1/64")).toMatchObject({
      text: "2001:db8::1",
      prefixLength: 64,
      af: AF_INET6,
    });
    expect(parseCidr("10.0.0.1").prefixLength).toBeUndefined();
  });

  it.each([
    "10.0.0.1/33",
    "2001:db8::1/129",
    "10.0.0.1/",
    "10.0.0.1/-1",
    "10.0.0.1/2 4",
    "10.0.0.1/0024",
  ])("refuses %j with INET_BAD_PREFIX", (text) => {
    const err = caught(() => parseCidr(text));
    expect(err.code).toBe("INET_BAD_PREFIX");
    expect(err.object).toBe(text);
  });

  it("a bad address part is INET_BAD_ADDRESS", () => {
    expect(caught(() => parseCidr("10.0.0/24")).code).toBe("INET_BAD_ADDRESS");
  });

  it("isPrefixLength checks range and integrality per family", () => {
    expect(isPrefixLength(32, AF_INET)).toBe(true);
    expect(isPrefixLength(33, 4)).toBe(false);
    expect(isPrefixLength(128, 6)).toBe(true);
    expect(isPrefixLength(1.5, AF_INET6)).toBe(false);
    expect(isPrefixLength("8", AF_INET)).toBe(false);
  });
});
