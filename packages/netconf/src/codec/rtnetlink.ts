/**
 * Pure decoding of the rtnetlink messages RtnlClient and the watcher receive
 * (include/uapi/linux/netlink.h, rtnetlink.h, if_link.h, if_addr.h): the `netlink` package's typed
 * parser underneath, its plain `Error`s turned into NETCONF_NETLINK, and link / address messages
 * mapped to LinkEntry / AddressEntry. Whatever the bytes, nothing but a NetconfError comes out
 * (test/fuzz-targets.ts mutates the kernel messages in test/fixtures/rtnl-kernel.json).
 */
import { bytesToAddress, type IpVersion as Family, formatMac } from "@lvs/inet";
import type { rt } from "netlink";
import {
  AF_INET,
  AF_INET6,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFLA_INFO_KIND,
  NLMSG_DONE,
  NLMSG_ERROR,
  OPER_STATE_NAMES,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
} from "../constants.js";
import { NetconfError, wrapError } from "../errors.js";
import { netlinkModule } from "../netlink-module.js";

export interface AddressEntry {
  index: number;
  dev: string;
  family: Family;
  address: string;
  prefixLength: number;
  label?: string;
  /** rt_scope_t: 0 global, 200 site, 253 link, 254 host. */
  scope: number;
  /** IFA_F_* (from IFA_FLAGS when present, which supersedes the 8-bit header field). */
  flags: number;
  /** Point-to-point peer (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer?: string;
}

export interface LinkEntry {
  index: number;
  name: string;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: operationally up (RFC 2863 OPER_UP), i.e. carrier and not dormant. */
  running: boolean;
  /** IFF_LOWER_UP: the driver signals carrier. */
  lowerUp: boolean;
  /** RFC 2863 state as `ip link` prints it: UP, DOWN, LOWERLAYERDOWN, UNKNOWN… */
  operState: string;
  /** Link-layer address, "aa:bb:cc:dd:ee:ff" for Ethernet. */
  mac?: string;
  mtu: number;
  /** IFLA_INFO_KIND: "veth", "bridge", "ipip", "dummy"… (absent for physical NICs and lo). */
  kind?: string;
  /** ARPHRD_* name as the netlink package spells it ("ETHER", "LOOPBACK", "TUNNEL"…). */
  linkType: string;
  /** IFF_* flags. */
  flags: number;
  /** Index of the master (bridge, bond) if any. */
  master?: number;
}

/** rt.Message (address) → AddressEntry. `names` maps ifindex → interface name. */
export function addressEntryFromMessage(
  m: rt.AddressMessage,
  names: ReadonlyMap<number, string>,
): AddressEntry | undefined {
  const family = m.data.family === AF_INET ? 4 : m.data.family === AF_INET6 ? 6 : undefined;
  if (family === undefined) return undefined;
  const local = m.attrs.local;
  const addr = m.attrs.address;
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer on point-to-point links.
  const mine = local ?? addr;
  if (!mine) return undefined;
  const index = m.data.index ?? 0;
  const flags =
    m.attrs.flags !== undefined
      ? netlinkModule().rt.formatAddressFlags(m.attrs.flags)
      : m.data.flags !== undefined
        ? netlinkModule().rt.formatAddressFlags(m.data.flags)
        : 0;
  const entry: AddressEntry = {
    index,
    dev: names.get(index) ?? m.attrs.label?.split(":")[0] ?? `if${index}`,
    family,
    address: addressText(mine, "IFA_LOCAL"),
    prefixLength: m.data.prefixlen ?? (family === 4 ? 32 : 128),
    scope: m.data.scope ?? 0,
    flags: flags >>> 0,
  };
  if (m.attrs.label !== undefined) entry.label = m.attrs.label;
  if (local && addr && !Buffer.from(local).equals(Buffer.from(addr)))
    entry.peer = addressText(addr, "IFA_ADDRESS");
  return entry;
}

/** An address attribute's text; NETCONF_BAD_ADDRESS unless it holds 4 or 16 bytes. */
function addressText(bytes: Uint8Array, what: string): string {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new NetconfError(
      "NETCONF_BAD_ADDRESS",
      `${what} of ${bytes.length} bytes (an address has 4 or 16)`,
      {
        object: what,
      },
    );
  }
  return bytesToAddress(new Uint8Array(bytes));
}

/** rt.Message (link) → LinkEntry. */
export function linkEntryFromMessage(m: rt.LinkMessage): LinkEntry {
  const flags = m.data.flags ? netlinkModule().rt.formatDeviceFlags(m.data.flags) >>> 0 : 0;
  const entry: LinkEntry = {
    index: m.data.index ?? 0,
    name: m.attrs.ifname ?? `if${m.data.index}`,
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    operState: OPER_STATE_NAMES[m.attrs.operstate ?? 0] ?? String(m.attrs.operstate),
    mtu: m.attrs.mtu ?? 0,
    linkType: String(m.data.type ?? "UNKNOWN"),
    flags,
  };
  if (m.attrs.address && m.attrs.address.length > 0) entry.mac = formatMac(new Uint8Array(m.attrs.address));
  const kind = m.attrs.linkinfo ? linkKind(m.attrs.linkinfo) : undefined;
  if (kind) entry.kind = kind;
  if (m.attrs.master !== undefined) entry.master = m.attrs.master;
  return entry;
}

/** IFLA_INFO_KIND inside the nested IFLA_LINKINFO attribute. */
function linkKind(buf: Uint8Array): string | undefined {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = v.getUint16(off, true);
    const type = v.getUint16(off + 2, true) & 0x3fff;
    if (len < 4 || off + len > buf.length) return undefined;
    if (type === IFLA_INFO_KIND) {
      return Buffer.from(buf.subarray(off + 4, off + len))
        .toString("latin1")
        .replace(/\0+$/, "");
    }
    off += (len + 3) & ~3;
  }
  return undefined;
}

/** One netlink message as the `netlink` package's socket hands it over. */
export interface RtnlFrame {
  type: number;
  flags: number;
  seq: number;
  data: Uint8Array;
}

/** A decoded rtnetlink message. */
export type RtnlItem =
  | { kind: "link"; type: number; link: LinkEntry }
  | { kind: "address"; type: number; address: AddressEntry }
  /** NLMSG_ERROR: errno (positive) of the request `seq` answered; 0 is an ACK. */
  | { kind: "error"; errno: number }
  | { kind: "done" }
  /** A type we do not decode, or an address of another family / without one. */
  | { kind: "ignored"; type: number };

/** The typed message of the `netlink` package; its errors become NETCONF_NETLINK. */
export function parseRtMessage(type: number, data: Uint8Array): rt.Message {
  try {
    return netlinkModule().rt.parseMessage(type, toBuffer(data));
  } catch (err) {
    throw wrapError("NETCONF_NETLINK", `malformed rtnetlink message (type ${type})`, err);
  }
}

/** NLMSG_ERROR payload (struct nlmsgerr): the errno, positive; 0 for an ACK. */
export function parseNlErrno(data: Uint8Array): number {
  if (data.length < 4) {
    throw new NetconfError("NETCONF_NETLINK", `NLMSG_ERROR of ${data.length} bytes (struct nlmsgerr has 20)`);
  }
  return Math.abs(new DataView(data.buffer, data.byteOffset, data.byteLength).getInt32(0, true));
}

/** One message → its item; NetconfError (NETCONF_NETLINK, NETCONF_BAD_ADDRESS) on bad bytes. */
export function decodeRtnlFrame(f: RtnlFrame, names: ReadonlyMap<number, string>): RtnlItem {
  if (f.type === NLMSG_ERROR) return { kind: "error", errno: parseNlErrno(f.data) };
  if (f.type === NLMSG_DONE) return { kind: "done" };
  const isLink = f.type === RTM_NEWLINK || f.type === RTM_DELLINK;
  const isAddress = f.type === RTM_NEWADDR || f.type === RTM_DELADDR;
  if (!isLink && !isAddress) return { kind: "ignored", type: f.type };
  const m = parseRtMessage(f.type, f.data);
  if (m.kind === "link") return { kind: "link", type: f.type, link: linkEntryFromMessage(m) };
  if (m.kind === "address") {
    const address = addressEntryFromMessage(m, names);
    return address ? { kind: "address", type: f.type, address } : { kind: "ignored", type: f.type };
  }
  return { kind: "ignored", type: f.type };
}

/** A whole datagram (netlink framing included) → its items. NetconfError on bad bytes. */
export function decodeRtnlDatagram(buf: Uint8Array, names: ReadonlyMap<number, string>): RtnlItem[] {
  let frames: RtnlFrame[];
  try {
    frames = netlinkModule().parseMessages(toBuffer(buf));
  } catch (err) {
    throw wrapError("NETCONF_NETLINK", "malformed netlink datagram", err);
  }
  return frames.map((f) => decodeRtnlFrame(f, names));
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
