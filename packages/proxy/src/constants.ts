// Constants of @lvs/proxy. Kernel values follow Linux 6.1 (the kernel the project's VM boots);
// PROXY protocol values follow haproxy's doc/proxy-protocol.txt (2020/03/05 revision, haproxy 2.6).
// Address families, protocols and forwarding flags come from @lvs/inet; IPVS's service flags,
// default scheduler, persistence and protocol timeouts from @lvs/scheduler.
import { IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3 } from "@lvs/scheduler";

/** The scheduler-flag bits of svc->flags (ipvsadm -b). */
export const IP_VS_SVC_F_SCHED_MASK = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

/** The proxy's own defaults (haproxy's usual `timeout connect 5s`; no kernel counterpart). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Bytes a socket may queue for writing before the side feeding it is paused (pipe semantics). */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** Time a client has to send its PROXY header on a listener that accepts one (haproxy: timeout client). */
export const DEFAULT_PROXY_HEADER_TIMEOUT_MS = 5_000;

/**
 * ip_vs_est.c (Linux 6.1): the estimator runs every 2 s (estimation_timer re-arms itself at
 * jiffies + 2 * HZ) and averages with weight 1/4 (avg += (rate - avg) >> 2). The fixed-point
 * scalings are those of estimation_timer()/ip_vs_read_estimator(): rates per second ×2^10 for
 * connections and packets (a 2 s delta shifted left by 9), ×2^5 for bytes (shifted left by 4).
 */
export const ESTIMATOR_TICK_MS = 2_000;
export const ESTIMATOR_SHIFT_COUNT = 9;
export const ESTIMATOR_SHIFT_BYTES = 4;
export const ESTIMATOR_READ_SHIFT_COUNT = 10;
export const ESTIMATOR_READ_SHIFT_BYTES = 5;

// ---------------------------------------------------------------------- PROXY protocol

/** proxy-protocol.txt §2.1: a v1 line is at most 107 bytes, CRLF included. */
export const PP_V1_MAX_LENGTH = 107;
/** proxy-protocol.txt §2.2: the 12-byte v2 signature. */
export const PP_V2_SIGNATURE = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);
/** proxy-protocol.txt §2.2: signature + version/command + family/transport + 16-bit length. */
export const PP_V2_HEADER_LENGTH = 16;
/** The largest v2 header the 16-bit length allows. */
export const PP_V2_MAX_LENGTH = PP_V2_HEADER_LENGTH + 0xffff;
/**
 * The default limit on a received v2 header: addresses (at most 216 bytes for UNIX) plus TLVs.
 * haproxy reads the header into one buffer; ours is bounded explicitly.
 */
export const PP_V2_DEFAULT_MAX_LENGTH = 4096;
/** proxy-protocol.txt §2.2: the version nibble (high 4 bits of byte 13). */
export const PP_V2_VERSION = 0x2;

/** proxy-protocol.txt §2.2: the command nibble (low 4 bits of byte 13). */
export const PP_V2_COMMANDS = { LOCAL: 0x0, PROXY: 0x1 } as const;
export type ProxyCommand = keyof typeof PP_V2_COMMANDS;
/** proxy-protocol.txt §2.2: the address family (high nibble of byte 14). */
export const PP_V2_FAMILIES = { UNSPEC: 0x0, INET: 0x1, INET6: 0x2, UNIX: 0x3 } as const;
export type ProxyFamily = keyof typeof PP_V2_FAMILIES;
/** proxy-protocol.txt §2.2: the transport protocol (low nibble of byte 14). */
export const PP_V2_TRANSPORTS = { UNSPEC: 0x0, STREAM: 0x1, DGRAM: 0x2 } as const;
export type ProxyTransport = keyof typeof PP_V2_TRANSPORTS;
/** proxy-protocol.txt §2.2: bytes of the address block per family. */
export const PP_V2_ADDRESS_LENGTH: Readonly<Record<ProxyFamily, number>> = {
  UNSPEC: 0,
  INET: 12,
  INET6: 36,
  UNIX: 216,
};
/** proxy-protocol.txt §2.2.7: the registered TLV types (names for logs; unknown types are kept). */
export const PP2_TLV_NAMES: Readonly<Record<number, string>> = {
  1: "ALPN",
  2: "AUTHORITY",
  3: "CRC32C",
  4: "NOOP",
  5: "UNIQUE_ID",
  32: "SSL",
  33: "SSL_VERSION",
  34: "SSL_CN",
  35: "SSL_CIPHER",
  36: "SSL_SIG_ALG",
  37: "SSL_KEY_ALG",
  48: "NETNS",
};
