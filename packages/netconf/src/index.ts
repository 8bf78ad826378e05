/**
 * @lvs/netconf — the network setup around IPVS: VIPs and links over rtnetlink, link/address
 * events, gratuitous ARP and unsolicited NA over AF_PACKET, sysctls inside a network namespace,
 * and director / real-server profiles that apply and revert exactly.
 */

// Addresses, MACs and the Clock are @lvs/inet's; netconf's parsers refuse bad input with NetconfError.
export {
  bytesToAddress as formatIp,
  type Clock,
  formatMac,
  type IpAddress as ParsedIp,
  type IpVersion as Family,
  systemClock,
} from "@lvs/inet";
export {
  type AnnounceOptions,
  type AnnounceRepeat,
  type AnnounceResult,
  Announcer,
  sendGratuitousArp,
  sendUnsolicitedNa,
} from "./announce.js";
export {
  applyDesired,
  applySysctls,
  directorPrep,
  directorRestore,
  type ProfileReport,
  type ProfileRunOptions,
  realServerDown,
  realServerUp,
  revertRecorded,
} from "./apply.js";
export {
  type ArpFrame,
  type ArpPacket,
  decodeArpFrame,
  encodeArpFrame,
  encodeGratuitousArp,
  GARP_FRAME_LEN,
  type GarpForm,
  type GratuitousArpSpec,
  gratuitousForm,
  tryDecodeArpFrame,
} from "./codec/arp.js";
export {
  decodeNaFrame,
  encodeNaFrame,
  encodeUnsolicitedNa,
  icmpv6Checksum,
  type NaFrame,
  type NdOption,
  type NeighborAdvertisement,
  targetLinkLayerAddress,
  tryDecodeNaFrame,
  UNSOLICITED_NA_FRAME_LEN,
  type UnsolicitedNaSpec,
} from "./codec/ndisc.js";
export { NetconfError, type NetconfErrorCode, type NetconfErrorContext } from "./errors.js";
export { parseCidr, parseIp, parseIpList, parseMac } from "./input.js";
export { PacedQueue } from "./pacer.js";
export {
  type Change,
  type Desired,
  type DesiredAddress,
  type DesiredSysctl,
  type DirectorMode,
  type DirectorSpec,
  describeChange,
  desiredDirector,
  desiredRealServer,
  IP6TNL0,
  type Plan,
  planUp,
  type RealServerMode,
  type RealServerSpec,
  type Snapshot,
  sameValue,
  TUNL0,
} from "./profile.js";
export { formatReport } from "./report.js";
export {
  type AddressEntry,
  type AddressSpec,
  addAddress,
  getLink,
  type LinkEntry,
  listAddresses,
  listLinks,
  normalizeAddress,
  RtnlClient,
  type RtnlOptions,
  removeAddress,
  setLinkUp,
} from "./rtnl.js";
export {
  defaultStateFile,
  type NetconfState,
  readState,
  type StateRecord,
  writeState,
} from "./state.js";
export {
  confKey,
  readSysctl,
  readSysctlSync,
  sysctlPath,
  writeSysctl,
  writeSysctlSync,
} from "./sysctl.js";
export {
  type AddressEvent,
  type LinkEvent,
  type NetlinkWatcher,
  type WatchStats,
  watchNetlink,
} from "./watch.js";
