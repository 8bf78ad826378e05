import { isIP, SocketAddress } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  addressFromBytes,
  addressToBytes,
  bytesToAddress,
  canonicalAddress,
  compareAddresses,
  formatAddress,
  formatIPv4,
  formatIPv6,
  InetError,
  ipVersion,
  isLinkLocal6,
  isMulticast,
  parseAddress,
  parseAddressList,
  parseIPv4,
  parseIPv6,
  tryParseAddress,
  writeIPv4,
  writeIPv6,
} from "../src/index.js";
import { caught } from "./helpers.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("RFC 5952 text (IPv6)", () => {
  it.each([
    // §2.1–2.3: eight spellings of one address, one canonical text
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8::1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:1::1", "2001:db8::1:0:0:1"],
    ["2001:db8:0000:0:1::1", "2001:db8::1:0:0:1"],
    ["2001:DB8:0:0:1::1", "2001:db8::1:0:0:1"],
    // §4.1: leading zeros suppressed; a zero field is "0"
    ["2001:0db8::0001", "2001:db8::1"],
    ["2001:db8:0000:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // §4.2.1: "::" shortens as much as possible
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8::0:1", "2001:db8::1"],
    // §4.2.2: never "::" for one 16-bit 0 field
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    // §4.2.3: the longest run; of equal runs, the first
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["1:0:0:0:1:0:0:1", "1::1:0:0:1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    // §4.3: lower case
    ["2001:DB8:0:0:0:0:0:A", "2001:db8::a"],
    ["FD00:0:0:0:0:0:0:1", "fd00::1"],
    // the ends of the range and the runs at either end
    ["::", "::"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    // §5: an IPv4-mapped address (RFC 4291 §2.5.5.2) ends in its dotted quad
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["::ffff:c000:201", "::ffff:192.0.2.1"],
    ["0:0:0:0:0:FFFF:10.0.0.1", "::ffff:10.0.0.1"],
    ["::ffff:0:0", "::ffff:0.0.0.0"],
    // …and so does the deprecated IPv4-compatible form, as inet_ntop(3) prints it (not :: or ::1)…
    ["::1.2.3.4", "::1.2.3.4"],
    ["::102:304", "::1.2.3.4"],
    ["::0.1.0.0", "::0.1.0.0"],
    ["::0.0.1.0", "::100"], // the seventh group is zero: plain hex, as inet_ntop(3)
    // …but other addresses with a dotted tail are plain hex
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ])("%s → %s", (text, want) => {
    expect(canonicalAddress(text)).toBe(want);
    expect(formatIPv6(parseIPv6(text) as Uint8Array)).toBe(want);
    expect(canonicalAddress(want)).toBe(want); // canonical text is a fixed point
  });

  it("IPv4 and the family-selected formatter read at an offset (union nf_inet_addr)", () => {
    const buf = Uint8Array.from([9, 9, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(formatIPv4(buf, 2)).toBe("10.0.0.1");
    expect(formatAddress(AF_INET, buf, 2)).toBe("10.0.0.1");
    expect(formatAddress(AF_INET6, buf, 2)).toBe("a00:1::");
  });
});

describe("parsing", () => {
  it("gives family, version, bytes and canonical text", () => {
    expect(parseAddress("10.0.0.1")).toEqual({
      af: AF_INET,
      version: 4,
      bytes: Uint8Array.from([10, 0, 0, 1]),
      text: "10.0.0.1",
    });
    const a = parseAddress("2001:DB8:0:0:0:0:2:1");
    expect(a.af).toBe(AF_INET6);
    expect(a.version).toBe(6);
    expect(hex(a.bytes)).toBe("20010db8000000000000000000020001");
    expect(a.text).toBe("2001:db8::2:1");
    expect(hex(parseAddress("::ffff:10.1.2.3").bytes)).toBe("00000000000000000000ffff0a010203");
    expect(AF_INET6).toBe(10); // linux/socket.h, not the IP version
  });

  it.each([
    "",
    " 10.0.0.1",
    "10.0.0.1 ",
    "10.0.0",
    "10.0.0.1.2",
    "10.0.0.256",
    "010.0.0.1",
    "01.2.3.4",
    "1.2.3.",
    ".1.2.3",
    "1..2.3",
    "0x7f.0.0.1",
    "1.2.3.4/32",
    ":::",
    "1:::2",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1:",
    ":1",
    "1:2:3:4:5:6:7:",
    "12345::",
    "g::1",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3",
    "::1.2.3.04",
    "::1.2.3.4:5",
    "::a.2.3.4",
    "fe80::1%eth0",
    "[::1]",
    "a:b:c:d:e:f:1:2:3",
    "vip",
  ])("refuses %j with INET_BAD_ADDRESS naming it", (text) => {
    expect(tryParseAddress(text)).toBeUndefined();
    expect(ipVersion(text)).toBe(0);
    const err = caught(() => parseAddress(text));
    expect(err).toBeInstanceOf(InetError);
    expect(err.code).toBe("INET_BAD_ADDRESS");
    expect(err.object).toBe(text);
    expect(err.message).toContain(JSON.stringify(text));
  });

  it("refuses what is not a string without throwing from the try form", () => {
    expect(tryParseAddress(undefined as unknown as string)).toBeUndefined();
    expect(caught(() => parseAddress(42 as unknown as string)).code).toBe("INET_BAD_ADDRESS");
  });

  it("writes in place and says false when the text is bad", () => {
    const out = new Uint8Array(20);
    expect(writeIPv4("192.0.2.7", out, 2)).toBe(true);
    expect(hex(out.subarray(2, 6))).toBe("c0000207");
    expect(writeIPv6("2001:db8::7", out, 4)).toBe(true);
    expect(hex(out.subarray(4))).toBe("20010db8000000000000000000000007");
    expect(writeIPv4("192.0.2", out)).toBe(false);
    expect(writeIPv6("2001:db8::7::", out)).toBe(false);
  });

  it("bytes ↔ text, and the wrong number of bytes is refused", () => {
    expect(bytesToAddress(Uint8Array.from([192, 0, 2, 1]))).toBe("192.0.2.1");
    expect(hex(addressToBytes("fd00::1"))).toBe("fd000000000000000000000000000001");
    expect(addressFromBytes(Uint8Array.from([10, 0, 0, 9])).text).toBe("10.0.0.9");
    expect(caught(() => bytesToAddress(new Uint8Array(5))).code).toBe("INET_BAD_ADDRESS");
    expect(caught(() => addressFromBytes(new Uint8Array(6))).object).toBe("6 bytes");
    expect(caught(() => addressToBytes("10.0.0")).code).toBe("INET_BAD_ADDRESS");
  });

  it("lists split on commas and spaces", () => {
    expect(parseAddressList("10.0.0.1, 2001:db8::1,10.0.0.2").map((p) => p.text)).toEqual([
      "10.0.0.1",
      "2001:db8::1",
      "10.0.0.2",
    ]);
    expect(parseAddressList(["10.0.0.1 10.0.0.3", "FD00::1"]).map((p) => p.text)).toEqual([
      "10.0.0.1",
      "10.0.0.3",
      "fd00::1",
    ]);
    expect(caught(() => parseAddressList("10.0.0.1,vip")).object).toBe("vip");
  });
});

describe("ordering and classes", () => {
  it("compares as unsigned numbers, IPv4 before IPv6", () => {
    expect(compareAddresses("10.0.0.2", "10.0.0.10")).toBeLessThan(0);
    expect(compareAddresses("10.0.1.0", "10.0.0.255")).toBeGreaterThan(0);
    expect(compareAddresses("fe80::2", "FE80:0::2")).toBe(0);
    expect(compareAddresses("255.255.255.255", "::")).toBeLessThan(0);
    expect(compareAddresses(Uint8Array.from([10, 0, 0, 1]), "10.0.0.1")).toBe(0);
  });

  it("multicast and link-local", () => {
    expect(isMulticast("224.0.0.18")).toBe(true);
    expect(isMulticast("239.255.255.255")).toBe(true);
    expect(isMulticast("240.0.0.1")).toBe(false);
    expect(isMulticast("ff02::12")).toBe(true);
    expect(isMulticast("fe80::1")).toBe(false);
    expect(isLinkLocal6("fe80::1")).toBe(true);
    expect(isLinkLocal6("febf::1")).toBe(true);
    expect(isLinkLocal6("fec0::1")).toBe(false);
    expect(isLinkLocal6("169.254.0.1")).toBe(false);
  });

  it("ipVersion answers 4, 6 or 0", () => {
    expect(ipVersion("10.0.0.1")).toBe(4);
    expect(ipVersion("::")).toBe(6);
    expect(ipVersion("example.org")).toBe(0);
  });
});

/** The WHATWG URL serialiser writes RFC 5952 text, except that it keeps a dotted tail in hex. */
const urlText = (a: string): string => new URL(`http://[${a}]/`).hostname.slice(1, -1);
const isMapped = (b: Uint8Array): boolean => hex(b).startsWith("00000000000000000000ffff");
const isCompatible = (b: Uint8Array): boolean =>
  hex(b).startsWith("000000000000000000000000") && !hex(b).startsWith("0000", 24);

describe("properties", () => {
  it("any 16 bytes: format → parse gives the bytes back, and the text is RFC 5952", () => {
    // Runs of zeros are what the rules are about: bias the bytes towards them.
    const bytes = fc.uint8Array({ minLength: 16, maxLength: 16 }).chain((b) =>
      fc.array(fc.nat(7), { maxLength: 8 }).map((zeroWords) => {
        const out = b.slice();
        for (const w of zeroWords) out.set([0, 0], w * 2);
        return out;
      }),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const text = formatIPv6(b);
        expect(hex(parseIPv6(text) as Uint8Array)).toBe(hex(b));
        if (!isMapped(b) && !isCompatible(b)) expect(text).toBe(urlText(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("IPv4-mapped: ::ffff: and the dotted quad, as glibc/libuv inet_ntop write it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (v4) => {
        const b = new Uint8Array(16);
        b.set([0xff, 0xff], 10);
        b.set(v4, 12);
        const text = formatIPv6(b);
        expect(text).toBe(`::ffff:${formatIPv4(v4)}`);
        expect(text).toBe(new SocketAddress({ address: text, family: "ipv6" }).address);
      }),
    );
  });

  it("any 16 bytes print as node's sockets (libuv's inet_ntop) print them", () => {
    const zeroHeavy = fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0x1234), {
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        fc.oneof(zeroHeavy, fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })),
        (groups) => {
          const b = new Uint8Array(16);
          for (const [i, g] of groups.entries()) b.set([g >> 8, g & 0xff], 2 * i);
          const text = formatIPv6(b);
          expect(text).toBe(new SocketAddress({ address: text, family: "ipv6" }).address);
          expect(hex(parseIPv6(text) as Uint8Array)).toBe(hex(b));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("any IPv6 spelling (fc.ipV6: compressed, full, dotted tails) parses to the URL parser's bytes", () => {
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        const bytes = parseIPv6(a) as Uint8Array;
        expect(bytes).toBeDefined();
        expect(hex(bytes)).toBe(hex(parseIPv6(urlText(a)) as Uint8Array));
      }),
      { numRuns: 1000 },
    );
  });

  it("IPv4 text round-trips", () => {
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        expect(canonicalAddress(a)).toBe(a);
        expect(formatIPv4(parseIPv4(a) as Uint8Array)).toBe(a);
      }),
    );
  });

  it("accepts exactly what inet_pton accepts (node:net isIP as the oracle), never throwing", () => {
    const alphabet = fc.constantFrom(..."0123456789abcdefABCDEF:.".split(""));
    const noise = fc.string({ unit: alphabet, maxLength: 45 });
    // Valid addresses with one character changed, inserted or dropped: the near misses.
    const mutated = fc
      .tuple(fc.oneof(fc.ipV6(), fc.ipV4(), fc.ipV4Extended()), fc.nat(), alphabet, fc.nat(2))
      .map(([a, at, c, how]) => {
        const i = at % (a.length + 1);
        return how === 0
          ? a.slice(0, i) + c + a.slice(i + 1)
          : how === 1
            ? a.slice(0, i) + c + a.slice(i)
            : a.slice(0, i) + a.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(noise, mutated, fc.ipV6(), fc.ipV4Extended()), (text) => {
        const ours = tryParseAddress(text);
        expect(ours?.version ?? 0).toBe(isIP(text));
        if (ours) expect(parseAddress(ours.text)).toEqual(ours);
      }),
      { numRuns: 5000 },
    );
  });
});
