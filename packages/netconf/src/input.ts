/**
 * What netconf takes from its callers — addresses, CIDRs, address lists, MACs — parsed by
 * @lvs/inet (RFC 5952 text, strict grammar) and refused with this package's NetconfError. Leading
 * and trailing white space is allowed, as in the files and flags these come from.
 */
import {
  InetError,
  type IpAddress,
  parseCidr as inetCidr,
  parseMac as inetMac,
  parseAddressList,
  tryParseAddress,
} from "@lvs/inet";
import { NetconfError } from "./errors.js";

function rethrow(err: unknown): never {
  if (!(err instanceof InetError)) throw err;
  const code = err.code === "INET_BAD_PREFIX" ? "NETCONF_BAD_PREFIX" : "NETCONF_BAD_ADDRESS";
  throw new NetconfError(code, err.message, { object: err.object ?? "" }, { cause: err });
}

/** Parses "10.0.0.1" or "2001:db8::1" (no prefix, no zone). Throws NETCONF_BAD_ADDRESS. */
export function parseIp(text: string): IpAddress {
  const ip = typeof text === "string" ? tryParseAddress(text.trim()) : undefined;
  if (ip) return ip;
  throw new NetconfError(
    "NETCONF_BAD_ADDRESS",
    `${JSON.stringify(text)} is not an IPv4 or IPv6 address (write e.g. 10.0.0.1 or 2001:db8::1)`,
    { object: String(text) },
  );
}

/** Parses "10.0.0.1/32", "2001:db8::1/128" or a bare address (prefix undefined). */
export function parseCidr(text: string): IpAddress & { prefixLength: number | undefined } {
  try {
    return inetCidr(typeof text === "string" ? text.trim() : text);
  } catch (err) {
    rethrow(err);
  }
}

/** Splits "10.0.0.1,2001:db8::1" (commas or spaces) and parses each. Throws NETCONF_BAD_ADDRESS. */
export function parseIpList(text: string | string[]): IpAddress[] {
  try {
    return parseAddressList(text);
  } catch (err) {
    rethrow(err);
  }
}

/** "02:00:5e:00:01:01" (also with "-") → 6 bytes. Throws NETCONF_BAD_ADDRESS. */
export function parseMac(text: string): Uint8Array {
  try {
    return inetMac(typeof text === "string" ? text.trim() : text);
  } catch (err) {
    rethrow(err);
  }
}
