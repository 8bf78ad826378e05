/**
 * Typed IPVS objects. Identity (what names a service or destination) is kept apart from its
 * settings (what `diff` edits in place) and from counters (never compared).
 */

/** What identifies a virtual service: `proto addr:port`, or a firewall mark (+ family). */
export type ServiceKey =
  | {
      /** AF_INET (2) or AF_INET6 (10); derived from `address` when omitted. */
      af?: number;
      /** IPPROTO_TCP (6), IPPROTO_UDP (17) or IPPROTO_SCTP (132). */
      protocol: number;
      address: string;
      /** 0 = all ports (needs persistence). */
      port: number;
      fwmark?: undefined;
    }
  | {
      af?: number;
      /** Firewall mark (> 0). */
      fwmark: number;
      protocol?: undefined;
      address?: undefined;
      port?: undefined;
    };

/** What a service is configured with (editable in place with SET_SERVICE). */
export interface ServiceSettings {
  /** Scheduler name (`wlc`, `rr`, `mh`...). Default `wlc`. */
  scheduler?: string;
  /** IP_VS_SVC_F_* bits: PERSISTENT, ONEPACKET, SCHED1..3 (HASHED is the kernel's own). */
  flags?: number;
  /** Persistence timeout in seconds (meaningful with PERSISTENT). */
  timeout?: number;
  /** Persistence granularity as a prefix length: /0-/32 for IPv4, /0-/128 for IPv6. */
  netmask?: number;
  /** Persistence engine (`sip`), or undefined. */
  peName?: string;
}

export type Service = ServiceKey & ServiceSettings;

/** IPVS counters (`struct ip_vs_kstats` as exported in IPVS_*_ATTR_STATS / STATS64). */
export interface Stats {
  conns: bigint;
  inPkts: bigint;
  outPkts: bigint;
  inBytes: bigint;
  outBytes: bigint;
  cps: bigint;
  inPps: bigint;
  outPps: bigint;
  inBps: bigint;
  outBps: bigint;
}

/** A service as the kernel reports it: settings filled in, plus counters. */
export interface ServiceEntry {
  af: number;
  protocol: number;
  address: string;
  port: number;
  fwmark: number;
  scheduler: string;
  flags: number;
  timeout: number;
  netmask: number;
  peName: string | undefined;
  /** 32-bit counters (IPVS_SVC_ATTR_STATS). */
  stats: Stats | undefined;
  /** 64-bit counters (IPVS_SVC_ATTR_STATS64). */
  stats64: Stats | undefined;
}

/** What identifies a real server within its service. */
export interface DestinationKey {
  address: string;
  port: number;
}

/** A real server's settings (editable in place with SET_DEST). */
export interface DestinationSettings {
  /** IPVS_DEST_ATTR_ADDR_FAMILY; defaults to the address's own family. */
  af?: number;
  /** Forward.MASQ / LOCAL / TUNNEL / ROUTE / BYPASS. Default ROUTE (ipvsadm's default, -g). */
  forward?: number;
  /** 0-65535; 0 = quiesced. Default 1. */
  weight?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  /** TunnelType.IPIP / GUE / GRE (tunnel forwarding only). */
  tunnelType?: number;
  /** GUE destination port. */
  tunnelPort?: number;
  /** TunnelFlag.CSUM / REMCSUM bits. */
  tunnelFlags?: number;
}

export type Destination = DestinationKey & DestinationSettings;

/** A real server as the kernel reports it. */
export interface DestinationEntry {
  af: number;
  address: string;
  port: number;
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConns: number;
  inactiveConns: number;
  persistConns: number;
  tunnelType: number;
  tunnelPort: number;
  tunnelFlags: number;
  stats: Stats | undefined;
  stats64: Stats | undefined;
}

export interface Timeouts {
  /** Seconds; 0 in a SET leaves the value unchanged. */
  tcp: number;
  tcpFin: number;
  udp: number;
}

/** A connection-sync daemon (IPVS_CMD_*_DAEMON). */
export interface Daemon {
  /** DaemonState.MASTER or BACKUP. */
  state: number;
  mcastIfn: string;
  syncId: number;
  syncMaxLen?: number;
  /** IPv4 or IPv6 multicast group. */
  mcastGroup?: string;
  mcastPort?: number;
  mcastTtl?: number;
}

export interface IpvsInfo {
  /** IP_VS_VERSION_CODE, e.g. 0x010201. */
  version: number;
  /** Connection hash table size. */
  connTabSize: number;
}

/** The whole table: every service with its destinations. */
export interface ServiceWithDests {
  service: ServiceEntry;
  dests: DestinationEntry[];
}

/** One service as a reconcile wants it (`diff()`, `apply()`), with its real servers. */
export interface DesiredService {
  service: Service;
  dests: Destination[];
}
