/**
 * @lvs/proxy — a userspace L4 dataplane: IPVS's service model (TCP/UDP virtual services, real
 * servers with weights, thresholds and quiescing, persistence) served by sockets, so a director
 * runs where the kernel has no IPVS and without root. Every scheduling decision and connection
 * counter comes from @lvs/scheduler's model of the kernel; the table, counters, rates and the
 * connection list have IPVS's shape. PROXY protocol v1/v2 to real servers and from clients.
 */

export { formatConnectionTable } from "./conntable.js";
export * from "./constants.js";
export { ProxyError, type ProxyErrorCode, type ProxyErrorContext } from "./errors.js";
export type {
  ConnectionEntry,
  DestinationConfig,
  DestinationCounters,
  DestinationEntry,
  DestinationKey,
  Operation,
  OperationResult,
  ServiceConfig,
  ServiceCounters,
  ServiceEntry,
  ServiceKey,
  ServiceWithDests,
  Stats,
  Timeouts,
} from "./model.js";
export { createProxy, type ProxyDataplane, type ProxyOptions } from "./proxy.js";
export {
  decodeProxyHeader,
  encodeProxyHeader,
  encodeProxyV1,
  encodeProxyV2,
  type ProxyDecodeLimits,
  type ProxyDecodeResult,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyHeaderErrorCode,
  ProxyHeaderReader,
  type ProxyHeaderV1,
  type ProxyHeaderV2,
  type ProxyTlv,
  proxiedDestination,
  proxiedSource,
  proxyHeaderFor,
} from "./proxy-protocol.js";
export type { ProxyLogger } from "./runtime.js";
export { Counters } from "./stats.js";
