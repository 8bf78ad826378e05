/**
 * The VRRP message codec (pure, byte-exact): version 2 (RFC 3768 §5) and version 3 (RFC 9568 §5,
 * the format of RFC 5798) over IPv4 and IPv6, with the checksum variants met on real networks.
 * No I/O, no clock.
 */
import { addressToBytes, bytesToAddress, type IpVersion } from "@lvs/inet";
import {
  IPPROTO_VRRP,
  VRRP_AUTH_NONE,
  VRRP_HEADER_LENGTH,
  VRRP_IPV4_GROUP,
  VRRP_MAX_ADDRESSES,
  VRRP_TYPE_ADVERTISEMENT,
  VRRP_V2_AUTH_LENGTH,
  VRRP_V2_MAX_INTERVAL_S,
  VRRP_V3_INTERVAL_MASK,
  VRRP_V3_MAX_INTERVAL_CS,
} from "./constants.js";
import { VrrpError } from "./errors.js";

/** The IP version an advert travels over (4 or 6). Kept for users of this name; see IpVersion. */
export type AddressFamily = IpVersion;
export type VrrpVersion = 2 | 3;

/** One VRRP advertisement as on the wire. */
export interface VrrpAdvert {
  version: VrrpVersion;
  /** RFC 9568 §5.2.2: 1 = ADVERTISEMENT; any other value is kept so the receive path can count it. */
  type: number;
  /** Virtual router id, 1..255 (0 decodes, and is dropped by the receive path). */
  vrid: number;
  /** 0 (master stopping) .. 255 (address owner). */
  priority: number;
  /** The virtual addresses carried, in packet order (IPv4 or IPv6 text, canonical). */
  addresses: string[];
  /**
   * Advertisement interval in centiseconds. Version 3 carries centiseconds (RFC 9568 §5.2.7);
   * version 2 carries whole seconds (RFC 3768 §5.3.7), here multiplied by 100.
   */
  intervalCs: number;
  /** Version 3: the 4 reserved bits before Max Adver Int (RFC 9568 §5.2.6), kept for round trips. */
  reserved?: number;
  /** Version 2 over IPv4: authentication type (RFC 3768 §5.3.6). */
  authType?: number;
  /** Version 2 over IPv4: the 8 octets of Authentication Data (RFC 3768 §5.3.10). */
  authData?: Uint8Array;
  /** The checksum field as received, or as computed by encodeAdvert. */
  checksum: number;
}

/** What encodeAdvert needs beyond the message itself. */
export type AdvertInput = Omit<VrrpAdvert, "checksum" | "type"> & { type?: number };

/**
 * How the version 3 over IPv4 checksum is computed. RFC 5798 §5.2.8 was read two ways: keepalived
 * and FRR include the IPv4 pseudo-header ("pseudo-header", keepalived's and our default); RFC 9568
 * §5.2.8 settles on the VRRP message alone for IPv4 ("message").
 */
export type V3Ipv4Checksum = "pseudo-header" | "message";

export interface ChecksumContext {
  family: AddressFamily;
  /** Source address of the IP packet (needed for pseudo-header checksums). */
  source?: string;
  /** Destination address of the IP packet (224.0.0.18, ff02::12 or a unicast peer). */
  destination?: string;
  /** Version 3 over IPv4 only; default "pseudo-header". */
  v3Ipv4Checksum?: V3Ipv4Checksum;
}

/** Which computation a received checksum matched (see verifyChecksum). */
export type ChecksumKind =
  | "message"
  | "pseudo-header"
  /** keepalived ≤ 1.3.6 unicast: pseudo-header with 224.0.0.18 as destination (old_unicast_checksum) */
  | "pseudo-header-group";

/** Internet checksum (RFC 1071) of `parts` concatenated; returns the one's complement sum, not inverted. */
export function onesComplementSum(parts: readonly Uint8Array[], initial = 0): number {
  let sum = initial;
  let odd: number | undefined;
  for (const p of parts) {
    let i = 0;
    if (odd !== undefined && p.length > 0) {
      sum += (odd << 8) | (p[0] as number);
      odd = undefined;
      i = 1;
    }
    for (; i + 1 < p.length; i += 2) sum += ((p[i] as number) << 8) | (p[i + 1] as number);
    if (i < p.length) odd = p[i] as number;
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071 checksum of the concatenation (the value to put in a checksum field). */
export function internetChecksum(parts: readonly Uint8Array[]): number {
  return ~onesComplementSum(parts) & 0xffff;
}

/** The IPv4 pseudo-header keepalived and FRR use: src, dst, zero, protocol 112, VRRP length. */
export function ipv4PseudoHeader(source: string, destination: string, length: number): Uint8Array {
  const b = new Uint8Array(12);
  b.set(addressToBytes(source), 0);
  b.set(addressToBytes(destination), 4);
  b[9] = IPPROTO_VRRP;
  b[10] = length >> 8;
  b[11] = length & 0xff;
  return b;
}

/** RFC 8200 §8.1 pseudo-header: src, dst, upper-layer length (32 bits), zero, next header 112. */
export function ipv6PseudoHeader(source: string, destination: string, length: number): Uint8Array {
  const b = new Uint8Array(40);
  b.set(addressToBytes(source), 0);
  b.set(addressToBytes(destination), 16);
  new DataView(b.buffer).setUint32(32, length);
  b[39] = IPPROTO_VRRP;
  return b;
}

function usesPseudoHeader(version: VrrpVersion, ctx: ChecksumContext): boolean {
  if (ctx.family === 6) return true; // RFC 9568 §5.2.8 (and RFC 2460 §8.1 for any upper layer over IPv6)
  if (version === 2) return false; // RFC 3768 §5.3.8: "the entire VRRP message"
  return (ctx.v3Ipv4Checksum ?? "pseudo-header") === "pseudo-header";
}

function pseudoHeader(ctx: ChecksumContext, length: number, destination?: string): Uint8Array {
  const dst = destination ?? ctx.destination;
  if (!ctx.source || !dst) {
    throw new VrrpError(
      "VRRP_BAD_FIELD",
      "a pseudo-header checksum needs the source and destination addresses",
      {
        object: "checksum",
      },
    );
  }
  return ctx.family === 4
    ? ipv4PseudoHeader(ctx.source, dst, length)
    : ipv6PseudoHeader(ctx.source, dst, length);
}

/** Length of the VRRP message for `count` addresses. */
export function advertLength(version: VrrpVersion, family: AddressFamily, count: number): number {
  const auth = version === 2 && family === 4 ? VRRP_V2_AUTH_LENGTH : 0;
  return VRRP_HEADER_LENGTH + count * (family === 4 ? 4 : 16) + auth;
}

function field(ok: boolean, name: string, value: unknown, want: string): void {
  if (!ok) {
    throw new VrrpError("VRRP_BAD_FIELD", `${name} ${JSON.stringify(value)}: expected ${want}`, {
      object: name,
    });
  }
}

/** The 8 octets of a simple-password Authentication Data field: the text, NUL-padded (RFC 3768 §5.3.10). */
export function passwordAuthData(password: string): Uint8Array {
  const b = Buffer.from(password, "utf8");
  field(b.length >= 1 && b.length <= 8, "auth_pass", password, "1 to 8 bytes");
  const out = new Uint8Array(VRRP_V2_AUTH_LENGTH);
  out.set(b);
  return out;
}

/**
 * Encodes one advertisement (the VRRP message, without IP header) and fills in its checksum.
 * `ctx.source`/`ctx.destination` are required when the checksum covers a pseudo-header
 * (always for IPv6, by default for version 3 over IPv4).
 */
export function encodeAdvert(advert: AdvertInput, ctx: ChecksumContext): Uint8Array {
  const { version, vrid, priority, addresses, intervalCs } = advert;
  const family = ctx.family;
  field(version === 2 || version === 3, "version", version, "2 or 3");
  field(Number.isInteger(vrid) && vrid >= 0 && vrid <= 255, "vrid", vrid, "0..255");
  field(Number.isInteger(priority) && priority >= 0 && priority <= 255, "priority", priority, "0..255");
  field(
    addresses.length <= VRRP_MAX_ADDRESSES,
    "addresses",
    addresses.length,
    `at most ${VRRP_MAX_ADDRESSES}`,
  );
  if (version === 2) {
    field(
      Number.isInteger(intervalCs) && intervalCs % 100 === 0 && intervalCs / 100 <= VRRP_V2_MAX_INTERVAL_S,
      "intervalCs",
      intervalCs,
      "whole seconds 0..255 for VRRPv2 (RFC 3768 §5.3.7)",
    );
  } else {
    field(
      Number.isInteger(intervalCs) && intervalCs >= 0 && intervalCs <= VRRP_V3_MAX_INTERVAL_CS,
      "intervalCs",
      intervalCs,
      "0..4095 centiseconds (RFC 9568 §5.2.7)",
    );
  }
  const out = new Uint8Array(advertLength(version, family, addresses.length));
  out[0] = (version << 4) | ((advert.type ?? VRRP_TYPE_ADVERTISEMENT) & 0x0f);
  out[1] = vrid;
  out[2] = priority;
  out[3] = addresses.length;
  if (version === 2) {
    out[4] = family === 4 ? (advert.authType ?? VRRP_AUTH_NONE) : 0;
    out[5] = intervalCs / 100;
  } else {
    const word = (((advert.reserved ?? 0) & 0x0f) << 12) | (intervalCs & VRRP_V3_INTERVAL_MASK);
    out[4] = word >> 8;
    out[5] = word & 0xff;
  }
  let off = VRRP_HEADER_LENGTH;
  const size = family === 4 ? 4 : 16;
  for (const a of addresses) {
    const b = addressToBytes(a);
    field(b.length === size, "addresses", a, `an IPv${family} address`);
    out.set(b, off);
    off += size;
  }
  if (version === 2 && family === 4) {
    // RFC 3768 §5.3.10: zero unless authentication data is given
    if (advert.authData !== undefined) {
      field(advert.authData.length === VRRP_V2_AUTH_LENGTH, "authData", advert.authData.length, "8 bytes");
      out.set(advert.authData, off);
    }
  }
  const parts = usesPseudoHeader(version, ctx) ? [pseudoHeader(ctx, out.length), out] : [out];
  const sum = internetChecksum(parts);
  out[6] = sum >> 8;
  out[7] = sum & 0xff;
  return out;
}

/**
 * Decodes the structure of one VRRP message (RFC 3768 §7.1 / RFC 9568 §7.1 length checks: the
 * received packet contains the complete message including all addresses). Semantic checks
 * (TTL, VRID, auth, interval, address list, checksum) belong to the receive path.
 */
export function decodeAdvert(bytes: Uint8Array, family: AddressFamily): VrrpAdvert {
  if (bytes.length < VRRP_HEADER_LENGTH) {
    throw new VrrpError(
      "VRRP_TRUNCATED",
      `VRRP message of ${bytes.length} bytes is shorter than its 8-byte header`,
      {
        offset: bytes.length,
      },
    );
  }
  const version = (bytes[0] as number) >> 4;
  if (version !== 2 && version !== 3) {
    throw new VrrpError("VRRP_BAD_VERSION", `VRRP version ${version} (expected 2 or 3)`, {
      offset: 0,
      object: "version",
    });
  }
  const count = bytes[3] as number;
  const expected = advertLength(version, family, count);
  if (bytes.length !== expected) {
    throw new VrrpError(
      bytes.length < expected ? "VRRP_TRUNCATED" : "VRRP_BAD_LENGTH",
      `VRRPv${version} message with ${count} IPv${family} address(es) is ${expected} bytes, got ${bytes.length}`,
      { offset: Math.min(bytes.length, expected), object: "length" },
    );
  }
  const addresses: string[] = [];
  const size = family === 4 ? 4 : 16;
  for (let i = 0; i < count; i++) {
    const off = VRRP_HEADER_LENGTH + i * size;
    addresses.push(bytesToAddress(bytes.subarray(off, off + size)));
  }
  const advert: VrrpAdvert = {
    version,
    type: (bytes[0] as number) & 0x0f,
    vrid: bytes[1] as number,
    priority: bytes[2] as number,
    addresses,
    intervalCs: 0,
    checksum: ((bytes[6] as number) << 8) | (bytes[7] as number),
  };
  if (version === 2) {
    advert.intervalCs = (bytes[5] as number) * 100;
    if (family === 4) {
      advert.authType = bytes[4] as number;
      const off = VRRP_HEADER_LENGTH + count * 4;
      advert.authData = bytes.slice(off, off + VRRP_V2_AUTH_LENGTH);
    }
  } else {
    const word = ((bytes[4] as number) << 8) | (bytes[5] as number);
    advert.intervalCs = word & VRRP_V3_INTERVAL_MASK;
    advert.reserved = word >> 12;
  }
  return advert;
}

export type DecodeResult = { ok: true; advert: VrrpAdvert } | { ok: false; error: VrrpError };

/** decodeAdvert that never throws: the shape the receive path uses. */
export function tryDecodeAdvert(bytes: Uint8Array, family: AddressFamily): DecodeResult {
  try {
    return { ok: true, advert: decodeAdvert(bytes, family) };
  } catch (err) {
    if (err instanceof VrrpError) return { ok: false, error: err };
    return { ok: false, error: new VrrpError("VRRP_TRUNCATED", String(err)) };
  }
}

/**
 * Verifies the checksum of a received message (`bytes` = the whole VRRP message). Accepts every
 * computation seen from real peers: for version 2 the message alone; for version 3 over IPv4 the
 * pseudo-header form (keepalived, FRR), the message alone (RFC 9568) and, for unicast, keepalived
 * ≤ 1.3.6's pseudo-header with 224.0.0.18 as destination; for IPv6 the pseudo-header. Returns the
 * form that matched, or undefined.
 */
export function verifyChecksum(bytes: Uint8Array, ctx: ChecksumContext): ChecksumKind | undefined {
  const version = ((bytes[0] ?? 0) >> 4) as VrrpVersion;
  const ok = (parts: Uint8Array[]) => onesComplementSum(parts) === 0xffff;
  if (ctx.family === 4 && version === 2) return ok([bytes]) ? "message" : undefined;
  if (ctx.source && ctx.destination) {
    if (ok([pseudoHeader(ctx, bytes.length), bytes])) return "pseudo-header";
    if (ctx.family === 4 && ctx.destination !== VRRP_IPV4_GROUP) {
      if (ok([pseudoHeader(ctx, bytes.length, VRRP_IPV4_GROUP), bytes])) return "pseudo-header-group";
    }
  }
  if (ctx.family === 4 && ok([bytes])) return "message";
  return undefined;
}

/** The simple-password text of an Authentication Data field (up to the first NUL). */
export function authDataText(data: Uint8Array): string {
  const end = data.indexOf(0);
  return Buffer.from(data.subarray(0, end < 0 ? data.length : end)).toString("utf8");
}
