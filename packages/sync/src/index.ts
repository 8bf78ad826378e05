/**
 * @lvs/sync — the IPVS connection-sync protocol (net/netfilter/ipvs/ip_vs_sync.c, Linux 6.1):
 * a byte-exact codec for v0 and v1, a receive path that drops and counts malformed datagrams,
 * multicast sender/receiver sockets, and an authenticated L3 relay.
 */

export { canonicalAddress } from "@lvs/inet";
export {
  type DecodeResult,
  decodeMessage,
  type EncodeOptions,
  encodeMessage,
  encodeMessages,
  entrySize,
  type SeqData,
  type SyncConnection,
  type SyncMessage,
  type SyncOption,
  tryDecodeMessage,
} from "./codec.js";
export {
  type ListenOptions,
  type ListenResult,
  listenConnections,
  type ResyncResult,
  resync,
  sendConnectionLines,
} from "./commands.js";
export * from "./constants.js";
export {
  type DaemonClient,
  type DaemonRole,
  formatSyncDaemon,
  type SyncDaemonConfig,
  startSyncDaemon,
  stopSyncDaemon,
  syncDaemonStatus,
} from "./daemon.js";
export { SyncError, type SyncErrorCode, type SyncErrorContext } from "./errors.js";
export { type InboxResult, SyncInbox, type SyncInboxStats } from "./inbox.js";
export {
  interfaceAddress,
  type LinkOptions,
  type ReceivedDatagram,
  type ReceiverOptions,
  type SenderOptions,
  type SendStats,
  SyncReceiver,
  SyncSender,
} from "./io.js";
export { parseKey, RELAY_DEFAULT_PORT, type RelayOptions, type RelayStats, SyncRelay } from "./relay.js";
export {
  type OpenResult,
  RELAY_HEADER_SIZE,
  RELAY_MAC_SIZE,
  RELAY_REPLAY_WINDOW,
  RelayOpener,
  type RelayOpenStats,
  RelaySealer,
} from "./relay-auth.js";
export {
  type ForwardKey,
  type ForwardLookup,
  forwardLookup,
  type ResyncConversion,
  resyncConnections,
} from "./resync.js";
export {
  connectionToJson,
  formatConnection,
  parseConnection,
  parseProtocol,
  parseState,
  protocolName,
  stateName,
} from "./text.js";
