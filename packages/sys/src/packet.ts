import { fromNative, SysError } from "./errors.js";
import { native } from "./native.js";
import { ifNameToIndex, withNetns } from "./netns.js";

/** if_ether.h: ETH_P_ALL (every protocol), ETH_P_ARP, ETH_P_IPV6. */
export const ETH_P_ALL = 0x0003;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;

export interface PacketSocketOptions {
  /** Interface name (resolved in `netns`) or index. */
  interface: string | number;
  /** Ethertype to receive (and the default for sends); ETH_P_ALL to see everything. */
  protocol?: number;
  /** Network namespace (name under /run/netns or a path) to open the socket in. */
  netns?: string;
}

export interface FrameMeta {
  ifindex: number;
  /** linux/if_packet.h PACKET_HOST=0, BROADCAST=1, MULTICAST=2, OTHERHOST=3, OUTGOING=4 */
  pktType: number;
}

/**
 * An AF_PACKET SOCK_RAW socket bound to one interface: sends whole Ethernet frames (gratuitous
 * ARP, unsolicited NA) and receives frames of one ethertype.
 */
export class PacketSocket {
  private closed = false;
  private constructor(
    readonly fd: number,
    readonly ifindex: number,
    readonly label: string,
  ) {}

  static open(opts: PacketSocketOptions): PacketSocket {
    const protocol = opts.protocol ?? ETH_P_ALL;
    const label = `${typeof opts.interface === "string" ? opts.interface : `ifindex ${opts.interface}`}${opts.netns ? ` in ${opts.netns}` : ""}`;
    return withNetns(opts.netns, () => {
      const ifindex = typeof opts.interface === "number" ? opts.interface : ifNameToIndex(opts.interface);
      try {
        return new PacketSocket(native().packetOpen(ifindex, protocol), ifindex, label);
      } catch (err) {
        throw fromNative("SYS_PACKET_OPEN", `packet socket on ${label}`, err);
      }
    });
  }

  /** Sends one Ethernet frame (destination MAC in its first 6 bytes). */
  send(frame: Uint8Array): void {
    if (this.closed)
      throw new SysError("SYS_PACKET_CLOSED", `packet socket on ${this.label} is closed`, {
        object: this.label,
      });
    try {
      native().packetSend(this.fd, this.ifindex, frame);
    } catch (err) {
      throw fromNative("SYS_PACKET_SEND", `send on ${this.label}`, err);
    }
  }

  /** Calls `cb` for each received frame until close(). */
  onFrame(cb: (frame: Buffer, meta: FrameMeta) => void): void {
    if (this.closed)
      throw new SysError("SYS_PACKET_CLOSED", `packet socket on ${this.label} is closed`, {
        object: this.label,
      });
    native().packetWatch(this.fd, cb);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().packetClose(this.fd);
  }
}
