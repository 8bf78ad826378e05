/**
 * @lvs/vrrp — a VRRPv2 (RFC 3768) / VRRPv3 (RFC 5798, RFC 9568) router that interoperates with
 * keepalived 2.2.7: a byte-exact codec, a pure state machine on an injected clock, raw-socket I/O,
 * tracking, notify scripts and keepalived's notify FIFO.
 */

// Addresses and the Clock are @lvs/inet's; re-exported for users of these names.
export {
  addressToBytes,
  bytesToAddress,
  type Clock,
  canonicalAddress,
  compareAddresses,
  FakeClock,
  ipVersion,
  isMulticast,
  systemClock,
} from "@lvs/inet";
export { AcceptFilter, acceptRuleset } from "./accept.js";
export {
  type AddressFamily,
  type AdvertInput,
  advertLength,
  authDataText,
  type ChecksumContext,
  type ChecksumKind,
  type DecodeResult,
  decodeAdvert,
  encodeAdvert,
  internetChecksum,
  ipv4PseudoHeader,
  ipv6PseudoHeader,
  onesComplementSum,
  passwordAuthData,
  tryDecodeAdvert,
  type V3Ipv4Checksum,
  type VrrpAdvert,
  type VrrpVersion,
  verifyChecksum,
} from "./codec.js";
export * from "./constants.js";
export {
  type EngineDeps,
  type EngineParams,
  type GroupLink,
  type InstanceEffect,
  type InstanceParams,
  type InstanceStatus,
  type ReceivedAdvert,
  type TrackingStatus,
  VrrpInstanceEngine,
  type VrrpState,
} from "./engine.js";
export { VrrpError, type VrrpErrorCode, type VrrpErrorContext } from "./errors.js";
export { type ConfigWarning, routeInterface, routerOptionsFromConfig } from "./from-config.js";
export {
  decodeEthernetFrame,
  decodeFrameIp,
  decodeIpv4Packet,
  decodeIpv6Packet,
  type EthernetFrame,
  encodeIpv4Packet,
  type IpPacket,
  type Ipv4PacketInput,
} from "./ip.js";
export { isIsolatedRouterChild, runIsolatedRouterChild } from "./isolated-child.js";
export {
  type ChildEvent,
  IsolatedRouter,
  type IsolatedRouterEntry,
  type IsolationOptions,
  setDefaultIsolatedRouterEntry,
  spawnIsolatedRouter,
} from "./isolated-router.js";
export {
  type AddressState,
  type AnnounceRequest,
  type LinkState,
  NetconfOps,
  type NetOps,
  type VipSpec,
} from "./netops.js";
export {
  fifoLine,
  Notifier,
  type NotifierOptions,
  NotifyFifo,
  type NotifyKind,
  type NotifyScripts,
  notifyArgv,
  stateWord,
} from "./notify.js";
export {
  type ResolvedInstance,
  type ResolvedScript,
  type ResolvedVip,
  resolveInstance,
  resolveScript,
  type SyncGroupOptions,
  type TrackOptions,
  type VirtualAddressOptions,
  type VrrpInstanceOptions,
  type VrrpRouterOptions,
  type VrrpScriptOptions,
} from "./options.js";
export {
  DEFAULT_VRRP_NICE,
  processThreads,
  type SchedulingPriority,
  setProcessNice,
  setProcessRealtime,
  vrrpSchedulingFromConfig,
} from "./process-priority.js";
export {
  type AdvertSeen,
  type ReloadSummary,
  type RouterDeps,
  type RouterEvents,
  type RouterInstanceStatus,
  type RouterStatus,
  type StateChange,
  VrrpRouter,
  type VrrpRouterLike,
} from "./router.js";
export {
  checkAdvert,
  countedAsReceived,
  peekVrid,
  type RxAccept,
  type RxDrop,
  type RxInstance,
  type RxResult,
} from "./rx.js";
export { runScript, type ScriptCommand, type ScriptOutcome } from "./scripts.js";
export {
  emptyInterfaceStats,
  emptyStats,
  type InterfaceStats,
  type VrrpCounter,
  type VrrpStats,
} from "./stats.js";
export { type GroupEffect, VrrpSyncGroup } from "./sync-group.js";
export {
  aggregateTracking,
  ScriptResult,
  type TrackRef,
  type TrackState,
  trackContribution,
} from "./tracking.js";
export {
  type ChannelOptions,
  type OutgoingPacket,
  RawTransport,
  type RawTransportOptions,
  type VrrpTransport,
} from "./transport.js";
