// The table read's GET_DEST request writer (src/exchange-io.ts) must send the very bytes the
// codec's encoder sends for the same service: for every kind of service key, at any offset of a
// shared block, with whatever was in the block before.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeIpvsRequest } from "../src/codec.js";
import * as C from "../src/constants.js";
import { DEST_DUMP_REQUEST_MAX, writeDestDumpRequest } from "../src/exchange-io.js";
import { keyOf, Msg } from "../src/model.js";
import type { ServiceEntry } from "../src/types.js";

const FAMILY = 0x24;
const codec = (s: ServiceEntry, seq: number) =>
  encodeIpvsRequest(Msg.dumpDests(keyOf(s)), FAMILY, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);

function written(s: ServiceEntry, seq: number, offset = 0, fill = 0): Uint8Array {
  const block = new Uint8Array(offset + DEST_DUMP_REQUEST_MAX).fill(fill);
  // The writer expects zeroes where it writes; the block before `offset` may hold anything.
  block.fill(0, offset);
  const end = writeDestDumpRequest(block, new DataView(block.buffer), offset, s, FAMILY, seq);
  expect(end).toBeGreaterThan(offset);
  return block.subarray(offset, end);
}

const entry = (over: Partial<ServiceEntry>): ServiceEntry =>
  ({ af: C.AF_INET, protocol: 6, address: "10.0.0.1", port: 80, fwmark: 0, ...over }) as ServiceEntry;

describe("writeDestDumpRequest", () => {
  it("writes the codec's bytes for TCP, UDP, SCTP, IPv6 and fwmark services", () => {
    const cases = [
      entry({}),
      entry({ protocol: 17, address: "192.168.255.254", port: 53 }),
      entry({ protocol: 132, address: "0.0.0.0", port: 65535 }),
      entry({ af: C.AF_INET6, address: "2001:db8::1", port: 443 }),
      entry({ af: C.AF_INET6, address: "::ffff:10.1.2.3", port: 8080 }),
      entry({ fwmark: 7, address: "", port: 0, protocol: 0 }),
      entry({ af: C.AF_INET6, fwmark: 0xffffffff, address: "", port: 0, protocol: 0 }),
    ];
    for (const [i, s] of cases.entries()) {
      expect(Buffer.from(written(s, 1000 + i)).toString("hex")).toBe(
        Buffer.from(codec(s, 1000 + i)).toString("hex"),
      );
    }
  });

  it("writes the codec's bytes for generated services at any offset", () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
    const v6 = fc.ipV6();
    const service = fc.oneof(
      fc.record({
        af: fc.constant(C.AF_INET),
        protocol: fc.constantFrom(6, 17, 132),
        address: v4,
        port: fc.nat(65535),
        fwmark: fc.constant(0),
      }),
      fc.record({
        af: fc.constant(C.AF_INET6),
        protocol: fc.constantFrom(6, 17, 132),
        address: v6,
        port: fc.nat(65535),
        fwmark: fc.constant(0),
      }),
      fc.record({
        af: fc.constantFrom(C.AF_INET, C.AF_INET6),
        protocol: fc.constant(0),
        address: fc.constant(""),
        port: fc.constant(0),
        fwmark: fc.integer({ min: 1, max: 0xffffffff }),
      }),
    );
    fc.assert(
      fc.property(service, fc.nat(0xffffffff), fc.nat(200), fc.nat(255), (s, seq, offset, fill) => {
        const ours = written(s as ServiceEntry, seq, offset, fill);
        expect(Buffer.from(ours).equals(Buffer.from(codec(s as ServiceEntry, seq)))).toBe(true);
      }),
    );
  });

  it("leaves an address it cannot write to the codec (-1), which names it", () => {
    const s = entry({ address: "10.0.0.256" });
    const block = new Uint8Array(DEST_DUMP_REQUEST_MAX);
    expect(writeDestDumpRequest(block, new DataView(block.buffer), 0, s, FAMILY, 1)).toBe(-1);
    expect(() => codec(s, 1)).toThrow(/10\.0\.0\.256/);
  });
});
