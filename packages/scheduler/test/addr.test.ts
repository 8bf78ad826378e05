import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  foldAddress,
  formatEndpoint,
  maskAddress,
  parseAddress,
  parseEndpoint,
  parseNetmask,
  SchedulerError,
} from "../src/index.js";

describe("addresses", () => {
  it("parses IPv4 and IPv6 into network-order words, canonical text per RFC 5952", () => {
    expect(parseAddress("10.0.0.1")).toEqual({ af: AF_INET, w: [0x0a000001], text: "10.0.0.1" });
    const a = parseAddress("2001:DB8:0:0:0:0:2:1");
    expect(a.af).toBe(AF_INET6);
    expect(a.w).toEqual([0x20010db8, 0, 0, 0x00020001]);
    expect(a.text).toBe("2001:db8::2:1");
    expect(parseAddress("2001:db8:0:1:1:1:1:1").text).toBe("2001:db8:0:1:1:1:1:1");
    expect(parseAddress("2001:0:0:1:0:0:0:1").text).toBe("2001:0:0:1::1");
    expect(parseAddress("::ffff:10.1.2.3").w).toEqual([0, 0, 0xffff, 0x0a010203]);
    expect(parseAddress("::").text).toBe("::");
  });

  it("rejects what is not an address with SCHED_BAD_ADDRESS", () => {
    for (const bad of [
      "",
      "10.0.0",
      "10.0.0.256",
      "010.0.0.1",
      "1::2::3",
      "fe80::1%eth0",
      "[::1]",
      "12345::",
      "a:b:c:d:e:f:1:2:3",
    ]) {
      const err = (() => {
        try {
          parseAddress(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(SchedulerError);
      expect((err as SchedulerError).code).toBe("SCHED_BAD_ADDRESS");
      expect((err as SchedulerError).object).toBe(bad);
    }
  });

  it("round-trips any IPv6 address through its canonical text", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 4, maxLength: 4 }), (w) => {
        const text = w.map((x) => `${(x >>> 16).toString(16)}:${(x & 0xffff).toString(16)}`).join(":");
        const a = parseAddress(text);
        expect(a.w).toEqual(w);
        expect(parseAddress(a.text)).toEqual(a);
      }),
    );
  });

  it("folds IPv6 into the XOR of its four words, as ip_vs_sh_hashkey()", () => {
    expect(foldAddress(parseAddress("10.1.2.3"))).toBe(0x0a010203);
    expect(foldAddress(parseAddress("fd00:30::1:2:3:4"))).toBe(
      (0xfd000030 ^ 0 ^ 0x00010002 ^ 0x00030004) >>> 0,
    );
  });

  it("masks a client into its persistence network", () => {
    expect(maskAddress(parseAddress("10.1.2.3"), 24).text).toBe("10.1.2.0");
    expect(maskAddress(parseAddress("10.1.2.3"), 0).text).toBe("0.0.0.0");
    expect(maskAddress(parseAddress("2001:db8:1:2:3:4:5:6"), 64).text).toBe("2001:db8:1:2::");
    expect(maskAddress(parseAddress("2001:db8:1:2:3456:4:5:6"), 72).text).toBe("2001:db8:1:2:3400::");
    expect(parseNetmask("255.255.255.248", AF_INET)).toBe(29);
    expect(parseNetmask(28, AF_INET)).toBe(28);
    expect(parseNetmask("64", AF_INET6)).toBe(64);
    expect(() => parseNetmask("255.0.255.0", AF_INET)).toThrow(/contiguous/);
    expect(() => parseNetmask("255.255.255.0", AF_INET6)).toThrow(/prefix length/);
    expect(() => parseNetmask(0, AF_INET6)).toThrow(SchedulerError);
  });

  it("endpoints: IP:PORT and [IPv6]:PORT", () => {
    expect(parseEndpoint("10.0.0.1:80")).toMatchObject({ address: { text: "10.0.0.1" }, port: 80 });
    expect(parseEndpoint("[2001:db8::1]:443")).toMatchObject({ address: { text: "2001:db8::1" }, port: 443 });
    expect(parseEndpoint("2001:db8::1", { allowNoPort: true }).port).toBe(0);
    expect(() => parseEndpoint("10.0.0.1")).toThrow(/no port/);
    expect(() => parseEndpoint("10.0.0.1:70000")).toThrow(/0\.\.65535/);
    expect(formatEndpoint(parseAddress("2001:db8::1"), 80)).toBe("[2001:db8::1]:80");
  });
});
