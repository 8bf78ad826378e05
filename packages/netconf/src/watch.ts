/**
 * Link and address events: one rtnetlink socket joined to RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and
 * RTNLGRP_IPV6_IFADDR (include/uapi/linux/rtnetlink.h), as keepalived's netlink monitor does.
 *
 * Order of setup: join the groups first, then dump the links (for index → name), so no link that
 * appears in between is missed. If the kernel drops notifications because we read too slowly
 * (ENOBUFS on the socket), an "error" event with code NETCONF_WATCH_OVERFLOW says so: the
 * listener must re-list (listLinks/listAddresses) since events were lost.
 */
import { EventEmitter } from "node:events";
import type { NetlinkMessage, NetlinkSocket } from "netlink";
import { decodeRtnlFrame, type RtnlItem } from "./codec/rtnetlink.js";
import {
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_LINK,
} from "./constants.js";
import { NetconfError, wrapError } from "./errors.js";
import { netlinkModule } from "./netlink-module.js";
import { type AddressEntry, type LinkEntry, listLinks, withNetnsOrThrow } from "./rtnl.js";

export interface LinkEvent {
  type: "new" | "del";
  link: LinkEntry;
  /** The state seen before this event (RTM_NEWLINK is sent for every change of a link). */
  previous?: LinkEntry;
}

export interface AddressEvent {
  type: "new" | "del";
  address: AddressEntry;
}

export interface WatchStats {
  /** Notifications decoded and emitted. */
  events: number;
  /** Messages the netlink package could not parse (dropped, counted). */
  invalid: number;
  /** Times the kernel reported lost notifications (ENOBUFS). */
  overflows: number;
}

export interface NetlinkWatcher extends EventEmitter {
  on(e: "link", f: (ev: LinkEvent) => void): this;
  on(e: "address", f: (ev: AddressEvent) => void): this;
  on(e: "error", f: (err: NetconfError) => void): this;
  readonly stats: WatchStats;
  /** Links as last seen, by index. */
  readonly links: ReadonlyMap<number, LinkEntry>;
  /** Lets the process exit while the watcher is open (it keeps the event loop alive by default). */
  unref(): void;
  close(): void;
}

class Watcher extends EventEmitter implements NetlinkWatcher {
  readonly stats: WatchStats = { events: 0, invalid: 0, overflows: 0 };
  readonly links = new Map<number, LinkEntry>();
  private readonly names = new Map<number, string>();
  private closed = false;

  constructor(
    private readonly nl: NetlinkSocket,
    readonly netns: string | undefined,
  ) {
    super();
    nl.on("message", (msgs) => this.onMessages(msgs));
    nl.on("invalid", () => {
      this.stats.invalid++;
    });
    nl.on("error", (err) => {
      const e = err as { code?: string };
      if (e.code === "ENOBUFS") this.stats.overflows++;
      this.emitError(
        wrapError(
          e.code === "ENOBUFS" ? "NETCONF_WATCH_OVERFLOW" : "NETCONF_SOCKET",
          e.code === "ENOBUFS"
            ? "rtnetlink notifications were lost (receive buffer overflow): re-list links and addresses"
            : "rtnetlink watch socket failed",
          err,
          netns === undefined ? {} : { netns },
        ),
      );
    });
  }

  seed(links: LinkEntry[]): void {
    for (const l of links) {
      if (!this.links.has(l.index)) this.links.set(l.index, l);
      this.names.set(l.index, l.name);
    }
  }

  private emitError(err: NetconfError): void {
    // An "error" event without a listener would throw out of the socket callback: keep it quiet.
    if (this.listenerCount("error") > 0) this.emit("error", err);
  }

  private onMessages(msgs: NetlinkMessage[]): void {
    if (this.closed) return;
    for (const m of msgs) {
      // A malformed notification is counted and dropped: nothing may throw out of the socket.
      let item: RtnlItem;
      try {
        item = decodeRtnlFrame(m, this.names);
      } catch {
        this.stats.invalid++;
        continue;
      }
      if (item.kind === "link") {
        const link = item.link;
        const previous = this.links.get(link.index);
        this.names.set(link.index, link.name);
        if (item.type === RTM_NEWLINK) this.links.set(link.index, link);
        else this.links.delete(link.index);
        this.stats.events++;
        const ev: LinkEvent = { type: item.type === RTM_NEWLINK ? "new" : "del", link };
        if (previous) ev.previous = previous;
        this.emit("link", ev);
      } else if (item.kind === "address") {
        this.stats.events++;
        this.emit("address", { type: item.type === RTM_NEWADDR ? "new" : "del", address: item.address });
      }
    }
  }

  unref(): void {
    this.nl.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.nl.close();
  }
}

/** Opens the watcher in a namespace; it emits from the next change on. */
export async function watchNetlink(
  opts: { netns?: string; recvBufferSize?: number } = {},
): Promise<NetlinkWatcher> {
  const nl = withNetnsOrThrow(opts.netns, () => {
    try {
      return netlinkModule().createNetlink(0, {
        ref: true,
        recvBufferSize: opts.recvBufferSize ?? 4 << 20,
        sendBufferSize: 1 << 16,
      });
    } catch (err) {
      throw wrapError(
        "NETCONF_SOCKET",
        "cannot open an rtnetlink socket",
        err,
        opts.netns === undefined ? {} : { netns: opts.netns },
      );
    }
  });
  const w = new Watcher(nl, opts.netns);
  try {
    for (const g of [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR]) nl.addMembership(g);
    w.seed(await listLinks(opts.netns === undefined ? {} : { netns: opts.netns }));
  } catch (err) {
    w.close();
    if (err instanceof NetconfError) throw err;
    throw wrapError("NETCONF_SOCKET", "cannot join the rtnetlink groups", err);
  }
  return w;
}
