import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatEndpoint, formatMac, parseAddress, parseEndpoint, parseMac, parsePort } from "../src/index.js";
import { caught } from "./helpers.js";

describe("host:port", () => {
  it.each([
    ["10.0.0.1:80", "10.0.0.1", 80],
    ["[2001:db8::1]:443", "2001:db8::1", 443],
    ["[2001:DB8:0::1]:0", "2001:db8::1", 0],
    ["10.0.0.1", "10.0.0.1", undefined],
    ["[fd00::1]", "fd00::1", undefined],
    ["fd00::1", "fd00::1", undefined],
    ["10.0.0.1:65535", "10.0.0.1", 65535],
  ])("%s → %s port %s", (text, address, port) => {
    const ep = parseEndpoint(text);
    expect(ep.address.text).toBe(address);
    expect(ep.port).toBe(port);
  });

  it.each([
    ["10.0.0.1:70000", "INET_BAD_PORT"],
    ["10.0.0.1:", "INET_BAD_PORT"],
    ["10.0.0.1:http", "INET_BAD_PORT"],
    ["[fd00::1]:", "INET_BAD_PORT"],
    ["[fd00::1]:-1", "INET_BAD_PORT"],
    ["10.0.0:80", "INET_BAD_ADDRESS"],
    ["[10.0.0.1]:80", "INET_BAD_ADDRESS"],
    ["fd00::1]:80", "INET_BAD_ADDRESS"],
    ["[fd00::1:80", "INET_BAD_ADDRESS"],
    ["example.org:80", "INET_BAD_ADDRESS"],
    ["", "INET_BAD_ADDRESS"],
  ])("refuses %j with %s naming the whole text", (text, code) => {
    const err = caught(() => parseEndpoint(text));
    expect(err.code).toBe(code);
    expect(err.object).toBe(text);
  });

  it("a bad address names the host part", () => {
    expect(caught(() => parseEndpoint("10.9.0.300:1")).message).toMatch(
      /^not an IPv4 or IPv6 address: "10\.9\.0\.300" in "10\.9\.0\.300:1"/,
    );
    expect(caught(() => parseEndpoint("vip")).message).toMatch(/^not an IPv4 or IPv6 address: "vip" \(/);
  });

  it("formats with brackets for IPv6, canonical, and leaves what is not an address alone", () => {
    expect(formatEndpoint("10.0.0.2", 80)).toBe("10.0.0.2:80");
    expect(formatEndpoint("FD00:0::2", 80)).toBe("[fd00::2]:80");
    expect(formatEndpoint(parseAddress("2001:db8::1"), 80)).toBe("[2001:db8::1]:80");
    expect(formatEndpoint("fd00::2")).toBe("[fd00::2]");
    expect(formatEndpoint("10.0.0.2")).toBe("10.0.0.2");
    expect(formatEndpoint("", 0)).toBe(":0");
    expect(formatEndpoint("backend.example", 8080)).toBe("backend.example:8080");
  });

  it("property: format → parse round-trips any address and port", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.nat(65535), (a, port) => {
        const ep = parseEndpoint(formatEndpoint(a, port));
        expect(ep.address.text).toBe(parseAddress(a).text);
        expect(ep.port).toBe(port);
      }),
    );
  });

  it("ports are 0..65535 in decimal", () => {
    expect(parsePort("0")).toBe(0);
    expect(parsePort(65535)).toBe(65535);
    expect(parsePort("65536")).toBeUndefined();
    expect(parsePort("0x50")).toBeUndefined();
    expect(parsePort(8.5)).toBeUndefined();
    expect(parsePort("")).toBeUndefined();
  });
});

describe("MAC text", () => {
  it("parses colons or dashes in either case, prints lower case with colons", () => {
    expect(Array.from(parseMac("02-00-5E-00-01-01"))).toEqual([2, 0, 0x5e, 0, 1, 1]);
    expect(formatMac(parseMac("AA:bb:CC:dd:EE:ff"))).toBe("aa:bb:cc:dd:ee:ff");
  });

  it.each([
    "",
    "aa:bb:cc:dd:ee",
    "aa:bb:cc:dd:ee:ff:00",
    "aa:bb-cc:dd:ee:ff",
    "aabb.ccdd.eeff",
    "gg:bb:cc:dd:ee:ff",
  ])("refuses %j with INET_BAD_MAC", (text) => {
    const err = caught(() => parseMac(text));
    expect(err.code).toBe("INET_BAD_MAC");
    expect(err.object).toBe(text);
  });
});
