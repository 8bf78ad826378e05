/**
 * ipvsadm 1.31's readers of option values (ipvsadm.c: string_to_number, parse_timeout,
 * parse_service, parse_netmask, parse_sched_flags), with its refusals. Pure: port names come
 * from an injected lookup.
 */

import { parseIPv4, parseIPv6, prefixToMask } from "@lvs/inet";
import {
  AF_INET,
  AF_INET6,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  IPVS_SVC_PERSISTENT_TIMEOUT,
} from "@lvs/ipvs";
import { fail } from "./exit.js";

/** Port names from /etc/services (getservbyname); injected so parsing stays pure. */
export type ServiceByName = (name: string, protocol: number) => number | undefined;

/** Longest persistence or --set timeout ipvsadm takes: 31 days. */
export const MAX_TIMEOUT = 86400 * 31;

/** string_to_number: strtol base 10 over the whole string, within [min, max]; -1 otherwise. */
export function toNumber(s: string, min: number, max: number): number {
  if (!/^\s*[+-]?\d+$/.test(s)) return -1;
  const n = Number.parseInt(s, 10);
  return n >= min && n <= max ? n : -1;
}

/** A number within [min, max], or ipvsadm's `message`. */
export function numberOr(s: string, min: number, max: number, message: string): number {
  const n = toNumber(s, min, max);
  if (n === -1) fail(message);
  return n;
}

/** parse_timeout: absent → the default persistence timeout (300 s). */
export function parseTimeout(s: string | undefined, min: number, max: number): number {
  if (s === undefined) return IPVS_SVC_PERSISTENT_TIMEOUT;
  return numberOr(s, min, max, `invalid timeout value \`${s}' specified`);
}

export interface ServiceAddress {
  af: number;
  address: string;
  /** Undefined when the text had no port. */
  port: number | undefined;
}

/**
 * parse_service: "host", "host:port", "[v6]:port", bare IPv6 (numeric hosts; ports by number or
 * name). Undefined when ipvsadm would refuse it.
 */
export function parseServiceAddr(
  buf: string,
  protocol: number,
  byName: ServiceByName,
): ServiceAddress | undefined {
  if (/^\d*$/.test(buf)) return undefined;
  let text = buf;
  let portText: string | undefined;
  let bracketed = false;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1 || text[close + 1] !== ":") return undefined;
    portText = text.slice(close + 2);
    text = text.slice(1, close);
    bracketed = true;
  }
  let af = AF_INET6;
  if (!parseIPv6(text)) {
    if (!bracketed) {
      const colon = text.lastIndexOf(":");
      if (colon !== -1) {
        portText = text.slice(colon + 1);
        text = text.slice(0, colon);
      }
    }
    if (!parseIPv4(text)) return undefined;
    af = AF_INET;
  }
  if (portText === undefined) return { af, address: text, port: undefined };
  const n = toNumber(portText, 0, 65535);
  const port = n !== -1 ? n : byName(portText, protocol);
  return port === undefined ? undefined : { af, address: text, port };
}

/** A dotted IPv4 netmask → its prefix length; undefined if not a contiguous mask. */
export function maskPrefix(text: string): number | undefined {
  const b = parseIPv4(text);
  if (!b) return undefined;
  const m =
    (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
  for (let p = 0; p <= 32; p++) if (prefixToMask(p) === m) return p;
  return undefined;
}

/** parse_sched_flags: comma-separated names → IP_VS_SVC_F_SCHED* bits, checked against `sched`. */
export function parseSchedFlags(sched: string, arg: string): number {
  const s = sched || "wlc";
  let flags = 0;
  for (const flag of arg.split(",").filter((x) => x !== "")) {
    switch (flag) {
      case "flag-1":
        flags |= IP_VS_SVC_F_SCHED1;
        break;
      case "flag-2":
        flags |= IP_VS_SVC_F_SCHED2;
        break;
      case "flag-3":
        flags |= IP_VS_SVC_F_SCHED3;
        break;
      case "sh-fallback":
      case "sh-port":
      case "mh-fallback":
      case "mh-port": {
        flags |= flag.endsWith("fallback") ? IP_VS_SVC_F_SCHED1 : IP_VS_SVC_F_SCHED2;
        if (s !== flag.slice(0, 2)) fail(`incompatible scheduler flag \`${flag}'`);
        break;
      }
      default:
        fail(`invalid scheduler flag \`${flag}'`);
    }
  }
  return flags;
}
