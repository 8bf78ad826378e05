import { readFileSync } from "node:fs";
import { SocketAddress } from "node:net";
import { canonicalAddress } from "@lvs/inet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeProxyHeader,
  encodeProxyHeader,
  encodeProxyV1,
  encodeProxyV2,
  PP_V1_MAX_LENGTH,
  type ProxyHeader,
  ProxyHeaderReader,
  type ProxyHeaderV2,
  proxiedSource,
  proxyHeaderFor,
} from "../src/index.js";

interface Captured {
  name: string;
  option: string;
  source?: { address: string; port: number };
  destination?: { address: string; port: number };
  hex: string;
}
const fixture = JSON.parse(
  readFileSync(new URL("fixtures/haproxy-2.6-proxy-headers.json", import.meta.url), "utf8"),
) as { haproxy: string; headers: Captured[] };
const clientHeaders = fixture.headers.filter((h) => h.source);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

describe("golden bytes captured from haproxy 2.6", () => {
  it("the fixture is haproxy 2.6's", () => {
    expect(fixture.haproxy).toMatch(/^HAProxy version 2\.6\./);
    expect(clientHeaders).toHaveLength(4);
  });

  it.each(clientHeaders)("we encode $name byte for byte", (c) => {
    const version = c.option === "send-proxy" ? 1 : 2;
    const h = proxyHeaderFor(version, c.source!, c.destination!);
    expect(hex(encodeProxyHeader(h))).toBe(c.hex);
  });

  it.each(fixture.headers)("we decode $name and encode it back unchanged", (c) => {
    const b = bytes(c.hex);
    const r = decodeProxyHeader(b);
    expect(r.status).toBe("ok");
    if (r.status !== "ok") return;
    expect(r.length).toBe(b.length);
    if (c.source) expect(proxiedSource(r.header)).toEqual(c.source);
    expect(hex(encodeProxyHeader(r.header))).toBe(c.hex);
  });

  it("haproxy's health check header (v2) is LOCAL, UNSPEC, no addresses", () => {
    const c = fixture.headers.find((h) => h.name === "check-send-proxy v2")!;
    const r = decodeProxyHeader(bytes(c.hex));
    expect(r).toEqual({
      status: "ok",
      length: 16,
      header: { version: 2, command: "LOCAL", family: "UNSPEC", transport: "UNSPEC", tlvs: [] },
    });
    if (r.status === "ok") expect(proxiedSource(r.header)).toBeUndefined();
  });
});

describe("v1 (proxy-protocol.txt §2.1)", () => {
  const ok = (s: string) => decodeProxyHeader(new TextEncoder().encode(s));

  it("decodes TCP4, TCP6 and UNKNOWN, reporting the length so the data after it is kept", () => {
    expect(ok("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /")).toEqual({
      status: "ok",
      length: 45,
      header: {
        version: 1,
        protocol: "TCP4",
        source: { address: "192.0.2.1", port: 56324 },
        destination: { address: "198.51.100.2", port: 443 },
      },
    });
    const six = ok("PROXY TCP6 2001:DB8:0:0::1 2001:db8::2 1 65535\r\n");
    expect(six.status === "ok" && six.header).toEqual({
      version: 1,
      protocol: "TCP6",
      source: { address: "2001:db8::1", port: 1 },
      destination: { address: "2001:db8::2", port: 65535 },
    });
    expect(ok("PROXY UNKNOWN\r\n")).toEqual({
      status: "ok",
      length: 15,
      header: { version: 1, protocol: "UNKNOWN", rest: "" },
    });
    const unk = ok("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n");
    expect(unk.status === "ok" && encodeProxyHeader(unk.header)).toEqual(
      new TextEncoder().encode("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"),
    );
  });

  it.each([
    ["PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n", "PP_BAD_V1"],
    ["PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n", "PP_BAD_V1"],
    ["PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n", "PP_BAD_V1"],
    ["PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n", "PP_BAD_V1"],
    ["PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n", "PP_BAD_V1"],
    ["PROXY TCP4 192.0.2.256 198.51.100.2 1 2\r\n", "PP_BAD_V1"],
    ["PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n", "PP_BAD_V1"],
    ["PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n", "PP_BAD_V1"],
    ["PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", "PP_BAD_V1"],
    ["PROXY TCP4 192.0.2.1 198.51.100.2 1 2\x00\r\n", "PP_BAD_V1"],
    ["PROXZ", "PP_NOT_PROXY"],
    ["GET / HTTP/1.1\r\n", "PP_NOT_PROXY"],
    [`PROXY UNKNOWN ${"x".repeat(100)}`, "PP_TOO_LONG"],
  ])("refuses %j (%s)", (text, code) => {
    const r = ok(text);
    expect(r.status).toBe("error");
    expect(r.status === "error" && r.code).toBe(code);
  });

  it("reads at most 107 bytes: a line of exactly 107 is accepted, 108 is refused", () => {
    const pad = (n: number) => `PROXY UNKNOWN${"x".repeat(n - 15)}\r\n`;
    expect(pad(PP_V1_MAX_LENGTH).length).toBe(107);
    expect(ok(pad(PP_V1_MAX_LENGTH)).status).toBe("ok");
    const r = ok(pad(PP_V1_MAX_LENGTH + 1));
    expect(r.status === "error" && r.code).toBe("PP_TOO_LONG");
  });

  it("every strict prefix of a valid line is incomplete", () => {
    const line = new TextEncoder().encode("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
    for (let n = 0; n < line.length; n++) {
      expect(decodeProxyHeader(line.subarray(0, n))).toEqual({ status: "incomplete" });
    }
  });

  it("encode refuses what it cannot write", () => {
    expect(() =>
      encodeProxyV1({
        version: 1,
        protocol: "TCP4",
        source: { address: "::1", port: 1 },
        destination: { address: "127.0.0.1", port: 1 },
      }),
    ).toThrow(expect.objectContaining({ code: "PROXY_BAD_VALUE", object: "source" }));
    expect(() =>
      encodeProxyV1({
        version: 1,
        protocol: "TCP4",
        source: { address: "127.0.0.1", port: 70000 },
        destination: { address: "127.0.0.1", port: 1 },
      }),
    ).toThrow(expect.objectContaining({ code: "PROXY_BAD_VALUE" }));
  });
});

describe("v2 (proxy-protocol.txt §2.2)", () => {
  const sig = "0d0a0d0a000d0a515549540a";

  it("keeps TLVs (types known and unknown) in order, and UNIX paths, for a lossless round trip", () => {
    const h: ProxyHeaderV2 = {
      version: 2,
      command: "PROXY",
      family: "INET",
      transport: "STREAM",
      source: { address: "192.0.2.1", port: 1000 },
      destination: { address: "192.0.2.2", port: 80 },
      tlvs: [
        { type: 0x01, value: new TextEncoder().encode("h2") },
        { type: 0xe0, value: Uint8Array.of(1, 2, 3) },
        { type: 0x04, value: new Uint8Array(0) },
      ],
    };
    const b = encodeProxyV2(h);
    expect(hex(b)).toBe(`${sig}2111001ac0000201c000020203e800500100026832e00003010203040000`);
    expect(decodeProxyHeader(b)).toEqual({ status: "ok", header: h, length: b.length });
    const unix: ProxyHeaderV2 = {
      version: 2,
      command: "PROXY",
      family: "UNIX",
      transport: "STREAM",
      sourcePath: new Uint8Array(108).fill(0x61),
      destinationPath: new Uint8Array(108).fill(0x62),
      tlvs: [],
    };
    const u = encodeProxyV2(unix);
    expect(u.length).toBe(16 + 216);
    expect(decodeProxyHeader(u)).toEqual({ status: "ok", header: unix, length: 232 });
  });

  it.each([
    [`${sig}1111000c`, "PP_BAD_V2_FIELD", "version 1 in a v2 frame"],
    [`${sig}2211000c`, "PP_BAD_V2_FIELD", "command 2"],
    [`${sig}2141000c`, "PP_BAD_V2_FIELD", "family 4"],
    [`${sig}2113000c`, "PP_BAD_V2_FIELD", "transport 3"],
    [`${sig}2111000b${"00".repeat(11)}`, "PP_BAD_V2_LENGTH", "INET needs 12 address bytes"],
    [`${sig}2111000e${"00".repeat(12)}0100`, "PP_BAD_TLV", "TLV header cut"],
    [`${sig}2111000f${"00".repeat(12)}010005`, "PP_BAD_TLV", "TLV value past the end"],
    [`0d0a0d0a000d0a5155495420`, "PP_NOT_PROXY", "signature wrong in its last byte"],
  ])("refuses %s (%s: %s)", (h, code) => {
    const r = decodeProxyHeader(bytes(h));
    expect(r.status === "error" && r.code).toBe(code);
  });

  it("refuses a header over the limit as soon as its length field is read", () => {
    const head = bytes(`${sig}21110f00`);
    const r = decodeProxyHeader(head, { maxV2Length: 1024 });
    expect(r.status === "error" && r.code).toBe("PP_TOO_LONG");
    expect(decodeProxyHeader(head).status).toBe("incomplete");
  });

  it("every strict prefix of a valid header is incomplete", () => {
    const b = bytes(fixture.headers.find((h) => h.name === "send-proxy-v2 TCP6")!.hex);
    for (let n = 0; n < b.length; n++) expect(decodeProxyHeader(b.subarray(0, n)).status).toBe("incomplete");
  });
});

describe("ProxyHeaderReader", () => {
  it("assembles a header from one-byte chunks and hands back what followed it", () => {
    const b = Buffer.concat([bytes(fixture.headers[1]!.hex), Buffer.from("hello")]);
    const r = new ProxyHeaderReader();
    for (let i = 0; i < b.length - 6; i++) expect(r.push(b.subarray(i, i + 1)).status).toBe("incomplete");
    const done = r.push(b.subarray(b.length - 6));
    expect(done.status).toBe("ok");
    expect(done.status === "ok" && Buffer.from(done.rest).toString()).toBe("hello");
  });
});

// ---------------------------------------------------------------------- properties

const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6().map((a) => canonicalAddress(a)!);
const port = fc.integer({ min: 0, max: 65535 });
const endpoint = (addr: fc.Arbitrary<string>) => fc.record({ address: addr, port });
const tlv = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  value: fc.uint8Array({ maxLength: 40 }),
});
const header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.record({
    version: fc.constant(1 as const),
    protocol: fc.constant("TCP4" as const),
    source: endpoint(ipv4),
    destination: endpoint(ipv4),
  }),
  fc.record({
    version: fc.constant(1 as const),
    protocol: fc.constant("TCP6" as const),
    source: endpoint(ipv6),
    destination: endpoint(ipv6),
  }),
  fc.record({
    version: fc.constant(2 as const),
    command: fc.constantFrom("LOCAL" as const, "PROXY" as const),
    family: fc.constant("INET" as const),
    transport: fc.constantFrom("STREAM" as const, "DGRAM" as const, "UNSPEC" as const),
    source: endpoint(ipv4),
    destination: endpoint(ipv4),
    tlvs: fc.array(tlv, { maxLength: 5 }),
  }),
  fc.record({
    version: fc.constant(2 as const),
    command: fc.constantFrom("LOCAL" as const, "PROXY" as const),
    family: fc.constant("INET6" as const),
    transport: fc.constantFrom("STREAM" as const, "DGRAM" as const),
    source: endpoint(ipv6),
    destination: endpoint(ipv6),
    tlvs: fc.array(tlv, { maxLength: 5 }),
  }),
);

describe("properties (fast-check)", () => {
  it("decode(encode(h)) = h, with the exact length", () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 20 }), (h, after) => {
        const b = encodeProxyHeader(h);
        const r = decodeProxyHeader(Buffer.concat([b, after]));
        expect(r).toEqual({ status: "ok", header: h, length: b.length });
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on any input, and never reads past its limits", () => {
    const prefixes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from("PROXY "), b])),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([bytes("0d0a0d0a000d0a515549540a"), b])),
      header.chain((h) =>
        fc.tuple(fc.nat({ max: 400 }), fc.nat({ max: 255 })).map(([i, v]) => {
          const b = Buffer.from(encodeProxyHeader(h));
          if (b.length > 0) b[i % b.length] = v; // one corrupted byte
          return b;
        }),
      ),
    );
    fc.assert(
      fc.property(prefixes, fc.integer({ min: 0, max: 2000 }), (b, max) => {
        const r = decodeProxyHeader(b, { maxV2Length: max });
        if (r.status === "ok") {
          expect(r.length).toBeLessThanOrEqual(b.length);
          expect(r.length).toBeLessThanOrEqual(r.header.version === 1 ? 107 : Math.max(16, max));
        }
        // A streaming reader fed the same bytes in two pieces agrees with the one-shot decode.
        const reader = new ProxyHeaderReader({ maxV2Length: max });
        const cut = Math.floor(b.length / 2);
        const first = reader.push(b.subarray(0, cut));
        const second = first.status === "incomplete" ? reader.push(b.subarray(cut)) : first;
        expect(second.status).toBe(r.status);
      }),
      { numRuns: 5000 },
    );
  });

  it("addresses print as node (libuv's inet_ntop) prints them", () => {
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        expect(canonicalAddress(a)).toBe(new SocketAddress({ address: a, family: "ipv6" }).address);
      }),
      { numRuns: 3000 },
    );
    for (const a of [
      "::ffff:1.2.3.4",
      "::1.2.3.4",
      "::",
      "::1",
      "1::",
      "::ffff:0:1.2.3.4",
      "0:0:0:0:0:1:0:0",
    ]) {
      expect(canonicalAddress(a)).toBe(new SocketAddress({ address: a, family: "ipv6" }).address);
    }
  });
});
