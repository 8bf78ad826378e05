import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConnections } from "../src/conn.js";

// /proc/net/ip_vs_conn captured in the VM (Linux 6.1) by @lvs/ipvsadm's scripts/capture-output.sh.
const captured = readFileSync(new URL("./fixtures/ip_vs_conn.txt", import.meta.url), "utf8");

describe("/proc/net/ip_vs_conn", () => {
  it("parses the kernel's lines into typed connections", () => {
    const t = parseConnections(captured);
    expect(t.malformed).toEqual([]);
    expect(t.connections).toEqual([
      {
        protocol: "TCP",
        af: 2,
        clientAddress: "10.0.0.254",
        clientPort: t.connections[0]?.clientPort,
        virtualAddress: "10.0.0.1",
        virtualPort: 80,
        destAf: 2,
        destAddress: "10.0.0.2",
        destPort: 80,
        state: "SYN_RECV",
        expires: t.connections[0]?.expires,
        peName: undefined,
        peData: undefined,
      },
    ]);
    expect(t.connections[0]?.clientPort).toBeGreaterThan(1023);
  });

  it("IPv6 lines (%pI6, full form), an IPv4 real server behind an IPv6 service, pe data", () => {
    const text = [
      "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData",
      "TCP 2001:0db8:0000:0000:0000:0000:0000:0009 C350 2001:0db8:0000:0000:0000:0000:0000:0001 01BB 2001:0db8:0000:0000:0000:0000:0000:0002 01BB ESTABLISHED     899",
      "UDP 2001:0db8:0000:0000:0000:0000:0000:0009 C351 2001:0db8:0000:0000:0000:0000:0000:0001 0035 0A000002 0035 UDP             299 sip abc@example",
      "",
    ].join("\n");
    const t = parseConnections(text);
    expect(
      t.connections.map((c) => [
        c.af,
        c.clientAddress,
        c.clientPort,
        c.destAf,
        c.destAddress,
        c.state,
        c.expires,
        c.peName,
        c.peData,
      ]),
    ).toEqual([
      [10, "2001:db8::9", 50000, 10, "2001:db8::2", "ESTABLISHED", 899, undefined, undefined],
      [10, "2001:db8::9", 50001, 2, "10.0.0.2", "UDP", 299, "sip", "abc@example"],
    ]);
  });

  it("malformed lines are dropped and counted with their line number, never fatal", () => {
    const t = parseConnections(
      [
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData",
        "TCP nothex 0050 0A000001 0050 0A000002 0050 ESTABLISHED 10",
        "short line",
        "TCP 0A000001 0050 0A000001 0050 0A000002 0050 CLOSE 5",
        "TCP 0A000001 50 0A000001 0050 0A000002 0050 CLOSE 5",
        "TCP 0A000001 0050 0A000001 0050 0A000002 0050 CLOSE soon",
        "TCP 0A000001 0050 2001:0db8:0000:0000:0000:0000:0000:0001 0050 0A000002 0050 CLOSE 5",
        "",
      ].join("\n"),
    );
    expect(t.connections).toHaveLength(1);
    expect(t.malformed.map((m) => [m.line, m.reason])).toEqual([
      [2, "bad address"],
      [3, "expected at least 9 fields, got 2"],
      [5, "bad port"],
      [6, "bad expiry"],
      [7, "client and virtual address families differ"],
    ]);
    expect(t.malformed[0]?.text).toBe("TCP nothex 0050 0A000001 0050 0A000002 0050 ESTABLISHED 10");
  });

  it("a file without the header line parses from its first line", () => {
    const t = parseConnections("UDP 0A010007 14E9 0A000002 0035 0A000301 0035 UDP             287\n");
    expect(t.malformed).toEqual([]);
    expect(t.connections.map((c) => [c.protocol, c.clientPort, c.virtualAddress, c.expires])).toEqual([
      ["UDP", 5353, "10.0.0.2", 287],
    ]);
  });
});
