/**
 * I/O: what a router does to its host besides VRRP packets — virtual addresses, gratuitous ARP /
 * unsolicited NA, link and address events — through @lvs/netconf (rtnetlink, AF_PACKET), inside
 * the router's network namespace.
 */
import {
  Announcer,
  type LinkEntry,
  type NetlinkWatcher,
  RtnlClient,
  readSysctl,
  watchNetlink,
  writeSysctl,
} from "@lvs/netconf";
import { fromSystemError } from "./errors.js";

/** A virtual address as the router installs it. */
export interface VipSpec {
  dev: string;
  /** Canonical address text. */
  address: string;
  prefixLength: number;
  family: 4 | 6;
  label?: string;
  scope?: "global" | "site" | "link" | "host";
}

export interface LinkState {
  name: string;
  index: number;
  /** keepalived IF_FLAGS_UP: IFF_UP and IFF_RUNNING. */
  up: boolean;
  mac?: string;
}

export interface AddressState {
  dev: string;
  family: 4 | 6;
  address: string;
  prefixLength: number;
  /** rt_scope_t (253 link). */
  scope: number;
  /** IFA_F_* */
  flags: number;
}

export interface AnnounceRequest {
  count: number;
  /** Between rounds (keepalived vrrp_garp_interval / vrrp_gna_interval), ms. */
  intervalMs?: number;
  /** Source MAC (skips a netlink lookup). */
  mac?: string;
}

/** The host operations a router needs (NetconfOps is the real one; tests may pass a double). */
export interface NetOps {
  addAddress(vip: VipSpec): Promise<{ changed: boolean }>;
  removeAddress(vip: VipSpec): Promise<{ changed: boolean }>;
  announce(dev: string, addresses: string[], req: AnnounceRequest): Promise<void>;
  links(): Promise<LinkState[]>;
  addresses(): Promise<AddressState[]>;
  /** Subscribes to link/address changes; returns an unsubscribe function. */
  watch(onChange: (what: "link" | "address") => void, onError: (err: Error) => void): Promise<() => void>;
  /** Write a sysctl of the router's namespace; resolves to the value it had (undefined: none). */
  setSysctl?(key: string, value: string): Promise<string | undefined>;
  close(): void;
}

// include/uapi/linux/if.h: IFF_UP 0x1, IFF_RUNNING 0x40
const linkUp = (l: LinkEntry) => l.up && l.running;

/**
 * The Announcer's clock: a frame due now goes out on the next turn of the event loop
 * (setImmediate) rather than after setTimeout(0)'s 1 ms minimum — that millisecond is on the
 * failover path (the first GARP after taking over).
 */
const immediateClock = {
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown =>
    ms <= 0 ? { immediate: setImmediate(fn) } : { timeout: setTimeout(fn, ms) },
  clearTimeout: (h: unknown): void => {
    const x = h as { immediate?: NodeJS.Immediate; timeout?: NodeJS.Timeout } | undefined;
    if (x?.immediate) clearImmediate(x.immediate);
    if (x?.timeout) clearTimeout(x.timeout);
  },
};

/** NetOps over @lvs/netconf: one rtnetlink request socket, one watcher, one announcer. */
export class NetconfOps implements NetOps {
  async setSysctl(key: string, value: string): Promise<string | undefined> {
    const opts = this.netns !== undefined ? { netns: this.netns } : {};
    const before = (await readSysctl(key, opts))?.trim();
    await writeSysctl(key, value, opts);
    return before;
  }

  private rtnl: RtnlClient | undefined;
  private watcher: NetlinkWatcher | undefined;
  private readonly announcer: Announcer;

  constructor(readonly netns?: string) {
    this.announcer = new Announcer({ ...(netns !== undefined ? { netns } : {}), clock: immediateClock });
  }

  private client(): RtnlClient {
    if (!this.rtnl) this.rtnl = RtnlClient.open(this.netns !== undefined ? { netns: this.netns } : {});
    return this.rtnl;
  }

  private spec(v: VipSpec) {
    return {
      dev: v.dev,
      address: v.address,
      prefixLength: v.prefixLength,
      ...(v.label !== undefined ? { label: v.label } : {}),
      ...(v.scope !== undefined ? { scope: v.scope } : {}),
      noDad: true,
    };
  }

  async addAddress(vip: VipSpec): Promise<{ changed: boolean }> {
    return this.client().addAddress(this.spec(vip));
  }

  async removeAddress(vip: VipSpec): Promise<{ changed: boolean }> {
    return this.client().removeAddress(this.spec(vip));
  }

  async announce(dev: string, addresses: string[], req: AnnounceRequest): Promise<void> {
    if (addresses.length === 0 || req.count < 1) return;
    await this.announcer.announce(dev, addresses, {
      count: req.count,
      ...(req.intervalMs ? { intervalMs: req.intervalMs } : {}),
      ...(req.mac !== undefined ? { mac: req.mac } : {}),
      // keepalived's GARP: an ARP request with the broadcast target
      requestTarget: "broadcast",
    });
  }

  async links(): Promise<LinkState[]> {
    const list = await this.client().listLinks();
    return list.map((l) => ({
      name: l.name,
      index: l.index,
      up: linkUp(l),
      ...(l.mac !== undefined ? { mac: l.mac } : {}),
    }));
  }

  async addresses(): Promise<AddressState[]> {
    const list = await this.client().listAddresses();
    return list.map((a) => ({
      dev: a.dev,
      family: a.family,
      address: a.address,
      prefixLength: a.prefixLength,
      scope: a.scope,
      flags: a.flags,
    }));
  }

  async watch(
    onChange: (what: "link" | "address") => void,
    onError: (err: Error) => void,
  ): Promise<() => void> {
    try {
      this.watcher = await watchNetlink(this.netns !== undefined ? { netns: this.netns } : {});
    } catch (err) {
      throw fromSystemError("VRRP_NETCONF", "cannot watch links and addresses", err, {
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
      });
    }
    const w = this.watcher;
    w.on("link", () => onChange("link"));
    w.on("address", () => onChange("address"));
    w.on("error", (err) => {
      onError(err);
      // lost notifications: re-read everything
      onChange("link");
      onChange("address");
    });
    return () => w.close();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.rtnl?.close();
    this.rtnl = undefined;
    this.announcer.close();
  }
}
