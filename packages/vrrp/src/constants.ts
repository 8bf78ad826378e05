/**
 * Constants of VRRP version 2 (RFC 3768) and version 3 (RFC 5798, obsoleted by RFC 9568 — same
 * wire format), plus the defaults keepalived 2.2.7 applies (keepalived/include/vrrp.h,
 * keepalived/core/global_data.c). Each value cites its source.
 */

// RFC 3768 §5.2.2 / RFC 9568 §5.1.1.2: IPv4 multicast destination 224.0.0.18
export const VRRP_IPV4_GROUP = "224.0.0.18";
// RFC 9568 §5.1.2.2: IPv6 multicast destination ff02::12 (link-local scope)
export const VRRP_IPV6_GROUP = "ff02::12";
// RFC 3768 §5.2.4 / RFC 9568 §5.1.1.4, §5.1.2.4: IP protocol number 112
export const IPPROTO_VRRP = 112;
// RFC 3768 §5.2.3 / RFC 9568 §5.1.1.3, §5.1.2.3: TTL / Hop Limit MUST be 255
export const VRRP_TTL = 255;
// keepalived vrrp.c vrrp_build_ip4(): "set tos to internet network control" (0xc0); also the
// IPv6 traffic class keepalived sends (captured, test/fixtures/keepalived-2.2.7-adverts.json)
export const VRRP_TOS = 0xc0;

// RFC 3768 §5.3.1 (version 2), RFC 9568 §5.2.1 (version 3)
export const VRRP_VERSION_2 = 2;
export const VRRP_VERSION_3 = 3;
// RFC 3768 §5.3.2 / RFC 9568 §5.2.2: the only packet type, ADVERTISEMENT
export const VRRP_TYPE_ADVERTISEMENT = 1;

// RFC 3768 §5.3.4 / RFC 9568 §5.2.4: priorities
export const VRRP_PRIORITY_OWNER = 255; // the IP address owner
export const VRRP_PRIORITY_DEFAULT = 100; // default for backup routers (keepalived VRRP_PRIO_DFL)
export const VRRP_PRIORITY_STOP = 0; // "current Master has stopped participating in VRRP"

// RFC 3768 §5.1: 8 fixed octets (version/type, VRID, priority, count, auth type, adver int,
// checksum) + addresses + 8 octets of authentication data
export const VRRP_HEADER_LENGTH = 8;
export const VRRP_V2_AUTH_LENGTH = 8;
// RFC 3768 §5.3.5 / RFC 9568 §5.2.5: Count IPvX Addr is one octet
export const VRRP_MAX_ADDRESSES = 255;

// RFC 3768 §5.3.6: authentication types (AH is refused: RFC 3768 removed it, keepalived needs a build flag)
export const VRRP_AUTH_NONE = 0;
export const VRRP_AUTH_PASS = 1;
export const VRRP_AUTH_AH = 2;

// RFC 9568 §5.2.7: Max Adver Int is 12 bits of centiseconds (max 40.95 s); the 4 bits above are reserved
export const VRRP_V3_INTERVAL_MASK = 0x0fff;
export const VRRP_V3_MAX_INTERVAL_CS = 0x0fff;
// RFC 3768 §5.3.7: Adver Int is one octet of seconds
export const VRRP_V2_MAX_INTERVAL_S = 255;

// RFC 3768 §6.1 / RFC 9568 §6.1: Advertisement_Interval default 1 s
export const VRRP_DEFAULT_INTERVAL_CS = 100;
// RFC 9568 §6.1: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_Time
// (keepalived vrrp.h VRRP_DOWN_TIMER_ADVERTS)
export const VRRP_DOWN_TIMER_ADVERTS = 3;

// keepalived vrrp.h: VRRP_GARP_DELAY 5 s, VRRP_GARP_REP 5, VRRP_GARP_REFRESH 0 (off), VRRP_GARP_REFRESH_REP 1
export const KEEPALIVED_GARP_MASTER_DELAY_MS = 5000;
export const KEEPALIVED_GARP_MASTER_REPEAT = 5;
export const KEEPALIVED_GARP_MASTER_REFRESH_MS = 0;
export const KEEPALIVED_GARP_MASTER_REFRESH_REPEAT = 1;

// keepalived vrrp_parser.c: vrrp_script defaults interval 1 s, rise 1, fall 1, weight 0; the
// timeout, when unset, is the interval (vrrp_scheduler.c vrrp_script_thread())
export const KEEPALIVED_SCRIPT_INTERVAL_MS = 1000;
export const KEEPALIVED_SCRIPT_RISE = 1;
export const KEEPALIVED_SCRIPT_FALL = 1;
// keepalived vrrp_scheduler.c vrrp_script_child_thread(): SIGTERM, then SIGKILL 2 s later
export const SCRIPT_KILL_GRACE_MS = 2000;

// Ethernet (include/uapi/linux/if_ether.h)
export const ETH_HEADER_LENGTH = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
// IPv4 (RFC 791): minimum header length; IPv6 (RFC 8200): fixed header length
export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;
// RFC 8200 §4: extension headers the IPv6 receive path skips (hop-by-hop, routing, destination
// options); a fragment header (44) is not a VRRP advert
export const IPV6_EXT_HOP_BY_HOP = 0;
export const IPV6_EXT_ROUTING = 43;
export const IPV6_EXT_FRAGMENT = 44;
export const IPV6_EXT_DEST_OPTS = 60;

// Socket options (include/uapi/linux/in.h, in6.h, asm-generic/socket.h) used by io.ts
export const SOL_SOCKET = 1;
export const SO_BINDTODEVICE = 25;
export const SO_RCVBUF = 8;
export { IPPROTO_IP, IPPROTO_IPV6 } from "@lvs/inet";
export const IP_HDRINCL = 3;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_DROP_MEMBERSHIP = 36;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_DROP_MEMBERSHIP = 21;
export const IPV6_PKTINFO = 50;
export const IPV6_TCLASS = 67;
// linux/if_packet.h: PACKET_OUTGOING — a frame this host sent
export const PACKET_OUTGOING = 4;

/** State names as keepalived prints them (notify arguments, FIFO lines, logs). */
export const STATE_NAMES = {
  init: "INIT",
  backup: "BACKUP",
  master: "MASTER",
  fault: "FAULT",
  stop: "STOP",
} as const;

/**
 * keepalived_exporter's `keepalived_vrrp_state` values (vrrp.h VRRP_STATE_*): INIT 0, BACKUP 1,
 * MASTER 2, FAULT 3; STOP is 98 in keepalived and exported as such.
 */
export const STATE_NUMBERS = { init: 0, backup: 1, master: 2, fault: 3, stop: 98 } as const;
