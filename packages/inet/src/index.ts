/**
 * @lvs/inet: the small pure pieces every @lvs package shares — IP addresses (parse, RFC 5952
 * text, prefixes, `host:port`), MAC text, the kernel's numbers and name tables for IPVS, and one
 * injectable Clock. No native code, no I/O, no dependencies.
 */
export {
  addressFromBytes,
  addressToBytes,
  bytesToAddress,
  canonicalAddress,
  compareAddresses,
  familyOfVersion,
  formatAddress,
  formatIPv4,
  formatIPv6,
  type IpAddress,
  ipVersion,
  isLinkLocal6,
  isMulticast,
  parseAddress,
  parseAddressList,
  parseIPv4,
  parseIPv6,
  tryParseAddress,
  writeIPv4,
  writeIPv6,
} from "./addr.js";
export { type Clock, FakeClock, systemClock } from "./clock.js";
export * from "./constants.js";
export { type Endpoint, formatEndpoint, parseEndpoint, parsePort } from "./endpoint.js";
export { InetError, type InetErrorCode, type InetErrorContext } from "./errors.js";
export { formatMac, parseMac } from "./mac.js";
export * from "./names.js";
export {
  isPrefixLength,
  maskAddress,
  maskToPrefix,
  maxPrefixLength,
  parseCidr,
  parseNetmask,
  prefixContains,
  prefixToMask,
} from "./prefix.js";
