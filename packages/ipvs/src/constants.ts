/**
 * IPVS generic-netlink constants.
 *
 * Source: Linux 6.1 `include/uapi/linux/ip_vs.h` (Debian bookworm's kernel, the one tools/vm
 * boots), plus `include/uapi/linux/netlink.h`, `include/uapi/linux/genetlink.h` and
 * `net/netfilter/ipvs/ip_vs_ctl.c` where noted. Tunnel attributes exist since Linux 5.2/5.3,
 * STATS64 since 4.1.
 */

import {
  IP_VS_CONN_F_BYPASS,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_LOCALNODE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "@lvs/inet";

// ---------------------------------------------------------------- netlink framing
/** include/uapi/linux/netlink.h: sizeof(struct nlmsghdr) */
export const NLMSG_HDRLEN = 16;
/** include/uapi/linux/genetlink.h: GENL_HDRLEN (struct genlmsghdr) */
export const GENL_HDRLEN = 4;
/** include/uapi/linux/netlink.h: NLA_HDRLEN */
export const NLA_HDRLEN = 4;
/** include/uapi/linux/netlink.h: NLA_F_NESTED */
export const NLA_F_NESTED = 0x8000;
/** include/uapi/linux/netlink.h: NLA_F_NET_BYTEORDER */
export const NLA_F_NET_BYTEORDER = 0x4000;
/** include/uapi/linux/netlink.h: NLA_TYPE_MASK */
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** include/uapi/linux/netlink.h: NETLINK_GENERIC */
export const NETLINK_GENERIC = 16;
/** include/uapi/linux/netlink.h: NLMSG_NOOP */
export const NLMSG_NOOP = 1;
/** include/uapi/linux/netlink.h: NLMSG_ERROR */
export const NLMSG_ERROR = 2;
/** include/uapi/linux/netlink.h: NLMSG_DONE */
export const NLMSG_DONE = 3;
/** include/uapi/linux/netlink.h: NLMSG_OVERRUN */
export const NLMSG_OVERRUN = 4;

/** include/uapi/linux/netlink.h: NLM_F_REQUEST */
export const NLM_F_REQUEST = 0x01;
/** include/uapi/linux/netlink.h: NLM_F_MULTI */
export const NLM_F_MULTI = 0x02;
/** include/uapi/linux/netlink.h: NLM_F_ACK */
export const NLM_F_ACK = 0x04;
/** include/uapi/linux/netlink.h: NLM_F_DUMP_INTR (dump was inconsistent due to a change) */
export const NLM_F_DUMP_INTR = 0x10;
/** include/uapi/linux/netlink.h: NLM_F_ROOT */
export const NLM_F_ROOT = 0x100;
/** include/uapi/linux/netlink.h: NLM_F_MATCH */
export const NLM_F_MATCH = 0x200;
/** include/uapi/linux/netlink.h: NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH */
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
/** include/uapi/linux/netlink.h: NLM_F_CAPPED (ACK carries no request copy) */
export const NLM_F_CAPPED = 0x100;
/** include/uapi/linux/netlink.h: NLM_F_ACK_TLVS */
export const NLM_F_ACK_TLVS = 0x200;

/** include/uapi/linux/genetlink.h: GENL_ID_CTRL */
export const GENL_ID_CTRL = 0x10;
/** include/uapi/linux/genetlink.h: CTRL_CMD_GETFAMILY */
export const CTRL_CMD_GETFAMILY = 3;
/** include/uapi/linux/genetlink.h: CTRL_CMD_NEWFAMILY (reply) */
export const CTRL_CMD_NEWFAMILY = 1;
/** include/uapi/linux/genetlink.h: CTRL_ATTR_FAMILY_ID */
export const CTRL_ATTR_FAMILY_ID = 1;
/** include/uapi/linux/genetlink.h: CTRL_ATTR_FAMILY_NAME */
export const CTRL_ATTR_FAMILY_NAME = 2;
/** include/uapi/linux/genetlink.h: CTRL_ATTR_VERSION */
export const CTRL_ATTR_VERSION = 3;
/** ctrl family version libnl's genl_ctrl_resolve sends (include/uapi/linux/genetlink.h era v1) */
export const CTRL_VERSION = 1;

// ---------------------------------------------------------------- address families, protocols
// AF_INET/AF_INET6 (linux/socket.h), IPPROTO_* (linux/in.h) and the service protocol words live in
// @lvs/inet; re-exported so `C.AF_INET6` and users of @lvs/ipvs keep reading them here.
export {
  AF_INET,
  AF_INET6,
  IP_VS_CONN_F_BYPASS,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_FWD_MASK,
  IP_VS_CONN_F_LOCALNODE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SERVICE_PROTOCOL_NAMES as PROTOCOL_NAMES,
} from "@lvs/inet";

export const Protocol = { TCP: IPPROTO_TCP, UDP: IPPROTO_UDP, SCTP: IPPROTO_SCTP } as const;

// ---------------------------------------------------------------- IPVS family
/** include/uapi/linux/ip_vs.h: IPVS_GENL_NAME */
export const IPVS_GENL_NAME = "IPVS";
/** include/uapi/linux/ip_vs.h: IPVS_GENL_VERSION */
export const IPVS_GENL_VERSION = 0x1;
/** include/uapi/linux/ip_vs.h: IP_VS_VERSION_CODE (1.2.1) */
export const IP_VS_VERSION_CODE = 0x010201;
/** include/uapi/linux/ip_vs.h: IP_VS_SCHEDNAME_MAXLEN (incl. NUL) */
export const IP_VS_SCHEDNAME_MAXLEN = 16;
/** include/uapi/linux/ip_vs.h: IP_VS_PENAME_MAXLEN (incl. NUL) */
export const IP_VS_PENAME_MAXLEN = 16;
/** include/uapi/linux/ip_vs.h: IP_VS_IFNAME_MAXLEN (incl. NUL) */
export const IP_VS_IFNAME_MAXLEN = 16;

/** include/uapi/linux/ip_vs.h: enum IPVS_CMD_* */
export const IpvsCmd = {
  UNSPEC: 0,
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;
export type IpvsCmdName = keyof typeof IpvsCmd;
export const IPVS_CMD_NAMES: Readonly<Record<number, IpvsCmdName>> = Object.fromEntries(
  Object.entries(IpvsCmd).map(([k, v]) => [v, k as IpvsCmdName]),
);

/** include/uapi/linux/ip_vs.h: enum IPVS_CMD_ATTR_* (first level) */
export const IPVS_CMD_ATTR_SERVICE = 1;
export const IPVS_CMD_ATTR_DEST = 2;
export const IPVS_CMD_ATTR_DAEMON = 3;
export const IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
export const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
export const IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

/** include/uapi/linux/ip_vs.h: enum IPVS_SVC_ATTR_* (inside IPVS_CMD_ATTR_SERVICE) */
export const IPVS_SVC_ATTR_AF = 1;
export const IPVS_SVC_ATTR_PROTOCOL = 2;
export const IPVS_SVC_ATTR_ADDR = 3;
export const IPVS_SVC_ATTR_PORT = 4;
export const IPVS_SVC_ATTR_FWMARK = 5;
export const IPVS_SVC_ATTR_SCHED_NAME = 6;
export const IPVS_SVC_ATTR_FLAGS = 7;
export const IPVS_SVC_ATTR_TIMEOUT = 8;
export const IPVS_SVC_ATTR_NETMASK = 9;
export const IPVS_SVC_ATTR_STATS = 10;
export const IPVS_SVC_ATTR_PE_NAME = 11;
export const IPVS_SVC_ATTR_STATS64 = 12;

/** include/uapi/linux/ip_vs.h: enum IPVS_DEST_ATTR_* (inside IPVS_CMD_ATTR_DEST) */
export const IPVS_DEST_ATTR_ADDR = 1;
export const IPVS_DEST_ATTR_PORT = 2;
export const IPVS_DEST_ATTR_FWD_METHOD = 3;
export const IPVS_DEST_ATTR_WEIGHT = 4;
export const IPVS_DEST_ATTR_U_THRESH = 5;
export const IPVS_DEST_ATTR_L_THRESH = 6;
export const IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
export const IPVS_DEST_ATTR_INACT_CONNS = 8;
export const IPVS_DEST_ATTR_PERSIST_CONNS = 9;
export const IPVS_DEST_ATTR_STATS = 10;
export const IPVS_DEST_ATTR_ADDR_FAMILY = 11;
export const IPVS_DEST_ATTR_STATS64 = 12;
export const IPVS_DEST_ATTR_TUN_TYPE = 13;
export const IPVS_DEST_ATTR_TUN_PORT = 14;
export const IPVS_DEST_ATTR_TUN_FLAGS = 15;

/** include/uapi/linux/ip_vs.h: enum IPVS_DAEMON_ATTR_* (inside IPVS_CMD_ATTR_DAEMON) */
export const IPVS_DAEMON_ATTR_STATE = 1;
export const IPVS_DAEMON_ATTR_MCAST_IFN = 2;
export const IPVS_DAEMON_ATTR_SYNC_ID = 3;
export const IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4;
export const IPVS_DAEMON_ATTR_MCAST_GROUP = 5;
export const IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
export const IPVS_DAEMON_ATTR_MCAST_PORT = 7;
export const IPVS_DAEMON_ATTR_MCAST_TTL = 8;

/** include/uapi/linux/ip_vs.h: enum IPVS_STATS_ATTR_* (inside *_ATTR_STATS and *_ATTR_STATS64) */
export const IPVS_STATS_ATTR_CONNS = 1;
export const IPVS_STATS_ATTR_INPKTS = 2;
export const IPVS_STATS_ATTR_OUTPKTS = 3;
export const IPVS_STATS_ATTR_INBYTES = 4;
export const IPVS_STATS_ATTR_OUTBYTES = 5;
export const IPVS_STATS_ATTR_CPS = 6;
export const IPVS_STATS_ATTR_INPPS = 7;
export const IPVS_STATS_ATTR_OUTPPS = 8;
export const IPVS_STATS_ATTR_INBPS = 9;
export const IPVS_STATS_ATTR_OUTBPS = 10;
export const IPVS_STATS_ATTR_PAD = 11;

/** include/uapi/linux/ip_vs.h: enum IPVS_INFO_ATTR_* (GET_INFO reply) */
export const IPVS_INFO_ATTR_VERSION = 1;
export const IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

// ---------------------------------------------------------------- service flags
/** include/uapi/linux/ip_vs.h: IP_VS_SVC_F_PERSISTENT */
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
/** include/uapi/linux/ip_vs.h: IP_VS_SVC_F_HASHED (kernel-internal, reported back) */
export const IP_VS_SVC_F_HASHED = 0x0002;
/** include/uapi/linux/ip_vs.h: IP_VS_SVC_F_ONEPACKET */
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
/** include/uapi/linux/ip_vs.h: IP_VS_SVC_F_SCHED1 (sh-fallback / mh-fallback) */
export const IP_VS_SVC_F_SCHED1 = 0x0008;
/** include/uapi/linux/ip_vs.h: IP_VS_SVC_F_SCHED2 (sh-port / mh-port) */
export const IP_VS_SVC_F_SCHED2 = 0x0010;
/** include/uapi/linux/ip_vs.h: IP_VS_SVC_F_SCHED3 */
export const IP_VS_SVC_F_SCHED3 = 0x0020;
export const ServiceFlag = {
  PERSISTENT: IP_VS_SVC_F_PERSISTENT,
  HASHED: IP_VS_SVC_F_HASHED,
  ONEPACKET: IP_VS_SVC_F_ONEPACKET,
  SCHED1: IP_VS_SVC_F_SCHED1,
  SCHED2: IP_VS_SVC_F_SCHED2,
  SCHED3: IP_VS_SVC_F_SCHED3,
} as const;

/** ipvsadm.c / ip_vs.h: default persistence timeout (IPVS_SVC_PERSISTENT_TIMEOUT, 6 minutes) */
export const IPVS_SVC_PERSISTENT_TIMEOUT = 300;

// ---------------------------------------------------------------- forwarding methods
// The IP_VS_CONN_F_* values (include/uapi/linux/ip_vs.h) come from @lvs/inet (re-exported above).
export const Forward = {
  MASQ: IP_VS_CONN_F_MASQ,
  LOCAL: IP_VS_CONN_F_LOCALNODE,
  TUNNEL: IP_VS_CONN_F_TUNNEL,
  ROUTE: IP_VS_CONN_F_DROUTE,
  BYPASS: IP_VS_CONN_F_BYPASS,
} as const;
export const FORWARD_NAMES: Readonly<Record<number, keyof typeof Forward>> = Object.fromEntries(
  Object.entries(Forward).map(([k, v]) => [v, k as keyof typeof Forward]),
);

// ---------------------------------------------------------------- tunnels (Linux 5.2+)
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_TUNNEL_TYPE_IPIP */
export const IP_VS_CONN_F_TUNNEL_TYPE_IPIP = 0;
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_TUNNEL_TYPE_GUE */
export const IP_VS_CONN_F_TUNNEL_TYPE_GUE = 1;
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_TUNNEL_TYPE_GRE (Linux 5.3) */
export const IP_VS_CONN_F_TUNNEL_TYPE_GRE = 2;
export const TunnelType = {
  IPIP: IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  GUE: IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  GRE: IP_VS_CONN_F_TUNNEL_TYPE_GRE,
} as const;
export const TUNNEL_TYPE_NAMES: Readonly<Record<number, string>> = {
  [IP_VS_CONN_F_TUNNEL_TYPE_IPIP]: "ipip",
  [IP_VS_CONN_F_TUNNEL_TYPE_GUE]: "gue",
  [IP_VS_CONN_F_TUNNEL_TYPE_GRE]: "gre",
};
/** include/uapi/linux/ip_vs.h: IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM */
export const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0;
/** include/uapi/linux/ip_vs.h: IP_VS_TUNNEL_ENCAP_FLAG_CSUM */
export const IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1 << 0;
/** include/uapi/linux/ip_vs.h: IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM */
export const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1;
export const TunnelFlag = {
  NOCSUM: IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
  CSUM: IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  REMCSUM: IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
} as const;

// ---------------------------------------------------------------- sync daemon
/** include/uapi/linux/ip_vs.h: IP_VS_STATE_NONE */
export const IP_VS_STATE_NONE = 0;
/** include/uapi/linux/ip_vs.h: IP_VS_STATE_MASTER */
export const IP_VS_STATE_MASTER = 1;
/** include/uapi/linux/ip_vs.h: IP_VS_STATE_BACKUP */
export const IP_VS_STATE_BACKUP = 2;
export const DaemonState = {
  NONE: IP_VS_STATE_NONE,
  MASTER: IP_VS_STATE_MASTER,
  BACKUP: IP_VS_STATE_BACKUP,
} as const;
export const DAEMON_STATE_NAMES: Readonly<Record<number, string>> = {
  [IP_VS_STATE_NONE]: "NONE",
  [IP_VS_STATE_MASTER]: "MASTER",
  [IP_VS_STATE_BACKUP]: "BACKUP",
};

// ---------------------------------------------------------------- errno (include/uapi/asm-generic/errno-base.h, errno.h)
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENOMEM: 12,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ERANGE: 34,
  ENOPROTOOPT: 92,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EMSGSIZE: 90,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
} as const;
export const ERRNO_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Errno).map(([k, v]) => [v, k]),
);
