/**
 * What an announce-only speaker originates, and the messages that carry it: routes parsed from
 * text, OPENs, UPDATEs packed under the 4096-octet limit (IPv4 in the NLRI field, IPv6 in
 * MP_REACH_NLRI / MP_UNREACH_NLRI, RFC 4760), Cease NOTIFICATIONs with a shutdown communication.
 */
import { maskAddress, parseAddress, parseCidr } from "@lvs/inet";
import type {
  Capability,
  NotificationMessage,
  OpenMessage,
  PathAttribute,
  Prefix,
  UpdateMessage,
} from "./codec.js";
import { concat } from "./codec.js";
import {
  AFI_IPV4,
  AFI_IPV6,
  AS_SEQUENCE,
  AS_TRANS,
  ATTR_FLAG_OPTIONAL,
  ATTR_FLAG_TRANSITIVE,
  BGP_VERSION,
  COMMUNITY_GRACEFUL_SHUTDOWN,
  ErrorCode,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_SHUTDOWN_COMMUNICATION,
  OPT_PARAM_CAPABILITIES,
  Origin,
  SAFI_UNICAST,
} from "./constants.js";
import { BgpError } from "./errors.js";

export type Family = "ipv4" | "ipv6";

/** A route we originate. */
export interface Route {
  /** Canonical "address/length" (host bits cleared): the identity of the route. */
  prefix: string;
  family: Family;
  /** The next hop to advertise; undefined = next-hop self (the session's local address). */
  nextHop?: string;
  /** RFC 1997 communities, in the order given. */
  communities: number[];
}

export interface RouteSpec {
  /** "192.0.2.10/32", "2001:db8::10/128", or a bare address (host route). */
  prefix: string;
  nextHop?: string;
  /** "65000:100", "graceful-shutdown", or the 32-bit value. */
  communities?: readonly (string | number)[];
}

/** Parses "A:B" (each 0..65535), a well-known name, or a 32-bit number into a community value. */
export function parseCommunity(c: string | number): number {
  if (typeof c === "number") {
    if (Number.isInteger(c) && c >= 0 && c <= 0xffffffff) return c;
  } else if (c === "graceful-shutdown") {
    return COMMUNITY_GRACEFUL_SHUTDOWN;
  } else {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(c);
    const hi = m ? Number(m[1]) : Number.NaN;
    const lo = m ? Number(m[2]) : Number.NaN;
    if (hi <= 0xffff && lo <= 0xffff) return ((hi << 16) | lo) >>> 0;
  }
  throw new BgpError("BGP_BAD_CONFIG", `community ${JSON.stringify(c)} is not A:B with A and B in 0..65535`, {
    object: String(c),
  });
}

/** "65000:100" text of a community value. */
export function formatCommunity(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

/** Validates and normalises a route; throws BGP_BAD_CONFIG naming the bad part. */
export function parseRoute(spec: RouteSpec): Route {
  let cidr: ReturnType<typeof parseCidr>;
  try {
    cidr = parseCidr(spec.prefix);
  } catch (err) {
    throw new BgpError("BGP_BAD_CONFIG", `prefix ${JSON.stringify(spec.prefix)}: ${(err as Error).message}`, {
      object: spec.prefix,
    });
  }
  const length = cidr.prefixLength ?? (cidr.version === 4 ? 32 : 128);
  const net = maskAddress(cidr, length);
  const family: Family = cidr.version === 4 ? "ipv4" : "ipv6";
  let nextHop: string | undefined;
  if (spec.nextHop !== undefined) {
    const nh = (() => {
      try {
        return parseAddress(spec.nextHop);
      } catch {
        return undefined;
      }
    })();
    // RFC 4271 §5.1.3 / RFC 4760 §3: the next hop is an address of the route's family here
    // (IPv4 routes over an IPv6 next hop, RFC 8950, are not supported)
    if (!nh || nh.version !== cidr.version) {
      throw new BgpError(
        "BGP_BAD_CONFIG",
        `next hop ${JSON.stringify(spec.nextHop)} is not an IPv${cidr.version} address for ${spec.prefix}`,
        { object: spec.nextHop },
      );
    }
    nextHop = nh.text;
  }
  return {
    prefix: `${net.text}/${length}`,
    family,
    ...(nextHop !== undefined ? { nextHop } : {}),
    communities: (spec.communities ?? []).map(parseCommunity),
  };
}

function toPrefix(route: Route): Prefix {
  const slash = route.prefix.indexOf("/");
  return { address: route.prefix.slice(0, slash), length: Number(route.prefix.slice(slash + 1)) };
}

export interface OpenParams {
  localAs: number;
  holdTime: number;
  routerId: string;
  families: readonly Family[];
}

/** Our OPEN: one capability per optional parameter (as FRR and BIRD send them). */
export function buildOpen(p: OpenParams): OpenMessage {
  const caps: Capability[] = [
    ...p.families.map(
      (f): Capability => ({
        kind: "multiprotocol",
        afi: f === "ipv4" ? AFI_IPV4 : AFI_IPV6,
        safi: SAFI_UNICAST,
      }),
    ),
    { kind: "route-refresh" },
    { kind: "as4", asn: p.localAs },
  ];
  return {
    type: "OPEN",
    version: BGP_VERSION,
    // RFC 6793 §4.1: a 4-octet AS that does not fit goes as AS_TRANS
    myAs: p.localAs > 0xffff ? AS_TRANS : p.localAs,
    holdTime: p.holdTime,
    bgpId: p.routerId,
    params: caps.map((c) => ({ type: OPT_PARAM_CAPABILITIES, capabilities: [c] })),
  };
}

export interface UpdateContext {
  localAs: number;
  /** iBGP: empty AS_PATH and LOCAL_PREF (RFC 4271 §5.1.2, §5.1.5). */
  ibgp: boolean;
  /** The peer understands 4-octet AS numbers (both sent the AS4 capability). */
  as4: boolean;
  /** Next-hop self per family (the session's local address, or the configured one). */
  selfNextHop: Partial<Record<Family, string>>;
}

const WELL_KNOWN = ATTR_FLAG_TRANSITIVE;
const OPTIONAL_TRANSITIVE = ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE;

function baseAttributes(ctx: UpdateContext): PathAttribute[] {
  const attrs: PathAttribute[] = [{ flags: WELL_KNOWN, kind: "origin", origin: Origin.IGP }];
  if (ctx.ibgp) {
    attrs.push({ flags: WELL_KNOWN, kind: "as-path", segments: [] });
  } else if (ctx.as4 || ctx.localAs <= 0xffff) {
    attrs.push({
      flags: WELL_KNOWN,
      kind: "as-path",
      segments: [{ type: AS_SEQUENCE, asns: [ctx.localAs] }],
    });
  } else {
    // RFC 6793 §4.2.2: to an old speaker, AS_TRANS in AS_PATH and the real path in AS4_PATH
    attrs.push({ flags: WELL_KNOWN, kind: "as-path", segments: [{ type: AS_SEQUENCE, asns: [AS_TRANS] }] });
    attrs.push({
      flags: OPTIONAL_TRANSITIVE,
      kind: "as4-path",
      segments: [{ type: AS_SEQUENCE, asns: [ctx.localAs] }],
    });
  }
  return attrs;
}

function tailAttributes(ctx: UpdateContext, communities: number[]): PathAttribute[] {
  const attrs: PathAttribute[] = [];
  // RFC 4271 §5.1.5: LOCAL_PREF "SHALL be included in all UPDATE messages" sent to internal peers
  if (ctx.ibgp) attrs.push({ flags: WELL_KNOWN, kind: "local-pref", value: 100 });
  if (communities.length > 0) attrs.push({ flags: OPTIONAL_TRANSITIVE, kind: "communities", communities });
  return attrs;
}

/** Octets an UPDATE can spend on NLRI once its fixed parts are counted (with slack for MP headers). */
const NLRI_BUDGET = MAX_MESSAGE_LENGTH - HEADER_LENGTH - 4 - 64;

function chunk(prefixes: Prefix[], budget: number): Prefix[][] {
  const out: Prefix[][] = [];
  let cur: Prefix[] = [];
  let used = 0;
  for (const p of prefixes) {
    const size = 1 + ((p.length + 7) >> 3);
    if (used + size > budget && cur.length > 0) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(p);
    used += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * UPDATEs announcing `routes`: one group per (family, next hop, communities), each group split
 * so no message exceeds 4096 octets. Routes whose next hop cannot be resolved throw
 * BGP_NO_NEXT_HOP (an IPv6 route on an IPv4 session with no IPv6 next hop given, say).
 */
export function buildAnnouncements(routes: readonly Route[], ctx: UpdateContext): UpdateMessage[] {
  const groups = new Map<
    string,
    { family: Family; nextHop: string; communities: number[]; prefixes: Prefix[] }
  >();
  for (const r of routes) {
    const nextHop = r.nextHop ?? ctx.selfNextHop[r.family];
    if (nextHop === undefined) {
      throw new BgpError(
        "BGP_NO_NEXT_HOP",
        `no ${r.family} next hop for ${r.prefix}: give one (next-hop self needs a local ${r.family} address)`,
        { object: r.prefix },
      );
    }
    const key = `${r.family} ${nextHop} ${r.communities.join(",")}`;
    let g = groups.get(key);
    if (!g) {
      g = { family: r.family, nextHop, communities: r.communities, prefixes: [] };
      groups.set(key, g);
    }
    g.prefixes.push(toPrefix(r));
  }
  const out: UpdateMessage[] = [];
  for (const g of groups.values()) {
    const budget = NLRI_BUDGET - 4 * g.communities.length;
    for (const part of chunk(g.prefixes, budget)) {
      if (g.family === "ipv4") {
        out.push({
          type: "UPDATE",
          withdrawn: [],
          attributes: [
            ...baseAttributes(ctx),
            { flags: WELL_KNOWN, kind: "next-hop", nextHop: g.nextHop },
            ...tailAttributes(ctx, g.communities),
          ],
          nlri: part,
        });
      } else {
        // RFC 4760 §3: IPv6 reachability in MP_REACH_NLRI (optional non-transitive); the NEXT_HOP
        // attribute is not sent when the NLRI field is empty
        out.push({
          type: "UPDATE",
          withdrawn: [],
          attributes: [
            {
              flags: ATTR_FLAG_OPTIONAL,
              kind: "mp-reach",
              afi: AFI_IPV6,
              safi: SAFI_UNICAST,
              nextHops: [g.nextHop],
              nlri: part,
            },
            ...baseAttributes(ctx),
            ...tailAttributes(ctx, g.communities),
          ],
          nlri: [],
        });
      }
    }
  }
  return out;
}

/** UPDATEs withdrawing `routes`: IPv4 in Withdrawn Routes, IPv6 in MP_UNREACH_NLRI (RFC 4760 §4). */
export function buildWithdrawals(routes: readonly Route[]): UpdateMessage[] {
  const v4 = routes.filter((r) => r.family === "ipv4").map(toPrefix);
  const v6 = routes.filter((r) => r.family === "ipv6").map(toPrefix);
  const out: UpdateMessage[] = [];
  for (const part of chunk(v4, NLRI_BUDGET))
    out.push({ type: "UPDATE", withdrawn: part, attributes: [], nlri: [] });
  for (const part of chunk(v6, NLRI_BUDGET)) {
    out.push({
      type: "UPDATE",
      withdrawn: [],
      attributes: [
        { flags: ATTR_FLAG_OPTIONAL, kind: "mp-unreach", afi: AFI_IPV6, safi: SAFI_UNICAST, withdrawn: part },
      ],
      nlri: [],
    });
  }
  return out;
}

/** A Cease NOTIFICATION (RFC 4486) with an RFC 9003 shutdown communication when text is given. */
export function ceaseNotification(subcode: number, text?: string): NotificationMessage {
  let data: Uint8Array = new Uint8Array(0);
  if (text !== undefined && text.length > 0) {
    let bytes = new TextEncoder().encode(text);
    // RFC 9003 §2: at most 255 octets; cut on a character boundary
    while (bytes.length > MAX_SHUTDOWN_COMMUNICATION) {
      text = text.slice(0, -1);
      bytes = new TextEncoder().encode(text);
    }
    data = concat([Uint8Array.of(bytes.length), bytes]);
  }
  return { type: "NOTIFICATION", code: ErrorCode.CEASE, subcode, data };
}
