/**
 * Constants of BGP-4 (RFC 4271) and the extensions an announce-only speaker needs: capabilities
 * advertisement (RFC 5492), multiprotocol (RFC 4760), route refresh (RFC 2918), 4-octet AS
 * numbers (RFC 6793), communities (RFC 1997), Cease subcodes (RFC 4486), the shutdown
 * communication (RFC 9003), FSM error subcodes (RFC 6608) and GRACEFUL_SHUTDOWN (RFC 8326).
 * Each value cites its source.
 */

// RFC 4271 §8.2.1.1 / IANA: TCP port 179
export const BGP_PORT = 179;
// RFC 4271 §4.2: "the current BGP version number is 4"
export const BGP_VERSION = 4;
// RFC 4271 §4.1: Marker (16 octets, all ones), Length (2), Type (1)
export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
// RFC 4271 §4.1: "The value of the Length field MUST always be at least 19 and no greater than 4096"
export const MAX_MESSAGE_LENGTH = 4096;
// RFC 4271 §4.2: OPEN is at least 29 octets (header included)
export const MIN_OPEN_LENGTH = 29;
// RFC 4271 §4.3: UPDATE is at least 23 octets
export const MIN_UPDATE_LENGTH = 23;
// RFC 4271 §4.4: KEEPALIVE is the header alone
export const KEEPALIVE_LENGTH = 19;
// RFC 4271 §4.5: NOTIFICATION is at least 21 octets
export const MIN_NOTIFICATION_LENGTH = 21;
// RFC 2918 §3: ROUTE-REFRESH carries AFI (2), Reserved (1), SAFI (1)
export const ROUTE_REFRESH_LENGTH = 23;

// RFC 4271 §4.1 Type; RFC 2918 §3 (ROUTE-REFRESH = 5)
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;
export type MessageTypeName = keyof typeof MessageType;

// RFC 5492 §4: Optional Parameter type 2 = Capabilities
export const OPT_PARAM_CAPABILITIES = 2;

// IANA "Capability Codes" (RFC 5492 §4)
export const CapabilityCode = {
  MULTIPROTOCOL: 1, // RFC 4760 §8
  ROUTE_REFRESH: 2, // RFC 2918 §2
  GRACEFUL_RESTART: 64, // RFC 4724 §3 (not sent; kept when received)
  AS4: 65, // RFC 6793 §3
} as const;

// RFC 4760 §1 / IANA Address Family Numbers
export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
// RFC 4760 §6 / IANA SAFI: unicast
export const SAFI_UNICAST = 1;

// RFC 6793 §9: AS_TRANS, the 2-octet stand-in for a 4-octet AS number
export const AS_TRANS = 23456;

// RFC 4271 §4.3 Path Attributes: Attribute Flags (high-order bits of the first octet)
export const ATTR_FLAG_OPTIONAL = 0x80;
export const ATTR_FLAG_TRANSITIVE = 0x40;
export const ATTR_FLAG_PARTIAL = 0x20;
export const ATTR_FLAG_EXTENDED_LENGTH = 0x10;

// RFC 4271 §4.3 / §5.1 attribute type codes; RFC 4760 §3, §4; RFC 1997; RFC 6793 §3
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  AS4_PATH: 17,
} as const;

// RFC 4271 §4.3 ORIGIN values
export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
// RFC 4271 §4.3 AS_PATH segment types
export const AS_SET = 1;
export const AS_SEQUENCE = 2;

// RFC 8326 §5: GRACEFUL_SHUTDOWN well-known community 65535:0 ("lower my preference, I am leaving")
export const COMMUNITY_GRACEFUL_SHUTDOWN = 0xffff0000;

// RFC 4271 §4.5 Error Code
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
} as const;

// RFC 4271 §6.1: Message Header Error subcodes
export const HeaderSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

// RFC 4271 §6.2 (subcode 5 deprecated); RFC 5492 §5: Unsupported Capability = 7
export const OpenSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

// RFC 4271 §6.3 (subcode 7 deprecated)
export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

// RFC 6608 §3: Finite State Machine Error subcodes
export const FsmSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_IN_OPENSENT: 1,
  UNEXPECTED_IN_OPENCONFIRM: 2,
  UNEXPECTED_IN_ESTABLISHED: 3,
} as const;

// RFC 4486 §4: Cease subcodes
export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
} as const;

// RFC 9003 §2: the shutdown communication is at most 255 octets of UTF-8
export const MAX_SHUTDOWN_COMMUNICATION = 255;

// RFC 4271 §10: suggested HoldTime 90 s; "the Hold Time MUST be either zero or at least three seconds"
export const DEFAULT_HOLD_TIME = 90;
export const MIN_NONZERO_HOLD_TIME = 3;
// RFC 4271 §8.2.2: in OpenSent "the HoldTimer ... is set to a large value ... 4 minutes is suggested"
export const OPEN_SENT_HOLD_TIME = 240;

/** Names for logs and lvsctl: RFC 4271 §4.5 error codes. */
export const ERROR_CODE_NAMES: Record<number, string> = {
  1: "Message Header Error",
  2: "OPEN Message Error",
  3: "UPDATE Message Error",
  4: "Hold Timer Expired",
  5: "Finite State Machine Error",
  6: "Cease",
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type" },
  2: {
    0: "Unspecific",
    1: "Unsupported Version Number",
    2: "Bad Peer AS",
    3: "Bad BGP Identifier",
    4: "Unsupported Optional Parameter",
    6: "Unacceptable Hold Time",
    7: "Unsupported Capability",
  },
  3: {
    1: "Malformed Attribute List",
    2: "Unrecognized Well-known Attribute",
    3: "Missing Well-known Attribute",
    4: "Attribute Flags Error",
    5: "Attribute Length Error",
    6: "Invalid ORIGIN Attribute",
    8: "Invalid NEXT_HOP Attribute",
    9: "Optional Attribute Error",
    10: "Invalid Network Field",
    11: "Malformed AS_PATH",
  },
  5: {
    0: "Unspecified",
    1: "Unexpected message in OpenSent",
    2: "Unexpected message in OpenConfirm",
    3: "Unexpected message in Established",
  },
  6: {
    1: "Maximum Number of Prefixes Reached",
    2: "Administrative Shutdown",
    3: "Peer De-configured",
    4: "Administrative Reset",
    5: "Connection Rejected",
    6: "Other Configuration Change",
    7: "Connection Collision Resolution",
    8: "Out of Resources",
  },
};

/** "Cease/Administrative Shutdown", "OPEN Message Error/Bad Peer AS", or numbers when unknown. */
export function notificationName(code: number, subcode: number): string {
  const c = ERROR_CODE_NAMES[code] ?? `error ${code}`;
  const s = SUBCODE_NAMES[code]?.[subcode];
  return s ? `${c}/${s}` : subcode === 0 ? c : `${c}/subcode ${subcode}`;
}
