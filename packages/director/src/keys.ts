// Names of virtual and real servers: the stable keys the engine, the state file and the API use,
// keepalived's log format (FMT_VS / FMT_RS of keepalived/check/check_data.c), and the parsing of
// what an operator types (`10.0.0.1:80`, `udp/10.0.0.1:53`, `[fd00::1]:80`, `fwm:5`, `group:WEB`).
import { canonicalAddress, formatEndpoint as hostPort, InetError, parseEndpoint } from "@lvs/inet";
import { DirectorError } from "./errors.js";

export type ProtoName = "TCP" | "UDP" | "SCTP";

/** `10.0.0.2:80`, `[fd00::2]:80` (canonical address text): @lvs/inet's formatEndpoint. */
export { hostPort };

/**
 * A string held for the daemon's lifetime (keys, labels, ids), as one flat string. V8 keeps a
 * string built by `+` or a template as a tree of its parts; a director with 20,000 real servers
 * held ~15 MiB of such trees (heap snapshot, `bench/memory-host.mjs`). The JSON round trip is the
 * cheapest portable way to get one flat copy (~1 µs), and is only paid once per object planned.
 */
export function flat(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/** Stable key of an address virtual server: `TCP/10.0.0.1:80`. */
export function addressVsKey(protocol: ProtoName, address: string, port: number): string {
  return flat(`${protocol}/${hostPort(address, port)}`);
}

/** Stable key of a fwmark virtual server: `FWM/5` (IPv4) or `FWM/5/inet6`. */
export function fwmarkVsKey(fwmark: number, inet6: boolean): string {
  return inet6 ? `FWM/${fwmark}/inet6` : `FWM/${fwmark}`;
}

/** Stable key of a group virtual server: `GROUP/WEB/TCP` (no protocol when it holds only fwmarks). */
export function groupVsKey(name: string, protocol: ProtoName | undefined): string {
  return protocol ? `GROUP/${name}/${protocol}` : `GROUP/${name}`;
}

/** keepalived's inet_sockaddrtotrio: `[10.0.0.2]:tcp:80`. */
export function trio(address: string, protocol: ProtoName | undefined, port: number): string {
  return flat(`[${canonicalAddress(address)}]:${(protocol ?? "tcp").toLowerCase()}:${port}`);
}

/** Key of a runtime override: virtual server key + real server key. */
export function overrideKey(vsKey: string, rsKey: string): string {
  return `${vsKey} ${rsKey}`;
}

/** What an operator typed for a virtual server. */
export type VsReference =
  | { kind: "address"; protocol: ProtoName | undefined; address: string; port: number | undefined }
  | { kind: "fwmark"; fwmark: number }
  | { kind: "group"; name: string; protocol: ProtoName | undefined }
  | { kind: "key"; key: string };

/** What an operator typed for a real server. */
export interface RsReference {
  address: string;
  port: number | undefined;
}

const PROTO_PREFIX = /^(tcp|udp|sctp)[/:](.+)$/i;

function splitHostPort(text: string, what: string): { address: string; port: number | undefined } {
  try {
    const ep = parseEndpoint(text);
    return { address: ep.address.text, port: ep.port };
  } catch (err) {
    throw err instanceof InetError ? badRef(text, what) : err;
  }
}

function badRef(text: string, what: string): DirectorError {
  const example =
    what === "virtual server"
      ? "10.0.0.1:80, udp/10.0.0.1:53, [fd00::1]:80, fwm:5 or group:WEB"
      : "10.0.0.2:8080, 10.0.0.2 or [fd00::2]:8080";
  return new DirectorError("DIRECTOR_BAD_REFERENCE", `\`${text}\` is not a ${what}; write ${example}`, {
    object: text,
  });
}

/** Parse a virtual server as typed: `VIP:PORT`, `proto/VIP:PORT`, `[v6]:PORT`, `fwm:N`, `group:NAME[/proto]`, or a key. */
export function parseVsReference(text: string): VsReference {
  const t = text.trim();
  if (/^(TCP|UDP|SCTP)\/.+:\d+$/.test(t) || /^FWM\/\d+(\/inet6)?$/.test(t) || /^GROUP\//.test(t)) {
    return { kind: "key", key: t };
  }
  const fw = /^(?:fwm|fwmark|f)[:=]?(\d+)$/i.exec(t);
  if (fw) return { kind: "fwmark", fwmark: Number(fw[1]) };
  const grp = /^group:([^/]+)(?:\/(tcp|udp|sctp))?$/i.exec(t);
  if (grp) {
    return {
      kind: "group",
      name: grp[1] as string,
      protocol: grp[2] ? (grp[2].toUpperCase() as ProtoName) : undefined,
    };
  }
  const pm = PROTO_PREFIX.exec(t);
  const protocol = pm ? ((pm[1] as string).toUpperCase() as ProtoName) : undefined;
  const hp = splitHostPort(pm ? (pm[2] as string) : t, "virtual server");
  return { kind: "address", protocol, address: hp.address, port: hp.port };
}

/** Parse a real server as typed: `RIP:PORT`, `RIP`, `[v6]:PORT`. */
export function parseRsReference(text: string): RsReference {
  return splitHostPort(text.trim(), "real server");
}
