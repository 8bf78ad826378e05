// What the scheduler takes from its callers — addresses, endpoints, netmasks, ports — parsed by
// @lvs/inet and refused with this package's SchedulerError (same message and object).
import {
  type AddressFamily,
  AF_INET6,
  InetError,
  type IpAddress,
  parseEndpoint as inetEndpoint,
  parseNetmask as inetNetmask,
  parsePort,
  tryParseAddress,
} from "@lvs/inet";
import { SchedulerError, type SchedulerErrorCode } from "./errors.js";

function rethrow(err: unknown, code: SchedulerErrorCode): never {
  if (err instanceof InetError) throw new SchedulerError(code, err.message, { object: err.object ?? "" });
  throw err;
}

/** Parses IPv4 or IPv6 text (no zone, no brackets). Throws SchedulerError SCHED_BAD_ADDRESS. */
export function parseAddress(text: string): IpAddress {
  const a = tryParseAddress(text);
  if (a) return a;
  throw new SchedulerError(
    "SCHED_BAD_ADDRESS",
    `not an IPv4 or IPv6 address: ${JSON.stringify(text)} (write e.g. 10.0.0.1 or 2001:db8::1)`,
    { object: text },
  );
}

/**
 * A persistence netmask as ipvsadm's `-M` takes it: IPv4 dotted mask (contiguous ones) or a prefix
 * length; IPv6 a prefix length 1..128. Returns the prefix length. Throws SCHED_BAD_VALUE.
 */
export function parseNetmask(mask: string | number, af: AddressFamily): number {
  let prefix: number;
  try {
    prefix = inetNetmask(mask, af);
  } catch (err) {
    rethrow(err, "SCHED_BAD_VALUE");
  }
  // ip_vs_ctl.c ip_vs_add_service()/ip_vs_edit_service(): an IPv6 netmask must be 1..128 (EINVAL).
  if (af === AF_INET6 && prefix === 0) {
    throw new SchedulerError("SCHED_BAD_VALUE", "an IPv6 persistence netmask is a prefix length 1..128", {
      object: String(mask),
    });
  }
  return prefix;
}

/** An `IP:PORT` / `[IPv6]:PORT` endpoint. */
export interface Endpoint {
  address: IpAddress;
  port: number;
}

/** Parses `IP:PORT`, `[IPv6]:PORT`; with `allowNoPort`, a bare address gets port 0. */
export function parseEndpoint(text: string, opts: { allowNoPort?: boolean } = {}): Endpoint {
  let ep: ReturnType<typeof inetEndpoint>;
  try {
    ep = inetEndpoint(text.trim());
  } catch (err) {
    rethrow(
      err,
      err instanceof InetError && err.code === "INET_BAD_ADDRESS" ? "SCHED_BAD_ADDRESS" : "SCHED_BAD_VALUE",
    );
  }
  if (ep.port !== undefined) return { address: ep.address, port: ep.port };
  if (opts.allowNoPort) return { address: ep.address, port: 0 };
  throw new SchedulerError(
    "SCHED_BAD_VALUE",
    `no port in ${JSON.stringify(text)} (write IP:PORT, or [IPv6]:PORT)`,
    {
      object: text,
    },
  );
}

/** A port 0..65535 (number or decimal text); `what` names it in the error. Throws SCHED_BAD_VALUE. */
export function checkPort(v: string | number, what: string): number {
  const port = parsePort(v);
  if (port === undefined) {
    throw new SchedulerError("SCHED_BAD_VALUE", `port must be 0..65535 in ${JSON.stringify(what)}`, {
      object: String(what),
    });
  }
  return port;
}
