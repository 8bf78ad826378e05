/**
 * Every number @lvs/netconf puts on the wire or reads from the kernel, with its source.
 * Kernel headers as of Linux 6.1 (include/uapi/...); RFCs as cited.
 */

// ---- Ethernet (include/uapi/linux/if_ether.h) ----
/** ETH_ALEN: octets in one Ethernet address. */
export const ETH_ALEN = 6;
/** ETH_HLEN: destination + source + ethertype. */
export const ETH_HLEN = 14;
/** ETH_P_ARP: Address Resolution packet. */
export const ETH_P_ARP = 0x0806;
/** ETH_P_IP: Internet Protocol packet. */
export const ETH_P_IP = 0x0800;
/** ETH_P_IPV6: IPv6 over bluebook. */
export const ETH_P_IPV6 = 0x86dd;
/** The Ethernet broadcast address (RFC 826: a gratuitous ARP is broadcast). */
export const ETH_BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

// ---- ARP (RFC 826; include/uapi/linux/if_arp.h) ----
/** ARPHRD_ETHER: ar_hrd for Ethernet. */
export const ARPHRD_ETHER = 1;
/** ARPOP_REQUEST / ARPOP_REPLY: ar_op. */
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
/** Length of an Ethernet/IPv4 ARP packet: 8-byte header + 2 × (6 + 4). */
export const ARP_PACKET_LEN = 28;

// ---- IPv6 and ICMPv6 (RFC 8200 §3; RFC 4443 §2; RFC 4861 §4.4) ----
export const IPV6_HEADER_LEN = 40;
/** IPPROTO_ICMPV6 (include/uapi/linux/in6.h), via @lvs/inet. */
export { IPPROTO_ICMPV6 } from "@lvs/inet";
/** RFC 4861 §4.4: ICMP type of a Neighbor Advertisement. */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** RFC 4861 §7.1.2: a node MUST drop an NA whose hop limit is not 255; senders set 255. */
export const ND_HOP_LIMIT = 255;
/** RFC 4861 §4.4: R (router), S (solicited), O (override) flags, in the first byte after the checksum. */
export const ND_NA_FLAG_ROUTER = 0x80;
export const ND_NA_FLAG_SOLICITED = 0x40;
export const ND_NA_FLAG_OVERRIDE = 0x20;
/** RFC 4861 §4.6.1: option type 2, Target Link-Layer Address; length in units of 8 octets. */
export const ND_OPT_TARGET_LL_ADDR = 2;
/** ICMPv6 header (4) + reserved/flags (4) + target (16). */
export const ND_NA_LEN = 24;
/** TLLA option for a 6-octet MAC: type, length (1 = 8 octets), address. */
export const ND_OPT_TLLA_LEN = 8;
/** RFC 4291 §2.7.1: ff02::1, the link-local all-nodes group (RFC 4861 §7.2.6: unsolicited NAs go there). */
export const IPV6_ALL_NODES = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
/** RFC 2464 §7: 33:33 + the last 32 bits of the IPv6 multicast group. */
export const IPV6_ALL_NODES_MAC = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

// ---- rtnetlink (include/uapi/linux/rtnetlink.h, if_addr.h, if_link.h, netlink.h) ----
/** RTM_* message types. */
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
/** rtnetlink multicast groups (enum rtnetlink_groups). */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV6_IFADDR = 9;
/** netlink.h: NLMSG_ERROR, NLMSG_DONE; NLM_F_* flags. */
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** AF_INET, AF_INET6 (ifa_family): linux/socket.h, via @lvs/inet. */
export { AF_INET, AF_INET6 } from "@lvs/inet";
/** if_addr.h: IFA_F_* address flags. */
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
/** rtnetlink.h enum rt_scope_t. */
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;
/** if_link.h: IFLA_INFO_KIND inside IFLA_LINKINFO. */
export const IFLA_INFO_KIND = 1;
/** if.h: IFF_UP, IFF_RUNNING, IFF_LOWER_UP. */
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;
/** if.h: IFNAMSIZ (16, so names and labels hold at most 15 characters). */
export const IFNAMSIZ = 16;
/** if.h enum IF_OPER_*: RFC 2863 operational states, as `ip link` prints them. */
export const OPER_STATE_NAMES: readonly string[] = [
  "UNKNOWN",
  "NOTPRESENT",
  "DOWN",
  "LOWERLAYERDOWN",
  "TESTING",
  "DORMANT",
  "UP",
];

// ---- defaults ----
/** Per-request timeout for rtnetlink requests (dumps: for the whole dump). */
export const DEFAULT_NETLINK_TIMEOUT_MS = 10_000;
/** keepalived's vrrp_garp_master_repeat default is 5; the contract's default per call is 1. */
export const DEFAULT_ANNOUNCE_COUNT = 1;
/** Upper bound on repeats of one address per call (a bounded loop, not a storm). */
export const MAX_ANNOUNCE_COUNT = 1000;
/** Where profiles record what they changed (a crash-restart reverts from here). */
export const DEFAULT_STATE_DIR = "/var/lib/lvs/netconf";
