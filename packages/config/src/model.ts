// The one typed model of an lvs configuration. keepalived.conf and the native YAML/JSON both
// load into it (field names are keepalived's keywords in camelCase: `virtual_router_id` →
// `virtualRouterId`). Durations are SECONDS (decimals allowed), as in keepalived.conf.
//
// Defaults: a field keepalived gives a fixed default is filled in (and documented here); a
// field whose default depends on something else (`garpMasterDelay` → global
// `vrrpGarpMasterDelay`) stays `undefined` and the doc comment says what applies.
//
// These names are stable: @lvs/vrrp and @lvs/director build on them. `src/schema.ts` holds the
// zod schema that validates the same shape (a type-level test keeps the two identical).

import type { DNS_QUERY_TYPES } from "./constants.js";

// ───────────────────────────── shared ─────────────────────────────

/** A user (and group) a script runs as: names as written, ids resolved at load time. */
export interface RunAs {
  user: string;
  group?: string;
  uid: number;
  gid: number;
}

/** A script: argv (split with keepalived's quoting rules, never run through a shell). */
export interface Script {
  argv: string[];
  /** `username [groupname]` after the script (default: globalDefs.scriptUser, else keepalived_script/root). */
  user?: RunAs;
}

/** A `notify_fifo`-style FIFO path with the optional user that creates it. */
export interface Fifo {
  path: string;
  user?: RunAs;
}

// ───────────────────────────── global_defs ─────────────────────────────

/** `lvs_sync_daemon <INTERFACE> [inst] <VRRP_INSTANCE> [id N] [maxlen N] [port N] [ttl N] [group IP]`. */
export interface LvsSyncDaemon {
  interface: string;
  /** VRRP instance whose state drives master/backup; absent → both run. */
  instance?: string;
  /** `id`, 0..255 (default: the instance's VRID, or 0). */
  syncId?: number;
  maxlen?: number;
  /** UDP port (kernel default 8848). */
  port?: number;
  ttl?: number;
  /** Multicast group (kernel default 224.0.0.81). */
  group?: string;
}

export interface LvsTimeouts {
  tcp?: number;
  tcpfin?: number;
  udp?: number;
}

export interface GlobalDefs {
  routerId?: string;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: { host: string; port: number };
  smtpHeloName?: string;
  smtpConnectTimeout?: number;
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  noEmailFaults: boolean;
  checkerLogAllFailures?: boolean;
  /** Don't run root scripts whose path a non-root user can write (default false). */
  enableScriptSecurity: boolean;
  /** Default user for scripts (keepalived: keepalived_script if it exists, else root). */
  scriptUser?: RunAs;
  startupScript?: Script;
  startupScriptTimeout?: number;
  shutdownScript?: Script;
  shutdownScriptTimeout?: number;
  defaultInterface?: string;
  dynamicInterfaces: boolean;
  // VRRP defaults
  /** 224.0.0.18 (RFC 5798 §5.1.1.2). */
  vrrpMcastGroup4: string;
  /** ff02::12 (RFC 5798 §5.1.2.2). */
  vrrpMcastGroup6: string;
  /** Seconds before the second burst of gratuitous ARPs after becoming MASTER (5; 0 = none). */
  vrrpGarpMasterDelay: number;
  /** Gratuitous ARPs per burst on becoming MASTER (5). */
  vrrpGarpMasterRepeat: number;
  /** Seconds between periodic gratuitous ARP refreshes while MASTER (0 = none). */
  vrrpGarpMasterRefresh: number;
  /** Gratuitous ARPs per refresh (1). */
  vrrpGarpMasterRefreshRepeat: number;
  /** Default: vrrpGarpMasterDelay. */
  vrrpGarpLowerPrioDelay?: number;
  /** Default: vrrpGarpMasterRepeat. */
  vrrpGarpLowerPrioRepeat?: number;
  /** Seconds between gratuitous ARPs on one interface (0). */
  vrrpGarpInterval: number;
  /** Seconds between unsolicited NAs on one interface (0). */
  vrrpGnaInterval: number;
  /** One GARP/NA, no second burst. */
  vrrpMinGarp: boolean;
  vrrpLowerPrioNoAdvert?: boolean;
  vrrpHigherPrioSendAdvert?: boolean;
  /** 2 (IPv6 instances always use 3). */
  vrrpVersion: 2 | 3;
  vrrpStrict: boolean;
  vrrpCheckUnicastSrc: boolean;
  vrrpSkipCheckAdvAddr: boolean;
  vrrpStartupDelay?: number;
  vrrpNotifyPriorityChanges?: boolean;
  vrrpDownTimerAdverts?: number;
  /** The VRRP process's nice value, -20..19 (keepalived's `vrrp_priority`; unset: lvs's default). */
  vrrpPriority?: number;
  /** SCHED_RR priority 1..99 for the VRRP process (keepalived's `vrrp_rt_priority`; unset: none). */
  vrrpRtPriority?: number;
  // FIFOs
  notifyFifo?: Fifo;
  notifyFifoScript?: Script;
  vrrpNotifyFifo?: Fifo;
  vrrpNotifyFifoScript?: Script;
  lvsNotifyFifo?: Fifo;
  lvsNotifyFifoScript?: Script;
  fifoWriteVrrpStatesOnReload: boolean;
  // LVS
  lvsSyncDaemon?: LvsSyncDaemon;
  lvsTimeouts?: LvsTimeouts;
  /** Flush the IPVS table at start-up. */
  lvsFlush: boolean;
  /** At stop: "RS" (flush everything) or "VS" (delete each virtual server); absent = delete one by one. */
  lvsFlushOnStop?: "RS" | "VS";
  /**
   * lvs extension (`lvs_director_sysctl`): the director sets the sysctls its LVS part needs
   * (`net.ipv4.ip_forward` for NAT, `net.ipv4.vs.conntrack` beside netfilter…) at start and
   * restores them at stop; without it, it only warns about the missing ones.
   */
  lvsDirectorSysctl?: boolean;
  rsInitNotifies: boolean;
  noCheckerEmails: boolean;
}

// ───────────────────────────── vrrp_script ─────────────────────────────

export interface VrrpScript {
  name: string;
  /** `script`, split into argv. */
  script: string[];
  /** Seconds between runs (1). */
  interval: number;
  /** Seconds before a run counts as failed (default: interval). */
  timeout?: number;
  /** Priority adjustment -253..253 (0 = failure means FAULT). */
  weight: number;
  /** `weight N reverse`. */
  weightReverse: boolean;
  /** Successes needed for OK (1). */
  rise: number;
  /** Failures needed for KO (1). */
  fall: number;
  user?: RunAs;
  /** Start in the failed state. */
  initFail: boolean;
}

// ───────────────────────────── tracking ─────────────────────────────

export interface TrackInterface {
  name: string;
  /** -253..253; 0 = down means FAULT. */
  weight: number;
  reverse: boolean;
}

export interface TrackScript {
  /** A `vrrp_script` name. */
  name: string;
  /** Overrides the script's weight when set. */
  weight?: number;
  /** Overrides the script's `reverse` when set (`reverse` / `noreverse`). */
  reverse?: boolean;
}

// ───────────────────────────── vrrp_sync_group ─────────────────────────────

export interface VrrpSyncGroup {
  name: string;
  /** Member vrrp_instance names. */
  group: string[];
  trackInterface: TrackInterface[];
  trackScript: TrackScript[];
  notifyMaster?: Script;
  notifyBackup?: Script;
  notifyFault?: Script;
  notifyStop?: Script;
  /** Called after notify_*: args + GROUP NAME STATE PRIORITY. */
  notify?: Script;
  smtpAlert?: boolean;
  notifyPriorityChanges?: boolean;
  globalTracking: boolean;
  syncGroupTrackingWeight: boolean;
}

// ───────────────────────────── vrrp_instance ─────────────────────────────

/** One `virtual_ipaddress` line: `<IP>[/<MASK>] [brd IP] [dev IF] [scope S] [label L] [peer IP] …`. */
export interface VirtualIpAddress {
  /** Address without the prefix. */
  address: string;
  /** Prefix length (32 / 128 when not written). */
  prefix: number;
  brd?: string;
  dev?: string;
  scope?: "site" | "link" | "host" | "nowhere" | "global";
  label?: string;
  peer?: string;
  home: boolean;
  nodad: boolean;
  noprefixroute: boolean;
  noTrack: boolean;
  preferredLft?: number | "forever";
}

/** `unicast_peer { IP [min_ttl N] [max_ttl N] }`. */
export interface UnicastPeer {
  address: string;
  minTtl?: number;
  maxTtl?: number;
}

export interface VrrpAuthentication {
  authType: "PASS" | "AH";
  /** Up to 8 characters are used (RFC 2338 §5.3.10). */
  authPass?: string;
}

export interface VrrpInstance {
  name: string;
  /** Wanted initial state (BACKUP). */
  state: "MASTER" | "BACKUP";
  /** May be omitted with unicast peers. */
  interface?: string;
  /** 1..255. */
  virtualRouterId: number;
  /** 1..255, 255 = address owner (100). */
  priority: number;
  /** Seconds, 0.01..255 (1). */
  advertInt: number;
  /** Default: globalDefs.vrrpVersion (3 for IPv6). */
  version?: 2 | 3;
  nopreempt: boolean;
  /** Seconds 0..1000 (0). */
  preemptDelay: number;
  /** `accept` (true) / `no_accept` (false); default: accept unless strict mode. */
  accept?: boolean;
  authentication?: VrrpAuthentication;
  virtualIpaddress: VirtualIpAddress[];
  virtualIpaddressExcluded: VirtualIpAddress[];
  /** `virtual_routes` lines, kept as words (not applied by lvs). */
  virtualRoutes: string[][];
  /** `virtual_rules` lines, kept as words (not applied by lvs). */
  virtualRules: string[][];
  unicastSrcIp?: string;
  unicastPeer: UnicastPeer[];
  unicastTtl?: number;
  mcastSrcIp?: string;
  mcastDstIp?: string;
  checkUnicastSrc: boolean;
  trackInterface: TrackInterface[];
  trackScript: TrackScript[];
  dontTrackPrimary: boolean;
  trackSrcIp: boolean;
  notifyMaster?: Script;
  notifyBackup?: Script;
  notifyFault?: Script;
  notifyStop?: Script;
  /** Called after notify_*: args + INSTANCE NAME STATE PRIORITY. */
  notify?: Script;
  notifyMasterRxLowerPri?: Script;
  notifyPriorityChanges?: boolean;
  smtpAlert?: boolean;
  /** Default: globalDefs.vrrpGarpMasterDelay. */
  garpMasterDelay?: number;
  /** Default: globalDefs.vrrpGarpMasterRepeat. */
  garpMasterRepeat?: number;
  /** Default: globalDefs.vrrpGarpMasterRefresh. */
  garpMasterRefresh?: number;
  /** Default: globalDefs.vrrpGarpMasterRefreshRepeat. */
  garpMasterRefreshRepeat?: number;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  /** 1..100 (3, RFC). */
  downTimerAdverts?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  /** Default: globalDefs.vrrpStrict. */
  strictMode?: boolean;
  skipCheckAdvAddr?: boolean;
  promoteSecondaries: boolean;
  nativeIpv6: boolean;
  /** `use_vmac [NAME] [MAC]`. */
  useVmac?: { name?: string; mac?: string };
  vmacXmitBase: boolean;
  unicastFaultNoPeer: boolean;
  /** Deprecated: use globalDefs.lvsSyncDaemon. */
  lvsSyncDaemonInterface?: string;
}

// ───────────────────────────── LVS ─────────────────────────────

export type LvsScheduler =
  | "rr"
  | "wrr"
  | "lc"
  | "wlc"
  | "lblc"
  | "sh"
  | "mh"
  | "dh"
  | "fo"
  | "ovf"
  | "lblcr"
  | "sed"
  | "nq"
  | "twos";

/** `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`. */
export interface LvsMethod {
  method: "NAT" | "DR" | "TUN";
  tunnelType?: "ipip" | "gue" | "gre";
  tunnelPort?: number;
  tunnelChecksum?: "nocsum" | "csum" | "remcsum";
}

/** One `virtual_server_group` entry: an address (range) with a port, or a fwmark. */
export type VirtualServerGroupEntry =
  | {
      /** First address. */
      address: string;
      /** Last address of a range (`10.0.0.1-10` → "10.0.0.10"); absent for one address. */
      lastAddress?: string;
      /** Port (0 = all ports, only with persistence). */
      port: number;
    }
  | { fwmark: number; family?: "inet" | "inet6" };

export interface VirtualServerGroup {
  name: string;
  entries: VirtualServerGroupEntry[];
}

/** Scheduling policy of checks, field-compatible with @lvs/healthcheck's TargetPolicy. */
export interface CheckPolicy {
  /** Seconds between checks (vs → rs → checker; default 60). */
  delayLoop: number;
  /** Retries before a failure counts (checker default: 1; MISC 0; DNS 3). */
  retry: number;
  /** Seconds between retries (1; HTTP/SSL 3; DNS = delayLoop). */
  delayBeforeRetry: number;
  /** Seconds: random delay before the first check, up to this (default delayLoop; 0 = none). */
  warmup: number;
  /** Start DOWN (keepalived `alpha`). */
  alpha: boolean;
  /** The real server's weight. */
  weight: number;
  /** lvs extension (not in keepalived): successes needed to go UP. */
  rise?: number;
  /** lvs extension: failed rounds needed to go DOWN. */
  fall?: number;
  /** lvs extension: seconds to ramp the weight after recovery. */
  slowStart?: number;
}

interface CommonCheckFields {
  /** Default: the real server's address. */
  connectIp: string;
  /** Default: the real server's port. */
  connectPort?: number;
  bindto?: string;
  bindPort?: number;
  /** Seconds (vs → rs → checker; default 5). */
  connectTimeout?: number;
}

export interface TcpCheckDef extends CommonCheckFields {
  type: "tcp";
  connectPort: number;
}

export interface HttpUrlDef {
  path: string;
  digest?: string;
  /** Codes and ranges, e.g. [200, [300, 399]]; default 200-299. */
  statusCode?: Array<number | [number, number]>;
  regex?: string;
  regexNoMatch?: boolean;
  virtualhost?: string;
}

export interface HttpCheckDef extends CommonCheckFields {
  type: "http" | "https";
  url: HttpUrlDef[];
  virtualhost?: string;
  httpProtocol?: "1.0" | "1.0C" | "1.1";
  enableSni?: boolean;
  tlsVerify?: boolean;
  ca?: string;
}

export interface MiscCheckDef {
  type: "misc";
  miscPath: string[];
  miscTimeout?: number;
  miscDynamic?: boolean;
  user?: RunAs;
}

export interface UdpCheckDef extends CommonCheckFields {
  type: "udp";
  connectPort: number;
  /** Hex. */
  payload?: string;
  /** true, or hex with `??` for any byte. */
  requireReply?: boolean | string;
}

export interface IcmpCheckDef {
  type: "icmp";
  connectIp: string;
  bindto?: string;
  connectTimeout?: number;
}

export type DnsQueryType = (typeof DNS_QUERY_TYPES)[number];

export interface DnsCheckDef extends CommonCheckFields {
  type: "dns";
  /** keepalived's default is SOA. */
  queryType?: DnsQueryType;
  name?: string;
}

export interface SmtpCheckDef extends CommonCheckFields {
  type: "smtp";
  heloName?: string;
}

/** Structurally a @lvs/healthcheck `CheckDefinition` (a type test proves it). */
export type CheckDef =
  | TcpCheckDef
  | HttpCheckDef
  | MiscCheckDef
  | UdpCheckDef
  | IcmpCheckDef
  | DnsCheckDef
  | SmtpCheckDef;

export type CheckerKind =
  | "TCP_CHECK"
  | "HTTP_GET"
  | "SSL_GET"
  | "MISC_CHECK"
  | "UDP_CHECK"
  | "PING_CHECK"
  | "DNS_CHECK"
  | "SMTP_CHECK";

/** One checker block of a real server. */
export interface Checker {
  /** The keepalived block name. */
  kind: CheckerKind;
  /** Pass to @lvs/healthcheck as `check`. */
  check: CheckDef;
  /** Pass to @lvs/healthcheck as `policy` (resolved: vs → rs → checker → defaults). */
  policy: CheckPolicy;
  /** `bind_if`: SO_BINDTODEVICE on the checker's sockets (the director folds it into `check`). */
  bindIf?: string;
  /** keepalived options read on the checker block (the director folds the reply lengths in). */
  fwmark?: number;
  logAllFailures?: boolean;
  fastRecovery?: boolean;
  minReplyLength?: number;
  maxReplyLength?: number;
}

export interface RealServer {
  address: string;
  /** 0 = all ports (only with persistence), or when the service is a fwmark. */
  port: number;
  /** 0..65535 (default: virtual server `weight`, 1). */
  weight: number;
  /** Default: the virtual server's. */
  lvsMethod?: LvsMethod;
  inhibitOnFailure: boolean;
  notifyUp?: Script;
  notifyDown?: Script;
  uthreshold?: number;
  lthreshold?: number;
  smtpAlert?: boolean;
  virtualhost?: string;
  alpha?: boolean;
  connectTimeout?: number;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  delayLoop?: number;
  /**
   * `proxy_protocol v1|v2` (lvs extension): the proxy dataplane sends haproxy's PROXY header
   * (`send-proxy` / `send-proxy-v2`) first on each connection to this real server. TCP only.
   */
  proxyProtocol?: "v1" | "v2";
  checkers: Checker[];
}

export interface SorryServer {
  address: string;
  port: number;
  /** `sorry_server_inhibit`. */
  inhibit: boolean;
  /** `sorry_server_lvs_method` (default: the virtual server's). */
  lvsMethod?: LvsMethod;
}

/** `virtual_server IP PORT` / `virtual_server fwmark N` / `virtual_server group NAME`. */
export type VirtualServerKey = { address: string; port: number } | { fwmark: number } | { group: string };

export interface VirtualServer {
  /** How the service is named. */
  key: VirtualServerKey;
  /** `lvs_sched` / `lb_algo` (wlc). */
  lvsSched: LvsScheduler;
  /** `lvs_method` / `lb_kind` (NAT). */
  lvsMethod: LvsMethod;
  /** `TCP` / `UDP` / `SCTP`: required for address services (keepalived would silently use UDP); unused for fwmark. */
  protocol?: "TCP" | "UDP" | "SCTP";
  /** Seconds; absent = not persistent (`persistence_timeout` alone = 360). */
  persistenceTimeout?: number;
  /** IPv4 netmask ("255.255.255.0") or IPv6 prefix length. */
  persistenceGranularity?: string;
  persistenceEngine?: string;
  /** Scheduler flags: `ops`, `flag-1..3`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`. */
  ops: boolean;
  schedFlags: Array<"flag-1" | "flag-2" | "flag-3" | "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback">;
  /** Seconds between checks (60). */
  delayLoop: number;
  connectTimeout?: number;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  inhibitOnFailure: boolean;
  haSuspend: boolean;
  alpha: boolean;
  omega: boolean;
  /** Minimum total weight of live servers (1). */
  quorum: number;
  /** (0). */
  hysteresis: number;
  quorumUp?: Script;
  quorumDown?: Script;
  virtualhost?: string;
  smtpAlert?: boolean;
  ipFamily?: "inet" | "inet6";
  /** Default weight of real servers (1). */
  weight: number;
  sorryServer?: SorryServer;
  realServers: RealServer[];
}

// ───────────────────────────── the whole file ─────────────────────────────

// ───────────────────────────── bgp (native format only) ─────────────────────────────
// keepalived.conf has no BGP: this section exists in YAML/JSON only. The director announces each
// virtual server's address (/32 or /128) to every peer while the service has quorum.

export interface BgpPeer {
  /** The router's address. */
  address: string;
  /** The router's AS number (equal to `localAs` for iBGP). */
  as: number;
  /** TCP port, default 179. */
  port?: number;
  /** Local address to connect from (also next-hop self and, if IPv4, the default router id). */
  localAddress?: string;
}

export interface BgpSection {
  /** Our AS number (4-octet numbers allowed). */
  localAs: number;
  /** BGP identifier, a dotted quad; default: the first IPv4 `localAddress` or `nextHops` entry. */
  routerId?: string;
  /** Hold time offered, seconds (0 or 3..65535). Default 90. */
  holdTime?: number;
  /** Network namespace the sessions are opened in. */
  netns?: string;
  /** Next hops to announce (one per family); default: our address on each session. */
  nextHops?: string[];
  /** Communities attached to every announced address ("65000:100", "graceful-shutdown"). */
  communities?: string[];
  /**
   * Announce only while this VRRP instance (each of these instances) is MASTER; without it the
   * announcement follows quorum (and the director drain) alone.
   */
  announceWhenMaster?: string | string[];
  peers: BgpPeer[];
}

export interface LvsConfig {
  globalDefs: GlobalDefs;
  vrrpScripts: VrrpScript[];
  vrrpSyncGroups: VrrpSyncGroup[];
  vrrpInstances: VrrpInstance[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  /** BGP announcement of the virtual servers' addresses (YAML/JSON only). */
  bgp?: BgpSection;
}
