// Defaults and limits of keepalived 2.2.7 (keepalived.conf(5) of 2022-01-15 and the v2.2.7
// sources it is read from, cited per value). All durations are seconds.

/** keepalived/include/vrrp.h VRRP_PRIO_DFL (RFC 3768 §5.3.4). */
export const VRRP_PRIO_DEFAULT = 100;
/** keepalived/include/vrrp.h VRRP_PRIO_OWNER (RFC 5798 §5.2.4). */
export const VRRP_PRIO_OWNER = 255;
/** keepalived/include/vrrp.h VRRP_ADVER_DFL (RFC 3768 §5.3.7). */
export const VRRP_ADVERT_DEFAULT = 1;
/** vrrp_parser.c vrrp_adv_handler: TIMER_HZ/100 .. 255*TIMER_HZ. */
export const VRRP_ADVERT_MIN = 0.01;
export const VRRP_ADVERT_MAX = 255;
/** lib/timer.h TIMER_MAX_SEC: preempt_delay upper bound. */
export const PREEMPT_DELAY_MAX = 1000;
/** vrrp.h VRRP_GARP_DELAY / VRRP_GARP_REP / VRRP_GARP_REFRESH / VRRP_GARP_REFRESH_REP. */
export const GARP_MASTER_DELAY_DEFAULT = 5;
export const GARP_MASTER_REPEAT_DEFAULT = 5;
export const GARP_MASTER_REFRESH_DEFAULT = 0;
export const GARP_MASTER_REFRESH_REPEAT_DEFAULT = 1;
/** keepalived.conf(5) global_defs: vrrp_mcast_group4 / vrrp_mcast_group6 (RFC 5798 §5.1.1.2, §5.1.2.2). */
export const VRRP_MCAST_GROUP4 = "224.0.0.18";
export const VRRP_MCAST_GROUP6 = "ff02::12";
/** vrrp_track.h VRRP_SCRIPT_DI / VRRP_SCRIPT_DW; rise/fall 1 (vrrp_data.c alloc_vrrp_script). */
export const VRRP_SCRIPT_INTERVAL_DEFAULT = 1;
export const VRRP_SCRIPT_WEIGHT_DEFAULT = 0;
/** vrrp_parser.c vrrp_vscript_weight_handler / vrrp_track.c: weights are -253..253. */
export const TRACK_WEIGHT_MAX = 253;
/** keepalived.conf(5) virtual_router_id "from 1 to 255". */
export const VRID_MIN = 1;
export const VRID_MAX = 255;
/** RFC 2338 §5.3.10: only the first 8 characters of auth_pass are used. */
export const AUTH_PASS_MAX = 8;
/** keepalived.conf(5) smtp_server: default port. */
export const SMTP_PORT_DEFAULT = 25;

/** check_data.c alloc_vs: delay_loop KEEPALIVED_DEFAULT_DELAY (60 s), quorum 1, hysteresis 0, weight 1. */
export const DELAY_LOOP_DEFAULT = 60;
export const QUORUM_DEFAULT = 1;
export const HYSTERESIS_DEFAULT = 0;
export const VS_WEIGHT_DEFAULT = 1;
/** check_data.c alloc_vs: connection_to 5 s. */
export const CONNECT_TIMEOUT_DEFAULT = 5;
/** ipvswrapper.h IPVS_DEF_SCHED. */
export const LVS_SCHED_DEFAULT = "wlc";
/** check_data.c validate: an unset forwarding method becomes IP_VS_CONN_F_MASQ (NAT). */
export const LVS_METHOD_DEFAULT = "NAT";
/** libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT: `persistence_timeout` without a value. */
export const PERSISTENCE_TIMEOUT_DEFAULT = 360;
/** global_data.h LVS_MAX_TIMEOUT (31 days). */
export const LVS_MAX_TIMEOUT = 86400 * 31;
/** ip_vs.h IPVS_WEIGHT_MAX (INT32_MAX); ipvsadm and we use 0..65535 for real servers. */
export const RS_WEIGHT_MAX = 65535;
/** ip_vs.h IPVS_FWMARK_MAX. */
export const FWMARK_MAX = 0xffffffff;
/** check_parser.c lvs_schedulers[]. */
export const LVS_SCHEDULERS = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "sh",
  "mh",
  "dh",
  "fo",
  "ovf",
  "lblcr",
  "sed",
  "nq",
  "twos",
] as const;

/** check_api.c: checker default_retry 1, default_delay_before_retry 1 s. */
export const CHECK_RETRY_DEFAULT = 1;
export const CHECK_DELAY_BEFORE_RETRY_DEFAULT = 1;
/** check_misc.c: MISC_CHECK default_retry 0. */
export const MISC_RETRY_DEFAULT = 0;
/** check_dns.h DNS_DEFAULT_RETRY; check_dns.c: delay_before_retry defaults to delay_loop. */
export const DNS_RETRY_DEFAULT = 3;
/** check_dns.c DNS_DEFAULT_TYPE (keepalived.conf(5): "The default is SOA"). */
export const DNS_TYPE_DEFAULT = "SOA";
/** keepalived 2.2.7 check_dns.c DNS_TYPE[] (A … DNSKEY), plus PTR. */
export const DNS_QUERY_TYPES = [
  "A",
  "NS",
  "CNAME",
  "SOA",
  "PTR",
  "MX",
  "TXT",
  "AAAA",
  "RRSIG",
  "DNSKEY",
] as const;
/** check_http.c: HTTP_GET/SSL_GET default_delay_before_retry 3 s. */
export const HTTP_DELAY_BEFORE_RETRY_DEFAULT = 3;

/** keepalived.conf(5) PARAMETER SYNTAX <BOOL>. */
export const BOOL_TRUE = ["on", "true", "yes"] as const;
export const BOOL_FALSE = ["off", "false", "no"] as const;
