/**
 * Kernel numbers every @lvs package speaks. Values follow Linux 6.1 (Debian bookworm's kernel, the
 * one tools/vm boots); each cites the header that defines it.
 */

// ---------------------------------------------------------------- address families
/** include/linux/socket.h: AF_INET (what svc->af, ifa_family, sockaddr_in carry). */
export const AF_INET = 2;
/** include/linux/socket.h: AF_INET6. Not 6: that is the IP *version* (see IpVersion). */
export const AF_INET6 = 10;
export type AddressFamily = typeof AF_INET | typeof AF_INET6;

/** The IP version field of a header (RFC 791 §3.1: 4, RFC 8200 §3: 6), as config files write it. */
export type IpVersion = 4 | 6;

// ---------------------------------------------------------------- IP protocol numbers
/** include/uapi/linux/in.h: IPPROTO_IP (IPVS: a fwmark service's template protocol). */
export const IPPROTO_IP = 0;
/** include/uapi/linux/in.h: IPPROTO_ICMP */
export const IPPROTO_ICMP = 1;
/** include/uapi/linux/in.h: IPPROTO_TCP */
export const IPPROTO_TCP = 6;
/** include/uapi/linux/in.h: IPPROTO_UDP */
export const IPPROTO_UDP = 17;
/** include/uapi/linux/in.h: IPPROTO_IPV6 (also the socket option level SOL_IPV6) */
export const IPPROTO_IPV6 = 41;
/** include/uapi/linux/in6.h: IPPROTO_ICMPV6 */
export const IPPROTO_ICMPV6 = 58;
/** include/uapi/linux/in.h: IPPROTO_SCTP */
export const IPPROTO_SCTP = 132;

// ---------------------------------------------------------------- IPVS forwarding methods
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_FWD_MASK, the forwarding bits of conn/dest flags. */
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_MASQ (NAT, ipvsadm -m) */
export const IP_VS_CONN_F_MASQ = 0x0000;
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_LOCALNODE (the director itself serves) */
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_TUNNEL (IPIP/GUE/GRE, ipvsadm -i) */
export const IP_VS_CONN_F_TUNNEL = 0x0002;
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_DROUTE (direct routing, ipvsadm -g) */
export const IP_VS_CONN_F_DROUTE = 0x0003;
/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_BYPASS (cache bypass, connections only) */
export const IP_VS_CONN_F_BYPASS = 0x0004;
