// Constants of @lvs/scheduler. Every value follows Linux 6.1 (Debian's linux-source-6.1 6.1.176,
// the kernel the project's VM boots) unless it says otherwise; each cites the file it comes from.

// Address families (linux/socket.h: svc->af, dest->af), IPPROTO_* (linux/in.h: svc->protocol;
// IPPROTO_IP marks fwmark templates) and the TCP state names live in @lvs/inet.
import type { TcpState } from "@lvs/inet";

export {
  AF_INET,
  AF_INET6,
  IPPROTO_IP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_STATES,
  type TcpState,
} from "@lvs/inet";

/** include/uapi/linux/ip_vs.h: virtual service flags (svc->flags). */
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
export const IP_VS_SVC_F_HASHED = 0x0002;
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
export const IP_VS_SVC_F_SCHED1 = 0x0008;
export const IP_VS_SVC_F_SCHED2 = 0x0010;
export const IP_VS_SVC_F_SCHED3 = 0x0020;
/** include/uapi/linux/ip_vs.h: IP_VS_SVC_F_SCHED_SH_FALLBACK / _SH_PORT. */
export const IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2;
/** net/netfilter/ipvs/ip_vs_mh.c: IP_VS_SVC_F_SCHED_MH_FALLBACK / _MH_PORT. */
export const IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2;

/** ipvsadm(8) `-b` names of the scheduler flags (ipvsadm 1.31, ipvsadm.c parse_sched_flags). */
export const SCHED_FLAG_NAMES: Readonly<Record<string, number>> = {
  "flag-1": IP_VS_SVC_F_SCHED1,
  "flag-2": IP_VS_SVC_F_SCHED2,
  "flag-3": IP_VS_SVC_F_SCHED3,
  "sh-fallback": IP_VS_SVC_F_SCHED_SH_FALLBACK,
  "sh-port": IP_VS_SVC_F_SCHED_SH_PORT,
  "mh-fallback": IP_VS_SVC_F_SCHED_MH_FALLBACK,
  "mh-port": IP_VS_SVC_F_SCHED_MH_PORT,
};

/** include/uapi/linux/ip_vs.h: destination flags (dest->flags). */
export const IP_VS_DEST_F_AVAILABLE = 0x0001;
export const IP_VS_DEST_F_OVERLOAD = 0x0002;

/** include/uapi/linux/ip_vs.h: connection flags that matter for the counters. */
export const IP_VS_CONN_F_INACTIVE = 0x0100;
export const IP_VS_CONN_F_TEMPLATE = 0x1000;
export const IP_VS_CONN_F_ONE_PACKET = 0x2000;

/** Every scheduler the kernel ships (net/netfilter/ipvs/ip_vs_*.c; twos since 6.6). */
export const SCHEDULER_NAMES = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "sed",
  "nq",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "fo",
  "ovf",
  "mh",
  "twos",
] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];
/** ipvsadm.c DEF_SCHED: a service without `-s` uses wlc. */
export const DEFAULT_SCHEDULER: SchedulerName = "wlc";

/** include/linux/hash.h: GOLDEN_RATIO_32, the multiplier of hash_32(). */
export const GOLDEN_RATIO_32 = 0x61c88647;

/** ip_vs_sh.c / Debian config: CONFIG_IP_VS_SH_TAB_BITS=8 → 256 buckets. */
export const IP_VS_SH_TAB_BITS = 8;
/** ip_vs_dh.c: CONFIG_IP_VS_DH_TAB_BITS default 8 (Debian sets no value) → 256 buckets. */
export const IP_VS_DH_TAB_BITS = 8;
/** ip_vs_lblc.c / ip_vs_lblcr.c: CONFIG_IP_VS_LBLC(R)_TAB_BITS default 10 → 1024 buckets. */
export const IP_VS_LBLC_TAB_BITS = 10;

/** ip_vs_mh.c: the table sizes selectable by CONFIG_IP_VS_MH_TAB_INDEX (8..17). */
export const MH_PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
/** Debian config: CONFIG_IP_VS_MH_TAB_INDEX=12 → primes[12 - 8] = 4093. */
export const DEFAULT_MH_TAB_INDEX = 12;
/** ip_vs_mh.c generate_hash_secret(): the fixed hsiphash keys (both halves equal). */
export const MH_HASH1_KEY = 2654435761;
export const MH_HASH2_KEY = 2654446892;

/** include/linux/siphash.h: SIPHASH_CONST_0..3 ("somepseudorandomlygeneratedbytes"). */
export const SIPHASH_CONST: readonly bigint[] = [
  0x736f6d6570736575n,
  0x646f72616e646f6dn,
  0x6c7967656e657261n,
  0x7465646279746573n,
];

/** ip_vs_lblc.c / ip_vs_lblcr.c: CHECK_EXPIRE_INTERVAL (60*HZ), in ms. */
export const LBLC_CHECK_EXPIRE_INTERVAL_MS = 60_000;
/** ip_vs_lblc.c / ip_vs_lblcr.c: ENTRY_TIMEOUT (6*60*HZ), in ms. */
export const LBLC_ENTRY_TIMEOUT_MS = 6 * 60_000;
/** ip_vs_lblc.c / ip_vs_lblcr.c: DEFAULT_EXPIRATION (24*60*60*HZ) = sysctl lblc(r)_expiration, in s. */
export const LBLC_DEFAULT_EXPIRATION_S = 24 * 60 * 60;
/** ip_vs_lblc.c / ip_vs_lblcr.c: COUNT_FOR_FULL_EXPIRATION. */
export const LBLC_COUNT_FOR_FULL_EXPIRATION = 30;
/** ip_vs_lblc.c / ip_vs_lblcr.c: tbl->max_size = TAB_SIZE * 16. */
export const LBLC_MAX_SIZE = (1 << IP_VS_LBLC_TAB_BITS) * 16;

/** ip_vs_conn.c ip_vs_conn_expire(): a template that still controls connections retries in 60*HZ. */
export const TEMPLATE_RETRY_MS = 60_000;
/** ipvsadm 1.31 libipvs/ip_vs.h IPVS_SVC_PERSISTENT_TIMEOUT: `-p` without a value means 300 s. */
export const DEFAULT_PERSISTENT_TIMEOUT_S = 300;
/** include/net/ip_vs.h: FTPPORT; persistent FTP templates carry vport 0. */
export const FTPPORT = 21;
/** include/net/ip_vs.h: FTPDATA; ip_vs_schedule() never schedules a client port of 20. */
export const FTPDATA = 20;

/** ip_vs_proto_tcp.c tcp_state_active_table: states counted in activeconns. */
export const TCP_ACTIVE_STATES: ReadonlySet<TcpState> = new Set([
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "SYNACK",
]);

/** ip_vs_proto_tcp.c tcp_timeouts[], seconds (the defaults `ipvsadm --set` changes for ES and FIN_WAIT). */
export const TCP_TIMEOUTS_S: Readonly<Record<TcpState, number>> = {
  NONE: 2,
  ESTABLISHED: 15 * 60,
  SYN_SENT: 2 * 60,
  SYN_RECV: 60,
  FIN_WAIT: 2 * 60,
  TIME_WAIT: 2 * 60,
  CLOSE: 10,
  CLOSE_WAIT: 60,
  LAST_ACK: 30,
  LISTEN: 2 * 60,
  SYNACK: 120,
};

/**
 * ip_vs_proto_tcp.c tcp_states[] (secure_tcp off): next state by direction, TCP event and current
 * state. Rows: syn, fin, ack, rst; columns in TCP_STATES order.
 */
type Row = readonly TcpState[];
const S = (s: string): Row => s.split(" ") as unknown as Row;
export const TCP_STATE_TABLE: Readonly<
  Record<"input" | "output" | "inputOnly", readonly [Row, Row, Row, Row]>
> = {
  //        NONE        ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK
  input: [
    S(
      "SYN_RECV ESTABLISHED ESTABLISHED SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV",
    ),
    S("CLOSE CLOSE_WAIT SYN_SENT TIME_WAIT TIME_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN TIME_WAIT"),
    S(
      "ESTABLISHED ESTABLISHED SYN_SENT ESTABLISHED FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT CLOSE LISTEN ESTABLISHED",
    ),
    S("CLOSE CLOSE CLOSE SYN_RECV CLOSE CLOSE CLOSE CLOSE LAST_ACK LISTEN SYN_RECV"),
  ],
  output: [
    S("SYN_SENT ESTABLISHED SYN_SENT SYN_RECV SYN_SENT SYN_SENT SYN_SENT SYN_SENT SYN_SENT LISTEN SYN_RECV"),
    S("TIME_WAIT FIN_WAIT SYN_SENT TIME_WAIT FIN_WAIT TIME_WAIT CLOSE TIME_WAIT LAST_ACK LISTEN TIME_WAIT"),
    S(
      "ESTABLISHED ESTABLISHED SYN_SENT ESTABLISHED FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK ESTABLISHED ESTABLISHED",
    ),
    S("CLOSE CLOSE SYN_SENT CLOSE CLOSE TIME_WAIT CLOSE CLOSE CLOSE CLOSE CLOSE"),
  ],
  inputOnly: [
    S(
      "SYN_RECV ESTABLISHED ESTABLISHED SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV SYN_RECV",
    ),
    S("CLOSE FIN_WAIT SYN_SENT TIME_WAIT FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN TIME_WAIT"),
    S(
      "ESTABLISHED ESTABLISHED SYN_SENT ESTABLISHED FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT CLOSE LISTEN ESTABLISHED",
    ),
    S("CLOSE CLOSE CLOSE SYN_RECV CLOSE CLOSE CLOSE CLOSE LAST_ACK LISTEN CLOSE"),
  ],
};

/** ip_vs_proto_udp.c udp_timeouts[IP_VS_UDP_S_NORMAL], seconds. UDP connections are never active. */
export const UDP_TIMEOUT_S = 5 * 60;
/** ip_vs_proto_sctp.c sctp_timeouts[]: ESTABLISHED 15 min; only ESTABLISHED counts as active. */
export const SCTP_ESTABLISHED_TIMEOUT_S = 15 * 60;
/** ip_vs_proto_sctp.c IP_VS_SCTP_MAX_RTO ((60 + 1) * HZ), the timeout of the handshake/shutdown states. */
export const SCTP_MAX_RTO_S = 61;
/** ip_vs_conn.c ip_vs_conn_new(): a fresh entry's timeout (3*HZ) before the protocol sets one. */
export const CONN_INITIAL_TIMEOUT_S = 3;
