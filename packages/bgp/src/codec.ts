/**
 * BGP-4 messages ↔ bytes (RFC 4271 §4, RFC 4760, RFC 2918, RFC 5492, RFC 6793), pure.
 *
 * Decoding is lossless: unknown capabilities, optional parameters and path attributes are kept
 * with their raw bytes, flags (the extended-length bit included) and NLRI trailing bits are kept
 * as received, so `encodeMessage(decodeMessage(b))` returns `b`. Every decode error is a BgpError
 * carrying the NOTIFICATION RFC 4271 §6 prescribes (`context.notification`).
 */
import { bytesToAddress, parseAddress } from "@lvs/inet";
import {
  AFI_IPV4,
  AFI_IPV6,
  ATTR_FLAG_EXTENDED_LENGTH,
  ATTR_FLAG_OPTIONAL,
  ATTR_FLAG_PARTIAL,
  ATTR_FLAG_TRANSITIVE,
  AttrType,
  BGP_VERSION,
  CapabilityCode,
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  KEEPALIVE_LENGTH,
  MARKER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  MIN_NOTIFICATION_LENGTH,
  MIN_OPEN_LENGTH,
  MIN_UPDATE_LENGTH,
  OPT_PARAM_CAPABILITIES,
  OpenSubcode,
  ROUTE_REFRESH_LENGTH,
  SAFI_UNICAST,
  UpdateSubcode,
} from "./constants.js";
import { BgpError, type BgpErrorCode } from "./errors.js";

// ---------------------------------------------------------------------------------------------
// Types

/** A prefix as carried in NLRI: address bytes as received (host bits kept) and its length. */
export interface Prefix {
  /** Canonical text of the address (4 or 16 bytes, the octets past the length zero-filled). */
  address: string;
  length: number;
}

export type Capability =
  | { kind: "multiprotocol"; afi: number; safi: number }
  | { kind: "route-refresh" }
  | { kind: "as4"; asn: number }
  | { kind: "unknown"; code: number; value: Uint8Array };

export type OptionalParameter =
  | { type: typeof OPT_PARAM_CAPABILITIES; capabilities: Capability[] }
  | { type: number; value: Uint8Array };

export interface OpenMessage {
  type: "OPEN";
  version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP Identifier as dotted quad. */
  bgpId: string;
  params: OptionalParameter[];
}

export interface AsPathSegment {
  /** AS_SET (1), AS_SEQUENCE (2), or the confederation types (3, 4, RFC 5065). */
  type: number;
  asns: number[];
}

interface AttrBase {
  /** Attribute Flags as received or to send (extended-length bit decides the length width). */
  flags: number;
}
export type PathAttribute = AttrBase &
  (
    | { kind: "origin"; origin: number }
    | { kind: "as-path"; segments: AsPathSegment[] }
    | { kind: "next-hop"; nextHop: string }
    | { kind: "med"; value: number }
    | { kind: "local-pref"; value: number }
    | { kind: "atomic-aggregate" }
    | { kind: "communities"; communities: number[] }
    | { kind: "as4-path"; segments: AsPathSegment[] }
    | {
        kind: "mp-reach";
        afi: number;
        safi: number;
        /** One address, or two for IPv6 (global + link-local, RFC 2545 §3). */
        nextHops: string[];
        /** The reserved octet, kept when non-zero. */
        reserved?: number;
        nlri: Prefix[];
      }
    | { kind: "mp-unreach"; afi: number; safi: number; withdrawn: Prefix[] }
    | { kind: "unknown"; typeCode: number; value: Uint8Array }
  );

export interface UpdateMessage {
  type: "UPDATE";
  withdrawn: Prefix[];
  attributes: PathAttribute[];
  nlri: Prefix[];
}

export interface NotificationMessage {
  type: "NOTIFICATION";
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface KeepaliveMessage {
  type: "KEEPALIVE";
}

export interface RouteRefreshMessage {
  type: "ROUTE_REFRESH";
  afi: number;
  /** Reserved octet (RFC 7313 reuses it as a subtype); kept as received. */
  reserved?: number;
  safi: number;
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/** What decoding an UPDATE depends on: 4-octet AS_PATH once both sides sent the AS4 capability. */
export interface CodecOptions {
  /** AS numbers in AS_PATH/AGGREGATOR are 4 octets (RFC 6793 §4.1). Default true. */
  as4?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Errors

function fail(
  code: BgpErrorCode,
  message: string,
  errCode: number,
  subcode: number,
  data: Uint8Array = new Uint8Array(0),
  extra: { offset?: number; object?: string; treatAsWithdraw?: boolean } = {},
): never {
  throw new BgpError(code, message, { ...extra, notification: { code: errCode, subcode, data } });
}

const u16 = (n: number) => Uint8Array.of((n >> 8) & 0xff, n & 0xff);

// ---------------------------------------------------------------------------------------------
// Framing

/**
 * Splits a TCP byte stream into whole messages (RFC 4271 §4.1), checking each header: marker all
 * ones, length in 19..4096. A bad header is a BgpError (Message Header Error); the stream cannot
 * be resynchronised after it, so the session must close.
 */
export class Framer {
  private buf = new Uint8Array(0);

  /** Bytes buffered waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const buf = this.buf.length === 0 ? chunk : concat([this.buf, chunk]);
    const frames: Uint8Array[] = [];
    let off = 0;
    while (buf.length - off >= HEADER_LENGTH) {
      checkHeader(buf, off);
      const len = ((buf[off + 16] ?? 0) << 8) | (buf[off + 17] ?? 0);
      if (buf.length - off < len) break;
      frames.push(buf.slice(off, off + len));
      off += len;
    }
    this.buf = buf.slice(off);
    return frames;
  }
}

function checkHeader(b: Uint8Array, off: number): void {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    // RFC 4271 §6.1: "If the Marker field of the message header is not as expected, then a
    // synchronization error has occurred" → Connection Not Synchronized
    if (b[off + i] !== 0xff) {
      fail(
        "BGP_BAD_HEADER",
        `marker octet ${i} is ${b[off + i]}, not 255`,
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED,
        undefined,
        { offset: off + i, object: "marker" },
      );
    }
  }
  const len = ((b[off + 16] ?? 0) << 8) | (b[off + 17] ?? 0);
  // RFC 4271 §6.1: length < 19 or > 4096 → Bad Message Length, Data = the erroneous Length field
  if (len < HEADER_LENGTH || len > MAX_MESSAGE_LENGTH) {
    fail(
      "BGP_BAD_HEADER",
      `message length ${len} is not in 19..4096`,
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      u16(len),
      { offset: off + 16, object: "length" },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Decode

/** Decodes one whole message (header included). */
export function decodeMessage(frame: Uint8Array, opts: CodecOptions = {}): BgpMessage {
  if (frame.length < HEADER_LENGTH) {
    fail(
      "BGP_BAD_HEADER",
      `a message has at least 19 octets, got ${frame.length}`,
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      u16(frame.length),
      { offset: 0, object: "length" },
    );
  }
  checkHeader(frame, 0);
  const len = ((frame[16] ?? 0) << 8) | (frame[17] ?? 0);
  if (len !== frame.length) {
    fail(
      "BGP_BAD_HEADER",
      `length field ${len} but ${frame.length} octets`,
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      u16(len),
      { offset: 16, object: "length" },
    );
  }
  const type = frame[18] ?? 0;
  const body = frame.subarray(HEADER_LENGTH);
  // RFC 4271 §6.1: a length too small or too large for the type → Bad Message Length
  const badLength = (min: number, exact = false) => {
    if (exact ? len !== min : len < min) {
      fail(
        "BGP_BAD_HEADER",
        `${len} octets is not a valid length for message type ${type}`,
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.BAD_MESSAGE_LENGTH,
        u16(len),
        { offset: 16, object: "length" },
      );
    }
  };
  switch (type) {
    case MessageType.OPEN:
      badLength(MIN_OPEN_LENGTH);
      return decodeOpen(body);
    case MessageType.UPDATE:
      badLength(MIN_UPDATE_LENGTH);
      return decodeUpdate(body, opts.as4 ?? true);
    case MessageType.NOTIFICATION:
      badLength(MIN_NOTIFICATION_LENGTH);
      return { type: "NOTIFICATION", code: body[0] ?? 0, subcode: body[1] ?? 0, data: body.slice(2) };
    case MessageType.KEEPALIVE:
      badLength(KEEPALIVE_LENGTH, true);
      return { type: "KEEPALIVE" };
    case MessageType.ROUTE_REFRESH: {
      badLength(ROUTE_REFRESH_LENGTH, true);
      const reserved = body[2] ?? 0;
      return {
        type: "ROUTE_REFRESH",
        afi: ((body[0] ?? 0) << 8) | (body[1] ?? 0),
        ...(reserved !== 0 ? { reserved } : {}),
        safi: body[3] ?? 0,
      };
    }
    default:
      // RFC 4271 §6.1: unrecognized Type → Bad Message Type, Data = the erroneous Type field
      return fail(
        "BGP_BAD_HEADER",
        `unknown message type ${type}`,
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.BAD_MESSAGE_TYPE,
        Uint8Array.of(type),
        { offset: 18, object: "type" },
      );
  }
}

function openFail(
  message: string,
  subcode: number,
  data?: Uint8Array,
  offset?: number,
  object?: string,
): never {
  return fail("BGP_BAD_OPEN", message, ErrorCode.OPEN_MESSAGE, subcode, data, {
    ...(offset !== undefined ? { offset: offset + HEADER_LENGTH } : {}),
    ...(object !== undefined ? { object } : {}),
  });
}

function decodeOpen(b: Uint8Array): OpenMessage {
  const version = b[0] ?? 0;
  // RFC 4271 §6.2: unsupported version → Data = the largest locally supported version (2 octets)
  if (version !== BGP_VERSION)
    openFail(
      `BGP version ${version} is not 4`,
      OpenSubcode.UNSUPPORTED_VERSION,
      u16(BGP_VERSION),
      0,
      "version",
    );
  const myAs = ((b[1] ?? 0) << 8) | (b[2] ?? 0);
  const holdTime = ((b[3] ?? 0) << 8) | (b[4] ?? 0);
  // RFC 4271 §6.2: "An implementation MUST reject Hold Time values of one or two seconds."
  if (holdTime === 1 || holdTime === 2)
    openFail(
      `hold time ${holdTime} s is neither 0 nor ≥ 3`,
      OpenSubcode.UNACCEPTABLE_HOLD_TIME,
      undefined,
      3,
      "hold-time",
    );
  const bgpId = bytesToAddress(b.subarray(5, 9));
  // RFC 6286 §2.1: the BGP Identifier is a non-zero 4-octet unsigned integer
  if (bgpId === "0.0.0.0")
    openFail("BGP Identifier 0.0.0.0", OpenSubcode.BAD_BGP_IDENTIFIER, undefined, 5, "bgp-id");
  const optLen = b[9] ?? 0;
  if (10 + optLen !== b.length)
    openFail(
      `optional parameters length ${optLen} but ${b.length - 10} octets follow`,
      OpenSubcode.UNSPECIFIC,
      undefined,
      9,
      "opt-param-len",
    );
  const params: OptionalParameter[] = [];
  let off = 10;
  while (off < b.length) {
    if (off + 2 > b.length)
      openFail("truncated optional parameter", OpenSubcode.UNSPECIFIC, undefined, off, "opt-param");
    const type = b[off] ?? 0;
    const plen = b[off + 1] ?? 0;
    const end = off + 2 + plen;
    if (end > b.length)
      openFail(
        `optional parameter ${type} of ${plen} octets overruns the message`,
        OpenSubcode.UNSPECIFIC,
        undefined,
        off,
        "opt-param",
      );
    const value = b.subarray(off + 2, end);
    // RFC 4271 §6.2: an unrecognized Optional Parameter → Unsupported Optional Parameters
    if (type !== OPT_PARAM_CAPABILITIES)
      openFail(
        `unsupported optional parameter ${type}`,
        OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
        undefined,
        off,
        "opt-param",
      );
    params.push({ type, capabilities: decodeCapabilities(value, off + 2) });
    off = end;
  }
  return { type: "OPEN", version, myAs, holdTime, bgpId, params };
}

function decodeCapabilities(b: Uint8Array, base: number): Capability[] {
  const caps: Capability[] = [];
  let off = 0;
  while (off < b.length) {
    if (off + 2 > b.length)
      openFail("truncated capability", OpenSubcode.UNSPECIFIC, undefined, base + off, "capability");
    const code = b[off] ?? 0;
    const len = b[off + 1] ?? 0;
    if (off + 2 + len > b.length)
      openFail(
        `capability ${code} of ${len} octets overruns its parameter`,
        OpenSubcode.UNSPECIFIC,
        undefined,
        base + off,
        "capability",
      );
    const v = b.subarray(off + 2, off + 2 + len);
    // Known capabilities are typed only in their exact RFC shape; any other shape is kept raw.
    if (code === CapabilityCode.MULTIPROTOCOL && len === 4 && v[2] === 0) {
      caps.push({ kind: "multiprotocol", afi: ((v[0] ?? 0) << 8) | (v[1] ?? 0), safi: v[3] ?? 0 });
    } else if (code === CapabilityCode.ROUTE_REFRESH && len === 0) {
      caps.push({ kind: "route-refresh" });
    } else if (code === CapabilityCode.AS4 && len === 4) {
      caps.push({ kind: "as4", asn: readU32(v, 0) });
    } else {
      caps.push({ kind: "unknown", code, value: v.slice() });
    }
    off += 2 + len;
  }
  return caps;
}

function updateFail(
  message: string,
  subcode: number,
  data: Uint8Array | undefined,
  offset: number,
  object: string,
  treatAsWithdraw = false,
): never {
  return fail("BGP_BAD_UPDATE", message, ErrorCode.UPDATE_MESSAGE, subcode, data, {
    offset: offset + HEADER_LENGTH,
    object,
    ...(treatAsWithdraw ? { treatAsWithdraw } : {}),
  });
}

function decodeUpdate(b: Uint8Array, as4: boolean): UpdateMessage {
  const wlen = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  // RFC 4271 §6.3: Withdrawn Routes Length or Total Attribute Length too large → Malformed Attribute List
  if (2 + wlen + 2 > b.length)
    updateFail(
      `withdrawn routes length ${wlen} overruns the message`,
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      undefined,
      0,
      "withdrawn-length",
    );
  const withdrawn = decodePrefixes(b.subarray(2, 2 + wlen), 32, 2, "withdrawn");
  const aoff = 2 + wlen + 2;
  const alen = ((b[aoff - 2] ?? 0) << 8) | (b[aoff - 1] ?? 0);
  if (aoff + alen > b.length)
    updateFail(
      `total path attribute length ${alen} overruns the message`,
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      undefined,
      aoff - 2,
      "attribute-length",
    );
  const attributes = decodeAttributes(b.subarray(aoff, aoff + alen), aoff, as4);
  const nlri = decodePrefixes(b.subarray(aoff + alen), 32, aoff + alen, "nlri");
  // RFC 4271 §6.3: a mandatory well-known attribute missing → Missing Well-known Attribute,
  // Data = its type code. NEXT_HOP only when the NLRI field carries routes (RFC 4760 §3).
  const has = (k: PathAttribute["kind"]) => attributes.some((a) => a.kind === k);
  const reaches = nlri.length > 0 || has("mp-reach");
  if (reaches) {
    const missing = !has("origin")
      ? AttrType.ORIGIN
      : !has("as-path")
        ? AttrType.AS_PATH
        : nlri.length > 0 && !has("next-hop")
          ? AttrType.NEXT_HOP
          : 0;
    if (missing)
      updateFail(
        `well-known attribute ${missing} missing`,
        UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
        Uint8Array.of(missing),
        aoff,
        "attributes",
        true,
      );
  }
  return { type: "UPDATE", withdrawn, attributes, nlri };
}

/** Prefixes in RFC 4271 §4.3 form: a length octet and just enough octets to hold it. */
function decodePrefixes(b: Uint8Array, maxLen: 32 | 128, base: number, object: string, mp = false): Prefix[] {
  const out: Prefix[] = [];
  let off = 0;
  while (off < b.length) {
    const len = b[off] ?? 0;
    const n = (len + 7) >> 3;
    if (len > maxLen || off + 1 + n > b.length) {
      // RFC 4271 §6.3: NLRI field syntactically incorrect → Invalid Network Field; inside
      // MP_(UN)REACH_NLRI the attribute is the malformed one (RFC 7606 §7.11: session reset)
      if (mp)
        updateFail(
          `prefix length ${len} in ${object} is invalid or overruns it`,
          UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
          undefined,
          base + off,
          object,
        );
      updateFail(
        `prefix length ${len} in ${object} is invalid or overruns it`,
        UpdateSubcode.INVALID_NETWORK_FIELD,
        undefined,
        base + off,
        object,
      );
    }
    const bytes = new Uint8Array(maxLen / 8);
    bytes.set(b.subarray(off + 1, off + 1 + n));
    out.push({ address: bytesToAddress(bytes), length: len });
    off += 1 + n;
  }
  return out;
}

// RFC 4271 §5 / RFC 4760 / RFC 1997 / RFC 6793: the Optional and Transitive bits each type must have
const EXPECTED_FLAGS: Record<number, number> = {
  [AttrType.ORIGIN]: ATTR_FLAG_TRANSITIVE,
  [AttrType.AS_PATH]: ATTR_FLAG_TRANSITIVE,
  [AttrType.NEXT_HOP]: ATTR_FLAG_TRANSITIVE,
  [AttrType.MULTI_EXIT_DISC]: ATTR_FLAG_OPTIONAL,
  [AttrType.LOCAL_PREF]: ATTR_FLAG_TRANSITIVE,
  [AttrType.ATOMIC_AGGREGATE]: ATTR_FLAG_TRANSITIVE,
  [AttrType.AGGREGATOR]: ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE,
  [AttrType.COMMUNITIES]: ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE,
  [AttrType.MP_REACH_NLRI]: ATTR_FLAG_OPTIONAL,
  [AttrType.MP_UNREACH_NLRI]: ATTR_FLAG_OPTIONAL,
  [AttrType.AS4_PATH]: ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE,
};

function decodeAttributes(b: Uint8Array, base: number, as4: boolean): PathAttribute[] {
  const out: PathAttribute[] = [];
  const seen = new Set<number>();
  let off = 0;
  while (off < b.length) {
    if (off + 3 > b.length)
      updateFail(
        "truncated attribute header",
        UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        undefined,
        base + off,
        "attribute",
      );
    const flags = b[off] ?? 0;
    const typeCode = b[off + 1] ?? 0;
    const ext = (flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0;
    if (ext && off + 4 > b.length)
      updateFail(
        "truncated attribute header",
        UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        undefined,
        base + off,
        "attribute",
      );
    const len = ext ? ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0) : (b[off + 2] ?? 0);
    const voff = off + (ext ? 4 : 3);
    // RFC 4271 §6.3: an attribute overrunning the attribute list → Attribute Length Error
    // (RFC 7606 §4: the rest cannot be parsed, so the session resets)
    if (voff + len > b.length)
      updateFail(
        `attribute ${typeCode} of ${len} octets overruns the attribute list`,
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        b.slice(off),
        base + off,
        `attribute ${typeCode}`,
      );
    const raw = b.slice(off, voff + len);
    const v = b.subarray(voff, voff + len);
    // RFC 4271 §6.3: "If any attribute appears more than once ... Malformed Attribute List"
    if (seen.has(typeCode))
      updateFail(
        `attribute ${typeCode} appears twice`,
        UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        undefined,
        base + off,
        `attribute ${typeCode}`,
      );
    seen.add(typeCode);
    out.push(decodeAttribute(flags, typeCode, v, raw, base + off, as4));
    off = voff + len;
  }
  return out;
}

function decodeAttribute(
  flags: number,
  typeCode: number,
  v: Uint8Array,
  raw: Uint8Array,
  at: number,
  as4: boolean,
): PathAttribute {
  const name = `attribute ${typeCode}`;
  const expected = EXPECTED_FLAGS[typeCode];
  const mp = typeCode === AttrType.MP_REACH_NLRI || typeCode === AttrType.MP_UNREACH_NLRI;
  if (expected === undefined) {
    // RFC 4271 §6.3: an unrecognized well-known attribute → Unrecognized Well-known Attribute
    if ((flags & ATTR_FLAG_OPTIONAL) === 0)
      updateFail(
        `unrecognized well-known attribute ${typeCode}`,
        UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
        raw,
        at,
        name,
      );
    return { flags, kind: "unknown", typeCode, value: v.slice() };
  }
  // RFC 4271 §6.3: flags conflicting with the type code → Attribute Flags Error, Data = attribute;
  // the Partial bit MUST be 0 on well-known and optional non-transitive attributes (§4.3).
  const partialBad =
    (flags & ATTR_FLAG_PARTIAL) !== 0 && expected !== (ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE);
  if ((flags & (ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE)) !== expected || partialBad) {
    updateFail(
      `attribute ${typeCode} has flags 0x${flags.toString(16)}`,
      UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
      raw,
      at,
      name,
      !mp,
    );
  }
  const lengthError = (): never =>
    updateFail(
      `attribute ${typeCode} has a bad length ${v.length}`,
      UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
      raw,
      at,
      name,
      !mp,
    );
  switch (typeCode) {
    case AttrType.ORIGIN: {
      if (v.length !== 1) lengthError();
      const origin = v[0] ?? 0;
      // RFC 4271 §6.3: undefined ORIGIN value → Invalid ORIGIN Attribute
      if (origin > 2) updateFail(`ORIGIN ${origin}`, UpdateSubcode.INVALID_ORIGIN, raw, at, "ORIGIN", true);
      return { flags, kind: "origin", origin };
    }
    case AttrType.AS_PATH:
    case AttrType.AS4_PATH: {
      const segments = decodeAsPath(
        v,
        typeCode === AttrType.AS4_PATH || as4 ? 4 : 2,
        raw,
        at,
        typeCode === AttrType.AS4_PATH,
      );
      return typeCode === AttrType.AS_PATH
        ? { flags, kind: "as-path", segments }
        : { flags, kind: "as4-path", segments };
    }
    case AttrType.NEXT_HOP: {
      if (v.length !== 4) lengthError();
      // RFC 4271 §6.3: a NEXT_HOP that is not a valid IP host address → Invalid NEXT_HOP
      if ((v[0] ?? 0) >= 224 || readU32(v, 0) === 0)
        updateFail(
          `NEXT_HOP ${bytesToAddress(v)}`,
          UpdateSubcode.INVALID_NEXT_HOP,
          raw,
          at,
          "NEXT_HOP",
          true,
        );
      return { flags, kind: "next-hop", nextHop: bytesToAddress(v) };
    }
    case AttrType.MULTI_EXIT_DISC:
    case AttrType.LOCAL_PREF:
      if (v.length !== 4) lengthError();
      return { flags, kind: typeCode === AttrType.LOCAL_PREF ? "local-pref" : "med", value: readU32(v, 0) };
    case AttrType.ATOMIC_AGGREGATE:
      if (v.length !== 0) lengthError();
      return { flags, kind: "atomic-aggregate" };
    case AttrType.AGGREGATOR:
      if (v.length !== (as4 ? 8 : 6)) lengthError();
      return { flags, kind: "unknown", typeCode, value: v.slice() };
    case AttrType.COMMUNITIES: {
      // RFC 1997: a list of 4-octet values; RFC 7606 §7.8: other lengths are malformed
      if (v.length === 0 || v.length % 4 !== 0)
        updateFail(
          `COMMUNITIES of ${v.length} octets`,
          UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
          raw,
          at,
          "COMMUNITIES",
          true,
        );
      const communities: number[] = [];
      for (let i = 0; i < v.length; i += 4) communities.push(readU32(v, i));
      return { flags, kind: "communities", communities };
    }
    case AttrType.MP_REACH_NLRI:
      return decodeMpReach(flags, v, raw, at);
    default: {
      // MP_UNREACH_NLRI (RFC 4760 §4): AFI (2), SAFI (1), Withdrawn Routes
      if (v.length < 3) lengthError();
      const afi = ((v[0] ?? 0) << 8) | (v[1] ?? 0);
      const safi = v[2] ?? 0;
      const maxLen = familyMaxLength(afi, safi);
      if (maxLen === undefined) return { flags, kind: "unknown", typeCode, value: v.slice() };
      return {
        flags,
        kind: "mp-unreach",
        afi,
        safi,
        withdrawn: decodePrefixes(v.subarray(3), maxLen, at + 3, "MP_UNREACH_NLRI", true),
      };
    }
  }
}

function familyMaxLength(afi: number, safi: number): 32 | 128 | undefined {
  if (safi !== SAFI_UNICAST) return undefined;
  return afi === AFI_IPV4 ? 32 : afi === AFI_IPV6 ? 128 : undefined;
}

function decodeMpReach(flags: number, v: Uint8Array, raw: Uint8Array, at: number): PathAttribute {
  // RFC 4760 §3: AFI (2), SAFI (1), Length of Next Hop (1), Next Hop, Reserved (1), NLRI
  const bad = (what: string): never =>
    updateFail(`MP_REACH_NLRI: ${what}`, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, raw, at, "MP_REACH_NLRI");
  if (v.length < 5) bad(`${v.length} octets`);
  const afi = ((v[0] ?? 0) << 8) | (v[1] ?? 0);
  const safi = v[2] ?? 0;
  const nhLen = v[3] ?? 0;
  const maxLen = familyMaxLength(afi, safi);
  if (maxLen === undefined)
    return { flags, kind: "unknown", typeCode: AttrType.MP_REACH_NLRI, value: v.slice() };
  if (4 + nhLen + 1 > v.length) bad(`next hop length ${nhLen} overruns the attribute`);
  // Next hops of 4 (IPv4), 16 (IPv6 global) or 32 (global + link-local, RFC 2545 §3) octets
  if (nhLen !== 4 && nhLen !== 16 && nhLen !== 32) bad(`next hop length ${nhLen}`);
  const nextHops: string[] = [];
  const w = nhLen === 4 ? 4 : 16;
  for (let i = 0; i < nhLen; i += w) nextHops.push(bytesToAddress(v.subarray(4 + i, 4 + i + w)));
  const reserved = v[4 + nhLen] ?? 0;
  const nlri = decodePrefixes(v.subarray(5 + nhLen), maxLen, at + 5 + nhLen, "MP_REACH_NLRI", true);
  return { flags, kind: "mp-reach", afi, safi, nextHops, ...(reserved !== 0 ? { reserved } : {}), nlri };
}

function decodeAsPath(
  v: Uint8Array,
  size: 2 | 4,
  raw: Uint8Array,
  at: number,
  optional: boolean,
): AsPathSegment[] {
  const segments: AsPathSegment[] = [];
  let off = 0;
  // RFC 4271 §6.3: a syntactically incorrect AS_PATH → Malformed AS_PATH; AS4_PATH is an
  // optional attribute (RFC 6793 §6: treat-as-withdraw-like handling; we report Optional Attribute Error)
  const bad = (what: string): never =>
    updateFail(
      `${optional ? "AS4_PATH" : "AS_PATH"}: ${what}`,
      optional ? UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR : UpdateSubcode.MALFORMED_AS_PATH,
      optional ? raw : undefined,
      at,
      optional ? "AS4_PATH" : "AS_PATH",
      true,
    );
  while (off < v.length) {
    if (off + 2 > v.length) bad("truncated segment header");
    const type = v[off] ?? 0;
    const count = v[off + 1] ?? 0;
    if (type < 1 || type > 4) bad(`segment type ${type}`);
    if (count === 0) bad("empty segment");
    if (off + 2 + count * size > v.length) bad(`segment of ${count} AS numbers overruns the attribute`);
    const asns: number[] = [];
    for (let i = 0; i < count; i++) {
      const p = off + 2 + i * size;
      asns.push(size === 4 ? readU32(v, p) : ((v[p] ?? 0) << 8) | (v[p + 1] ?? 0));
    }
    segments.push({ type, asns });
    off += 2 + count * size;
  }
  return segments;
}

/** RFC 9003 §2: the UTF-8 text of a Cease/Administrative Shutdown or Reset, if well-formed. */
export function shutdownCommunication(n: NotificationMessage): string | undefined {
  if (n.code !== ErrorCode.CEASE || (n.subcode !== 2 && n.subcode !== 4) || n.data.length === 0)
    return undefined;
  const len = n.data[0] ?? 0;
  if (len + 1 > n.data.length) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(n.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Encode

/** Encodes one message with its header. Throws BGP_BAD_FIELD for values that do not fit. */
export function encodeMessage(msg: BgpMessage, opts: CodecOptions = {}): Uint8Array {
  let type: number;
  let body: Uint8Array;
  switch (msg.type) {
    case "OPEN":
      type = MessageType.OPEN;
      body = encodeOpen(msg);
      break;
    case "UPDATE":
      type = MessageType.UPDATE;
      body = encodeUpdate(msg, opts.as4 ?? true);
      break;
    case "NOTIFICATION":
      type = MessageType.NOTIFICATION;
      body = concat([Uint8Array.of(u8(msg.code, "code"), u8(msg.subcode, "subcode")), msg.data]);
      break;
    case "KEEPALIVE":
      type = MessageType.KEEPALIVE;
      body = new Uint8Array(0);
      break;
    case "ROUTE_REFRESH":
      type = MessageType.ROUTE_REFRESH;
      body = concat([
        u16(checkU16(msg.afi, "afi")),
        Uint8Array.of(u8(msg.reserved ?? 0, "reserved"), u8(msg.safi, "safi")),
      ]);
      break;
  }
  const len = HEADER_LENGTH + body.length;
  if (len > MAX_MESSAGE_LENGTH)
    throw new BgpError("BGP_BAD_FIELD", `${msg.type} of ${len} octets exceeds 4096`, { object: "length" });
  const out = new Uint8Array(len);
  out.fill(0xff, 0, MARKER_LENGTH);
  out[16] = len >> 8;
  out[17] = len & 0xff;
  out[18] = type;
  out.set(body, HEADER_LENGTH);
  return out;
}

function encodeOpen(m: OpenMessage): Uint8Array {
  const params = concat(
    m.params.map((p) => {
      const value = "capabilities" in p ? concat(p.capabilities.map(encodeCapability)) : p.value;
      return concat([
        Uint8Array.of(u8(p.type, "parameter type"), u8(value.length, "parameter length")),
        value,
      ]);
    }),
  );
  const head = new Uint8Array(10);
  head[0] = u8(m.version, "version");
  head.set(u16(checkU16(m.myAs, "my-as")), 1);
  head.set(u16(checkU16(m.holdTime, "hold-time")), 3);
  head.set(v4Bytes(m.bgpId, "bgp-id"), 5);
  head[9] = u8(params.length, "optional parameters length");
  return concat([head, params]);
}

function encodeCapability(c: Capability): Uint8Array {
  switch (c.kind) {
    case "multiprotocol":
      return Uint8Array.of(
        CapabilityCode.MULTIPROTOCOL,
        4,
        (c.afi >> 8) & 0xff,
        c.afi & 0xff,
        0,
        u8(c.safi, "safi"),
      );
    case "route-refresh":
      return Uint8Array.of(CapabilityCode.ROUTE_REFRESH, 0);
    case "as4":
      return concat([Uint8Array.of(CapabilityCode.AS4, 4), u32(c.asn, "asn")]);
    case "unknown":
      return concat([
        Uint8Array.of(u8(c.code, "capability code"), u8(c.value.length, "capability length")),
        c.value,
      ]);
  }
}

function encodeUpdate(m: UpdateMessage, as4: boolean): Uint8Array {
  const withdrawn = encodePrefixes(m.withdrawn);
  const attrs = concat(m.attributes.map((a) => encodeAttribute(a, as4)));
  return concat([
    u16(checkU16(withdrawn.length, "withdrawn length")),
    withdrawn,
    u16(checkU16(attrs.length, "attributes length")),
    attrs,
    encodePrefixes(m.nlri),
  ]);
}

function encodePrefixes(ps: Prefix[]): Uint8Array {
  return concat(
    ps.map((p) => {
      const bytes = parseAddress(p.address).bytes;
      if (!Number.isInteger(p.length) || p.length < 0 || p.length > bytes.length * 8) {
        throw new BgpError("BGP_BAD_FIELD", `prefix length ${p.length} for ${p.address}`, {
          object: `${p.address}/${p.length}`,
        });
      }
      return concat([Uint8Array.of(p.length), bytes.subarray(0, (p.length + 7) >> 3)]);
    }),
  );
}

function encodeAttribute(a: PathAttribute, as4: boolean): Uint8Array {
  let typeCode: number;
  let v: Uint8Array;
  switch (a.kind) {
    case "origin":
      typeCode = AttrType.ORIGIN;
      v = Uint8Array.of(u8(a.origin, "origin"));
      break;
    case "as-path":
    case "as4-path":
      typeCode = a.kind === "as-path" ? AttrType.AS_PATH : AttrType.AS4_PATH;
      v = concat(
        a.segments.map((s) =>
          concat([
            Uint8Array.of(u8(s.type, "segment type"), u8(s.asns.length, "segment length")),
            ...s.asns.map((n) => (a.kind === "as4-path" || as4 ? u32(n, "asn") : u16(checkU16(n, "asn")))),
          ]),
        ),
      );
      break;
    case "next-hop":
      typeCode = AttrType.NEXT_HOP;
      v = v4Bytes(a.nextHop, "next-hop");
      break;
    case "med":
    case "local-pref":
      typeCode = a.kind === "med" ? AttrType.MULTI_EXIT_DISC : AttrType.LOCAL_PREF;
      v = u32(a.value, a.kind);
      break;
    case "atomic-aggregate":
      typeCode = AttrType.ATOMIC_AGGREGATE;
      v = new Uint8Array(0);
      break;
    case "communities":
      typeCode = AttrType.COMMUNITIES;
      v = concat(a.communities.map((c) => u32(c, "community")));
      break;
    case "mp-reach": {
      typeCode = AttrType.MP_REACH_NLRI;
      const nh = concat(a.nextHops.map((h) => parseAddress(h).bytes));
      v = concat([
        u16(checkU16(a.afi, "afi")),
        Uint8Array.of(u8(a.safi, "safi"), u8(nh.length, "next hop length")),
        nh,
        Uint8Array.of(u8(a.reserved ?? 0, "reserved")),
        encodePrefixes(a.nlri),
      ]);
      break;
    }
    case "mp-unreach":
      typeCode = AttrType.MP_UNREACH_NLRI;
      v = concat([
        u16(checkU16(a.afi, "afi")),
        Uint8Array.of(u8(a.safi, "safi")),
        encodePrefixes(a.withdrawn),
      ]);
      break;
    case "unknown":
      typeCode = a.typeCode;
      v = a.value;
      break;
  }
  // RFC 4271 §4.3: the Extended Length bit selects a 2-octet length; set it when needed
  const ext = (a.flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0 || v.length > 255;
  const flags = ext ? a.flags | ATTR_FLAG_EXTENDED_LENGTH : a.flags;
  const head = ext
    ? Uint8Array.of(
        u8(flags, "flags"),
        u8(typeCode, "type"),
        (checkU16(v.length, "attribute length") >> 8) & 0xff,
        v.length & 0xff,
      )
    : Uint8Array.of(u8(flags, "flags"), u8(typeCode, "type"), v.length);
  return concat([head, v]);
}

// ---------------------------------------------------------------------------------------------
// Bytes

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function readU32(b: Uint8Array, off: number): number {
  return (
    (((b[off] ?? 0) << 24) | ((b[off + 1] ?? 0) << 16) | ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0)) >>> 0
  );
}

function u8(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xff)
    throw new BgpError("BGP_BAD_FIELD", `${what} ${n} does not fit in one octet`, { object: what });
  return n;
}

function checkU16(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff)
    throw new BgpError("BGP_BAD_FIELD", `${what} ${n} does not fit in two octets`, { object: what });
  return n;
}

function u32(n: number, what: string): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new BgpError("BGP_BAD_FIELD", `${what} ${n} does not fit in four octets`, { object: what });
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function v4Bytes(text: string, what: string): Uint8Array {
  const a = (() => {
    try {
      return parseAddress(text);
    } catch {
      return undefined;
    }
  })();
  if (!a || a.version !== 4)
    throw new BgpError("BGP_BAD_FIELD", `${what} ${JSON.stringify(text)} is not an IPv4 address`, {
      object: what,
    });
  return a.bytes;
}

/** The message's name for logs: "OPEN", "UPDATE", … */
export function messageName(m: BgpMessage): string {
  return m.type === "ROUTE_REFRESH" ? "ROUTE-REFRESH" : m.type;
}
