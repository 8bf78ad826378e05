import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  decodeMessage,
  encodeMessage,
  encodeMessages,
  IP_VS_CONN_F_IN_SEQ,
  IP_VS_CONN_F_INACTIVE,
  MASTER_SYNC_MAXLEN_V4,
  type SyncConnection,
  SyncError,
  type SyncMessage,
  tryDecodeMessage,
} from "../src/index.js";

const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const tcpConn: SyncConnection = {
  af: AF_INET,
  protocol: 6,
  clientAddress: "10.1.0.5",
  clientPort: 40001,
  virtualAddress: "10.0.0.1",
  virtualPort: 80,
  destAddress: "10.0.2.11",
  destPort: 8080,
  flags: 0,
  state: 1,
  fwmark: 0,
  timeout: 900,
};

// Built by hand from struct ip_vs_sync_mesg + struct ip_vs_sync_v4 (ip_vs_sync.c, Linux 6.1).
const V1_ONE_TCP =
  "00 05 002c 01 01 0000" + // reserved=0, syncid=5, size=44, nr_conns=1, version=1, spare=0
  "00 06 0024" + // type=0 (IPv4), protocol=6, ver_size=36
  "00000000 0001" + // flags, state=ESTABLISHED
  "9c41 0050 1f90" + // cport 40001, vport 80, dport 8080
  "00000000 00000384" + // fwmark 0, timeout 900 s
  "0a010005 0a000001 0a00020b"; // caddr, vaddr, daddr
// struct ip_vs_sync_mesg_v0 + struct ip_vs_sync_conn_v0
const V0_ONE_TCP =
  "01 05 001c" + // nr_conns=1, syncid=5, size=28
  "00 06 9c41 0050 1f90" + // reserved, protocol, cport, vport, dport
  "0a010005 0a000001 0a00020b" + // caddr, vaddr, daddr
  "0000 0001"; // flags, state

describe("golden bytes (hand-built from the kernel structs)", () => {
  it("v1 IPv4 entry", () => {
    const bytes = encodeMessage({ version: 1, syncId: 5, connections: [tcpConn] });
    expect(hex(bytes)).toBe(hex(unhex(V1_ONE_TCP)));
    expect(decodeMessage(unhex(V1_ONE_TCP))).toEqual({ version: 1, syncId: 5, connections: [tcpConn] });
  });

  it("v0 IPv4 entry (no fwmark, no timeout)", () => {
    const c = { ...tcpConn, timeout: 0 };
    expect(hex(encodeMessage({ version: 0, syncId: 5, connections: [c] }))).toBe(hex(unhex(V0_ONE_TCP)));
    expect(decodeMessage(unhex(V0_ONE_TCP))).toEqual({ version: 0, syncId: 5, connections: [c] });
  });

  it("v1 IPv6 entry with sequence data, PE data and PE name, 4-byte aligned between entries", () => {
    const c6: SyncConnection = {
      af: AF_INET6,
      protocol: 17,
      clientAddress: "2001:db8::5",
      clientPort: 5060,
      virtualAddress: "2001:db8::1",
      virtualPort: 5060,
      destAddress: "2001:db8:0:2::b",
      destPort: 5060,
      flags: IP_VS_CONN_F_IN_SEQ,
      state: 0,
      fwmark: 7,
      timeout: 300,
      inSeq: { initSeq: 1, delta: 2, previousDelta: 3 },
      outSeq: { initSeq: 4, delta: 5, previousDelta: 6 },
      peData: new Uint8Array([0x61, 0x62, 0x63]),
      peName: "sip",
    };
    const bytes = encodeMessage({ version: 1, syncId: 1, connections: [c6, tcpConn] });
    // 72 + 26 (seq) + 5 (pe data) + 5 (pe name) = 108 → already aligned; then the IPv4 entry.
    expect(bytes.length).toBe(8 + 108 + 36);
    expect(hex(bytes.subarray(8, 12))).toBe("0111006c"); // type INET6, UDP, size 108
    expect(hex(bytes.subarray(8 + 72, 8 + 74))).toBe("0118"); // IPVS_OPT_SEQ_DATA, 24
    expect(hex(bytes.subarray(8 + 98, 8 + 108))).toBe("0203616263" + "0303736970");
    expect(decodeMessage(bytes).connections).toEqual([c6, tcpConn]);
  });

  it("pads an odd-sized entry to 4 bytes before the next one (header size counts the pad)", () => {
    const odd = { ...tcpConn, peData: new Uint8Array([1]), peName: "x" }; // 36 + 3 + 3 = 42
    const bytes = encodeMessage({ version: 1, syncId: 0, connections: [odd, tcpConn] });
    expect(bytes.length).toBe(8 + 44 + 36);
    expect(hex(bytes.subarray(8 + 42, 8 + 44))).toBe("0000");
    expect(decodeMessage(bytes).connections).toEqual([odd, tcpConn]);
  });
});

describe("rejects what ip_vs_process_message() drops, with a typed error", () => {
  const cases: Array<[string, string, string]> = [
    ["shorter than a header", "000500", "SYNC_TRUNCATED_HEADER"],
    ["size field disagrees", V1_ONE_TCP.replace("002c", "002d"), "SYNC_SIZE_MISMATCH"],
    ["v1 entry past the end", "00 05 000c 02 01 0000 00060024", "SYNC_TRUNCATED_CONN"],
    ["v0 entry past the end", "02 05 001c" + V0_ONE_TCP.slice(10), "SYNC_TRUNCATED_CONN"],
    ["entry version ≠ 0", V1_ONE_TCP.replace("00 06 0024", "00 06 1024"), "SYNC_BAD_CONN_VERSION"],
    ["unknown entry type", V1_ONE_TCP.replace("00 06 0024", "02 06 0024"), "SYNC_BAD_CONN_TYPE"],
    [
      "entry smaller than its fixed part",
      V1_ONE_TCP.replace("00 06 0024", "00 06 0020"),
      "SYNC_BAD_CONN_SIZE",
    ],
  ];
  it.each(cases)("%s", (_name, h, code) => {
    const r = tryDecodeMessage(unhex(h));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(SyncError);
      expect(r.error.code).toBe(code);
    }
    expect(() => decodeMessage(unhex(h))).toThrow(SyncError);
  });

  it("bad options: zero length, truncated, wrong seq length, duplicate PE name, long PE name", () => {
    const withOpt = (opt: string): Uint8Array => {
      const entryLen = 36 + opt.replace(/\s+/g, "").length / 2;
      const total = 8 + entryLen;
      const head = `00 05 ${total.toString(16).padStart(4, "0")} 01 01 0000`;
      const entry =
        `00 06 ${entryLen.toString(16).padStart(4, "0")}` + V1_ONE_TCP.replace(/\s+/g, "").slice(24);
      return unhex(head + entry + opt);
    };
    const code = (b: Uint8Array) => {
      const r = tryDecodeMessage(b);
      return r.ok ? "ok" : r.error.code;
    };
    expect(code(withOpt("0200"))).toBe("SYNC_BAD_OPTION");
    expect(code(withOpt("02"))).toBe("SYNC_BAD_OPTION");
    expect(code(withOpt("0205 6162"))).toBe("SYNC_BAD_OPTION");
    expect(code(withOpt("0104 00000000"))).toBe("SYNC_BAD_SEQ_OPTION");
    expect(code(withOpt("0301 61 0301 62"))).toBe("SYNC_BAD_PE_OPTION");
    expect(code(withOpt(`0311 ${"61".repeat(17)}`))).toBe("SYNC_BAD_PE_OPTION");
    // an unknown option is kept (the kernel skips the entry if it is mandatory), not an error
    const kept = decodeMessage(withOpt("4902 abcd"));
    expect(kept.connections[0]?.unknownOptions).toEqual([{ type: 0x49, data: new Uint8Array([0xab, 0xcd]) }]);
    expect(hex(encodeMessage(kept))).toBe(hex(withOpt("4902 abcd")));
  });

  it("encoder refuses what it cannot represent", () => {
    const bad = (c: Partial<SyncConnection>, version: 0 | 1 = 1) => {
      try {
        encodeMessages([{ ...tcpConn, ...c }], { version });
        return "ok";
      } catch (e) {
        return (e as SyncError).code;
      }
    };
    expect(bad({ clientAddress: "10.1.0.256" })).toBe("SYNC_BAD_FIELD");
    expect(bad({ clientPort: 70000 })).toBe("SYNC_BAD_FIELD");
    expect(bad({ af: AF_INET6, clientAddress: "::1", virtualAddress: "::2", destAddress: "::3" }, 0)).toBe(
      "SYNC_V0_IPV6",
    );
    expect(bad({ flags: 0x10000 }, 0)).toBe("SYNC_BAD_FIELD");
    expect(bad({ peName: "a-very-long-pe-name" })).toBe("SYNC_BAD_FIELD");
  });
});

// ---- properties ----
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
const ipv6 = fc.ipV6();
const seq = fc.record({
  initSeq: fc.nat(0xffffffff),
  delta: fc.nat(0xffffffff),
  previousDelta: fc.nat(0xffffffff),
});
const base = {
  protocol: fc.nat(255),
  clientPort: fc.nat(0xffff),
  virtualPort: fc.nat(0xffff),
  destPort: fc.nat(0xffff),
  state: fc.nat(0xffff),
};
const v1Conn: fc.Arbitrary<SyncConnection> = fc
  .record({
    v6: fc.boolean(),
    a4: fc.tuple(ipv4, ipv4, ipv4),
    a6: fc.tuple(ipv6, ipv6, ipv6),
    ...base,
    flags: fc.nat(0xffffffff),
    fwmark: fc.nat(0xffffffff),
    timeout: fc.nat(0xffffffff),
    seq: fc.option(fc.tuple(seq, seq), { nil: undefined }),
    peData: fc.option(fc.uint8Array({ minLength: 1, maxLength: 255 }), { nil: undefined }),
    peName: fc.option(
      fc.string({
        minLength: 1,
        maxLength: 16,
        unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)),
      }),
      { nil: undefined },
    ),
    unknown: fc.option(
      fc.array(
        fc.record({
          type: fc.integer({ min: 4, max: 255 }).filter((t) => ![65, 66, 67].includes(t)),
          data: fc.uint8Array({ minLength: 1, maxLength: 20 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const [c, v, d] = r.v6 ? r.a6 : r.a4;
    const conn: SyncConnection = {
      af: r.v6 ? AF_INET6 : AF_INET,
      protocol: r.protocol,
      clientAddress: c,
      clientPort: r.clientPort,
      virtualAddress: v,
      virtualPort: r.virtualPort,
      destAddress: d,
      destPort: r.destPort,
      flags: r.flags,
      state: r.state,
      fwmark: r.fwmark,
      timeout: r.timeout,
    };
    if (r.seq) [conn.inSeq, conn.outSeq] = r.seq;
    if (r.peData) conn.peData = r.peData;
    if (r.peName !== undefined) conn.peName = r.peName;
    if (r.unknown) conn.unknownOptions = r.unknown;
    return conn;
  });

/** The decoder prints IPv6 canonically; compare against the canonical form of generated text. */
function canon(c: SyncConnection): SyncConnection {
  if (c.af !== AF_INET6) return c;
  const fix = (a: string) =>
    decodeMessage(
      encodeMessage({
        version: 1,
        syncId: 0,
        connections: [
          { ...tcpConn, af: AF_INET6, clientAddress: a, virtualAddress: "::", destAddress: "::" },
        ],
      }),
    ).connections[0]?.clientAddress as string;
  return {
    ...c,
    clientAddress: fix(c.clientAddress),
    virtualAddress: fix(c.virtualAddress),
    destAddress: fix(c.destAddress),
  };
}

const v0Conn: fc.Arbitrary<SyncConnection> = fc
  .record({ a: fc.tuple(ipv4, ipv4, ipv4), ...base, flags: fc.nat(0xffff), seq: fc.tuple(seq, seq) })
  .map((r) => {
    const conn: SyncConnection = {
      af: AF_INET,
      protocol: r.protocol,
      clientAddress: r.a[0],
      clientPort: r.clientPort,
      virtualAddress: r.a[1],
      virtualPort: r.virtualPort,
      destAddress: r.a[2],
      destPort: r.destPort,
      flags: r.flags,
      state: r.state,
      fwmark: 0,
      timeout: 0,
    };
    if (r.flags & 0x0600) [conn.inSeq, conn.outSeq] = r.seq;
    return conn;
  });

describe("properties", () => {
  it("v1: decode(encode(m)) ≡ m and encode(decode(b)) ≡ b", () => {
    fc.assert(
      fc.property(fc.array(v1Conn, { maxLength: 20 }), fc.nat(255), (conns, syncId) => {
        const msg: SyncMessage = { version: 1, syncId, connections: conns.map(canon) };
        const bytes = encodeMessage(msg);
        const back = decodeMessage(bytes);
        expect(back).toEqual(msg);
        expect(hex(encodeMessage(back))).toBe(hex(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("v0: decode(encode(m)) ≡ m", () => {
    fc.assert(
      fc.property(fc.array(v0Conn, { maxLength: 30 }), fc.nat(255), (conns, syncId) => {
        const msg: SyncMessage = { version: 0, syncId, connections: conns };
        expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
      }),
      { numRuns: 300 },
    );
  });

  it("batching: every message fits maxLength (or holds one entry), ≤ 255 entries, order kept", () => {
    fc.assert(
      fc.property(
        fc.array(v1Conn, { maxLength: 120 }),
        fc.integer({ min: 64, max: 9000 }),
        fc.constantFrom<0 | 1>(0, 1),
        (conns, maxLength, version) => {
          const input = (
            version === 0
              ? conns
                  .filter((c) => c.af === AF_INET)
                  .map((c) => ({
                    ...c,
                    flags: c.flags & 0xf9ff,
                    fwmark: 0,
                    timeout: 0,
                    inSeq: undefined,
                    outSeq: undefined,
                    peData: undefined,
                    peName: undefined,
                    unknownOptions: undefined,
                  }))
              : conns.map(canon)
          ).map(strip);
          const msgs = encodeMessages(input, { version, syncId: 9, maxLength });
          const out: SyncConnection[] = [];
          for (const m of msgs) {
            const d = decodeMessage(m);
            expect(d.syncId).toBe(9);
            expect(d.connections.length).toBeLessThanOrEqual(255);
            if (d.connections.length > 1) expect(m.length).toBeLessThanOrEqual(maxLength);
            out.push(...d.connections);
          }
          expect(out).toEqual(input);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("a kernel-sized batch: 1472-byte messages of 40 IPv4 entries", () => {
    const conns = Array.from({ length: 100 }, (_, i) => ({ ...tcpConn, clientPort: 1000 + i }));
    const msgs = encodeMessages(conns, { version: 1, maxLength: MASTER_SYNC_MAXLEN_V4 });
    expect(msgs.map((m) => m.length)).toEqual([8 + 40 * 36, 8 + 40 * 36, 8 + 20 * 36]);
    const v0 = encodeMessages(conns, { version: 0 });
    expect(v0.map((m) => m.length)).toEqual([4 + 61 * 24, 4 + 39 * 24]);
  });

  it("fuzz: mutated kernel messages (captured and hand-built) never throw out of tryDecodeMessage, errors are SyncErrors", () => {
    const kernel = JSON.parse(
      readFileSync(new URL("./fixtures/kernel-6.1-sync.json", import.meta.url), "utf8"),
    ) as Record<string, unknown>;
    const seeds = [
      unhex(kernel.v1 as string),
      unhex(kernel.v0 as string),
      unhex(kernel.v1IPv6 as string),
      unhex(V1_ONE_TCP),
      unhex(V0_ONE_TCP),
      encodeMessages(
        [
          tcpConn,
          {
            ...tcpConn,
            inSeq: { initSeq: 1, delta: 2, previousDelta: 3 },
            outSeq: { initSeq: 1, delta: 2, previousDelta: 3 },
            flags: IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_IN_SEQ,
          },
        ],
        { version: 1 },
      )[0] as Uint8Array,
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 8 }),
        fc.option(fc.nat(200), { nil: undefined }),
        fc.boolean(),
        (seed, flips, cut, fixSize) => {
          let b: Uint8Array = seed.slice();
          for (const [at, v] of flips) if (at < b.length) b[at] = v;
          if (cut !== undefined) b = b.slice(0, cut);
          // Most interesting mutations keep the size field consistent so the decoder digs deeper.
          if (fixSize && b.length >= 4) {
            b[2] = b.length >> 8;
            b[3] = b.length & 0xff;
          }
          const r = tryDecodeMessage(b);
          if (!r.ok) expect(r.error).toBeInstanceOf(SyncError);
          let thrown: unknown;
          try {
            decodeMessage(b);
          } catch (e) {
            thrown = e;
          }
          if (thrown !== undefined) expect(thrown).toBeInstanceOf(SyncError);
        },
      ),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(() => tryDecodeMessage(b)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

function strip(c: SyncConnection): SyncConnection {
  const o = { ...c } as Record<string, unknown>;
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o as unknown as SyncConnection;
}
