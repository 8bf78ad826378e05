// Services and real servers as the proxy is given them: keys in canonical form, settings checked
// with IPVS's ranges and defaults, the model's errors mapped to ours. Pure.
import { isIP, SocketAddress } from "node:net";
import {
  AF_INET,
  AF_INET6,
  formatEndpoint,
  IP_VS_CONN_F_MASQ,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "@lvs/inet";
import {
  DEFAULT_PERSISTENT_TIMEOUT_S,
  DEFAULT_SCHEDULER,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  SchedulerError,
} from "@lvs/scheduler";
import { IP_VS_SVC_F_SCHED_MASK } from "./constants.js";
import { ProxyError, type ProxyErrorCode } from "./errors.js";
import type { DestinationConfig, ServiceConfig, ServiceKey } from "./model.js";

const INT_MAX = 2 ** 31 - 1;

/** `TCP 127.0.0.1:80` / `UDP [::1]:53`, as ipvsadm names a service. */
export function serviceName(protocol: number, address: string, port: number): string {
  const p = protocol === IPPROTO_UDP ? "UDP" : protocol === IPPROTO_TCP ? "TCP" : String(protocol);
  return `${p} ${formatEndpoint(address, port)}`;
}

function bad(code: ProxyErrorCode, message: string, object: string): ProxyError {
  return new ProxyError(code, message, { object });
}

/** A SchedulerError as ours, same meaning, the original kept as the cause. */
export function fromModel(e: unknown, object: string): unknown {
  if (!(e instanceof SchedulerError)) return e;
  const map: Partial<Record<string, ProxyErrorCode>> = {
    SCHED_UNKNOWN_SCHEDULER: "PROXY_UNKNOWN_SCHEDULER",
    SCHED_BAD_FLAG: "PROXY_BAD_FLAG",
    SCHED_BAD_THRESHOLD: "PROXY_BAD_THRESHOLD",
    SCHED_DEST_EXISTS: "PROXY_DEST_EXISTS",
    SCHED_NO_DEST: "PROXY_NO_DEST",
  };
  const ctx = { object: e.object ?? object, cause: e, ...(e.errno ? { errnoName: e.errno } : {}) };
  return new ProxyError(map[e.code] ?? "PROXY_BAD_VALUE", e.message, ctx);
}

function checkInt(v: unknown, min: number, max: number, what: string, object: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad("PROXY_BAD_VALUE", `${what} must be an integer ${min}..${max}, got ${String(v)}`, object);
  }
  return v;
}

/** The canonical address text (RFC 5952 for IPv6, as node prints socket addresses), or a throw. */
export function canonicalIp(address: unknown, object: string): { address: string; af: number } {
  const family = typeof address === "string" ? isIP(address) : 0;
  if (family === 0) {
    throw bad("PROXY_BAD_VALUE", `not an IPv4 or IPv6 address: ${JSON.stringify(address)}`, object);
  }
  const a = address as string;
  if (family === 4) return { address: a, af: AF_INET };
  // SocketAddress prints the address as the sockets will (lower case, longest zero run as ::).
  return { address: new SocketAddress({ address: a, family: "ipv6" }).address, af: AF_INET6 };
}

/** A service key, checked and in canonical form. */
export interface CanonicalKey {
  protocol: number;
  address: string;
  port: number;
  af: number;
  /** `TCP 127.0.0.1:8080`. */
  name: string;
}

export function canonicalKey(k: ServiceKey): CanonicalKey {
  const what = k.fwmark ? `FWM ${k.fwmark}` : `${String(k.protocol)} ${String(k.address)}:${String(k.port)}`;
  if (k.fwmark) {
    throw bad(
      "PROXY_FWMARK_UNSUPPORTED",
      `fwmark service ${k.fwmark}: the proxy listens on address:port and cannot see packet marks; use a TCP or UDP address:port service`,
      what,
    );
  }
  const protocol =
    k.protocol === "tcp" ? IPPROTO_TCP : k.protocol === "udp" ? IPPROTO_UDP : (k.protocol as number);
  if (protocol === IPPROTO_SCTP) {
    throw bad("PROXY_UNSUPPORTED", `${what}: SCTP is not proxied (node has no SCTP sockets)`, what);
  }
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) {
    throw bad("PROXY_BAD_VALUE", `protocol must be tcp (6) or udp (17), got ${String(k.protocol)}`, what);
  }
  const { address, af } = canonicalIp(k.address, what);
  if (k.af !== undefined && k.af !== af) {
    throw bad("PROXY_BAD_VALUE", `af ${k.af} does not match address ${address}`, what);
  }
  const port = checkInt(k.port, 0, 0xffff, "port", what);
  const name = serviceName(protocol, address, port);
  if (port === 0) {
    throw bad(
      "PROXY_UNSUPPORTED",
      `${name}: a port-0 (all ports) service needs the kernel; the proxy listens on one port`,
      name,
    );
  }
  return { protocol, address, port, af, name };
}

export function keyId(k: CanonicalKey): string {
  return k.name;
}

/** A real server's settings, checked, defaults filled in (ipvsadm's: weight 1, thresholds 0). */
export interface DestSettings {
  address: string;
  port: number;
  af: number;
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  proxyProtocol: "v1" | "v2" | undefined;
}

export function destSettings(svc: CanonicalKey, d: DestinationConfig): DestSettings {
  const what = `${svc.name} -> ${String(d.address)}:${String(d.port)}`;
  const { address, af } = canonicalIp(d.address, what);
  if (af !== svc.af) {
    // IPVS allows mixed families for tunnel/route only; a proxy could, but the model's schedulers
    // (sh, mh, lblc) hash one family per service, as the kernel does.
    throw bad("PROXY_BAD_VALUE", `${what}: real server and service must be of one address family`, what);
  }
  if (d.proxyProtocol !== undefined && d.proxyProtocol !== "v1" && d.proxyProtocol !== "v2") {
    throw bad("PROXY_BAD_VALUE", `${what}: proxyProtocol must be "v1" or "v2"`, what);
  }
  if (d.proxyProtocol && svc.protocol === IPPROTO_UDP) {
    throw bad("PROXY_UNSUPPORTED", `${what}: a PROXY header is sent on TCP connections only`, what);
  }
  return {
    address,
    port: checkInt(d.port, 1, 0xffff, "port", what),
    af,
    forward: checkInt(d.forward ?? IP_VS_CONN_F_MASQ, 0, 7, "forward", what),
    weight: checkInt(d.weight ?? 1, 0, INT_MAX, "weight", what),
    upperThreshold: checkInt(d.upperThreshold ?? 0, 0, 2 ** 32 - 1, "upperThreshold", what),
    lowerThreshold: checkInt(d.lowerThreshold ?? 0, 0, 2 ** 32 - 1, "lowerThreshold", what),
    proxyProtocol: d.proxyProtocol,
  };
}

/** A service's settings, checked, defaults filled in. */
export interface ServiceSettings {
  scheduler: string;
  flags: number;
  timeout: number;
  netmask: number;
  acceptProxyProtocol: boolean;
  maxConnections: number;
}

export function serviceSettings(k: CanonicalKey, c: ServiceConfig): ServiceSettings {
  if (c.peName) {
    throw bad("PROXY_UNSUPPORTED", `${k.name}: persistence engine ${c.peName} is not supported`, k.name);
  }
  const flags = checkInt(c.flags ?? 0, 0, 0xffff, "flags", k.name);
  const persistent = (flags & IP_VS_SVC_F_PERSISTENT) !== 0;
  const max = k.af === AF_INET ? 32 : 128;
  return {
    scheduler: c.scheduler ?? DEFAULT_SCHEDULER,
    flags: flags & (IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED_MASK),
    timeout: checkInt(
      c.timeout ?? (persistent ? DEFAULT_PERSISTENT_TIMEOUT_S : 0),
      0,
      INT_MAX,
      "timeout",
      k.name,
    ),
    netmask: checkInt(c.netmask ?? max, 0, max, "netmask", k.name),
    acceptProxyProtocol: c.acceptProxyProtocol ?? false,
    maxConnections: checkInt(c.maxConnections ?? 0, 0, INT_MAX, "maxConnections", k.name),
  };
}
