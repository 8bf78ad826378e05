// DNS codec against a real peer: node's dns.Resolver (c-ares) queries our responder; we decode
// its query bytes and it decodes our encoded reply.
import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeDnsMessage, encodeDnsMessage, encodeDnsQuery, HealthcheckError } from "../src/index.js";

// A query for "example.com" A with RD, id 0x1234 (RFC 1035 §4.1 layout, checked by hand).
const GOLDEN_QUERY = "123401000001000000000000076578616d706c6503636f6d0000010001";

describe("DNS codec", () => {
  it("encodes a query byte-exactly", () => {
    expect(Buffer.from(encodeDnsQuery(0x1234, "example.com", 1)).toString("hex")).toBe(GOLDEN_QUERY);
    expect(Buffer.from(encodeDnsQuery(0x1234, "example.com.", 1)).toString("hex")).toBe(GOLDEN_QUERY);
  });

  it("c-ares' query decodes to its question, and c-ares accepts our encoded answer", async () => {
    const sock = createSocket("udp4");
    const queries: Buffer[] = [];
    sock.on("message", (m, rinfo) => {
      queries.push(m);
      const q = decodeDnsMessage(m);
      const reply = encodeDnsMessage({
        id: q.id,
        flags: 0x8180,
        questions: q.questions,
        answers: [
          { name: q.questions[0]!.name, type: 1, class: 1, ttl: 300, data: Uint8Array.of(192, 0, 2, 7) },
        ],
        authorities: [],
        additionals: [],
      });
      sock.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    try {
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`127.0.0.1:${sock.address().port}`]);
      const addrs = await resolver.resolve4("rs1.example.test", { ttl: true });
      expect(addrs).toEqual([{ address: "192.0.2.7", ttl: 300 }]);
      const q = decodeDnsMessage(queries[0]!);
      expect(q.questions).toEqual([{ name: "rs1.example.test.", type: 1, class: 1 }]);
      expect(q.flags & 0x8000).toBe(0);
      // Our encoder produces the same header+question bytes c-ares sent (additional records aside).
      const ours = Buffer.from(encodeDnsQuery(q.id, "rs1.example.test", 1));
      const theirs = Buffer.from(queries[0]!);
      expect(theirs.subarray(12, ours.length).toString("hex")).toBe(ours.subarray(12).toString("hex"));
      expect(theirs.subarray(0, 6).toString("hex")).toBe(ours.subarray(0, 6).toString("hex"));
    } finally {
      sock.close();
    }
  });

  it("follows compression pointers and rejects loops and truncation with HC_DNS_DECODE", () => {
    // Answer name is a pointer (0xc00c) to the question name.
    const withAnswer = Buffer.concat([
      Buffer.from("123481800001000100000000076578616d706c6503636f6d0000010001", "hex"),
      Buffer.from("c00c000100010000003c0004c0000201", "hex"),
    ]);
    const d = decodeDnsMessage(withAnswer);
    expect(d.answers[0]).toMatchObject({ name: "example.com.", type: 1, ttl: 60 });
    expect([...d.answers[0]!.data]).toEqual([192, 0, 2, 1]);
    const loop = Buffer.from("123481800001000000000000c00c00010001", "hex");
    expect(() => decodeDnsMessage(loop)).toThrow(HealthcheckError);
    expect(() => decodeDnsMessage(withAnswer.subarray(0, withAnswer.length - 2))).toThrow(/truncated/);
  });

  it("property: decode(encode(m)) ≡ m, and random bytes never throw anything but HealthcheckError", () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
    const name = fc
      .array(label, { minLength: 0, maxLength: 4 })
      .map((ls) => (ls.length ? `${ls.join(".")}.` : "."));
    const rr = fc.record({
      name,
      type: fc.integer({ min: 0, max: 65535 }),
      class: fc.integer({ min: 0, max: 65535 }),
      ttl: fc.nat(),
      data: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(
        fc.record({
          id: fc.integer({ min: 0, max: 65535 }),
          flags: fc.integer({ min: 0, max: 65535 }),
          questions: fc.array(
            fc.record({
              name,
              type: fc.integer({ min: 0, max: 65535 }),
              class: fc.integer({ min: 0, max: 65535 }),
            }),
            { maxLength: 3 },
          ),
          answers: fc.array(rr, { maxLength: 3 }),
          authorities: fc.array(rr, { maxLength: 2 }),
          additionals: fc.array(rr, { maxLength: 2 }),
        }),
        (m) => {
          expect(decodeDnsMessage(encodeDnsMessage(m))).toEqual(m);
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          decodeDnsMessage(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(HealthcheckError);
        }
      }),
    );
  });
});
