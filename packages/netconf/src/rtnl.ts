/**
 * The io layer for addresses and links: one rtnetlink socket (the `netlink` package's
 * NetlinkSocket, opened inside a network namespace with @lvs/sys withNetns) and the typed rtnetlink
 * codec of the same package (`rt.formatAddressMessage`; replies through codec/rtnetlink.ts).
 *
 * What we add on top of the package: kernel errors keep their errno and name the object (the
 * package's own check turns them into "Request rejected: EEXIST" strings); requests are
 * serialised (a netlink socket runs one dump at a time); dumps marked NLM_F_DUMP_INTR are retried,
 * never half-trusted; every request has a timeout.
 */

import { type IpVersion as Family, isPrefixLength, maxPrefixLength } from "@lvs/inet";
import { withNetns } from "@lvs/sys";
import type { NetlinkMessage, NetlinkSocket, rt } from "netlink";
import {
  type AddressEntry,
  addressEntryFromMessage,
  type LinkEntry,
  linkEntryFromMessage,
  parseNlErrno,
  parseRtMessage,
} from "./codec/rtnetlink.js";
import {
  AF_INET,
  AF_INET6,
  DEFAULT_NETLINK_TIMEOUT_MS,
  IFA_F_NODAD,
  IFNAMSIZ,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_EXCL,
  NLMSG_DONE,
  NLMSG_ERROR,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_SITE,
  RT_SCOPE_UNIVERSE,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_SETLINK,
} from "./constants.js";
import { errnoName, NetconfError, type NetconfErrorCode, wrapError } from "./errors.js";
import { parseIp } from "./input.js";
import { netlinkModule } from "./netlink-module.js";

export { type AddressEntry, addressEntryFromMessage, type LinkEntry, linkEntryFromMessage };

/** NETLINK_ROUTE (include/uapi/linux/netlink.h). */
const NETLINK_ROUTE = 0;
const DUMP_RETRIES = 5;

export interface AddressSpec {
  /** Interface name. */
  dev: string;
  /** "10.0.0.1" or "2001:db8::1" (a "/len" suffix is accepted when prefixLength is not given). */
  address: string;
  /** Default 32 (IPv4) / 128 (IPv6). */
  prefixLength?: number;
  /** IPv4 label, e.g. "eth0:vip" (at most 15 characters). */
  label?: string;
  /** Default "global". */
  scope?: "global" | "site" | "link" | "host" | number;
  /** IPv6: IFA_F_NODAD, so the address is usable at once (default true). */
  noDad?: boolean;
}

export interface RtnlOptions {
  /** Network namespace: a name under /run/netns or a path. */
  netns?: string;
  /** Per-request timeout (a dump: the whole dump). Default 10 s. */
  timeoutMs?: number;
}

const SCOPES: Record<string, number> = {
  global: RT_SCOPE_UNIVERSE,
  site: RT_SCOPE_SITE,
  link: RT_SCOPE_LINK,
  host: RT_SCOPE_HOST,
};

/** Validated form of an AddressSpec. */
export interface NormalizedAddress {
  dev: string;
  family: Family;
  bytes: Uint8Array;
  address: string;
  prefixLength: number;
  label: string | undefined;
  scope: number;
  noDad: boolean;
  /** "10.0.0.1/32 on lo" */
  object: string;
}

export function normalizeAddress(spec: AddressSpec): NormalizedAddress {
  if (!spec || typeof spec.dev !== "string" || spec.dev === "" || spec.dev.length >= IFNAMSIZ) {
    throw new NetconfError(
      "NETCONF_NO_INTERFACE",
      `interface name ${JSON.stringify(spec?.dev)} is not valid`,
      {
        object: String(spec?.dev),
      },
    );
  }
  let text = String(spec.address ?? "");
  let prefixLength = spec.prefixLength;
  const slash = text.indexOf("/");
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    text = text.slice(0, slash);
    if (prefixLength === undefined) prefixLength = /^\d{1,3}$/.test(p) ? Number(p) : Number.NaN;
  }
  const ip = parseIp(text);
  const max = maxPrefixLength(ip.version);
  prefixLength ??= max;
  if (!isPrefixLength(prefixLength, ip.version)) {
    throw new NetconfError(
      "NETCONF_BAD_PREFIX",
      `prefix length ${prefixLength} of ${ip.text} is not in 0..${max} (VIPs are /${max})`,
      { object: spec.address },
    );
  }
  if (spec.label !== undefined) {
    if (ip.version === 6) {
      throw new NetconfError("NETCONF_BAD_LABEL", `IPv6 addresses carry no label (${spec.label})`, {
        object: spec.label,
      });
    }
    if (spec.label.length === 0 || spec.label.length >= IFNAMSIZ) {
      throw new NetconfError(
        "NETCONF_BAD_LABEL",
        `label ${JSON.stringify(spec.label)} must hold 1..${IFNAMSIZ - 1} characters (e.g. "${spec.dev}:vip")`,
        { object: spec.label },
      );
    }
  }
  let scope: number;
  if (typeof spec.scope === "number") scope = spec.scope;
  else scope = SCOPES[spec.scope ?? "global"] ?? Number.NaN;
  if (!Number.isInteger(scope) || scope < 0 || scope > 255) {
    throw new NetconfError(
      "NETCONF_BAD_OPTION",
      `scope ${JSON.stringify(spec.scope)} is not global, site, link, host or 0..255`,
      { object: String(spec.scope) },
    );
  }
  return {
    dev: spec.dev,
    family: ip.version,
    bytes: ip.bytes,
    address: ip.text,
    prefixLength,
    label: spec.label,
    scope,
    noDad: spec.noDad ?? true,
    object: `${ip.text}/${prefixLength} on ${spec.dev}`,
  };
}

/**
 * An rtnetlink socket in one network namespace. The free functions (addAddress, listLinks…)
 * open one per call; keep a client for many operations (1,000 VIPs: see the README's figures).
 */
export class RtnlClient {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Requests on the wire; close() fails them at once instead of leaving them to time out. */
  private readonly inFlight = new Set<(err: NetconfError) => void>();
  private readonly indexCache = new Map<string, number>();

  private constructor(
    private readonly nl: NetlinkSocket,
    readonly netns: string | undefined,
    private readonly timeoutMs: number,
  ) {
    // A failing socket must not crash the process; requests in flight time out or reject.
    nl.on("error", () => {});
  }

  static open(opts: RtnlOptions = {}): RtnlClient {
    const nl = withNetnsOrThrow(opts.netns, () => {
      try {
        return netlinkModule().createNetlink(NETLINK_ROUTE, {
          recvBufferSize: 1 << 20,
          sendBufferSize: 1 << 20,
        });
      } catch (err) {
        throw wrapError("NETCONF_SOCKET", "cannot open an rtnetlink socket", err, ctx(opts.netns));
      }
    });
    return new RtnlClient(nl, opts.netns, opts.timeoutMs ?? DEFAULT_NETLINK_TIMEOUT_MS);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.nl.close();
    for (const fail of [...this.inFlight]) {
      fail(
        new NetconfError(
          "NETCONF_CLOSED",
          `the rtnetlink client${inNs(this.netns)} was closed`,
          ctx(this.netns),
        ),
      );
    }
    this.inFlight.clear();
  }

  /** Adds an address; `changed: false` when it is already there (EEXIST). */
  async addAddress(spec: AddressSpec): Promise<{ changed: boolean }> {
    const a = normalizeAddress(spec);
    const index = await this.ifindex(a.dev);
    const { data, attrs } = addressMessage(a, index);
    try {
      await this.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, rtAddress(data, attrs), a.object);
      return { changed: true };
    } catch (err) {
      if (err instanceof NetconfError && err.context.errnoName === "EEXIST") return { changed: false };
      if (err instanceof NetconfError && err.context.errnoName === "ENODEV") this.indexCache.delete(a.dev);
      throw err;
    }
  }

  /** Removes an address; `changed: false` when it was not there (EADDRNOTAVAIL). */
  async removeAddress(spec: AddressSpec): Promise<{ changed: boolean }> {
    const a = normalizeAddress(spec);
    const index = await this.ifindex(a.dev);
    const { data, attrs } = addressMessage(a, index);
    try {
      await this.request(RTM_DELADDR, 0, rtAddress(data, attrs), a.object);
      return { changed: true };
    } catch (err) {
      if (err instanceof NetconfError && err.context.errnoName === "EADDRNOTAVAIL") return { changed: false };
      throw err;
    }
  }

  async listAddresses(filter: { dev?: string; family?: Family } = {}): Promise<AddressEntry[]> {
    const links = await this.listLinks();
    const names = new Map(links.map((l) => [l.index, l.name]));
    const family = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : 0;
    const msgs = await this.dump(RTM_GETADDR, rtAddress({ family }, {}), "addresses");
    const out: AddressEntry[] = [];
    for (const m of msgs) {
      if (m.kind !== "address") continue;
      const e = addressEntryFromMessage(m, names);
      if (!e) continue;
      if (filter.family && e.family !== filter.family) continue;
      if (filter.dev && e.dev !== filter.dev) continue;
      out.push(e);
    }
    return out;
  }

  async listLinks(): Promise<LinkEntry[]> {
    const msgs = await this.dump(RTM_GETLINK, rtLink({}, {}), "links");
    const out: LinkEntry[] = [];
    for (const m of msgs) if (m.kind === "link") out.push(linkEntryFromMessage(m));
    return out;
  }

  /** One link by name; NETCONF_NO_INTERFACE when it does not exist. */
  async getLink(name: string): Promise<LinkEntry> {
    let msgs: rt.Message[];
    try {
      msgs = await this.request(RTM_GETLINK, 0, rtLink({}, { ifname: name }), `interface ${name}`);
    } catch (err) {
      if (err instanceof NetconfError && err.context.errnoName === "ENODEV") {
        throw new NetconfError("NETCONF_NO_INTERFACE", `no interface ${name}${inNs(this.netns)}`, {
          ...err.context,
          object: name,
        });
      }
      throw err;
    }
    const m = msgs.find((x) => x.kind === "link");
    if (!m || m.kind !== "link") {
      throw new NetconfError("NETCONF_NETLINK", `no link message in the reply for ${name}`, {
        object: name,
        ...ctx(this.netns),
      });
    }
    const entry = linkEntryFromMessage(m);
    this.indexCache.set(name, entry.index);
    return entry;
  }

  /** Sets IFF_UP (or clears it); `changed` says whether it was different. */
  async setLinkUp(name: string, up: boolean): Promise<{ changed: boolean }> {
    const link = await this.getLink(name);
    if (link.up === up) return { changed: false };
    await this.request(
      RTM_SETLINK,
      0,
      rtLink({ index: link.index, flags: up ? { up: true } : {}, change: { up: true } }, {}),
      `interface ${name}`,
    );
    return { changed: true };
  }

  /** Interface name → index (cached per client; dropped on ENODEV). */
  async ifindex(name: string): Promise<number> {
    const hit = this.indexCache.get(name);
    if (hit !== undefined) return hit;
    return (await this.getLink(name)).index;
  }

  private dump(type: number, payload: Uint8Array[], object: string): Promise<rt.Message[]> {
    return this.request(type, NLM_F_DUMP, payload, object, true);
  }

  /** One request → its parsed replies; serialised behind the previous one. */
  request(
    type: number,
    flags: number,
    payload: Uint8Array[],
    object: string,
    dump = false,
  ): Promise<rt.Message[]> {
    const run = async (): Promise<rt.Message[]> => {
      for (let attempt = 0; ; attempt++) {
        const r = await this.once(type, flags, payload, object);
        if (!r.interrupted || !dump) return r.messages;
        if (attempt >= DUMP_RETRIES) {
          throw new NetconfError(
            "NETCONF_NETLINK",
            `dump of ${object} was interrupted by changes ${DUMP_RETRIES + 1} times in a row`,
            { object, errno: 4, errnoName: "EINTR", ...ctx(this.netns) },
          );
        }
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  private async once(
    type: number,
    flags: number,
    payload: Uint8Array[],
    object: string,
  ): Promise<{ messages: rt.Message[]; interrupted: boolean }> {
    if (this.closed) throw new NetconfError("NETCONF_CLOSED", "the rtnetlink client is closed", { object });
    let reply: NetlinkMessage[];
    try {
      let fail: ((err: NetconfError) => void) | undefined;
      const closed = new Promise<never>((_, reject) => {
        fail = reject;
      });
      this.inFlight.add(fail as (err: NetconfError) => void);
      try {
        [reply] = await Promise.race([
          this.nl.request(type, payload, { flags, timeout: this.timeoutMs, checkError: false }),
          closed,
        ]);
      } finally {
        this.inFlight.delete(fail as (err: NetconfError) => void);
      }
    } catch (err) {
      if (err instanceof NetconfError) throw err;
      const timeout = /timeout/i.test((err as Error)?.message ?? "");
      const code: NetconfErrorCode = timeout ? "NETCONF_TIMEOUT" : "NETCONF_SOCKET";
      throw wrapError(code, `rtnetlink request for ${object}${inNs(this.netns)}`, err, {
        object,
        ...ctx(this.netns),
      });
    }
    const messages: rt.Message[] = [];
    let interrupted = false;
    for (const m of reply) {
      if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
      if (m.type === NLMSG_DONE) continue;
      let errno = 0;
      try {
        if (m.type === NLMSG_ERROR) errno = parseNlErrno(m.data);
        else messages.push(parseRtMessage(m.type, m.data));
      } catch (err) {
        const e = err as NetconfError;
        throw new NetconfError(
          e.code,
          `${e.message}, in the reply for ${object}${inNs(this.netns)}`,
          { ...e.context, object, ...ctx(this.netns) },
          { cause: err },
        );
      }
      if (errno === 0) continue;
      const name = errnoName(errno);
      throw new NetconfError(
        "NETCONF_NETLINK",
        `${object}${inNs(this.netns)}: kernel says ${name ?? errno}`,
        {
          object,
          errno,
          ...(name ? { errnoName: name } : {}),
          ...ctx(this.netns),
        },
      );
    }
    return { messages, interrupted };
  }
}

function addressMessage(a: NormalizedAddress, index: number): { data: rt.Address; attrs: rt.AddressAttrs } {
  const bytes = Buffer.from(a.bytes);
  const data: rt.Address = {
    family: a.family === 4 ? AF_INET : AF_INET6,
    prefixlen: a.prefixLength,
    scope: a.scope,
    index,
  };
  const attrs: rt.AddressAttrs = { local: bytes, address: bytes };
  if (a.family === 4 && a.label !== undefined) attrs.label = a.label;
  if (a.family === 6 && a.noDad) {
    data.flags = netlinkModule().rt.parseAddressFlags(IFA_F_NODAD);
    attrs.flags = netlinkModule().rt.parseAddressFlags(IFA_F_NODAD);
  }
  return { data, attrs };
}

function rtAddress(data: rt.Address, attrs: rt.AddressAttrs): Uint8Array[] {
  const s = new (netlinkModule().AttrStream)();
  netlinkModule().rt.formatAddressMessage({ kind: "address", data, attrs }, s);
  return s.bufs;
}

function rtLink(data: rt.Link, attrs: rt.LinkMessage["attrs"]): Uint8Array[] {
  const s = new (netlinkModule().AttrStream)();
  netlinkModule().rt.formatLinkMessage({ kind: "link", data, attrs }, s);
  return s.bufs;
}

function ctx(netns: string | undefined): { netns?: string } {
  return netns === undefined ? {} : { netns };
}

export function inNs(netns: string | undefined): string {
  return netns === undefined ? "" : ` in netns ${netns}`;
}

/** withNetns, with @lvs/sys failures (no such namespace) as NETCONF_NETNS. */
export function withNetnsOrThrow<T>(netns: string | undefined, fn: () => T): T {
  try {
    return withNetns(netns, fn);
  } catch (err) {
    if (err instanceof NetconfError) throw err;
    const code = (err as { code?: string })?.code;
    if (code === "SYS_NETNS_OPEN" || code === "SYS_SETNS" || code === "SYS_NETNS_RESTORE") {
      throw wrapError("NETCONF_NETNS", `cannot enter network namespace ${netns}`, err, {
        object: String(netns),
        ...ctx(netns),
      });
    }
    throw err;
  }
}

/** Runs `fn` with a client opened for the call, closed afterwards. */
export async function withClient<T>(
  opts: RtnlOptions | undefined,
  fn: (c: RtnlClient) => Promise<T>,
): Promise<T> {
  const c = RtnlClient.open(opts ?? {});
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export function addAddress(spec: AddressSpec, opts?: RtnlOptions): Promise<{ changed: boolean }> {
  return withClient(opts, (c) => c.addAddress(spec));
}

export function removeAddress(spec: AddressSpec, opts?: RtnlOptions): Promise<{ changed: boolean }> {
  return withClient(opts, (c) => c.removeAddress(spec));
}

export function listAddresses(
  opts: RtnlOptions & { dev?: string; family?: Family } = {},
): Promise<AddressEntry[]> {
  const filter: { dev?: string; family?: Family } = {};
  if (opts.dev !== undefined) filter.dev = opts.dev;
  if (opts.family !== undefined) filter.family = opts.family;
  return withClient(opts, (c) => c.listAddresses(filter));
}

export function listLinks(opts?: RtnlOptions): Promise<LinkEntry[]> {
  return withClient(opts, (c) => c.listLinks());
}

export function getLink(name: string, opts?: RtnlOptions): Promise<LinkEntry> {
  return withClient(opts, (c) => c.getLink(name));
}

export function setLinkUp(name: string, up: boolean, opts?: RtnlOptions): Promise<{ changed: boolean }> {
  return withClient(opts, (c) => c.setLinkUp(name, up));
}
