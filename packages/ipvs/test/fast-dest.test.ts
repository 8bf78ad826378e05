// The table-dump fast path (src/fast-dest.ts) must give exactly what the lossless codec gives:
// on every GET_DEST reply the kernel sent in the captures, on generated replies, and on mutated
// bytes (same entry or both refuse; never anything but an IpvsError).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeIpvsMessage, decodeServiceReply, encodeIpvsMessage } from "../src/codec.js";
import * as C from "../src/constants.js";
import { IpvsError } from "../src/errors.js";
import { decodeDestEntry, decodeDestEntryAt } from "../src/fast-dest.js";
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
            // The reconcile read (no counters, one hand loop) accepts it too and agrees.
            const lean = decodeDestEntry(bytes, C.AF_INET, false);
            expect(plain(lean)).toEqual(
              ref ? { ...(ref as object), stats: undefined, stats64: undefined } : ref,
            );
          } else {
            // It may skip a malformed counter nest the codec refuses; otherwise it refuses too.
            try {
              decodeDestEntry(bytes, C.AF_INET, false);
            } catch (e) {
              expect(e).toBeInstanceOf(IpvsError);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("reads without counters, and in place", () => {
  const noCounters = <T extends object | undefined>(e: T): T =>
    e ? ({ ...e, stats: undefined, stats64: undefined } as T) : e;

  it("counters: false gives the lossless entry less its counters, on every kernel reply", () => {
    for (const m of kernelDestReplies) {
      const lean = decodeDestEntry(m.payload, C.AF_INET, false);
      expect(lean?.stats).toBeUndefined();
      expect(lean?.stats64).toBeUndefined();
      expect(plain(lean)).toEqual(noCounters(slow(m.payload, C.AF_INET)));
    }
  });

  it("decodeDestEntryAt reads each part where it lies in one buffer", () => {
    // The kernel's replies back to back, as one exchange returns them, each 4-byte aligned.
    const parts = kernelDestReplies.map((m) => m.payload);
    const offsets: number[] = [];
    let size = 7; // a leading gap: offsets are not relative to the buffer's start
    for (const p of parts) {
      offsets.push(size);
      size += (p.length + 3) & ~3;
    }
    const buf = new Uint8Array(size + 5);
    for (const [i, p] of parts.entries()) buf.set(p, offsets[i] as number);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    parts.forEach((p, i) => {
      const at = offsets[i] as number;
      expect(plain(decodeDestEntryAt(buf, view, at, p.length, C.AF_INET))).toEqual(
        plain(decodeDestEntry(p, C.AF_INET)),
      );
      expect(plain(decodeDestEntryAt(buf, view, at, p.length, C.AF_INET, false))).toEqual(
        plain(decodeDestEntry(p, C.AF_INET, false)),
      );
    });
  });

  it("counters: false on a service reply leaves only the counters out", () => {
    const payload = encodeIpvsMessage({
      cmd: C.IpvsCmd.NEW_SERVICE,
      service: {
        af: C.AF_INET,
        protocol: 6,
        addr: new Uint8Array([10, 0, 0, 1]),
        port: 80,
        schedName: "wlc",
        flags: { flags: 0, mask: 0xffffffff },
        timeout: 0,
        netmask: 0xffffffff,
        stats: { conns: 5n },
        stats64: { conns: 5n },
      },
    });
    const full = decodeServiceReply(payload);
    const lean = decodeServiceReply(payload, false);
    expect(full?.stats64?.conns).toBe(5n);
    expect(lean?.stats).toBeUndefined();
    expect(lean?.stats64).toBeUndefined();
    expect({ ...lean }).toEqual({ ...full, stats: undefined, stats64: undefined });
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

  it("equals the lossless codec on mutated kernel replies wherever the codec accepts them", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kernelServiceReplies),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (m, at, byte) => {
          const bytes = Uint8Array.from(m.payload);
          // Not the command byte: it tells the codec how to read the rest (GET_INFO replies), while
          // a services dump only ever carries NEW_SERVICE and the fast decoder does not look.
          bytes[1 + (at % (bytes.length - 1))] = byte;
          let slowResult: unknown;
          let slowError: unknown;
          try {
            slowResult = plain(slowService(bytes));
          } catch (err) {
            slowError = err;
          }
          if (slowError) {
            // The codec also checks top-level attributes a GET_SERVICE reply never carries (a
            // flipped type byte turns the service nest into a dest nest): the fast decoder skips
            // those, so where the codec refuses it may refuse too, and only with IpvsError.
            expect(slowError).toBeInstanceOf(IpvsError);
            try {
              fastService(bytes);
            } catch (err) {
              expect(err).toBeInstanceOf(IpvsError);
            }
          } else expect(plain(fastService(bytes))).toEqual(slowResult);
        },
      ),
      { numRuns: 500 },
    );
  });
});
