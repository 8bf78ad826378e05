/**
 * `host:port` text. IPv6 goes in brackets (RFC 3986 §3.2.2, as ipvsadm, keepalived and URLs write
 * it), so "[2001:db8::1]:80"; a bare IPv6 address is an address without a port.
 */
import { type IpAddress, tryParseAddress } from "./addr.js";
import { InetError } from "./errors.js";

/** An address and, when the text had one, a port. */
export interface Endpoint {
  address: IpAddress;
  port: number | undefined;
}

/** 0..65535 from a number or decimal digits; undefined otherwise. */
export function parsePort(value: string | number): number | undefined {
  const n = typeof value === "number" ? value : /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/**
 * Parses "10.0.0.1:80", "[2001:db8::1]:80", "10.0.0.1", "[2001:db8::1]" or "2001:db8::1" (the
 * last three without a port). Throws INET_BAD_ADDRESS or INET_BAD_PORT, `object` the whole text.
 */
export function parseEndpoint(text: string): Endpoint {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] as string;
    portText = bracketed[2];
    if (!host.includes(":")) host = `[${host}]`; // only IPv6 goes in brackets
  } else {
    const colon = text.indexOf(":");
    const single = colon >= 0 && text.indexOf(":", colon + 1) < 0;
    host = single ? text.slice(0, colon) : text;
    portText = single ? text.slice(colon + 1) : undefined;
  }
  const address = tryParseAddress(host);
  if (!address) {
    const where = host === text ? "" : ` in ${JSON.stringify(text)}`;
    throw new InetError(
      "INET_BAD_ADDRESS",
      `not an IPv4 or IPv6 address: ${JSON.stringify(host)}${where} (write IP:PORT or [IPv6]:PORT)`,
      { object: text },
    );
  }
  if (portText === undefined) return { address, port: undefined };
  const port = parsePort(portText);
  if (port === undefined) {
    throw new InetError("INET_BAD_PORT", `port must be 0..65535 in ${JSON.stringify(text)}`, {
      object: text,
    });
  }
  return { address, port };
}

/**
 * "10.0.0.1:80", "[2001:db8::1]:80", or the bare host without a port. Address text is made
 * canonical; text that is not an address (a name, an empty string) is written as it is, so this
 * is safe inside error messages.
 */
export function formatEndpoint(address: string | IpAddress, port?: number): string {
  const text = typeof address === "string" ? (tryParseAddress(address)?.text ?? address) : address.text;
  const host = text.includes(":") ? `[${text}]` : text;
  return port === undefined ? host : `${host}:${port}`;
}
