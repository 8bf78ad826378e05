/**
 * @lvs/bgp — an announce-only BGP-4 speaker (RFC 4271) with 4-octet AS numbers (RFC 6793),
 * IPv4/IPv6 unicast (RFC 4760), route refresh (RFC 2918) and Cease with a shutdown communication
 * (RFC 9003): announce VIPs to upstream routers for ECMP scale-out. Layers:
 * - codec (`encodeMessage` / `decodeMessage` / `Framer`): pure, lossless, RFC 4271 §6 errors;
 * - engine (`BgpSession`): the RFC 4271 FSM on an injected clock, effects out;
 * - io (`BgpSpeaker`): the session over TCP, optionally inside a network namespace.
 */
export {
  type AsPathSegment,
  type BgpMessage,
  type Capability,
  type CodecOptions,
  decodeMessage,
  encodeMessage,
  Framer,
  type KeepaliveMessage,
  messageName,
  type NotificationMessage,
  type OpenMessage,
  type OptionalParameter,
  type PathAttribute,
  type Prefix,
  type RouteRefreshMessage,
  shutdownCommunication,
  type UpdateMessage,
} from "./codec.js";
export * from "./constants.js";
export {
  BgpSession,
  type FsmState,
  type NegotiatedSession,
  type SessionConfig,
  type SessionEffect,
  type SessionStats,
} from "./engine.js";
export { BgpError, type BgpErrorCode, type BgpErrorContext, type NotificationCause } from "./errors.js";
export {
  buildAnnouncements,
  buildOpen,
  buildWithdrawals,
  ceaseNotification,
  type Family,
  formatCommunity,
  parseCommunity,
  parseRoute,
  type Route,
  type RouteSpec,
  type UpdateContext,
} from "./routes.js";
export { BgpSpeaker, type SpeakerOptions } from "./speaker.js";
