/**
 * @lvs/ipvs — a typed client for the kernel's IPVS over generic netlink: services, real servers,
 * timeouts, sync daemons, counters; a pure codec; diff/apply reconciliation; /proc/net/ip_vs_conn;
 * and MemoryIpvs, an in-memory IPVS with the kernel's errno for tests. ipvsadm's command line and
 * output are @lvs/ipvsadm's.
 */

export { canonicalAddress, formatIPv6, parseAddress } from "@lvs/inet";
export {
  IpvsClient,
  type IpvsClientOptions,
  type IpvsClientStats,
  type NetlinkSocketLike,
  type Operation,
  type OperationResult,
  type TableReadOptions,
} from "./client.js";
export {
  type DaemonAttrs,
  type DestAttrs,
  decodeIpvsMessage,
  encodeIpvsMessage,
  type InfoAttrs,
  type IpvsFlags,
  type IpvsMessage,
  type Layout,
  type ServiceAttrs,
  type StatsAttrs,
} from "./codec.js";
export {
  type Connection,
  type ConnectionTable,
  IP_VS_CONN_PROC,
  type MalformedLine,
  parseConnections,
  parseConnLine,
} from "./conn.js";
export * from "./constants.js";
export { type ApplyReport, apply, type DesiredService, destId, diff, serviceId } from "./diff.js";
export { destEntryOf, serviceEntryOf } from "./entries.js";
export {
  errnoName,
  IpvsError,
  type IpvsErrorCode,
  type IpvsErrorContext,
  type IpvsObjectKind,
} from "./errors.js";
export { type IpvsTableClient, MemoryIpvs } from "./memory.js";
export {
  daemonFromAttrs,
  describeDest,
  describeService,
  destEntryFromAttrs,
  infoFromMessage,
  keyOf,
  Msg,
  serviceEntryFromAttrs,
  timeoutsFromMessage,
} from "./model.js";
export { encodeNlMsg, hex, type NlMsg, parseNlMsgs, type RawAttr, unhex } from "./netlink.js";
export { readConnectionsFile } from "./proc.js";
export type * from "./types.js";
