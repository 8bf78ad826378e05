import { readFileSync } from "node:fs";
import { parseConnections } from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import {
  decodeMessage,
  encodeMessages,
  formatConnection,
  forwardLookup,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_INACTIVE,
  IP_VS_CONN_F_TEMPLATE,
  resyncConnections,
} from "../src/index.js";

// Lines in the kernel's format (ip_vs_conn_seq_show, Linux 6.1: "%-3s %08X %04X ... %-11s %7u%s").
const text = readFileSync(new URL("./fixtures/ip_vs_conn.txt", import.meta.url), "utf8");

describe("bulk resync from /proc/net/ip_vs_conn", () => {
  it("@lvs/ipvs parses IPv4 hex and IPv6 %pI6 entries, PE name/data; a bad line is reported, not fatal", () => {
    const { connections, malformed } = parseConnections(text);
    expect(connections).toHaveLength(6);
    expect(connections[0]).toEqual({
      protocol: "TCP",
      af: 2,
      clientAddress: "10.1.0.5",
      clientPort: 40001,
      virtualAddress: "10.0.0.1",
      virtualPort: 80,
      destAf: 2,
      destAddress: "10.0.2.11",
      destPort: 8080,
      state: "ESTABLISHED",
      expires: 899,
      peName: undefined,
      peData: undefined,
    });
    expect(connections[4]).toMatchObject({ peName: "sip", peData: "abc123@host" });
    expect(connections[5]).toMatchObject({
      af: 10,
      clientAddress: "2001:db8::5",
      destAddress: "2001:db8::b",
      state: "SYN_RECV",
    });
    expect(malformed).toEqual([
      { line: 8, text: "TCP garbage", reason: "expected at least 9 fields, got 2" },
    ]);
  });

  it("fills flags from the service table, INACTIVE and TEMPLATE; the expiry becomes the v1 timeout", () => {
    const { connections } = parseConnections(text);
    const lookup = forwardLookup([
      {
        protocol: 17,
        virtualAddress: "10.0.0.2",
        virtualPort: 53,
        destAddress: "10.0.3.1",
        destPort: 53,
        forward: IP_VS_CONN_F_DROUTE,
      },
    ]);
    const { connections: sync, skipped } = resyncConnections(connections, lookup);
    expect(skipped).toEqual([]);
    expect(sync.map((c) => [formatConnection(c), c.flags, c.timeout])).toEqual([
      ["TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED", 0, 899],
      ["TCP 10.1.0.6:40002 10.0.0.1:80 10.0.2.12:8080 FIN_WAIT", IP_VS_CONN_F_INACTIVE, 65],
      ["UDP 10.1.0.7:5353 10.0.0.2:53 10.0.3.1:53 UDP", IP_VS_CONN_F_DROUTE, 287],
      ["TCP 10.1.0.5:0 10.0.0.1:80 10.0.2.11:8080 NONE", IP_VS_CONN_F_TEMPLATE, 359],
      ["UDP 10.1.0.8:5060 10.0.0.3:5060 10.0.4.1:5060 UDP", 0, 170],
      ["TCP [2001:db8::5]:50000 [2001:db8::1]:443 [2001:db8::b]:8443 SYN_RECV", IP_VS_CONN_F_INACTIVE, 55],
    ]);
    expect(Buffer.from(sync[4]?.peData ?? []).toString()).toBe("abc123@host");
    // and they survive the wire
    const back = encodeMessages(sync, { version: 1 }).flatMap((m) => decodeMessage(m).connections);
    expect(back).toEqual(sync);
  });

  it("skips what the sync protocol cannot carry: a protocol it does not know, a mixed-family entry", () => {
    const { connections } = parseConnections(
      [
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData",
        "IP_47 0A010005 0000 0A000001 0000 0A00020B 0000 NONE        60",
        "TCP 2001:0db8:0000:0000:0000:0000:0000:0005 C350 2001:0db8:0000:0000:0000:0000:0000:0001 01BB 0A00020B 20FB ESTABLISHED     55",
        "TCP 0A010005 9C41 0A000001 0050 0A00020B 1F90 ESTABLISHED     899",
      ].join("\n"),
    );
    const { connections: sync, skipped } = resyncConnections(connections);
    expect(sync.map(formatConnection)).toEqual(["TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED"]);
    expect(skipped.map((s) => [s.connection.clientAddress, s.reason])).toEqual([
      ["10.1.0.5", "unknown protocol IP_47"],
      [
        "2001:db8::5",
        "destination family differs from the service's (the sync protocol has one family per entry)",
      ],
    ]);
  });
});
