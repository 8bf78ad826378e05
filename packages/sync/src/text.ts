/**
 * Names and the one-line text form of a connection, as `ipvsadm -Lcn` prints it without the
 * expiry column: `TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED` (IPv6 in brackets).
 */
import { formatEndpoint, tryParseAddress } from "@lvs/inet";
import type { SeqData, SyncConnection } from "./codec.js";
import {
  AF_INET6,
  IP_VS_CONN_F_INACTIVE,
  IP_VS_CONN_F_TEMPLATE,
  IP_VS_TCP_S_ESTABLISHED,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  PROTOCOL_NAMES,
  SCTP_STATE_NAMES,
  TCP_STATE_NAMES,
  TEMPLATE_STATE_NAMES,
  UDP_STATE_NAMES,
} from "./constants.js";
import { SyncError } from "./errors.js";

export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? String(protocol);
}

export function parseProtocol(name: string): number | undefined {
  const upper = name.toUpperCase();
  for (const [num, n] of Object.entries(PROTOCOL_NAMES)) if (n.toUpperCase() === upper) return Number(num);
  return /^\d{1,3}$/.test(name) && Number(name) <= 255 ? Number(name) : undefined;
}

function stateTable(protocol: number, flags: number): readonly string[] | undefined {
  if (flags & IP_VS_CONN_F_TEMPLATE) return TEMPLATE_STATE_NAMES;
  if (protocol === IPPROTO_TCP) return TCP_STATE_NAMES;
  if (protocol === IPPROTO_UDP) return UDP_STATE_NAMES;
  if (protocol === IPPROTO_SCTP) return SCTP_STATE_NAMES;
  return undefined;
}

/** The state name /proc/net/ip_vs_conn prints (ip_vs_state_name()); "ERR!" when out of range. */
export function stateName(protocol: number, state: number, flags = 0): string {
  const table = stateTable(protocol, flags);
  if (!table) return protocol === 0 ? "NONE" : "ERR!";
  return table[state] ?? "ERR!";
}

/** Inverse of stateName(); also accepts a decimal state number. */
export function parseState(protocol: number, name: string, flags = 0): number | undefined {
  const table = stateTable(protocol, flags);
  const i = table ? table.indexOf(name.toUpperCase()) : -1;
  if (i >= 0) return i;
  return /^\d{1,5}$/.test(name) && Number(name) <= 0xffff ? Number(name) : undefined;
}

/** `TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED` */
export function formatConnection(c: SyncConnection): string {
  return `${protocolName(c.protocol)} ${formatEndpoint(c.clientAddress, c.clientPort)} ${formatEndpoint(
    c.virtualAddress,
    c.virtualPort,
  )} ${formatEndpoint(c.destAddress, c.destPort)} ${stateName(c.protocol, c.state, c.flags)}`;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** JSON-ready form: names next to numbers, binary as hex. */
export function connectionToJson(c: SyncConnection): Record<string, unknown> {
  const o: Record<string, unknown> = {
    protocol: protocolName(c.protocol),
    af: c.af === AF_INET6 ? "inet6" : "inet",
    clientAddress: c.clientAddress,
    clientPort: c.clientPort,
    virtualAddress: c.virtualAddress,
    virtualPort: c.virtualPort,
    destAddress: c.destAddress,
    destPort: c.destPort,
    state: stateName(c.protocol, c.state, c.flags),
    stateNumber: c.state,
    flags: c.flags,
    fwmark: c.fwmark,
    timeout: c.timeout,
  };
  if (c.inSeq) o.inSeq = c.inSeq;
  if (c.outSeq) o.outSeq = c.outSeq;
  if (c.peData) o.peData = hex(c.peData);
  if (c.peName !== undefined) o.peName = c.peName;
  if (c.unknownOptions) o.unknownOptions = c.unknownOptions.map((u) => ({ type: u.type, data: hex(u.data) }));
  return o;
}

function splitEndpoint(
  text: string,
  line: number,
  what: string,
): { af: number; address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 0xffff) {
    throw new SyncError(
      "SYNC_BAD_LINE",
      `line ${line}: ${what} must be ADDR:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`,
      {
        line,
        object: what,
      },
    );
  }
  const a = tryParseAddress(m[1] as string);
  if (a) return { af: a.af, address: a.text, port: Number(m[2]) };
  throw new SyncError(
    "SYNC_BAD_LINE",
    `line ${line}: ${what} has no valid IP address: ${JSON.stringify(text)}`,
    {
      line,
      object: what,
    },
  );
}

/** Flags a kernel master would carry for a NAT connection in `state` (INACTIVE unless established). */
function defaultFlags(protocol: number, state: number): number {
  if (protocol === IPPROTO_TCP) return state === IP_VS_TCP_S_ESTABLISHED ? 0 : IP_VS_CONN_F_INACTIVE;
  if (protocol === IPPROTO_SCTP) return state === 8 ? 0 : IP_VS_CONN_F_INACTIVE;
  return 0;
}

function fromHex(s: unknown, line: number, what: string): Uint8Array {
  if (typeof s !== "string" || !/^([0-9a-fA-F]{2})*$/.test(s)) {
    throw new SyncError("SYNC_BAD_LINE", `line ${line}: ${what} must be a hex string`, {
      line,
      object: what,
    });
  }
  return new Uint8Array(Buffer.from(s, "hex"));
}

/**
 * Parses one input line: the text form above (extra trailing columns such as an expiry are
 * ignored) or a JSON object as connectionToJson() writes it. Throws SYNC_BAD_LINE with the line.
 */
export function parseConnection(text: string, line = 1): SyncConnection {
  const t = text.trim();
  if (t.startsWith("{")) return parseJsonConnection(t, line);
  const cols = t.split(/\s+/);
  if (cols.length < 5) {
    throw new SyncError(
      "SYNC_BAD_LINE",
      `line ${line}: expected "PROTO CLIENT VIRTUAL DEST STATE", got ${JSON.stringify(t)}`,
      {
        line,
      },
    );
  }
  const [protoText, cText, vText, dText, stateText] = cols as [string, string, string, string, string];
  const protocol = parseProtocol(protoText);
  if (protocol === undefined) {
    throw new SyncError(
      "SYNC_BAD_LINE",
      `line ${line}: unknown protocol ${JSON.stringify(protoText)} (TCP, UDP, SCTP or a number)`,
      {
        line,
        object: "protocol",
      },
    );
  }
  const c = splitEndpoint(cText, line, "client");
  const v = splitEndpoint(vText, line, "virtual");
  const d = splitEndpoint(dText, line, "destination");
  if (c.af !== v.af || v.af !== d.af) {
    throw new SyncError(
      "SYNC_BAD_LINE",
      `line ${line}: client, virtual and destination must share one address family`,
      { line },
    );
  }
  const state = parseState(protocol, stateText);
  if (state === undefined) {
    throw new SyncError(
      "SYNC_BAD_LINE",
      `line ${line}: unknown ${protocolName(protocol)} state ${JSON.stringify(stateText)}`,
      {
        line,
        object: "state",
      },
    );
  }
  return {
    af: c.af,
    protocol,
    clientAddress: c.address,
    clientPort: c.port,
    virtualAddress: v.address,
    virtualPort: v.port,
    destAddress: d.address,
    destPort: d.port,
    flags: defaultFlags(protocol, state),
    state,
    fwmark: 0,
    timeout: 0,
  };
}

function parseJsonConnection(t: string, line: number): SyncConnection {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(t) as Record<string, unknown>;
  } catch (err) {
    throw new SyncError("SYNC_BAD_LINE", `line ${line}: invalid JSON (${(err as Error).message})`, { line });
  }
  const ep = (a: string, p: string, what: string) => {
    const port = o[p];
    if (typeof o[a] !== "string" || typeof port !== "number") {
      throw new SyncError("SYNC_BAD_LINE", `line ${line}: ${a} (string) and ${p} (number) are required`, {
        line,
        object: what,
      });
    }
    return splitEndpoint(
      String(o[a]).includes(":") ? `[${String(o[a])}]:${port}` : `${String(o[a])}:${port}`,
      line,
      what,
    );
  };
  const protocol = typeof o.protocol === "number" ? o.protocol : parseProtocol(String(o.protocol ?? ""));
  if (protocol === undefined)
    throw new SyncError("SYNC_BAD_LINE", `line ${line}: bad protocol`, { line, object: "protocol" });
  const c = ep("clientAddress", "clientPort", "client");
  const v = ep("virtualAddress", "virtualPort", "virtual");
  const d = ep("destAddress", "destPort", "destination");
  const flagsIn = typeof o.flags === "number" ? o.flags : undefined;
  const state =
    typeof o.stateNumber === "number"
      ? o.stateNumber
      : typeof o.state === "number"
        ? o.state
        : parseState(protocol, String(o.state ?? ""), flagsIn ?? 0);
  if (state === undefined)
    throw new SyncError("SYNC_BAD_LINE", `line ${line}: bad state`, { line, object: "state" });
  const num = (k: string): number => (typeof o[k] === "number" ? (o[k] as number) : 0);
  const conn: SyncConnection = {
    af: c.af,
    protocol,
    clientAddress: c.address,
    clientPort: c.port,
    virtualAddress: v.address,
    virtualPort: v.port,
    destAddress: d.address,
    destPort: d.port,
    flags: flagsIn ?? defaultFlags(protocol, state),
    state,
    fwmark: num("fwmark"),
    timeout: num("timeout"),
  };
  if (o.inSeq) conn.inSeq = o.inSeq as SeqData;
  if (o.outSeq) conn.outSeq = o.outSeq as SeqData;
  if (o.peData !== undefined) conn.peData = fromHex(o.peData, line, "peData");
  if (typeof o.peName === "string") conn.peName = o.peName;
  if (Array.isArray(o.unknownOptions)) {
    conn.unknownOptions = (o.unknownOptions as Array<{ type: number; data: unknown }>).map((u) => ({
      type: u.type,
      data: fromHex(u.data, line, "unknownOptions"),
    }));
  }
  return conn;
}
