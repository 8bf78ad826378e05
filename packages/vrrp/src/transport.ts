/**
 * I/O: raw IP protocol 112 sockets, one per (interface, family), opened inside the router's
 * network namespace (@lvs/sys withNetns), as keepalived does (vrrp.c open_vrrp_send_socket(),
 * open_vrrp_read_socket()).
 *
 * - IPv4: the `raw-socket` package, IP_HDRINCL (we build keepalived's IP header: TOS 0xc0, TTL 255,
 *   our IP id), SO_BINDTODEVICE, IP_ADD_MEMBERSHIP 224.0.0.18 on the interface, multicast loop off.
 *   A raw IPv4 socket returns the IP header, so the TTL and destination are checked.
 * - IPv6: `raw-socket` sends (IPV6_MULTICAST_HOPS/UNICAST_HOPS 255, traffic class 0xc0, the
 *   source pinned with a sticky IPV6_PKTINFO so the checksum we compute is the one that goes out)
 *   and joins ff02::12. A raw IPv6 socket never returns the IP header, and `raw-socket` has no
 *   recvmsg for IPV6_HOPLIMIT, so by default ("packet") adverts are read from an AF_PACKET socket
 *   (@lvs/sys PacketSocket, ETH_P_IPV6) on the interface, which sees the hop limit and the
 *   destination: RFC 9568 §7.1's hop-limit check holds. "raw" reads the raw socket instead
 *   (kernel-filtered to protocol 112, after netfilter) and cannot check the hop limit.
 */
import { createRequire } from "node:module";
import { endianness } from "node:os";
import { addressToBytes, canonicalAddress } from "@lvs/inet";
import { ETH_P_IPV6, ifNameToIndex, PacketSocket, withNetns } from "@lvs/sys";
import {
  IP_ADD_MEMBERSHIP,
  IP_HDRINCL,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_VRRP,
  IPV6_ADD_MEMBERSHIP,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_PKTINFO,
  IPV6_TCLASS,
  IPV6_UNICAST_HOPS,
  PACKET_OUTGOING,
  SO_BINDTODEVICE,
  SO_RCVBUF,
  SOL_SOCKET,
  VRRP_IPV4_GROUP,
  VRRP_IPV6_GROUP,
  VRRP_TOS,
  VRRP_TTL,
} from "./constants.js";
import { fromSystemError, VrrpError } from "./errors.js";
import { decodeFrameIp, decodeIpv4Packet, encodeIpv4Packet, type IpPacket } from "./ip.js";

/** One packet to send. */
export interface OutgoingPacket {
  source: string;
  destination: string;
  /** The VRRP message. */
  payload: Uint8Array;
  /** IPv4 identification (IPv4 only). */
  id?: number;
  /** IPv4 TTL (default 255; IPv6 always uses the socket's 255). */
  ttl?: number;
}

export interface ChannelOptions {
  /** Join the VRRP group on the interface (multicast instances). */
  multicast: boolean;
}

/** What the router needs from the network: per-(interface, family) channels. */
export interface VrrpTransport {
  open(ifname: string, family: 4 | 6, opts: ChannelOptions): void;
  close(ifname: string, family: 4 | 6): void;
  /** Sends at once; errors are reported to the callback (never thrown). */
  send(ifname: string, family: 4 | 6, pkt: OutgoingPacket, done?: (err?: Error) => void): void;
  /** Called for every received packet (IPv6 `ttl` is undefined when unknown). */
  onPacket(handler: (ifname: string, pkt: IpPacket) => void): void;
  /** A socket failed (it is reopened on the next open()). */
  onError(handler: (ifname: string, family: 4 | 6, err: VrrpError) => void): void;
  shutdown(): void;
}

interface RawSocket {
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(
    buf: Buffer,
    offset: number,
    length: number,
    address: string,
    cb: (err: Error | null, bytes: number) => void,
  ): void;
  on(ev: "message", cb: (buf: Buffer, source: string) => void): void;
  on(ev: "error", cb: (err: Error) => void): void;
  pauseRecv(): void;
  close(): void;
}
interface RawSocketModule {
  createSocket(opts: { protocol: number; addressFamily: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
}

let rawModule: RawSocketModule | undefined;
function raw(): RawSocketModule {
  if (rawModule) return rawModule;
  // A bundled lvsctl carries raw-socket's JavaScript inlined and hands it out through this hook.
  const hook = (globalThis as Record<symbol, unknown>)[Symbol.for("lvs.require")];
  if (typeof hook === "function") {
    rawModule = (hook as (name: string) => RawSocketModule)("raw-socket");
    return rawModule;
  }
  try {
    rawModule = createRequire(import.meta.url)("raw-socket") as RawSocketModule;
  } catch (err) {
    throw fromSystemError(
      "VRRP_SOCKET",
      "the raw-socket native addon is not available (npm rebuild raw-socket)",
      err,
    );
  }
  return rawModule;
}

const le = endianness() === "LE";
function int32(buf: Buffer, v: number, off: number): void {
  if (le) buf.writeInt32LE(v, off);
  else buf.writeInt32BE(v, off);
}

interface Channel {
  ifname: string;
  family: 4 | 6;
  ifindex: number;
  sock: RawSocket;
  packet?: PacketSocket;
  multicast: boolean;
  /** IPv6: the source pinned with IPV6_PKTINFO. */
  pinnedSource?: string;
}

export interface RawTransportOptions {
  netns?: string;
  /** How IPv6 adverts are received (see the module comment). Default "packet". */
  ipv6Receive?: "packet" | "raw";
}

/** The real transport. */
export class RawTransport implements VrrpTransport {
  private readonly channels = new Map<string, Channel>();
  private packetHandler: (ifname: string, pkt: IpPacket) => void = () => {};
  private errorHandler: (ifname: string, family: 4 | 6, err: VrrpError) => void = () => {};
  readonly netns: string | undefined;
  readonly ipv6Receive: "packet" | "raw";

  constructor(opts: RawTransportOptions = {}) {
    this.netns = opts.netns;
    this.ipv6Receive = opts.ipv6Receive ?? "packet";
  }

  onPacket(handler: (ifname: string, pkt: IpPacket) => void): void {
    this.packetHandler = handler;
  }
  onError(handler: (ifname: string, family: 4 | 6, err: VrrpError) => void): void {
    this.errorHandler = handler;
  }

  private key(ifname: string, family: 4 | 6): string {
    return `${family}/${ifname}`;
  }

  private ctx(ifname: string) {
    return { object: ifname, ...(this.netns !== undefined ? { netns: this.netns } : {}) };
  }

  open(ifname: string, family: 4 | 6, opts: ChannelOptions): void {
    const key = this.key(ifname, family);
    const have = this.channels.get(key);
    if (have) {
      if (opts.multicast && !have.multicast) {
        this.join(have);
        have.multicast = true;
      }
      return;
    }
    const ch = this.openSocket(ifname, family);
    this.configure(ch, opts);
    ch.sock.on("error", (err) => {
      this.channels.delete(key);
      ch.packet?.close();
      this.errorHandler(
        ifname,
        family,
        fromSystemError("VRRP_SOCKET", `raw socket on ${ifname} failed`, err, this.ctx(ifname)),
      );
    });
    if (family === 4 || this.ipv6Receive === "raw") this.receiveFromRaw(ch);
    else this.receiveFromPacket(ch);
    this.channels.set(key, ch);
  }

  /** A raw protocol-112 socket in the router's namespace, for an interface found there. */
  private openSocket(ifname: string, family: 4 | 6): Channel {
    let ifindex: number;
    try {
      ifindex = ifNameToIndex(ifname, this.netns);
    } catch (err) {
      throw fromSystemError("VRRP_NO_INTERFACE", `interface ${ifname}`, err, this.ctx(ifname));
    }
    const mod = raw();
    try {
      const sock = withNetns(this.netns, () =>
        mod.createSocket({
          protocol: IPPROTO_VRRP,
          addressFamily: family === 4 ? mod.AddressFamily.IPv4 : mod.AddressFamily.IPv6,
          bufferSize: 65536,
        }),
      );
      return { ifname, family, ifindex, sock, multicast: false };
    } catch (err) {
      throw fromSystemError(
        "VRRP_SOCKET",
        `raw IPv${family} socket for protocol 112 on ${ifname}`,
        err,
        this.ctx(ifname),
      );
    }
  }

  /** keepalived's socket options: bound to the interface, TTL/hop limit 255, no loopback, the group joined. */
  private configure(ch: Channel, opts: ChannelOptions): void {
    const { sock, ifname, ifindex } = ch;
    try {
      const name = Buffer.from(`${ifname}\0`);
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
      if (ch.family === 4) {
        sock.setOption(IPPROTO_IP, IP_HDRINCL, 1);
        sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
        const mreqn = Buffer.alloc(12);
        int32(mreqn, ifindex, 8);
        sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, mreqn, mreqn.length);
      } else {
        sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, VRRP_TTL);
        sock.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, VRRP_TTL);
        sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
        sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
        sock.setOption(IPPROTO_IPV6, IPV6_TCLASS, VRRP_TOS);
      }
      if (opts.multicast) {
        this.join(ch);
        ch.multicast = true;
      }
    } catch (err) {
      sock.close();
      throw fromSystemError("VRRP_SOCKET", `socket options on ${ifname}`, err, this.ctx(ifname));
    }
  }

  /** IPv4 (with its header), or IPv6 "raw" (the payload only: no hop limit, no destination). */
  private receiveFromRaw(ch: Channel): void {
    ch.sock.on("message", (buf, source) => {
      let pkt: IpPacket;
      if (ch.family === 4) {
        try {
          pkt = decodeIpv4Packet(buf);
        } catch {
          pkt = { family: 4, source, destination: "", ttl: undefined, protocol: -1, payload: buf };
        }
      } else {
        pkt = {
          family: 6,
          source: canonicalAddress(source),
          destination: "",
          ttl: undefined,
          protocol: IPPROTO_VRRP,
          payload: buf,
        };
      }
      this.packetHandler(ch.ifname, pkt);
    });
  }

  /** IPv6 "packet": whole frames from AF_PACKET (hop limit and destination seen); the raw socket only sends. */
  private receiveFromPacket(ch: Channel): void {
    ch.sock.pauseRecv();
    try {
      ch.sock.setOption(SOL_SOCKET, SO_RCVBUF, 0); // the kernel's minimum: nothing is read from it
    } catch {
      // not fatal
    }
    try {
      ch.packet = PacketSocket.open({
        interface: ch.ifindex,
        protocol: ETH_P_IPV6,
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
      });
    } catch (err) {
      ch.sock.close();
      throw fromSystemError("VRRP_SOCKET", `AF_PACKET socket on ${ch.ifname}`, err, this.ctx(ch.ifname));
    }
    ch.packet.onFrame((frame, meta) => {
      // PACKET_OUTGOING: our own; PACKET_OTHERHOST (3): not for this host
      if (meta.pktType === PACKET_OUTGOING || meta.pktType === 3) return;
      // cheap pre-filter before decoding: IPv6 next header 112 right after the fixed header, or
      // an extension header to walk
      const next = frame[14 + 6];
      if (next !== IPPROTO_VRRP && next !== 0 && next !== 43 && next !== 60) return;
      let pkt: IpPacket | undefined;
      try {
        pkt = decodeFrameIp(frame);
      } catch {
        return;
      }
      if (pkt && pkt.protocol === IPPROTO_VRRP) this.packetHandler(ch.ifname, pkt);
    });
  }

  private join(ch: Channel): void {
    if (ch.family === 4) {
      const mreqn = Buffer.alloc(12);
      Buffer.from(addressToBytes(VRRP_IPV4_GROUP)).copy(mreqn, 0);
      int32(mreqn, ch.ifindex, 8);
      ch.sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn, mreqn.length);
    } else {
      const mreq = Buffer.alloc(20);
      Buffer.from(addressToBytes(VRRP_IPV6_GROUP)).copy(mreq, 0);
      int32(mreq, ch.ifindex, 16);
      ch.sock.setOption(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq, mreq.length);
    }
  }

  close(ifname: string, family: 4 | 6): void {
    const key = this.key(ifname, family);
    const ch = this.channels.get(key);
    if (!ch) return;
    this.channels.delete(key);
    ch.packet?.close();
    try {
      ch.sock.close();
    } catch {
      // already closed
    }
  }

  send(ifname: string, family: 4 | 6, pkt: OutgoingPacket, done?: (err?: Error) => void): void {
    const ch = this.channels.get(this.key(ifname, family));
    if (!ch) {
      done?.(new VrrpError("VRRP_SOCKET", `no socket open on ${ifname} (IPv${family})`, this.ctx(ifname)));
      return;
    }
    try {
      let buf: Buffer;
      if (family === 4) {
        buf = Buffer.from(
          encodeIpv4Packet({
            source: pkt.source,
            destination: pkt.destination,
            payload: pkt.payload,
            ...(pkt.id !== undefined ? { id: pkt.id } : {}),
            ...(pkt.ttl !== undefined ? { ttl: pkt.ttl } : {}),
          }),
        );
      } else {
        if (ch.pinnedSource !== pkt.source) {
          // struct in6_pktinfo { struct in6_addr ipi6_addr; int ipi6_ifindex; }: a sticky source address
          const info = Buffer.alloc(20);
          Buffer.from(addressToBytes(pkt.source)).copy(info, 0);
          int32(info, ch.ifindex, 16);
          ch.sock.setOption(IPPROTO_IPV6, IPV6_PKTINFO, info, info.length);
          ch.pinnedSource = pkt.source;
        }
        buf = Buffer.from(pkt.payload);
      }
      // no "%zone" on link-local destinations: raw-socket would resolve it in this thread's
      // namespace; the socket is bound to the interface and IPV6_PKTINFO names it anyway
      ch.sock.send(buf, 0, buf.length, pkt.destination, (err) => done?.(err ?? undefined));
    } catch (err) {
      done?.(err as Error);
    }
  }

  shutdown(): void {
    for (const ch of [...this.channels.values()]) this.close(ch.ifname, ch.family);
  }
}
