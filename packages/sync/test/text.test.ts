import { describe, expect, it } from "vitest";
import {
  AF_INET6,
  connectionToJson,
  encodeMessage,
  formatConnection,
  parseConnection,
  type SyncConnection,
  SyncError,
  SyncInbox,
  stateName,
} from "../src/index.js";

describe("text form (ipvsadm -Lcn columns without expiry)", () => {
  it("formats and parses a TCP line", () => {
    const line = "TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED";
    const c = parseConnection(line);
    expect(c).toMatchObject({
      protocol: 6,
      clientPort: 40001,
      virtualAddress: "10.0.0.1",
      destPort: 8080,
      state: 1,
      flags: 0,
    });
    expect(formatConnection(c)).toBe(line);
  });

  it("IPv6 in brackets; non-established TCP is INACTIVE; trailing expiry column ignored", () => {
    const c = parseConnection("TCP [2001:db8::5]:1234 [2001:db8::1]:80 [2001:db8::b]:80 SYN_RECV 00:59");
    expect(c.af).toBe(AF_INET6);
    expect(c.flags & 0x100).toBe(0x100);
    expect(formatConnection(c)).toBe("TCP [2001:db8::5]:1234 [2001:db8::1]:80 [2001:db8::b]:80 SYN_RECV");
  });

  it("state names follow the kernel's tables", () => {
    expect(stateName(6, 4)).toBe("FIN_WAIT");
    expect(stateName(17, 0)).toBe("UDP");
    expect(stateName(132, 8)).toBe("ESTABLISHED");
    expect(stateName(6, 0, 0x1000)).toBe("NONE"); // template
    expect(stateName(6, 99)).toBe("ERR!");
  });

  it("JSON lines round-trip", () => {
    const c = parseConnection("UDP 10.1.0.5:5353 10.0.0.1:53 10.0.2.11:53 UDP");
    const withPe: SyncConnection = {
      ...c,
      peData: new Uint8Array([1, 2]),
      peName: "sip",
      timeout: 300,
      fwmark: 3,
    };
    expect(parseConnection(JSON.stringify(connectionToJson(withPe)))).toEqual(withPe);
  });

  it.each([
    ["TCP 10.1.0.5:40001 10.0.0.1:80 ESTABLISHED", /expected/],
    ["XTP 10.1.0.5:1 10.0.0.1:80 10.0.2.11:80 ESTABLISHED", /unknown protocol/],
    ["TCP 10.1.0.5:1 10.0.0.1:80 10.0.2.11:80 WAITING", /unknown TCP state/],
    ["TCP 10.1.0.5:1 [::1]:80 10.0.2.11:80 ESTABLISHED", /address family/],
    ["TCP 10.1.0.500:1 10.0.0.1:80 10.0.2.11:80 ESTABLISHED", /valid IP/],
  ])("rejects %s with the line number", (text, re) => {
    try {
      parseConnection(text, 7);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SyncError);
      expect((e as SyncError).code).toBe("SYNC_BAD_LINE");
      expect((e as SyncError).context.line).toBe(7);
      expect((e as Error).message).toMatch(re);
    }
  });

  // RFC 5952 text and the address grammar are @lvs/inet's (tested there); a line's addresses get it.
  it("writes the addresses of a line in canonical text (RFC 5952)", () => {
    const c = parseConnection("TCP [2001:DB8:0:0::5]:1 [2001:db8:0:0:0:0:0:1]:80 [::FFFF:a00:1]:80 NONE");
    expect([c.clientAddress, c.virtualAddress, c.destAddress]).toEqual([
      "2001:db8::5",
      "2001:db8::1",
      "::ffff:10.0.0.1",
    ]);
    expect(formatConnection(c)).toBe("TCP [2001:db8::5]:1 [2001:db8::1]:80 [::ffff:10.0.0.1]:80 NONE");
  });
});

describe("SyncInbox (the receive path)", () => {
  it("filters by syncid (0 takes all), drops and counts malformed datagrams", () => {
    const good = encodeMessage({
      version: 1,
      syncId: 3,
      connections: [parseConnection("TCP 1.1.1.1:1 2.2.2.2:80 3.3.3.3:80 ESTABLISHED")],
    });
    const inbox = new SyncInbox(3);
    expect(inbox.receive(good).kind).toBe("accepted");
    const other = good.slice();
    other[1] = 4;
    expect(inbox.receive(other)).toEqual({ kind: "other-syncid", syncId: 4 });
    expect(inbox.receive(good.subarray(0, 20)).kind).toBe("dropped");
    expect(inbox.receive(new Uint8Array([1]))).toMatchObject({
      kind: "dropped",
      code: "SYNC_TRUNCATED_HEADER",
    });
    expect(inbox.stats).toEqual({
      datagrams: 4,
      accepted: 1,
      otherSyncId: 1,
      dropped: 2,
      droppedByCode: { SYNC_SIZE_MISMATCH: 1, SYNC_TRUNCATED_HEADER: 1 },
      connections: 1,
    });
    expect(new SyncInbox(0).receive(other).kind).toBe("accepted");
  });
});
