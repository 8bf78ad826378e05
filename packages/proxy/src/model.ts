// The proxy's objects, shaped like @lvs/ipvs's (ServiceEntry, DestinationEntry, Operation, Stats,
// Timeouts) field for field, so a director adapter maps one onto the other without translation.
// Identity (keys) apart from settings, settings apart from counters.
import type { ProxyError } from "./errors.js";

/** What identifies a virtual service: protocol + address + port (as IPVS's ServiceKey). */
export interface ServiceKey {
  /** IPPROTO_TCP (6) or IPPROTO_UDP (17), or their names. */
  protocol: number | "tcp" | "udp";
  address: string;
  port: number;
  /** AF_INET (2) / AF_INET6 (10); derived from the address when omitted. */
  af?: number;
  /** Firewall-mark services are refused (PROXY_FWMARK_UNSUPPORTED): a socket cannot see marks. */
  fwmark?: number;
}

/** A virtual service's settings (IPVS's ServiceSettings), plus what only the proxy has. */
export interface ServiceConfig extends ServiceKey {
  /** Scheduler name (`wlc` by default, as ipvsadm), any of @lvs/scheduler's. */
  scheduler?: string;
  /** IP_VS_SVC_F_* bits: PERSISTENT (1), ONEPACKET (4), SCHED1..3 (8, 16, 32). */
  flags?: number;
  /** Persistence timeout, seconds (with PERSISTENT; default 300). */
  timeout?: number;
  /** Persistence granularity as a prefix length (default /32 or /128). */
  netmask?: number;
  /** Persistence engines (`sip`) are refused: the proxy does not parse SIP. */
  peName?: string;
  /** Read a PROXY header (v1 or v2) from each client and schedule by the address it reports. */
  acceptProxyProtocol?: boolean;
  /** Connections (TCP) or flows (UDP) at once; more are refused (0 = no limit, the default). */
  maxConnections?: number;
}

export interface DestinationKey {
  address: string;
  port: number;
}

/** A real server's settings (IPVS's DestinationSettings), plus the PROXY header it gets. */
export interface DestinationConfig extends DestinationKey {
  af?: number;
  /** IPVS forwarding method (masq 0, local 1, tunnel 2, route 3): kept and reported, always proxied. */
  forward?: number;
  /** 0..65535; 0 = quiesced (no new connections, established ones continue). Default 1. */
  weight?: number;
  /** ipvsadm -x: OVERLOAD at this many connections (0 = none). */
  upperThreshold?: number;
  /** ipvsadm -y: OVERLOAD clears under this many (0 = under 3/4 of the upper one). */
  lowerThreshold?: number;
  /** Send haproxy's `send-proxy` (v1) or `send-proxy-v2` (v2) header first. TCP only. */
  proxyProtocol?: "v1" | "v2";
}

/** One change, as @lvs/ipvs's Operation. */
export type Operation =
  | { op: "addService"; service: ServiceConfig }
  | { op: "editService"; service: ServiceConfig }
  | { op: "delService"; service: ServiceKey }
  | { op: "addDest"; service: ServiceKey; dest: DestinationConfig }
  | { op: "editDest"; service: ServiceKey; dest: DestinationConfig }
  | { op: "delDest"; service: ServiceKey; dest: DestinationKey };

/** IPVS's counters and rates (struct ip_vs_kstats): packets here are segments read from a socket. */
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

/** What happened to a service's clients beyond IPVS's counters. */
export interface ServiceCounters {
  /** Clients refused: no real server available, the connection limit, a bad PROXY header. */
  refused: number;
  /** Of those, refused by maxConnections. */
  overLimit: number;
  /** Of those, refused for a missing or malformed PROXY header. */
  badProxyHeader: number;
  /** Connections retried on another real server after a failed connect (redispatch). */
  retries: number;
}

/** What happened at a real server. */
export interface DestinationCounters {
  /** Connects that failed (refused, unreachable, timed out). */
  connectFailures: number;
  /** Of those, connects that hit the connect timeout. */
  connectTimeouts: number;
  /** Connections moved away from it to another real server after its connect failed. */
  retries: number;
  /** Resets passed through (either side's RST given to the other). */
  resets: number;
  /** Connections closed by the idle timeout (tcp, tcpfin or udp). */
  idleTimeouts: number;
}

/** A service as listServices() reports it: IPVS's ServiceEntry fields, then the proxy's. */
export interface ServiceEntry {
  af: number;
  protocol: number;
  address: string;
  port: number;
  /** Always 0: fwmark services are refused. */
  fwmark: number;
  scheduler: string;
  flags: number;
  timeout: number;
  netmask: number;
  peName: string | undefined;
  /** 32-bit view (as IPVS_SVC_ATTR_STATS). */
  stats: Stats;
  /** 64-bit counters (as IPVS_SVC_ATTR_STATS64). */
  stats64: Stats;
  acceptProxyProtocol: boolean;
  maxConnections: number;
  /** Connections (or UDP flows) open now. */
  connections: number;
  counters: ServiceCounters;
}

/** A real server: IPVS's DestinationEntry fields, then the proxy's. */
export interface DestinationEntry {
  af: number;
  address: string;
  port: number;
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Established TCP connections (IPVS's activeconns). */
  activeConns: number;
  /** Half-closed TCP connections and UDP flows (IPVS's inactconns). */
  inactiveConns: number;
  /** Persistence templates naming it. */
  persistConns: number;
  tunnelType: number;
  tunnelPort: number;
  tunnelFlags: number;
  stats: Stats;
  stats64: Stats;
  /** IP_VS_DEST_F_OVERLOAD: at its upper threshold. */
  overloaded: boolean;
  proxyProtocol: "v1" | "v2" | undefined;
  counters: DestinationCounters;
}

export interface ServiceWithDests {
  service: ServiceEntry;
  dests: DestinationEntry[];
}

export interface OperationResult {
  operation: Operation;
  /** undefined when it was applied. */
  error: ProxyError | undefined;
}

/** ipvsadm --set tcp tcpfin udp, seconds. In a set, 0 leaves a value as it is. */
export interface Timeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

/** One line of `ipvsadm -Lcn` (the fields of @lvs/ipvs's Connection). */
export interface ConnectionEntry {
  /** "TCP", "UDP"; "IP" for a fwmark template (never here). */
  protocol: string;
  af: number;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  destAf: number;
  destAddress: string;
  destPort: number;
  /** SYN_RECV (connecting to the real server), ESTABLISHED, FIN_WAIT (half-closed), UDP, NONE (template). */
  state: string;
  /** Seconds until the idle timeout closes it. */
  expires: number;
  peName: string | undefined;
  peData: string | undefined;
}
