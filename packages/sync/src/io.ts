/**
 * Sockets speaking the sync protocol on a link, as the kernel's sync threads do
 * (ip_vs_sync.c make_receive_sock()/make_send_sock()): UDP to a multicast group and port,
 * joined on one interface; the sender uses the interface for outgoing multicast, TTL 1 and no
 * loopback by default.
 */
import dgram from "node:dgram";
import { EventEmitter } from "node:events";
import { networkInterfaces } from "node:os";
import { encodeMessages, type SyncConnection, type SyncMessage } from "./codec.js";
import {
  IP_VS_SYNC_DEFAULT_TTL,
  IP_VS_SYNC_GROUP,
  IP_VS_SYNC_PORT,
  MASTER_SYNC_MAXLEN_V4,
  MASTER_SYNC_MAXLEN_V6,
} from "./constants.js";
import { callerAddress, SyncError } from "./errors.js";
import { type InboxResult, SyncInbox } from "./inbox.js";

export interface LinkOptions {
  /** Interface to join / send on (ipvsadm --mcast-interface). */
  interface: string;
  /** Multicast group (ipvsadm --mcast-group); default 224.0.0.81. IPv6 needs an explicit group. */
  group?: string;
  /** UDP port (ipvsadm --mcast-port); default 8848. */
  port?: number;
}

/** First address of `ifname` in the calling process's network namespace. */
export function interfaceAddress(ifname: string, family: "IPv4" | "IPv6"): string {
  const list = networkInterfaces()[ifname];
  if (!list)
    throw new SyncError("SYNC_NO_INTERFACE", `no interface named ${ifname}`, {
      object: ifname,
      errno: "ENODEV",
    });
  const a = list.find((x) => x.family === family && (family === "IPv4" || !x.address.startsWith("fe80")));
  const any = a ?? list.find((x) => x.family === family);
  if (!any) {
    throw new SyncError("SYNC_NO_INTERFACE", `interface ${ifname} has no ${family} address`, {
      object: ifname,
      errno: "EADDRNOTAVAIL",
    });
  }
  return any.address;
}

function socketError(err: unknown, what: string): SyncError {
  const e = err as NodeJS.ErrnoException;
  return new SyncError("SYNC_SOCKET", `${what}: ${e.message}`, {
    object: what,
    ...(e.code ? { errno: e.code } : {}),
  });
}

function groupOf(opts: LinkOptions): { group: string; v6: boolean } {
  const group = opts.group ?? IP_VS_SYNC_GROUP;
  const a = callerAddress(group);
  return { group: a.text, v6: a.version === 6 };
}

export interface ReceiverOptions extends LinkOptions {
  /** Accept only this syncid; 0 (default) accepts all, like the kernel backup. */
  syncId?: number;
}

export interface ReceivedDatagram {
  result: InboxResult;
  from: { address: string; port: number };
  bytes: Uint8Array;
}

/**
 * Listens for sync messages. Events: "message" (SyncMessage, from), "connection" (SyncConnection),
 * "datagram" (ReceivedDatagram: every datagram, raw bytes included), "dropped" (code, reason).
 */
export class SyncReceiver extends EventEmitter {
  readonly inbox: SyncInbox;
  private constructor(
    private readonly socket: dgram.Socket,
    syncId: number,
  ) {
    super();
    this.inbox = new SyncInbox(syncId);
    socket.on("message", (msg, rinfo) => {
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      const result = this.inbox.receive(bytes);
      const from = { address: rinfo.address, port: rinfo.port };
      this.emit("datagram", { result, from, bytes } satisfies ReceivedDatagram);
      if (result.kind === "accepted") {
        this.emit("message", result.message, from);
        for (const c of result.message.connections) this.emit("connection", c);
      } else if (result.kind === "dropped") {
        this.emit("dropped", result.code, result.reason);
      }
    });
  }

  /** Binds the group's port, joins the group on the interface. */
  static async open(opts: ReceiverOptions): Promise<SyncReceiver> {
    const { group, v6 } = groupOf(opts);
    const port = opts.port ?? IP_VS_SYNC_PORT;
    const iface = v6 ? `::%${opts.interface}` : interfaceAddress(opts.interface, "IPv4");
    const socket = dgram.createSocket({ type: v6 ? "udp6" : "udp4", reuseAddr: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        // Bound to the group itself (as the kernel's receive socket is), so unicast to the port is not taken.
        socket.bind({ port, address: v6 ? `${group}%${opts.interface}` : group }, () => {
          socket.off("error", reject);
          resolve();
        });
      });
      socket.addMembership(group, iface);
    } catch (err) {
      socket.close();
      throw socketError(err, `join ${group} port ${port} on ${opts.interface}`);
    }
    return new SyncReceiver(socket, opts.syncId ?? 0);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export interface SenderOptions extends LinkOptions {
  syncId: number;
  /** net.ipv4.vs.sync_version: 1 (default) or 0. */
  version?: 0 | 1;
  /** Multicast TTL / hop limit (ipvsadm --mcast-ttl); default 1. */
  ttl?: number;
  /** Largest message (ipvsadm --sync-maxlen); default what a kernel master uses: 1472 (IPv4) / 1452 (IPv6). */
  maxLength?: number;
  /** Deliver our own multicast to local listeners too; the kernel turns this off. Default false. */
  loopback?: boolean;
}

export interface SendStats {
  messages: number;
  connections: number;
  bytes: number;
}

/** Sends connections as a kernel master would: batched into MTU-sized messages. */
export class SyncSender {
  readonly stats: SendStats = { messages: 0, connections: 0, bytes: 0 };
  private constructor(
    private readonly socket: dgram.Socket,
    private readonly group: string,
    private readonly port: number,
    readonly opts: Required<Pick<SenderOptions, "syncId" | "version" | "maxLength">>,
  ) {}

  static async open(opts: SenderOptions): Promise<SyncSender> {
    const { group, v6 } = groupOf(opts);
    const port = opts.port ?? IP_VS_SYNC_PORT;
    const socket = dgram.createSocket({ type: v6 ? "udp6" : "udp4" });
    try {
      // IPv4: bound to the interface's address like bind_mcastif_addr(); IPv6: any address.
      const local = v6 ? "::" : interfaceAddress(opts.interface, "IPv4");
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind({ port: 0, address: local }, () => {
          socket.off("error", reject);
          resolve();
        });
      });
      socket.setMulticastInterface(v6 ? `::%${opts.interface}` : local);
      socket.setMulticastTTL(opts.ttl ?? IP_VS_SYNC_DEFAULT_TTL);
      socket.setMulticastLoopback(opts.loopback ?? false);
    } catch (err) {
      socket.close();
      if (err instanceof SyncError) throw err;
      throw socketError(err, `send socket for ${group} port ${port} on ${opts.interface}`);
    }
    return new SyncSender(socket, v6 ? `${group}%${opts.interface}` : group, port, {
      syncId: opts.syncId,
      version: opts.version ?? 1,
      maxLength: opts.maxLength ?? (v6 ? MASTER_SYNC_MAXLEN_V6 : MASTER_SYNC_MAXLEN_V4),
    });
  }

  /** Encodes and sends; resolves with the number of datagrams sent. */
  async send(conns: readonly SyncConnection[]): Promise<number> {
    const msgs = encodeMessages(conns, this.opts);
    for (const m of msgs) await this.sendRaw(m);
    this.stats.connections += conns.length;
    return msgs.length;
  }

  /** Sends an already encoded message (or any datagram) to the group. */
  sendRaw(datagram: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(datagram, this.port, this.group, (err) => {
        if (err) reject(socketError(err, `send to ${this.group}:${this.port}`));
        else {
          this.stats.messages++;
          this.stats.bytes += datagram.length;
          resolve();
        }
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export type { SyncMessage };
