/**
 * The router's side of the transport: one channel per interface and family an instance uses,
 * received packets routed to their instance through the receive path (io → rx → engine, each
 * crossed once), adverts encoded and sent, and the per-interface counters.
 */
import { encodeAdvert } from "./codec.js";
import { VRRP_IPV4_GROUP, VRRP_IPV6_GROUP } from "./constants.js";
import { VrrpError } from "./errors.js";
import type { IpPacket } from "./ip.js";
import type { InstanceRuntime, RouterCore } from "./router-core.js";
import { checkAdvert, countedAsReceived, peekVrid, type RxInstance } from "./rx.js";
import { emptyInterfaceStats, type InterfaceStats } from "./stats.js";

export interface InterfaceCounters {
  name: string;
  family: 4 | 6;
  stats: InterfaceStats;
}

const channelKey = (family: 4 | 6, ifname: string) => `${family}/${ifname}`;

export class Wire {
  /** Counters per "family/ifname". */
  readonly ifStats = new Map<string, InterfaceCounters>();
  /** Channels opened, "family/ifname" (a reload closes those no instance uses any more). */
  private readonly channels = new Set<string>();
  private readonly pendingSends = new Set<Promise<void>>();

  constructor(private readonly core: RouterCore) {}

  /** Routes received packets and transport errors (start). */
  attach(): void {
    const { transport } = this.core.io;
    transport.onPacket((ifname, pkt) => this.onPacket(ifname, pkt));
    transport.onError((_ifname, _family, err) => {
      this.core.fail(err);
      // reopen what the error closed
      this.openChannels();
    });
  }

  /** Opens the channel of every interface and family an instance uses (once its link exists). */
  openChannels(): void {
    const core = this.core;
    const want = new Map<string, { ifname: string; family: 4 | 6; multicast: boolean }>();
    for (const { r } of core.instances) {
      const k = channelKey(r.family, r.interface);
      const w = want.get(k) ?? { ifname: r.interface, family: r.family, multicast: false };
      if (r.unicastPeers.length === 0) w.multicast = true;
      want.set(k, w);
    }
    for (const [k, w] of want) {
      if (!core.links.has(w.ifname)) continue;
      this.counters(k, w.ifname, w.family);
      try {
        core.io.transport.open(w.ifname, w.family, { multicast: w.multicast });
        this.channels.add(k);
      } catch (err) {
        core.fail(
          err instanceof VrrpError
            ? err
            : new VrrpError("VRRP_SOCKET", String(err), { object: w.ifname }, { cause: err }),
        );
      }
    }
  }

  /** Closes the channels no instance uses any more (after a reload). */
  closeUnusedChannels(): void {
    const want = new Set(this.core.instances.map(({ r }) => channelKey(r.family, r.interface)));
    for (const k of [...this.channels]) {
      if (want.has(k)) continue;
      const slash = k.indexOf("/");
      this.core.io.transport.close(k.slice(slash + 1), Number(k.slice(0, slash)) as 4 | 6);
      this.channels.delete(k);
    }
  }

  /** Resolves once every advert handed to the transport has been sent (or failed). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pendingSends]);
  }

  private counters(k: string, name: string, family: 4 | 6): InterfaceCounters {
    let ifs = this.ifStats.get(k);
    if (!ifs) {
      ifs = { name, family, stats: emptyInterfaceStats() };
      this.ifStats.set(k, ifs);
    }
    return ifs;
  }

  private onPacket(ifname: string, pkt: IpPacket): void {
    const ifs = this.counters(channelKey(pkt.family, ifname), ifname, pkt.family).stats;
    ifs.received++;
    const vrid = peekVrid(pkt.payload);
    if (vrid === undefined || !pkt.source) {
      ifs.malformed++;
      return;
    }
    const rt = this.core.instances.find(
      (i) => i.r.interface === ifname && i.r.family === pkt.family && i.r.params.vrid === vrid,
    );
    if (!rt) {
      ifs.vrid_err++;
      return;
    }
    const state = rt.engine.state;
    if (state !== "backup" && state !== "master") {
      ifs.ignored++;
      return;
    }
    // our own advert looped back (a second socket on the link): not an advert from a peer
    if (rt.primary !== undefined && pkt.source === rt.primary) return;
    const res = checkAdvert(pkt, this.rxView(rt, pkt.source));
    if (countedAsReceived(res)) rt.engine.stats.advert_rcvd++;
    if (!res.ok) {
      if (res.counter) rt.engine.stats[res.counter]++;
      else if (res.interfaceCounter === "malformed") ifs.malformed++;
      return;
    }
    this.core.emitAdvert({ instance: rt.r.name, priority: res.advert.priority, source: res.source });
    rt.engine.receive({
      priority: res.advert.priority,
      intervalCs: res.advert.intervalCs,
      source: res.source,
    });
  }

  /** keepalived skip_check_adv_addr: a BACKUP skips the address list check for the master it knows. */
  private rxView(rt: InstanceRuntime, source: string): RxInstance {
    const skip =
      rt.r.skipCheckAdvAddr && rt.engine.state === "backup" && rt.engine.status().master?.address === source;
    return skip ? { ...rt.rx, skipAddressCheck: true } : rt.rx;
  }

  /** One advert at `priority` to the group (or each unicast peer), from the instance's address. */
  sendAdvert(rt: InstanceRuntime, priority: number): void {
    const r = rt.r;
    const source = rt.primary;
    if (source === undefined) {
      this.core.warn(
        `${r.name}: no ${r.family === 4 ? "IPv4" : "link-local IPv6"} address on ${r.interface} to send from`,
      );
      return;
    }
    rt.ipId = (rt.ipId + 1) & 0xffff;
    if (rt.ipId === 0) rt.ipId = 1; // keepalived: the kernel would fill in an id of 0
    const dests =
      r.unicastPeers.length > 0 ? r.unicastPeers : [r.family === 4 ? VRRP_IPV4_GROUP : VRRP_IPV6_GROUP];
    for (const destination of dests) {
      const payload = this.encode(rt, priority, source, destination);
      if (!payload) return;
      this.transmit(rt, priority, {
        source,
        destination,
        payload,
        id: rt.ipId,
        ...(r.unicastTtl !== undefined && r.family === 4 ? { ttl: r.unicastTtl } : {}),
      });
    }
  }

  private encode(
    rt: InstanceRuntime,
    priority: number,
    source: string,
    destination: string,
  ): Uint8Array | undefined {
    const r = rt.r;
    try {
      return encodeAdvert(
        {
          version: r.params.version,
          vrid: r.params.vrid,
          priority,
          addresses: r.vips.map((v) => v.address),
          intervalCs: r.params.intervalCs,
          ...(r.params.version === 2 && r.family === 4
            ? { authType: r.authType, ...(r.authData ? { authData: r.authData } : {}) }
            : {}),
        },
        { family: r.family, source, destination, v3Ipv4Checksum: r.v3Ipv4Checksum },
      );
    } catch (err) {
      this.core.fail(err as VrrpError);
      return undefined;
    }
  }

  private transmit(
    rt: InstanceRuntime,
    priority: number,
    pkt: { source: string; destination: string; payload: Uint8Array; id: number; ttl?: number },
  ): void {
    const r = rt.r;
    const p = new Promise<void>((resolve) => {
      this.core.io.transport.send(r.interface, r.family, pkt, (err) => {
        // a priority-0 advert at stop may meet a socket already closing
        if (err && !(priority === 0 && this.core.stopped)) {
          this.core.fail(
            new VrrpError(
              "VRRP_SOCKET",
              `${r.name}: send advert to ${pkt.destination}: ${err.message}`,
              { object: r.name },
              { cause: err },
            ),
          );
        }
        resolve();
      });
    });
    this.pendingSends.add(p);
    void p.then(() => this.pendingSends.delete(p));
  }
}
