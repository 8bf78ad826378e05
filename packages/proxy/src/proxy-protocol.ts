// The PROXY protocol, versions 1 (text) and 2 (binary), as haproxy's doc/proxy-protocol.txt
// defines it and haproxy 2.6 sends it (`send-proxy`, `send-proxy-v2`). Pure: bytes in, values out.
// Decoding never throws: a receive path gets `incomplete`, a header, or an error code.
// Addresses print as inet_ntop(3) does (what haproxy writes and node's sockets report): @lvs/inet.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "@lvs/inet";
import {
  PP_V1_MAX_LENGTH,
  PP_V2_ADDRESS_LENGTH,
  PP_V2_COMMANDS,
  PP_V2_DEFAULT_MAX_LENGTH,
  PP_V2_FAMILIES,
  PP_V2_HEADER_LENGTH,
  PP_V2_MAX_LENGTH,
  PP_V2_SIGNATURE,
  PP_V2_TRANSPORTS,
  PP_V2_VERSION,
  type ProxyCommand,
  type ProxyFamily,
  type ProxyTransport,
} from "./constants.js";
import { ProxyError } from "./errors.js";

export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** proxy-protocol.txt §2.1: `PROXY TCP4|TCP6|UNKNOWN ...\r\n`. */
export interface ProxyHeaderV1 {
  version: 1;
  protocol: "TCP4" | "TCP6" | "UNKNOWN";
  /** Present for TCP4/TCP6. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
  /** UNKNOWN: whatever followed the word up to CRLF (receivers ignore it; kept for round trips). */
  rest?: string;
}

/** One type-length-value after the addresses (proxy-protocol.txt §2.2.7). */
export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

/** proxy-protocol.txt §2.2: the binary header. */
export interface ProxyHeaderV2 {
  version: 2;
  command: ProxyCommand;
  family: ProxyFamily;
  transport: ProxyTransport;
  /** INET/INET6. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
  /** UNIX: the two 108-byte path fields as sent. */
  sourcePath?: Uint8Array;
  destinationPath?: Uint8Array;
  tlvs: ProxyTlv[];
}

export type ProxyHeader = ProxyHeaderV1 | ProxyHeaderV2;

/** Why a received header was refused. */
export type ProxyHeaderErrorCode =
  /** The bytes start with neither `PROXY ` nor the v2 signature. */
  | "PP_NOT_PROXY"
  /** Longer than the limit (107 bytes for v1, `maxV2Length` for v2). */
  | "PP_TOO_LONG"
  /** A v1 line that does not follow §2.1 (fields, addresses, ports, CRLF). */
  | "PP_BAD_V1"
  /** A v2 version nibble other than 2, or a command/family/transport outside the spec. */
  | "PP_BAD_V2_FIELD"
  /** A v2 length shorter than the family's address block. */
  | "PP_BAD_V2_LENGTH"
  /** A TLV running past the end of the header. */
  | "PP_BAD_TLV";

export type ProxyDecodeResult =
  | { status: "incomplete" }
  | { status: "ok"; header: ProxyHeader; length: number }
  | { status: "error"; code: ProxyHeaderErrorCode; message: string };

export interface ProxyDecodeLimits {
  /** The largest v2 header accepted, fixed part included (default 4096; at most 65551). */
  maxV2Length?: number;
}

const V1_PREFIX = "PROXY ";

function isPort(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

// ------------------------------------------------------------------ encode

const ascii = new TextEncoder();

function checkEndpoint(e: ProxyEndpoint | undefined, v6: boolean, what: string): Uint8Array {
  const bytes = e ? (v6 ? parseIPv6(e.address) : parseIPv4(e.address)) : undefined;
  if (!e || !bytes || !isPort(e.port)) {
    throw new ProxyError(
      "PROXY_BAD_VALUE",
      `PROXY header ${what} must be an IPv${v6 ? 6 : 4} address and a port 0..65535, got ${JSON.stringify(e)}`,
      { object: what },
    );
  }
  return bytes;
}

/** The v1 line for a header (proxy-protocol.txt §2.1). Throws PROXY_BAD_VALUE on a bad field. */
export function encodeProxyV1(h: ProxyHeaderV1): Uint8Array {
  if (h.protocol === "UNKNOWN") {
    const rest = h.rest ?? "";
    if (/[\r\n]/.test(rest) || rest.length + 15 > PP_V1_MAX_LENGTH) {
      throw new ProxyError("PROXY_BAD_VALUE", "PROXY UNKNOWN: rest must be one short line", {
        object: "rest",
      });
    }
    return ascii.encode(`PROXY UNKNOWN${rest}\r\n`);
  }
  const v6 = h.protocol === "TCP6";
  const s = checkEndpoint(h.source, v6, "source");
  const d = checkEndpoint(h.destination, v6, "destination");
  const fmt = v6 ? formatIPv6 : formatIPv4;
  return ascii.encode(`PROXY ${h.protocol} ${fmt(s)} ${fmt(d)} ${h.source!.port} ${h.destination!.port}\r\n`);
}

/** The v2 header (proxy-protocol.txt §2.2), TLVs in the order given. Throws PROXY_BAD_VALUE. */
export function encodeProxyV2(h: ProxyHeaderV2): Uint8Array {
  const family = PP_V2_FAMILIES[h.family];
  const transport = PP_V2_TRANSPORTS[h.transport];
  const command = PP_V2_COMMANDS[h.command];
  if (family === undefined || transport === undefined || command === undefined) {
    throw new ProxyError(
      "PROXY_BAD_VALUE",
      `PROXY v2: unknown command/family/transport ${h.command}/${h.family}/${h.transport}`,
      { object: "header" },
    );
  }
  const addrLen = PP_V2_ADDRESS_LENGTH[h.family];
  let tlvLen = 0;
  for (const t of h.tlvs) {
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 0xff || t.value.length > 0xffff) {
      throw new ProxyError("PROXY_BAD_VALUE", `PROXY v2: bad TLV type ${t.type}`, { object: "tlvs" });
    }
    tlvLen += 3 + t.value.length;
  }
  const len = addrLen + tlvLen;
  if (len > 0xffff) {
    throw new ProxyError("PROXY_BAD_VALUE", `PROXY v2: ${len} bytes do not fit the 16-bit length`, {
      object: "tlvs",
    });
  }
  const out = new Uint8Array(PP_V2_HEADER_LENGTH + len);
  out.set(PP_V2_SIGNATURE, 0);
  out[12] = (PP_V2_VERSION << 4) | command;
  out[13] = (family << 4) | transport;
  out[14] = len >> 8;
  out[15] = len & 0xff;
  let at = PP_V2_HEADER_LENGTH;
  if (h.family === "INET" || h.family === "INET6") {
    const v6 = h.family === "INET6";
    const s = checkEndpoint(h.source, v6, "source");
    const d = checkEndpoint(h.destination, v6, "destination");
    out.set(s, at);
    out.set(d, at + s.length);
    at += 2 * s.length;
    out[at++] = h.source!.port >> 8;
    out[at++] = h.source!.port & 0xff;
    out[at++] = h.destination!.port >> 8;
    out[at++] = h.destination!.port & 0xff;
  } else if (h.family === "UNIX") {
    for (const p of [h.sourcePath, h.destinationPath]) {
      if (p && p.length > 108) {
        throw new ProxyError("PROXY_BAD_VALUE", "PROXY v2: a UNIX path field is 108 bytes", {
          object: "path",
        });
      }
      if (p) out.set(p, at);
      at += 108;
    }
  }
  for (const t of h.tlvs) {
    out[at++] = t.type;
    out[at++] = t.value.length >> 8;
    out[at++] = t.value.length & 0xff;
    out.set(t.value, at);
    at += t.value.length;
  }
  return out;
}

export function encodeProxyHeader(h: ProxyHeader): Uint8Array {
  return h.version === 1 ? encodeProxyV1(h) : encodeProxyV2(h);
}

/**
 * The header a proxy sends for a stream from `source` to `destination` (haproxy's
 * make_proxy_line): TCP4 when both are IPv4, TCP6 when both are IPv6; when the families differ the
 * IPv4 one is written IPv4-mapped (`::ffff:a.b.c.d`).
 */
export function proxyHeaderFor(
  version: 1 | 2,
  source: ProxyEndpoint,
  destination: ProxyEndpoint,
  transport: "STREAM" | "DGRAM" = "STREAM",
): ProxyHeader {
  let s = source;
  let d = destination;
  const sv4 = parseIPv4(s.address) !== undefined;
  const dv4 = parseIPv4(d.address) !== undefined;
  if (sv4 !== dv4) {
    if (sv4) s = { address: `::ffff:${s.address}`, port: s.port };
    else d = { address: `::ffff:${d.address}`, port: d.port };
  }
  const v6 = !(sv4 && dv4);
  if (version === 1) return { version: 1, protocol: v6 ? "TCP6" : "TCP4", source: s, destination: d };
  return {
    version: 2,
    command: "PROXY",
    family: v6 ? "INET6" : "INET",
    transport,
    source: s,
    destination: d,
    tlvs: [],
  };
}

// ------------------------------------------------------------------ decode

function fail(code: ProxyHeaderErrorCode, message: string): ProxyDecodeResult {
  return { status: "error", code, message };
}

function decodeV1(b: Uint8Array): ProxyDecodeResult {
  // §2.1: "a receiver ... must not try to read more than 107 bytes"; the line ends with CRLF.
  const limit = Math.min(b.length, PP_V1_MAX_LENGTH);
  let end = -1;
  for (let i = 0; i < limit; i++) {
    if (b[i] === 0x0a) {
      if (i === 0 || b[i - 1] !== 0x0d) return fail("PP_BAD_V1", "v1 line ends with LF without CR");
      end = i - 1;
      break;
    }
  }
  if (end < 0) {
    if (b.length >= PP_V1_MAX_LENGTH) return fail("PP_TOO_LONG", "v1 line longer than 107 bytes");
    return { status: "incomplete" };
  }
  let line = "";
  for (let i = 0; i < end; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) return fail("PP_BAD_V1", `v1 line has a non-printable byte at ${i}`);
    line += String.fromCharCode(c);
  }
  const length = end + 2;
  const rest = line.slice(V1_PREFIX.length);
  if (rest.startsWith("UNKNOWN")) {
    return { status: "ok", header: { version: 1, protocol: "UNKNOWN", rest: rest.slice(7) }, length };
  }
  const f = rest.split(" ");
  if (f.length !== 5 || (f[0] !== "TCP4" && f[0] !== "TCP6")) {
    return fail("PP_BAD_V1", "v1 line must be PROXY TCP4|TCP6 SRC DST SPORT DPORT or PROXY UNKNOWN");
  }
  const v6 = f[0] === "TCP6";
  const src = v6 ? parseIPv6(f[1]!) : parseIPv4(f[1]!);
  const dst = v6 ? parseIPv6(f[2]!) : parseIPv4(f[2]!);
  if (!src || !dst) return fail("PP_BAD_V1", `v1 addresses are not ${f[0]}`);
  const ports = [f[3]!, f[4]!].map((p) => (/^(0|[1-9][0-9]{0,4})$/.test(p) ? Number(p) : -1));
  if (!isPort(ports[0]) || !isPort(ports[1])) return fail("PP_BAD_V1", "v1 ports must be 0..65535");
  const fmt = v6 ? formatIPv6 : formatIPv4;
  return {
    status: "ok",
    header: {
      version: 1,
      protocol: f[0],
      source: { address: fmt(src), port: ports[0] },
      destination: { address: fmt(dst), port: ports[1] },
    },
    length,
  };
}

function nameOf<T extends string>(table: Readonly<Record<T, number>>, v: number): T | undefined {
  for (const k of Object.keys(table) as T[]) if (table[k] === v) return k;
  return undefined;
}

/** A plain Uint8Array copy (a Buffer's slice() is a view that would pin the whole chunk). */
function copy(b: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(b.subarray(from, to));
}

function decodeV2(b: Uint8Array, maxLength: number): ProxyDecodeResult {
  if (b.length < PP_V2_HEADER_LENGTH) return { status: "incomplete" };
  const version = b[12]! >> 4;
  const command = nameOf(PP_V2_COMMANDS, b[12]! & 0x0f);
  const family = nameOf(PP_V2_FAMILIES, b[13]! >> 4);
  const transport = nameOf(PP_V2_TRANSPORTS, b[13]! & 0x0f);
  // §2.2: other versions/commands/families/transports "must be rejected as invalid by receivers".
  if (version !== PP_V2_VERSION || !command || !family || !transport) {
    return fail(
      "PP_BAD_V2_FIELD",
      `v2 version/command 0x${b[12]!.toString(16)} family 0x${b[13]!.toString(16)}`,
    );
  }
  const len = (b[14]! << 8) | b[15]!;
  const total = PP_V2_HEADER_LENGTH + len;
  if (total > maxLength) return fail("PP_TOO_LONG", `v2 header of ${total} bytes (limit ${maxLength})`);
  if (b.length < total) return { status: "incomplete" };
  const addrLen = PP_V2_ADDRESS_LENGTH[family];
  if (len < addrLen) return fail("PP_BAD_V2_LENGTH", `v2 length ${len} < ${addrLen} for ${family}`);
  const h: ProxyHeaderV2 = { version: 2, command, family, transport, tlvs: [] };
  let at = PP_V2_HEADER_LENGTH;
  if (family === "INET" || family === "INET6") {
    const n = family === "INET" ? 4 : 16;
    const fmt = family === "INET" ? formatIPv4 : formatIPv6;
    h.source = { address: fmt(b, at), port: (b[at + 2 * n]! << 8) | b[at + 2 * n + 1]! };
    h.destination = { address: fmt(b, at + n), port: (b[at + 2 * n + 2]! << 8) | b[at + 2 * n + 3]! };
  } else if (family === "UNIX") {
    h.sourcePath = copy(b, at, at + 108);
    h.destinationPath = copy(b, at + 108, at + 216);
  }
  at += addrLen;
  while (at < total) {
    if (total - at < 3) return fail("PP_BAD_TLV", `v2 TLV header cut at byte ${at}`);
    const type = b[at]!;
    const vlen = (b[at + 1]! << 8) | b[at + 2]!;
    if (at + 3 + vlen > total)
      return fail("PP_BAD_TLV", `v2 TLV 0x${type.toString(16)} runs past the header`);
    h.tlvs.push({ type, value: copy(b, at + 3, at + 3 + vlen) });
    at += 3 + vlen;
  }
  return { status: "ok", header: h, length: total };
}

/**
 * Decodes the PROXY header at the start of `bytes` (v1 or v2, told apart by their first bytes, as
 * haproxy's accept-proxy does). `incomplete` while `bytes` is a prefix of a header that may still be
 * valid; `length` is the header's size, the connection's own data follows it. Never throws.
 */
export function decodeProxyHeader(bytes: Uint8Array, limits: ProxyDecodeLimits = {}): ProxyDecodeResult {
  const maxV2 = Math.min(
    Math.max(limits.maxV2Length ?? PP_V2_DEFAULT_MAX_LENGTH, PP_V2_HEADER_LENGTH),
    PP_V2_MAX_LENGTH,
  );
  if (bytes.length === 0) return { status: "incomplete" };
  if (bytes[0] === 0x50) {
    const n = Math.min(bytes.length, V1_PREFIX.length);
    for (let i = 0; i < n; i++) {
      if (bytes[i] !== V1_PREFIX.charCodeAt(i)) return fail("PP_NOT_PROXY", "not a PROXY header");
    }
    return bytes.length < V1_PREFIX.length ? { status: "incomplete" } : decodeV1(bytes);
  }
  const n = Math.min(bytes.length, PP_V2_SIGNATURE.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== PP_V2_SIGNATURE[i]) return fail("PP_NOT_PROXY", "not a PROXY header");
  }
  return decodeV2(bytes, maxV2);
}

/**
 * Accumulates a stream's first chunks until its PROXY header is complete. Holds at most the
 * header's limit in memory; never throws.
 */
export class ProxyHeaderReader {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly limits: ProxyDecodeLimits;

  constructor(limits: ProxyDecodeLimits = {}) {
    this.limits = limits;
  }

  /** Adds a chunk: `incomplete`, the header with the bytes that followed it, or an error. */
  push(
    chunk: Uint8Array,
  ):
    | { status: "incomplete" }
    | { status: "ok"; header: ProxyHeader; rest: Uint8Array }
    | { status: "error"; code: ProxyHeaderErrorCode; message: string } {
    let all: Uint8Array;
    if (this.buf.length === 0) all = chunk;
    else {
      all = new Uint8Array(this.buf.length + chunk.length);
      all.set(this.buf, 0);
      all.set(chunk, this.buf.length);
    }
    const r = decodeProxyHeader(all, this.limits);
    if (r.status === "ok") {
      this.buf = new Uint8Array(0);
      return { status: "ok", header: r.header, rest: all.subarray(r.length) };
    }
    if (r.status === "incomplete") {
      // decodeProxyHeader refuses anything past the limits, so what is kept here stays bounded.
      this.buf = new Uint8Array(all);
      return r;
    }
    this.buf = new Uint8Array(0);
    return r;
  }
}

/** The client endpoint a header reports, or undefined (LOCAL, UNKNOWN, UNSPEC, UNIX). */
export function proxiedSource(h: ProxyHeader): ProxyEndpoint | undefined {
  if (h.version === 1) return h.protocol === "UNKNOWN" ? undefined : h.source;
  if (h.command !== "PROXY" || (h.family !== "INET" && h.family !== "INET6")) return undefined;
  return h.source;
}

/** The destination a header reports (see proxiedSource). */
export function proxiedDestination(h: ProxyHeader): ProxyEndpoint | undefined {
  if (h.version === 1) return h.protocol === "UNKNOWN" ? undefined : h.destination;
  if (h.command !== "PROXY" || (h.family !== "INET" && h.family !== "INET6")) return undefined;
  return h.destination;
}
