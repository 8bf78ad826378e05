/**
 * The receive path, pure: decode, filter by syncid (a kernel backup with syncid 0 takes all,
 * ip_vs_process_message()), count. Never throws: malformed datagrams are dropped and counted.
 */
import { type SyncMessage, tryDecodeMessage } from "./codec.js";
import type { SyncErrorCode } from "./errors.js";

export interface SyncInboxStats {
  /** Datagrams handed to receive(). */
  datagrams: number;
  /** Datagrams that decoded and matched the syncid. */
  accepted: number;
  /** Datagrams for another syncid (not an error). */
  otherSyncId: number;
  /** Malformed datagrams, total and by error code. */
  dropped: number;
  droppedByCode: Partial<Record<SyncErrorCode, number>>;
  /** Connection entries in accepted datagrams. */
  connections: number;
}

export type InboxResult =
  | { kind: "accepted"; message: SyncMessage }
  | { kind: "other-syncid"; syncId: number }
  | { kind: "dropped"; code: SyncErrorCode; reason: string };

export class SyncInbox {
  readonly stats: SyncInboxStats = {
    datagrams: 0,
    accepted: 0,
    otherSyncId: 0,
    dropped: 0,
    droppedByCode: {},
    connections: 0,
  };

  /** syncId 0 accepts every syncid, as the kernel's backup does. */
  constructor(readonly syncId = 0) {}

  receive(datagram: Uint8Array): InboxResult {
    this.stats.datagrams++;
    const r = tryDecodeMessage(datagram);
    if (!r.ok) {
      this.stats.dropped++;
      this.stats.droppedByCode[r.error.code] = (this.stats.droppedByCode[r.error.code] ?? 0) + 1;
      return { kind: "dropped", code: r.error.code, reason: r.error.message };
    }
    if (this.syncId !== 0 && r.message.syncId !== this.syncId) {
      this.stats.otherSyncId++;
      return { kind: "other-syncid", syncId: r.message.syncId };
    }
    this.stats.accepted++;
    this.stats.connections += r.message.connections.length;
    return { kind: "accepted", message: r.message };
  }
}
