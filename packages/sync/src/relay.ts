/**
 * The L3 relay: what a master multicasts on this link goes to the peer relay over
 * authenticated unicast UDP; what the peer sends is multicast here again, as a kernel master
 * would (TTL 1, no loopback: so our own re-multicast never comes back to us).
 */

import { randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { tryDecodeMessage } from "./codec.js";
import { callerAddress, SyncError, type SyncErrorCode } from "./errors.js";
import type { SyncInboxStats } from "./inbox.js";
import { type LinkOptions, SyncReceiver, SyncSender } from "./io.js";
import { RelayOpener, type RelayOpenStats, RelaySealer } from "./relay-auth.js";

export const RELAY_DEFAULT_PORT = 8850;

export interface RelayOptions extends LinkOptions {
  /** Forward only this syncid from the link; 0 (default) forwards all. */
  syncId?: number;
  /** Unicast address (and port, default 8850) this relay receives its peer's datagrams on. */
  listen: { address: string; port?: number };
  /** The peer relay. */
  peer: { address: string; port?: number };
  /** Pre-shared key, at least 16 bytes. */
  key: Uint8Array;
  /** TTL of our re-multicast (default 1). */
  ttl?: number;
  /** Injected clock (ms), for the envelope's epoch. */
  now?: () => number;
  /** Injected node id (default random). */
  nodeId?: number;
}

export interface RelayStats {
  /** Link → peer. */
  forwarded: number;
  /** Link datagrams not forwarded (malformed or another syncid), from the receive path. */
  link: SyncInboxStats;
  /** Peer → link: authenticated and re-multicast. */
  remulticast: number;
  /** Authenticated datagrams whose payload is no valid sync message (dropped). */
  badPayload: number;
  /** Peer datagrams: accepted, and dropped by reason (bad MAC, replay, ...). */
  auth: RelayOpenStats;
}

export class SyncRelay {
  private forwarded = 0;
  private remulticast = 0;
  private badPayload = 0;
  private constructor(
    private readonly receiver: SyncReceiver,
    private readonly sender: SyncSender,
    private readonly unicast: dgram.Socket,
    private readonly opener: RelayOpener,
  ) {}

  static async open(opts: RelayOptions): Promise<SyncRelay> {
    const now = opts.now ?? Date.now;
    const nodeId = opts.nodeId ?? randomBytes(4).readUInt32BE(0);
    const sealer = new RelaySealer(opts.key, nodeId, now());
    const opener = new RelayOpener(opts.key, nodeId);
    const listen = callerAddress(opts.listen.address);
    const peer = callerAddress(opts.peer.address);
    const peerPort = opts.peer.port ?? RELAY_DEFAULT_PORT;
    const unicast = dgram.createSocket(listen.version === 6 ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      unicast.once("error", (err) => {
        const e = err as NodeJS.ErrnoException;
        reject(
          new SyncError(
            "SYNC_SOCKET",
            `relay cannot listen on ${listen.text}:${opts.listen.port ?? RELAY_DEFAULT_PORT}: ${e.message}`,
            {
              object: listen.text,
              ...(e.code ? { errno: e.code } : {}),
            },
          ),
        );
      });
      unicast.bind({ address: listen.text, port: opts.listen.port ?? RELAY_DEFAULT_PORT }, () => resolve());
    });
    let receiver: SyncReceiver | undefined;
    let sender: SyncSender | undefined;
    try {
      receiver = await SyncReceiver.open({ ...opts, syncId: opts.syncId ?? 0 });
      sender = await SyncSender.open({
        ...opts,
        syncId: 0,
        ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
      });
    } catch (err) {
      await receiver?.close();
      unicast.close();
      throw err;
    }
    const relay = new SyncRelay(receiver, sender, unicast, opener);
    receiver.on("datagram", (d: { result: { kind: string }; bytes: Uint8Array }) => {
      if (d.result.kind !== "accepted") return;
      unicast.send(sealer.seal(d.bytes), peerPort, peer.text, (err) => {
        if (!err) relay.forwarded++;
      });
    });
    unicast.on("message", (msg) => {
      const r = opener.open(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
      if (!r.ok) return;
      if (!tryDecodeMessage(r.payload).ok) {
        relay.badPayload++;
        return;
      }
      sender.sendRaw(r.payload).then(
        () => {
          relay.remulticast++;
        },
        () => {},
      );
    });
    return relay;
  }

  get stats(): RelayStats {
    return {
      forwarded: this.forwarded,
      link: { ...this.receiver.inbox.stats },
      remulticast: this.remulticast,
      badPayload: this.badPayload,
      auth: { ...this.opener.stats, droppedByCode: { ...this.opener.stats.droppedByCode } },
    };
  }

  async close(): Promise<void> {
    await this.receiver.close();
    await this.sender.close();
    await new Promise<void>((resolve) => this.unicast.close(() => resolve()));
  }
}

/** Reads a key: a file of hex (≥ 32 hex digits) or of raw bytes (≥ 16). */
export function parseKey(content: Uint8Array): Uint8Array {
  const text = Buffer.from(content).toString("latin1").trim();
  const key = /^([0-9a-fA-F]{2})+$/.test(text) ? new Uint8Array(Buffer.from(text, "hex")) : content;
  if (key.length < 16) {
    throw new SyncError(
      "SYNC_AUTH_KEY",
      `relay key has ${key.length} bytes; write at least 32 hex digits (openssl rand -hex 32)`,
      {
        object: "key",
      },
    );
  }
  return key;
}

export type { SyncErrorCode };
