// The table-dump fast path (src/fast-dest.ts) must give exactly what the lossless codec gives:
// on every GET_DEST reply the kernel sent in the captures, on generated replies, and on mutated
// bytes (same entry or both refuse; never anything but an IpvsError).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeIpvsMessage, decodeServiceReply, encodeIpvsMessage } from "../src/codec.js";
import * as C from "../src/constants.js";
import { IpvsError } from "../src/errors.js";
import { decodeDestEntry } from "../src/fast-dest.js";
import { destEntryFromAttrs, serviceEntryFromAttrs } from "../src/model.js";
import { parseNlMsgs, unhex } from "../src/netlink.js";

const captures: Record<string, { sent: string[]; received: string[] }> = JSON.parse(
  readFileSync(new URL("./fixtures/ipvsadm-netlink.json", import.meta.url), "utf8"),
);
const IPVS_FAMILY = 0x20;

/** The lossless path, as the client used it before: decode, then map to an entry. */
function slow(payload: Uint8Array, af: number) {
  const m = decodeIpvsMessage(payload);
  return m.dest ? destEntryFromAttrs(m.dest, af) : undefined;
}
/** Materialise the lazy counters so the two compare field by field. */
const plain = <T extends object | undefined>(e: T): T => (e ? ({ ...e } as T) : e);

const kernelDestReplies = Object.values(captures).flatMap((c) =>
  c.received
    .flatMap((h) => parseNlMsgs(unhex(h)))
    .filter((m) => m.type === IPVS_FAMILY && m.payload[0] === C.IpvsCmd.NEW_DEST),
);

describe("decodeDestEntry", () => {
  it("equals the lossless codec on every GET_DEST reply the kernel sent", () => {
    expect(kernelDestReplies.length).toBeGreaterThan(5);
    for (const m of kernelDestReplies) {
      const ours = decodeDestEntry(m.payload, C.AF_INET);
      expect(plain(ours)).toEqual(plain(slow(m.payload, C.AF_INET)));
      // Both counter nests are there.
      expect(typeof ours?.stats64?.inBytes).toBe("bigint");
    }
  });

  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const counters = fc.record({
    conns: fc.bigInt({ min: 0n, max: 0xffffffffn }),
    inPkts: fc.bigInt({ min: 0n, max: 0xffffffffn }),
    outBytes: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    outBps: fc.bigInt({ min: 0n, max: 0xffffffffn }),
  });
  const dest = fc.record(
    {
      addrFamily: fc.constantFrom(C.AF_INET, C.AF_INET6),
      addr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      port: fc.integer({ min: 0, max: 65535 }),
      fwdMethod: fc.integer({ min: 0, max: 4 }),
      weight: u32,
      uThresh: u32,
      lThresh: u32,
      activeConns: u32,
      inactConns: u32,
      persistConns: u32,
      tunType: fc.integer({ min: 0, max: 2 }),
      tunPort: fc.integer({ min: 0, max: 65535 }),
      tunFlags: fc.integer({ min: 0, max: 7 }),
      stats: counters,
      stats64: counters,
    },
    { requiredKeys: ["addr", "port"] },
  );

  it("equals the lossless codec on generated replies (property)", () => {
    fc.assert(
      fc.property(dest, (d) => {
        const payload = encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_DEST, dest: d });
        expect(plain(decodeDestEntry(payload, C.AF_INET))).toEqual(plain(slow(payload, C.AF_INET)));
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with the codec on mutated bytes, and fails only with IpvsError", () => {
    fc.assert(
      fc.property(
        dest,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (d, flips, cut) => {
          const payload = encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_DEST, dest: d });
          for (const [at, v] of flips) payload[at % payload.length] = v;
          const bytes = payload.subarray(0, Math.max(4, payload.length - (cut % 16)));
          let fast: unknown;
          let fastErr: unknown;
          try {
            fast = plain(decodeDestEntry(bytes, C.AF_INET));
          } catch (e) {
            fastErr = e;
          }
          if (fastErr) expect(fastErr).toBeInstanceOf(IpvsError);
          let ref: unknown;
          let refErr: unknown;
          try {
            ref = plain(slow(bytes, C.AF_INET));
          } catch (e) {
            refErr = e;
          }
          // The codec also checks attributes a GET_DEST reply never carries (top-level service,
          // daemon…): where it accepts, we must accept and agree.
          if (!refErr) {
            expect(fastErr).toBeUndefined();
            expect(fast).toEqual(ref);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("decodeServiceReply (the services dump of a table read)", () => {
  const kernelServiceReplies = Object.values(captures).flatMap((c) =>
    c.received
      .flatMap((h) => parseNlMsgs(unhex(h)))
      .filter((m) => m.type === IPVS_FAMILY && m.payload[0] === C.IpvsCmd.NEW_SERVICE),
  );
  const slowService = (payload: Uint8Array) => {
    const m = decodeIpvsMessage(payload);
    return m.service ? serviceEntryFromAttrs(m.service) : undefined;
  };
  const fastService = (payload: Uint8Array) => {
    const a = decodeServiceReply(payload);
    return a ? serviceEntryFromAttrs(a) : undefined;
  };

  it("equals the lossless codec on every GET_SERVICE reply the kernel sent", () => {
    expect(kernelServiceReplies.length).toBeGreaterThan(3);
    for (const m of kernelServiceReplies) {
      const ours = fastService(m.payload);
      expect(ours?.scheduler).not.toBe("");
      expect(plain(ours)).toEqual(plain(slowService(m.payload)));
    }
  });

  it("equals the lossless codec on mutated kernel replies, or both refuse", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kernelServiceReplies),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (m, at, byte) => {
          const bytes = Uint8Array.from(m.payload);
          bytes[at % bytes.length] = byte;
          let slowResult: unknown;
          let slowError: unknown;
          try {
            slowResult = plain(slowService(bytes));
          } catch (err) {
            slowError = err;
          }
          if (slowError) {
            expect(slowError).toBeInstanceOf(IpvsError);
            expect(() => fastService(bytes)).toThrow(IpvsError);
          } else expect(plain(fastService(bytes))).toEqual(slowResult);
        },
      ),
      { numRuns: 500 },
    );
  });
});
