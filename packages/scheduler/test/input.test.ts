// Address parsing, RFC 5952 text and masking are @lvs/inet's (tested there); this proves what the
// scheduler adds: its own error for bad input, ipvsadm's netmask rules, and the kernel's hash fold.
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
  Service,
} from "../src/index.js";

const caught = (fn: () => unknown): SchedulerError => {
  try {
    fn();
  } catch (e) {
    return e as SchedulerError;
  }
  throw new Error("did not throw");
};

describe("addresses", () => {
  it("parses into family, network-order bytes and canonical text", () => {
    const a = parseAddress("2001:DB8:0:0:0:0:2:1");
    expect(a.af).toBe(AF_INET6);
    expect(Buffer.from(a.bytes).toString("hex")).toBe("20010db8000000000000000000020001");
    expect(a.text).toBe("2001:db8::2:1");
    expect(parseAddress("10.0.0.1")).toMatchObject({ af: AF_INET, text: "10.0.0.1" });
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
    ]) {
      const err = caught(() => parseAddress(bad));
      expect(err, bad).toBeInstanceOf(SchedulerError);
      expect(err.code).toBe("SCHED_BAD_ADDRESS");
      expect(err.object).toBe(bad);
    }
  });

  it("a service refuses a bad address, dest or packet address with SchedulerError", () => {
    expect(caught(() => new Service({ address: "10.0.0.300", port: 80 })).code).toBe("SCHED_BAD_ADDRESS");
    const svc = new Service({ address: "10.0.0.1", port: 80 });
    expect(caught(() => svc.addDest({ address: "10.1.0", port: 80 })).code).toBe("SCHED_BAD_ADDRESS");
    expect(caught(() => svc.addDest({ address: "10.1.0.1", port: 70000 })).code).toBe("SCHED_BAD_VALUE");
    expect(caught(() => svc.schedule({ clientAddress: "x", clientPort: 1 })).code).toBe("SCHED_BAD_ADDRESS");
  });

  it("folds IPv6 into the XOR of its four words, as ip_vs_sh_hashkey(); an IPv4 service reads the first", () => {
    expect(foldAddress(parseAddress("10.1.2.3"))).toBe(0x0a010203);
    expect(foldAddress(parseAddress("fd00:30::1:2:3:4"))).toBe(
      (0xfd000030 ^ 0 ^ 0x00010002 ^ 0x00030004) >>> 0,
    );
    expect(foldAddress(parseAddress("fd00:30::1:2:3:4"), AF_INET)).toBe(0xfd000030);
  });

  it("masks a client into its persistence network", () => {
    expect(maskAddress(parseAddress("10.1.2.3"), 24).text).toBe("10.1.2.0");
    expect(maskAddress(parseAddress("2001:db8:1:2:3456:4:5:6"), 72).text).toBe("2001:db8:1:2:3400::");
  });

  it("netmasks as ipvsadm -M takes them, refused with SCHED_BAD_VALUE", () => {
    expect(parseNetmask("255.255.255.248", AF_INET)).toBe(29);
    expect(parseNetmask(28, AF_INET)).toBe(28);
    expect(parseNetmask("64", AF_INET6)).toBe(64);
    expect(() => parseNetmask("255.0.255.0", AF_INET)).toThrow(/contiguous/);
    expect(() => parseNetmask("255.255.255.0", AF_INET6)).toThrow(/prefix length/);
    for (const [mask, af] of [
      [0, AF_INET6],
      ["255.0.255.0", AF_INET],
      [33, AF_INET],
    ] as const) {
      const err = caught(() => parseNetmask(mask, af));
      expect(err).toBeInstanceOf(SchedulerError);
      expect(err.code).toBe("SCHED_BAD_VALUE");
      expect(err.object).toBe(String(mask));
    }
  });

  it("endpoints: IP:PORT and [IPv6]:PORT", () => {
    expect(parseEndpoint("10.0.0.1:80")).toMatchObject({ address: { text: "10.0.0.1" }, port: 80 });
    expect(parseEndpoint("[2001:db8::1]:443")).toMatchObject({ address: { text: "2001:db8::1" }, port: 443 });
    expect(parseEndpoint("2001:db8::1", { allowNoPort: true }).port).toBe(0);
    expect(() => parseEndpoint("10.0.0.1")).toThrow(/no port/);
    expect(() => parseEndpoint("10.0.0.1:70000")).toThrow(/0\.\.65535/);
    expect(caught(() => parseEndpoint("10.0.0.1:70000"))).toBeInstanceOf(SchedulerError);
    expect(caught(() => parseEndpoint("10.0.0:80")).code).toBe("SCHED_BAD_ADDRESS");
    expect(formatEndpoint(parseAddress("2001:db8::1"), 80)).toBe("[2001:db8::1]:80");
  });
});
