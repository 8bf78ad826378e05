/**
 * The relay's unicast envelope, pure: every datagram is authenticated with HMAC-SHA256 under a
 * pre-shared key, and numbered so a replay is refused.
 *
 *   0       4   5     8          12                20         24            n-32       n
 *   | "LVSR" | 1 | 000 | node id | epoch (u64 ms) | seq (u32) | sync message | HMAC-SHA256 |
 *
 * `node id` tells the two relays apart (a datagram reflected back to its sender is refused);
 * `epoch` is the sender's start time, so a restarted relay (seq back at 0) is not taken for a
 * replayer; within an epoch a 64-entry sliding window (as IPsec's, RFC 4303 §3.4.3) accepts
 * reordering and refuses duplicates. The MAC covers everything before it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { SyncError, type SyncErrorCode } from "./errors.js";

export const RELAY_MAGIC = 0x4c565352; // "LVSR"
export const RELAY_VERSION = 1;
export const RELAY_HEADER_SIZE = 24;
export const RELAY_MAC_SIZE = 32;
export const RELAY_REPLAY_WINDOW = 64;
export const RELAY_MIN_KEY_BYTES = 16;

export function checkKey(key: Uint8Array): void {
  if (key.length < RELAY_MIN_KEY_BYTES) {
    throw new SyncError(
      "SYNC_AUTH_KEY",
      `relay key has ${key.length} bytes; use at least ${RELAY_MIN_KEY_BYTES} random bytes`,
      {
        object: "key",
      },
    );
  }
}

function mac(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** Seals payloads of one relay instance. */
export class RelaySealer {
  private seq = 0;
  constructor(
    private readonly key: Uint8Array,
    readonly nodeId: number,
    /** Start time in ms (from the caller's clock). */
    readonly epoch: number,
  ) {
    checkKey(key);
  }

  seal(payload: Uint8Array): Uint8Array {
    const out = new Uint8Array(RELAY_HEADER_SIZE + payload.length + RELAY_MAC_SIZE);
    const v = new DataView(out.buffer);
    v.setUint32(0, RELAY_MAGIC);
    out[4] = RELAY_VERSION;
    v.setUint32(8, this.nodeId >>> 0);
    v.setUint32(12, Math.floor(this.epoch / 2 ** 32));
    v.setUint32(16, this.epoch >>> 0);
    this.seq = (this.seq + 1) >>> 0;
    v.setUint32(20, this.seq);
    out.set(payload, RELAY_HEADER_SIZE);
    out.set(
      mac(this.key, out.subarray(0, RELAY_HEADER_SIZE + payload.length)),
      RELAY_HEADER_SIZE + payload.length,
    );
    return out;
  }
}

export interface RelayOpenStats {
  accepted: number;
  dropped: number;
  droppedByCode: Partial<Record<SyncErrorCode, number>>;
}

export type OpenResult =
  | { ok: true; payload: Uint8Array; nodeId: number; seq: number }
  | { ok: false; code: SyncErrorCode; reason: string };

interface PeerWindow {
  epoch: number;
  top: number;
  /** Bit i set: seq (top - i) seen. */
  bits: bigint;
}

/** Verifies and de-duplicates datagrams from peers. Never throws. */
export class RelayOpener {
  readonly stats: RelayOpenStats = { accepted: 0, dropped: 0, droppedByCode: {} };
  private readonly peers = new Map<number, PeerWindow>();
  constructor(
    private readonly key: Uint8Array,
    /** Our own node id: datagrams claiming it are reflections. */
    readonly ownNodeId: number,
  ) {
    checkKey(key);
  }

  private drop(code: SyncErrorCode, reason: string): OpenResult {
    this.stats.dropped++;
    this.stats.droppedByCode[code] = (this.stats.droppedByCode[code] ?? 0) + 1;
    return { ok: false, code, reason };
  }

  open(d: Uint8Array): OpenResult {
    if (d.length < RELAY_HEADER_SIZE + RELAY_MAC_SIZE)
      return this.drop("SYNC_AUTH_SHORT", `${d.length}-byte datagram is too short`);
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (v.getUint32(0) !== RELAY_MAGIC || d[4] !== RELAY_VERSION)
      return this.drop("SYNC_AUTH_BAD_MAGIC", "not an lvs relay datagram");
    const body = d.subarray(0, d.length - RELAY_MAC_SIZE);
    const expected = mac(this.key, body);
    if (!timingSafeEqual(expected, d.subarray(d.length - RELAY_MAC_SIZE)))
      return this.drop("SYNC_AUTH_BAD_MAC", "HMAC does not verify");
    const nodeId = v.getUint32(8);
    const epoch = v.getUint32(12) * 2 ** 32 + v.getUint32(16);
    const seq = v.getUint32(20);
    if (nodeId === this.ownNodeId) return this.drop("SYNC_AUTH_REPLAY", "our own datagram reflected back");
    const w = this.peers.get(nodeId);
    if (!w || epoch > w.epoch) {
      this.peers.set(nodeId, { epoch, top: seq, bits: 1n });
    } else if (epoch < w.epoch) {
      return this.drop("SYNC_AUTH_REPLAY", `stale epoch ${epoch} (current ${w.epoch})`);
    } else if (seq > w.top) {
      const shift = BigInt(Math.min(seq - w.top, RELAY_REPLAY_WINDOW));
      w.bits = ((w.bits << shift) | 1n) & ((1n << BigInt(RELAY_REPLAY_WINDOW)) - 1n);
      w.top = seq;
    } else {
      const age = w.top - seq;
      if (age >= RELAY_REPLAY_WINDOW)
        return this.drop("SYNC_AUTH_REPLAY", `seq ${seq} is behind the replay window`);
      const bit = 1n << BigInt(age);
      if (w.bits & bit) return this.drop("SYNC_AUTH_REPLAY", `seq ${seq} already received`);
      w.bits |= bit;
    }
    this.stats.accepted++;
    return { ok: true, payload: d.subarray(RELAY_HEADER_SIZE, d.length - RELAY_MAC_SIZE), nodeId, seq };
  }
}
