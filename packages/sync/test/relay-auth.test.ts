import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseKey, RELAY_HEADER_SIZE, RelayOpener, RelaySealer, SyncError } from "../src/index.js";

const key = new Uint8Array(32).fill(7);
const payload = new Uint8Array([0, 1, 0, 8, 0, 1, 0, 0]);

describe("relay envelope: HMAC-SHA256 + replay window", () => {
  it("opens what the peer sealed, once", () => {
    const a = new RelaySealer(key, 1, 1_700_000_000_000);
    const b = new RelayOpener(key, 2);
    const d = a.seal(payload);
    expect(d.length).toBe(RELAY_HEADER_SIZE + payload.length + 32);
    const r = b.open(d);
    expect(r.ok && Array.from(r.payload)).toEqual(Array.from(payload));
    expect(b.open(d)).toMatchObject({ ok: false, code: "SYNC_AUTH_REPLAY" });
    expect(b.stats).toEqual({ accepted: 1, dropped: 1, droppedByCode: { SYNC_AUTH_REPLAY: 1 } });
  });

  it("accepts reordering inside the 64-datagram window, refuses duplicates and anything older", () => {
    const a = new RelaySealer(key, 1, 1000);
    const b = new RelayOpener(key, 2);
    const ds = Array.from({ length: 100 }, () => a.seal(payload));
    expect(b.open(ds[5] as Uint8Array).ok).toBe(true);
    expect(b.open(ds[3] as Uint8Array).ok).toBe(true); // late, inside the window
    expect(b.open(ds[3] as Uint8Array).ok).toBe(false); // duplicate
    expect(b.open(ds[99] as Uint8Array).ok).toBe(true);
    expect(b.open(ds[36] as Uint8Array).ok).toBe(true); // seq 37, 63 behind seq 100: last slot
    expect(b.open(ds[35] as Uint8Array)).toMatchObject({ ok: false, code: "SYNC_AUTH_REPLAY" }); // 64 behind
  });

  it("a restarted peer (new epoch) is accepted; the old epoch is then refused", () => {
    const b = new RelayOpener(key, 2);
    const old = new RelaySealer(key, 1, 1000);
    const oldD = old.seal(payload);
    expect(b.open(old.seal(payload)).ok).toBe(true);
    const restarted = new RelaySealer(key, 1, 2000);
    expect(b.open(restarted.seal(payload)).ok).toBe(true);
    expect(b.open(oldD)).toMatchObject({ ok: false, code: "SYNC_AUTH_REPLAY" });
  });

  it("refuses a wrong key, our own datagrams reflected back, garbage and short datagrams", () => {
    const b = new RelayOpener(key, 2);
    expect(b.open(new RelaySealer(new Uint8Array(32).fill(8), 1, 1).seal(payload))).toMatchObject({
      code: "SYNC_AUTH_BAD_MAC",
    });
    expect(b.open(new RelaySealer(key, 2, 1).seal(payload))).toMatchObject({ code: "SYNC_AUTH_REPLAY" });
    expect(b.open(new Uint8Array(100))).toMatchObject({ code: "SYNC_AUTH_BAD_MAGIC" });
    expect(b.open(new Uint8Array(10))).toMatchObject({ code: "SYNC_AUTH_SHORT" });
    expect(b.stats.accepted).toBe(0);
    expect(b.stats.dropped).toBe(4);
  });

  it("property: any change to a sealed datagram is refused", () => {
    const a = new RelaySealer(key, 1, 5);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (p, at, x) => {
          const b = new RelayOpener(key, 2);
          const d = a.seal(p);
          const i = at % d.length;
          d[i] = (d[i] as number) ^ x;
          expect(b.open(d).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("keys: hex text or raw bytes, at least 16 bytes", () => {
    expect(parseKey(new TextEncoder().encode(`${"ab".repeat(32)}\n`))).toEqual(new Uint8Array(32).fill(0xab));
    expect(() => parseKey(new TextEncoder().encode("abcd"))).toThrow(SyncError);
    expect(() => new RelaySealer(new Uint8Array(8), 1, 1)).toThrow(/at least 16/);
  });
});
