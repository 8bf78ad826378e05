// Pure pieces: addresses, sysctl keys, address specs, the state file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  confKey,
  defaultStateFile,
  formatIp,
  NetconfError,
  normalizeAddress,
  parseCidr,
  parseIp,
  parseIpList,
  parseMac,
  readState,
  sysctlPath,
  writeState,
} from "../src/index.js";

// RFC 5952 text and the address grammar are @lvs/inet's (tested there); this proves netconf's
// door to them: white space allowed, and every refusal a NetconfError with its own code.
describe("IP text", () => {
  it("parses the textual forms", () => {
    expect(parseIp("2001:DB8:0:0:0:0:0:1").text).toBe("2001:db8::1");
    expect(parseIp(" 10.0.0.1 ").version).toBe(4);
    expect(formatIp(parseIp("::ffff:10.0.0.1").bytes)).toBe("::ffff:10.0.0.1");
    expect(parseCidr("10.0.0.1/24")).toMatchObject({ text: "10.0.0.1", prefixLength: 24 });
    expect(parseIpList("10.0.0.1, 2001:db8::1,10.0.0.2").map((p) => p.text)).toEqual([
      "10.0.0.1",
      "2001:db8::1",
      "10.0.0.2",
    ]);
    expect(Array.from(parseMac(" 02-00-5E-00-01-01"))).toEqual([2, 0, 0x5e, 0, 1, 1]);
  });

  it.each(["10.0.0.256", "10.0.0", "fe80::1%eth0", "", "vip"])("refuses %j with NETCONF_BAD_ADDRESS", (t) => {
    expect(() => parseIp(t)).toThrowError(
      expect.objectContaining({ code: "NETCONF_BAD_ADDRESS", name: "NetconfError" }),
    );
  });
  it("refuses bad lists, CIDR addresses and MACs with NETCONF_BAD_ADDRESS naming the culprit", () => {
    for (const fn of [
      () => parseIpList("10.0.0.1,vip"),
      () => parseCidr("vip/24"),
      () => parseMac("02:00:5e"),
    ]) {
      expect(fn).toThrowError(NetconfError);
      expect(fn).toThrowError(expect.objectContaining({ code: "NETCONF_BAD_ADDRESS" }));
    }
    expect(() => parseIpList("10.0.0.1,vip")).toThrowError(
      expect.objectContaining({ context: { object: "vip" } }),
    );
  });
  it("refuses a prefix out of range", () => {
    expect(() => parseCidr("10.0.0.1/33")).toThrowError(
      expect.objectContaining({ code: "NETCONF_BAD_PREFIX" }),
    );
    expect(() => parseCidr("2001:db8::1/129")).toThrowError(
      expect.objectContaining({ code: "NETCONF_BAD_PREFIX" }),
    );
  });
});

describe("address specs", () => {
  it("defaults VIPs to /32, /128, scope global, no DAD", () => {
    expect(normalizeAddress({ dev: "lo", address: "10.0.0.1" })).toMatchObject({
      prefixLength: 32,
      scope: 0,
      family: 4,
      object: "10.0.0.1/32 on lo",
    });
    expect(normalizeAddress({ dev: "eth0", address: "2001:db8::1" })).toMatchObject({
      prefixLength: 128,
      noDad: true,
    });
    expect(normalizeAddress({ dev: "eth0", address: "10.0.0.1/24", scope: "host" })).toMatchObject({
      prefixLength: 24,
      scope: 254,
    });
  });
  it.each([
    [{ dev: "", address: "10.0.0.1" }, "NETCONF_NO_INTERFACE"],
    [{ dev: "averyveryverylongname", address: "10.0.0.1" }, "NETCONF_NO_INTERFACE"],
    [{ dev: "lo", address: "10.0.0.1", prefixLength: 40 }, "NETCONF_BAD_PREFIX"],
    [{ dev: "lo", address: "2001:db8::1", label: "lo:v6" }, "NETCONF_BAD_LABEL"],
    [{ dev: "lo", address: "10.0.0.1", label: "lo:a-label-too-long" }, "NETCONF_BAD_LABEL"],
    [{ dev: "lo", address: "10.0.0.1", scope: "planet" as "global" }, "NETCONF_BAD_OPTION"],
  ])("refuses %j with %s", (spec, code) => {
    expect(() => normalizeAddress(spec)).toThrowError(expect.objectContaining({ code }));
  });
});

describe("sysctl keys", () => {
  it.each([
    ["net.ipv4.conf.all.arp_ignore", "/proc/sys/net/ipv4/conf/all/arp_ignore"],
    ["net.ipv4.conf.eth0/100.rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"],
    ["net/ipv4/conf/eth0.100/rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"],
    ["net.ipv4.vs.expire_nodest_conn", "/proc/sys/net/ipv4/vs/expire_nodest_conn"],
  ])("%s → %s", (key, path) => {
    expect(sysctlPath(key)).toBe(path);
  });
  it("writes interface names with dots in sysctl(8)'s slash form", () => {
    expect(confKey("ipv4", "eth0.100", "arp_ignore")).toBe("net.ipv4.conf.eth0/100.arp_ignore");
    expect(sysctlPath(confKey("ipv4", "eth0.100", "arp_ignore"))).toBe(
      "/proc/sys/net/ipv4/conf/eth0.100/arp_ignore",
    );
  });
  it.each([
    "net..ipv4",
    "net/ipv4/../../etc/passwd",
    "net.ipv4 x",
    "",
    "net.ipv4.conf.all.arp_ignore\n",
  ])("refuses %j", (key) => {
    expect(() => sysctlPath(key)).toThrowError(expect.objectContaining({ code: "NETCONF_BAD_SYSCTL_KEY" }));
  });
});

describe("state file", () => {
  const dir = mkdtempSync(join(tmpdir(), "lvs-netconf-state-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("defaults under /var/lib/lvs/netconf, one file per role and namespace", () => {
    expect(defaultStateFile("realserver")).toBe("/var/lib/lvs/netconf/realserver.json");
    expect(defaultStateFile("realserver", "/run/netns/rs1")).toBe("/var/lib/lvs/netconf/realserver-rs1.json");
  });

  it("round-trips, and an empty record list removes the file", () => {
    const file = join(dir, "sub", "s.json");
    const state = {
      version: 1 as const,
      role: "realserver",
      modes: ["dr"],
      netns: "rs1",
      records: [
        { kind: "sysctl" as const, key: "net.ipv4.conf.all.arp_ignore", previous: "0", applied: "1" },
        { kind: "address" as const, dev: "lo", address: "10.0.0.1", prefixLength: 32, family: 4 as const },
        { kind: "link-up" as const, dev: "tunl0" },
      ],
      updated: "",
    };
    writeState(file, state);
    expect(readState(file)).toMatchObject({ ...state, updated: expect.any(String) });
    writeState(file, { ...state, records: [] });
    expect(readState(file)).toBeUndefined();
  });

  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["another version", JSON.stringify({ version: 2, role: "x", records: [] }), /version 2/],
    [
      "a bad record",
      JSON.stringify({ version: 1, role: "x", records: [{ kind: "sysctl", key: "k" }] }),
      /record 0/,
    ],
  ])("a damaged file (%s) is an error naming the file, never ignored", (_n, text, why) => {
    const file = join(dir, "bad.json");
    writeFileSync(file, text);
    try {
      readState(file);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(NetconfError);
      expect((err as NetconfError).code).toBe("NETCONF_STATE_FILE");
      expect((err as NetconfError).context.file).toBe(file);
      expect((err as Error).message).toMatch(why);
    }
    expect(readFileSync(file, "utf8")).toBe(text);
  });
});
