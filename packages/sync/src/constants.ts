/**
 * Constants of the IPVS connection-synchronisation protocol, as implemented by Linux 6.1
 * (Debian bookworm's kernel). Sources: net/netfilter/ipvs/ip_vs_sync.c, include/net/ip_vs.h,
 * include/uapi/linux/ip_vs.h, net/netfilter/ipvs/ip_vs_proto_{tcp,udp,sctp}.c, ip_vs_proto.c.
 */

import { IP_VS_CONN_F_FWD_MASK } from "@lvs/inet";

// net/netfilter/ipvs/ip_vs_sync.c: IP_VS_SYNC_GROUP 0xe0000051 (224.0.0.81)
export const IP_VS_SYNC_GROUP = "224.0.0.81";
// net/netfilter/ipvs/ip_vs_sync.c: IP_VS_SYNC_PORT 8848. Sync thread `id` uses port + id.
export const IP_VS_SYNC_PORT = 8848;
// net/netfilter/ipvs/ip_vs_sync.c: start_sync_thread(): mcast_ttl defaults to 1
export const IP_VS_SYNC_DEFAULT_TTL = 1;
// net/netfilter/ipvs/ip_vs_sync.c: SYNC_PROTO_VER 1 (version byte of the v1 header)
export const SYNC_PROTO_VER = 1;

// sizeof(struct ip_vs_sync_mesg_v0): nr_conns u8, syncid u8, size be16
export const SYNC_MESG_V0_HEADER_SIZE = 4;
// sizeof(struct ip_vs_sync_mesg): reserved u8, syncid u8, size be16, nr_conns u8, version s8, spare u16
export const SYNC_MESG_HEADER_SIZE = 8;
// sizeof(struct ip_vs_sync_conn_v0) = SIMPLE_CONN_SIZE
export const SIMPLE_CONN_SIZE = 24;
// sizeof(struct ip_vs_seq): init_seq, delta, previous_delta (u32 each)
export const IP_VS_SEQ_SIZE = 12;
// sizeof(struct ip_vs_sync_conn_options): in_seq + out_seq
export const SYNC_CONN_OPTIONS_SIZE = 24;
// FULL_CONN_SIZE = SIMPLE_CONN_SIZE + sizeof(struct ip_vs_sync_conn_options)
export const FULL_CONN_SIZE = SIMPLE_CONN_SIZE + SYNC_CONN_OPTIONS_SIZE;
// sizeof(struct ip_vs_sync_v4)
export const SYNC_V4_SIZE = 36;
// sizeof(struct ip_vs_sync_v6)
export const SYNC_V6_SIZE = 72;

// ip_vs_sync.c: STYPE_F_INET6 (1 << STYPE_INET6), bit of the v1 entry's type byte
export const STYPE_F_INET6 = 1;
// ip_vs_sync.c: SVER_SHIFT 12 / SVER_MASK 0x0fff of the v1 entry's ver_size field
export const SVER_SHIFT = 12;
export const SVER_MASK = 0x0fff;

// ip_vs_sync.c: option types of a v1 entry
export const IPVS_OPT_SEQ_DATA = 1;
export const IPVS_OPT_PE_DATA = 2;
export const IPVS_OPT_PE_NAME = 3;
// ip_vs_sync.c: IPVS_OPT_PARAM 7 → IPVS_OPT_F_PARAM (1 << 6): an unknown option with this bit is optional
export const IPVS_OPT_F_PARAM = 1 << (7 - 1);

// include/net/ip_vs.h: IP_VS_PEDATA_MAXLEN 255, IP_VS_PENAME_MAXLEN 16
export const IP_VS_PEDATA_MAXLEN = 255;
export const IP_VS_PENAME_MAXLEN = 16;

// Connection flags — include/uapi/linux/ip_vs.h (IP_VS_CONN_F_*); the forwarding-method values,
// address families, protocol numbers and the kernel's name tables are @lvs/inet's.
export {
  AF_INET,
  AF_INET6,
  FORWARD_METHOD_NAMES as FWD_METHOD_NAMES,
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
  PROTOCOL_NAMES,
  SCTP_STATES as SCTP_STATE_NAMES,
  TCP_STATES as TCP_STATE_NAMES,
  TEMPLATE_STATES as TEMPLATE_STATE_NAMES,
  UDP_STATES as UDP_STATE_NAMES,
} from "@lvs/inet";
export const IP_VS_CONN_F_SYNC = 0x0020;
export const IP_VS_CONN_F_HASHED = 0x0040;
export const IP_VS_CONN_F_NOOUTPUT = 0x0080;
export const IP_VS_CONN_F_INACTIVE = 0x0100;
export const IP_VS_CONN_F_OUT_SEQ = 0x0200;
export const IP_VS_CONN_F_IN_SEQ = 0x0400;
export const IP_VS_CONN_F_SEQ_MASK = 0x0600;
export const IP_VS_CONN_F_NO_CPORT = 0x0800;
export const IP_VS_CONN_F_TEMPLATE = 0x1000;
export const IP_VS_CONN_F_ONE_PACKET = 0x2000;
// include/uapi/linux/ip_vs.h: IP_VS_CONN_F_BACKUP_MASK, the bits a backup accepts from a v1 entry
export const IP_VS_CONN_F_BACKUP_MASK =
  IP_VS_CONN_F_FWD_MASK |
  IP_VS_CONN_F_NOOUTPUT |
  IP_VS_CONN_F_INACTIVE |
  IP_VS_CONN_F_SEQ_MASK |
  IP_VS_CONN_F_NO_CPORT |
  IP_VS_CONN_F_TEMPLATE;

// include/net/ip_vs.h: IP_VS_TCP_S_ESTABLISHED (the index of "ESTABLISHED" in TCP_STATES)
export const IP_VS_TCP_S_ESTABLISHED = 1;

/**
 * Largest message a kernel master builds: start_sync_thread() uses mtu = 1500 for a master
 * (whatever the interface MTU) and sync_maxlen = mtu - (IP header + UDP header).
 * A backup accepts clamp(dev->mtu, 1500, 65535) - hlen.
 */
export const MASTER_MTU = 1500;
export const IPV4_UDP_HEADER_LEN = 20 + 8;
export const IPV6_UDP_HEADER_LEN = 40 + 8;
export const MASTER_SYNC_MAXLEN_V4 = MASTER_MTU - IPV4_UDP_HEADER_LEN;
export const MASTER_SYNC_MAXLEN_V6 = MASTER_MTU - IPV6_UDP_HEADER_LEN;
/** A message counts its connections in one byte (nr_conns is __u8). */
export const MAX_CONNS_PER_MESSAGE = 255;

// include/uapi/linux/ip_vs.h: IP_VS_STATE_MASTER 0x0001, IP_VS_STATE_BACKUP 0x0002 (sync daemon states)
export const IP_VS_STATE_MASTER = 1;
export const IP_VS_STATE_BACKUP = 2;
