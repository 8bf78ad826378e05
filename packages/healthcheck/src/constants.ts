// Constants for @lvs/healthcheck. Defaults follow keepalived 2.2.7 (doc/man/man5/keepalived.conf.5),
// wire values follow the cited RFCs.

/** keepalived.conf.5: `connect_timeout` default, seconds. */
export const DEFAULT_CONNECT_TIMEOUT_S = 5;
/** keepalived.conf.5: `delay_loop` default, seconds. */
export const DEFAULT_DELAY_LOOP_S = 60;
/** keepalived.conf.5: `retry` default for HTTP_GET/SSL_GET/SMTP (`nb_get_retry`). */
export const DEFAULT_RETRY = 1;
/** keepalived.conf.5: `delay_before_retry` default, seconds. */
export const DEFAULT_DELAY_BEFORE_RETRY_S = 1;
/** keepalived.conf.5 MISC_CHECK: `misc_dynamic` weight = exit status - 2 for 2..255. */
export const MISC_DYNAMIC_WEIGHT_OFFSET = 2;

/** keepalived 2.2.7 check_udp.c: max_reply_length defaults to UINT8_MAX. */
export const UDP_MAX_REPLY_LENGTH_DEFAULT = 255;
/** include/uapi/asm-generic/socket.h: SOL_SOCKET, SO_BINDTODEVICE (for `bind_if`). */
export const SOL_SOCKET = 1;
export const SO_BINDTODEVICE = 25;

/** RFC 1035 §3.2.2 TYPE values (+ RFC 3596 AAAA, RFC 4034 RRSIG/DNSKEY: keepalived check_dns.c asks for these). */
export const DNS_TYPES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28, // RFC 3596 §2.1
  RRSIG: 46, // RFC 4034 §3
  DNSKEY: 48, // RFC 4034 §2
} as const;
export type DnsTypeName = keyof typeof DNS_TYPES;
export const DNS_TYPE_NAMES: Record<number, DnsTypeName> = Object.fromEntries(
  Object.entries(DNS_TYPES).map(([k, v]) => [v, k as DnsTypeName]),
);
/** RFC 1035 §3.2.4 CLASS IN. */
export const DNS_CLASS_IN = 1;
/** RFC 1035 §4.1.1 header flags. */
export const DNS_FLAG_QR = 0x8000;
export const DNS_FLAG_RD = 0x0100;
export const DNS_RCODE_MASK = 0x000f;
/** RFC 1035 §4.1.1 RCODE names. */
export const DNS_RCODE_NAMES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
};
/** RFC 1035 §4.2.1 UDP messages are limited to 512 bytes (without EDNS). */
export const DNS_MAX_UDP = 512;
/** RFC 1035 §2.3.4 label and name limits. */
export const DNS_MAX_LABEL = 63;
export const DNS_MAX_NAME = 255;

/** RFC 792 / RFC 4443 §4.1-4.2: ICMP echo request/reply types. */
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

/** RFC 5321 §4.2.3 reply codes used by SMTP_CHECK. */
export const SMTP_READY = 220;
export const SMTP_OK = 250;

/** Upper bound on an HTTP response we buffer for digest/regex (keepalived reads the whole body). */
export const HTTP_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * A script past its timeout gets SIGTERM, then SIGKILL this much later, to its whole process
 * group (keepalived's check_misc.c and vrrp_scheduler.c do the same two steps; @lvs/vrrp's
 * SCRIPT_KILL_GRACE_MS has the same value), ms.
 */
export const SCRIPT_KILL_GRACE_MS = 2_000;
