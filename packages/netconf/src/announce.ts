/**
 * Announcements (io): gratuitous ARP for IPv4 and unsolicited neighbour advertisements for IPv6,
 * sent as whole Ethernet frames on an AF_PACKET socket (@lvs/sys PacketSocket) opened inside the
 * chosen network namespace, paced per interface by PacedQueue.
 */

import type { IpAddress } from "@lvs/inet";
import { type Clock, systemClock } from "@lvs/inet";
import { PacketSocket } from "@lvs/sys";
import { encodeGratuitousArp, type GarpForm } from "./codec/arp.js";
import { encodeUnsolicitedNa } from "./codec/ndisc.js";
import { DEFAULT_ANNOUNCE_COUNT, MAX_ANNOUNCE_COUNT } from "./constants.js";
import { NetconfError, wrapError } from "./errors.js";
import { parseIp, parseMac } from "./input.js";
import { type AnnounceResult, PacedQueue } from "./pacer.js";
import { RtnlClient } from "./rtnl.js";
import { confKey, readSysctlSync } from "./sysctl.js";

export type { AnnounceResult } from "./pacer.js";

export interface AnnounceRepeat {
  /** Frames per address (default 1; keepalived's vrrp_garp_master_repeat defaults to 5). */
  count?: number;
  /** Between repeats of one address, ms (keepalived garp_interval / na_interval; default 0). */
  intervalMs?: number;
  /** GARP form: "request" (default, as keepalived and the kernel), "reply" or "both". */
  form?: GarpForm | "both";
  /** Target MAC of the request form: "zero" (RFC 5227, the kernel; default) or "broadcast" (keepalived). */
  requestTarget?: "zero" | "broadcast";
  /** IPv6 Router flag; default: the interface's net.ipv6.conf.DEV.forwarding, as Linux does. */
  router?: boolean;
  /** Source MAC; default the interface's own. */
  mac?: string;
}

export interface AnnounceOptions extends AnnounceRepeat {
  dev: string;
  netns?: string;
}

interface Planned {
  frames: Array<{ frame: Uint8Array; due: number }>;
}

function checkRepeat(o: AnnounceRepeat): { count: number; intervalMs: number; forms: GarpForm[] } {
  const count = o.count ?? DEFAULT_ANNOUNCE_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > MAX_ANNOUNCE_COUNT) {
    throw new NetconfError(
      "NETCONF_BAD_OPTION",
      `count ${o.count} is not an integer in 1..${MAX_ANNOUNCE_COUNT}`,
      {
        object: "count",
      },
    );
  }
  const intervalMs = o.intervalMs ?? 0;
  if (!Number.isFinite(intervalMs) || intervalMs < 0 || intervalMs > 3_600_000) {
    throw new NetconfError("NETCONF_BAD_OPTION", `intervalMs ${o.intervalMs} is not in 0..3600000`, {
      object: "intervalMs",
    });
  }
  const form = o.form ?? "request";
  if (form !== "request" && form !== "reply" && form !== "both") {
    throw new NetconfError(
      "NETCONF_BAD_OPTION",
      `form ${JSON.stringify(o.form)} is not request, reply or both`,
      {
        object: "form",
      },
    );
  }
  return { count, intervalMs, forms: form === "both" ? ["request", "reply"] : [form] };
}

/**
 * Paced announcements across many VIPs per interface: frames on one interface are at least
 * `pacingMs` apart, whichever announce() call queued them; repeats of one address are
 * `intervalMs` apart. IPv4 addresses get gratuitous ARP, IPv6 ones unsolicited NA.
 */
export class Announcer {
  private readonly netns: string | undefined;
  private readonly pacingMs: number;
  private readonly clock: Clock;
  private readonly queues = new Map<string, { queue: PacedQueue; socket: PacketSocket }>();
  private closed = false;

  constructor(opts: { netns?: string; pacingMs?: number; clock?: Clock } = {}) {
    const pacing = opts.pacingMs ?? 0;
    if (!Number.isFinite(pacing) || pacing < 0 || pacing > 60_000) {
      throw new NetconfError("NETCONF_BAD_OPTION", `pacingMs ${opts.pacingMs} is not in 0..60000`, {
        object: "pacingMs",
      });
    }
    this.netns = opts.netns;
    this.pacingMs = pacing;
    this.clock = opts.clock ?? systemClock;
  }

  /** Queues `count` rounds of announcements for `addresses` on `dev`; resolves once all are sent. */
  async announce(dev: string, addresses: string[], opts: AnnounceRepeat = {}): Promise<AnnounceResult> {
    if (this.closed) throw new NetconfError("NETCONF_CLOSED", "the announcer is closed", { object: dev });
    const repeat = checkRepeat(opts);
    const ips = addresses.map((a) => parseIp(a));
    const plan = await this.plan(dev, ips, repeat, opts);
    return this.queueFor(dev).enqueue(plan.frames);
  }

  /** Drops what is queued for `dev` (or every interface); pending calls resolve with `cancelled`. */
  cancel(dev?: string): void {
    for (const [d, q] of this.queues) if (dev === undefined || d === dev) q.queue.cancel();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queues.values()) {
      q.queue.close();
      q.socket.close();
    }
    this.queues.clear();
  }

  private async plan(
    dev: string,
    ips: IpAddress[],
    repeat: { count: number; intervalMs: number; forms: GarpForm[] },
    opts: AnnounceRepeat,
  ): Promise<Planned> {
    let mac: Uint8Array;
    if (opts.mac !== undefined) mac = parseMac(opts.mac);
    else {
      const rtnl = RtnlClient.open(this.netns === undefined ? {} : { netns: this.netns });
      try {
        const link = await rtnl.getLink(dev);
        if (!link.mac || link.mac.split(":").length !== 6 || link.mac === "00:00:00:00:00:00") {
          throw new NetconfError(
            "NETCONF_NO_MAC",
            `${dev} has no Ethernet address (${link.linkType}): gratuitous ARP and NA need one`,
            { object: dev, ...(this.netns === undefined ? {} : { netns: this.netns }) },
          );
        }
        mac = parseMac(link.mac);
      } finally {
        rtnl.close();
      }
    }
    let router = opts.router;
    if (router === undefined && ips.some((i) => i.version === 6)) {
      router = readSysctlSync(confKey("ipv6", dev, "forwarding"), this.netnsOpt()) === "1";
    }
    const start = this.clock.now();
    const frames: Planned["frames"] = [];
    for (let r = 0; r < repeat.count; r++) {
      const due = start + r * repeat.intervalMs;
      for (const ip of ips) {
        if (ip.version === 4) {
          for (const form of repeat.forms) {
            frames.push({
              frame: encodeGratuitousArp({
                mac,
                ip: ip.bytes,
                form,
                ...(opts.requestTarget ? { requestTarget: opts.requestTarget } : {}),
              }),
              due,
            });
          }
        } else {
          frames.push({ frame: encodeUnsolicitedNa({ mac, ip: ip.bytes, router: router === true }), due });
        }
      }
    }
    return { frames };
  }

  private netnsOpt(): { netns?: string } {
    return this.netns === undefined ? {} : { netns: this.netns };
  }

  private queueFor(dev: string): PacedQueue {
    const hit = this.queues.get(dev);
    if (hit) return hit.queue;
    let socket: PacketSocket;
    try {
      // Protocol 0: the socket only sends (it is not bound to receive any ethertype).
      socket = PacketSocket.open({ interface: dev, protocol: 0, ...this.netnsOpt() });
    } catch (err) {
      const code = (err as { code?: string })?.code;
      throw wrapError(
        code === "SYS_NO_INTERFACE" ? "NETCONF_NO_INTERFACE" : "NETCONF_PACKET",
        `cannot open a packet socket on ${dev}`,
        err,
        { object: dev, ...this.netnsOpt() },
      );
    }
    const queue = new PacedQueue((f) => socket.send(f), this.pacingMs, this.clock, dev);
    this.queues.set(dev, { queue, socket });
    return queue;
  }
}

function familyCheck(addresses: string | string[], family: 4 | 6, what: string): string[] {
  const list = (Array.isArray(addresses) ? addresses : [addresses]).map(String);
  for (const a of list) {
    const ip = parseIp(a);
    if (ip.version !== family) {
      throw new NetconfError(
        "NETCONF_BAD_ADDRESS",
        `${a} is IPv${ip.version}: ${what} (use ${family === 4 ? "sendUnsolicitedNa" : "sendGratuitousArp"} or Announcer for it)`,
        { object: a },
      );
    }
  }
  return list;
}

async function oneShot(list: string[], opts: AnnounceOptions): Promise<AnnounceResult> {
  const a = new Announcer(opts.netns === undefined ? {} : { netns: opts.netns });
  try {
    return await a.announce(opts.dev, list, opts);
  } finally {
    a.close();
  }
}

/** Gratuitous ARP for IPv4 addresses on `opts.dev` (count × addresses × forms frames). */
export function sendGratuitousArp(
  addresses: string | string[],
  opts: AnnounceOptions,
): Promise<AnnounceResult> {
  try {
    return oneShot(familyCheck(addresses, 4, "gratuitous ARP is for IPv4"), opts);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Unsolicited neighbour advertisements for IPv6 addresses on `opts.dev`. */
export function sendUnsolicitedNa(
  addresses: string | string[],
  opts: AnnounceOptions,
): Promise<AnnounceResult> {
  try {
    return oneShot(familyCheck(addresses, 6, "neighbour advertisements are for IPv6"), opts);
  } catch (err) {
    return Promise.reject(err);
  }
}
