/**
 * The kernel's name tables for IPVS, so logs, `lvsctl` and /proc parsers print and read the same
 * words the kernel does. Linux 6.1; each table cites the function or array it mirrors.
 */
import {
  IP_VS_CONN_F_BYPASS,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_FWD_MASK,
  IP_VS_CONN_F_LOCALNODE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "./constants.js";

// ---------------------------------------------------------------- protocols
/**
 * net/netfilter/ipvs/ip_vs_core.c ip_vs_proto_name(): the protocol words of /proc/net/ip_vs_conn
 * and of the kernel's IPVS log lines (IPPROTO_IP is a fwmark template).
 */
export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  [IPPROTO_IP]: "IP",
  [IPPROTO_ICMP]: "ICMP",
  [IPPROTO_TCP]: "TCP",
  [IPPROTO_UDP]: "UDP",
  [IPPROTO_ICMPV6]: "ICMPv6",
  [IPPROTO_SCTP]: "SCTP",
};

/**
 * The protocols a virtual service can have (ip_vs_ctl.c refuses any other with "protocol %u is not
 * supported"), as ipvsadm -L and /proc/net/ip_vs name them.
 */
export const SERVICE_PROTOCOL_NAMES: Readonly<Record<number, "TCP" | "UDP" | "SCTP">> = {
  [IPPROTO_TCP]: "TCP",
  [IPPROTO_UDP]: "UDP",
  [IPPROTO_SCTP]: "SCTP",
};

// ---------------------------------------------------------------- connection states
/**
 * include/net/ip_vs.h enum IP_VS_TCP_S_* (index = state number) with the names of
 * net/netfilter/ipvs/ip_vs_proto_tcp.c tcp_state_name_table[], as /proc/net/ip_vs_conn shows them.
 */
export const TCP_STATES = [
  "NONE",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "SYNACK",
] as const;
export type TcpState = (typeof TCP_STATES)[number];

/** include/net/ip_vs.h IP_VS_UDP_S_NORMAL; ip_vs_proto_udp.c udp_state_name_table[] calls it "UDP". */
export const UDP_STATES = ["UDP"] as const;

/**
 * include/net/ip_vs.h enum IP_VS_SCTP_S_* with the names of
 * net/netfilter/ipvs/ip_vs_proto_sctp.c sctp_state_name_table[].
 */
export const SCTP_STATES = [
  "NONE",
  "INIT1",
  "INIT",
  "C-SENT",
  "C-REPLIED",
  "C-WAIT",
  "COOKIE",
  "C-ECHOED",
  "ESTABLISHED",
  "S-SENT",
  "S-RECEIVED",
  "S-ACK-SENT",
  "REJECTED",
  "CLOSED",
] as const;

/** Persistence templates: net/netfilter/ipvs/ip_vs_conn.c ip_vs_ctpl_state_name_table[]. */
export const TEMPLATE_STATES = ["NONE", "ASSURED"] as const;

// ---------------------------------------------------------------- forwarding methods
/** Forwarding methods by the names configs and the scheduler model use, with their flag value. */
export const FORWARD_METHODS = {
  masq: IP_VS_CONN_F_MASQ,
  local: IP_VS_CONN_F_LOCALNODE,
  tunnel: IP_VS_CONN_F_TUNNEL,
  route: IP_VS_CONN_F_DROUTE,
  bypass: IP_VS_CONN_F_BYPASS,
} as const;
export type ForwardMethod = keyof typeof FORWARD_METHODS;

/**
 * The words /proc/net/ip_vs (ip_vs_ctl.c ip_vs_fwd_name()) and `ipvsadm -L` (ipvsadm.c fwd_name())
 * print for a destination's forwarding method, by IP_VS_CONN_F_* value. Bypass is only ever a
 * connection's method (ip_vs_fwd_tag() 'B'); neither prints it for a destination.
 */
export const FORWARD_METHOD_NAMES: Readonly<
  Record<number, "Masq" | "Local" | "Tunnel" | "Route" | "Bypass">
> = {
  [IP_VS_CONN_F_MASQ]: "Masq",
  [IP_VS_CONN_F_LOCALNODE]: "Local",
  [IP_VS_CONN_F_TUNNEL]: "Tunnel",
  [IP_VS_CONN_F_DROUTE]: "Route",
  [IP_VS_CONN_F_BYPASS]: "Bypass",
};

/** The forwarding method of conn/dest flags (their IP_VS_CONN_F_FWD_MASK bits), if it has a name. */
export function forwardMethodOf(flags: number): ForwardMethod | undefined {
  switch (flags & IP_VS_CONN_F_FWD_MASK) {
    case IP_VS_CONN_F_MASQ:
      return "masq";
    case IP_VS_CONN_F_LOCALNODE:
      return "local";
    case IP_VS_CONN_F_TUNNEL:
      return "tunnel";
    case IP_VS_CONN_F_DROUTE:
      return "route";
    case IP_VS_CONN_F_BYPASS:
      return "bypass";
    default:
      return undefined;
  }
}

/** The IP_VS_CONN_F_* value of a /proc or ipvsadm forwarding word ("Masq", "Route"…), if any. */
export function forwardFlagOfName(name: string): number | undefined {
  // A switch, not a search of FORWARD_METHOD_NAMES: /proc/net/ip_vs readers call this per real
  // server (20,000 per periodic pass).
  switch (name) {
    case "Masq":
      return IP_VS_CONN_F_MASQ;
    case "Local":
      return IP_VS_CONN_F_LOCALNODE;
    case "Tunnel":
      return IP_VS_CONN_F_TUNNEL;
    case "Route":
      return IP_VS_CONN_F_DROUTE;
    case "Bypass":
      return IP_VS_CONN_F_BYPASS;
    default:
      return undefined;
  }
}
