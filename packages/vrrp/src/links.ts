/**
 * The router's view of the host's links and addresses (rtnetlink through NetOps): read at start
 * and again on every link or address event, one read at a time; each instance's source address
 * picked from it as keepalived picks it, and our VIPs left by a previous run removed at start.
 */
import { isLinkLocal6 } from "@lvs/inet";
import { VrrpError } from "./errors.js";
import type { RouterCore } from "./router-core.js";
import { allVips } from "./router-plan.js";

// include/uapi/linux/if_addr.h: IFA_F_SECONDARY 0x01, IFA_F_DADFAILED 0x08, IFA_F_TENTATIVE 0x40
const IFA_F_SECONDARY = 0x01;
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
// include/uapi/linux/rtnetlink.h: RT_SCOPE_LINK
const RT_SCOPE_LINK = 253;

const asNetconfError = (err: unknown) =>
  err instanceof VrrpError
    ? err
    : new VrrpError("VRRP_NETCONF", (err as Error)?.message ?? String(err), {}, { cause: err });

export class LinkWatch {
  private unwatch: (() => void) | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  /** `afterRefresh` runs after each read once the router runs (channels, tracking). */
  constructor(
    private readonly core: RouterCore,
    private readonly afterRefresh: () => void,
  ) {}

  /** Subscribes to link and address events, then reads both once. */
  async start(): Promise<void> {
    this.unwatch = await this.core.io.net.watch(
      () => this.scheduleRefresh(),
      (err) => this.core.fail(asNetconfError(err)),
    );
    await this.refresh();
  }

  /** Stops listening; a read already started finishes first (its netlink client closes next). */
  async stop(): Promise<void> {
    this.unwatch?.();
    await this.refreshing?.catch(() => {});
  }

  private scheduleRefresh(): void {
    const core = this.core;
    if (core.stopped) return; // stop() removes our VIPs: their events need no answer
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.refresh()
      .catch((err) => core.fail(asNetconfError(err)))
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain && !core.stopped) {
          this.refreshAgain = false;
          this.scheduleRefresh();
        }
      });
  }

  private async refresh(): Promise<void> {
    const core = this.core;
    const [links, addrs] = await Promise.all([core.io.net.links(), core.io.net.addresses()]);
    const before = core.links;
    core.links = new Map(links.map((l) => [l.name, l]));
    // an interface deleted and created again has a new index: its sockets are bound to the old one
    for (const [name, old] of before) {
      const now = core.links.get(name);
      if (!now || now.index !== old.index) {
        core.io.transport.close(name, 4);
        core.io.transport.close(name, 6);
      }
    }
    core.addrs = addrs;
    this.updateAddressing();
    if (core.started && !core.stopped) this.afterRefresh();
  }

  /** Each instance's source address and local addresses, from the interface addresses last read. */
  updateAddressing(): void {
    const core = this.core;
    const ours = core.ours();
    for (const rt of core.instances) {
      rt.primary = rt.r.sourceIp ?? this.pickPrimary(rt.r.interface, rt.r.family, ours);
      rt.rx = {
        ...rt.rx,
        localAddresses: core.addrs
          .filter((a) => a.dev === rt.r.interface && a.family === rt.r.family)
          .map((a) => a.address),
      };
    }
  }

  /** keepalived's interface address: IPv4 the first primary address, IPv6 the first usable link-local. */
  pickPrimary(dev: string, family: 4 | 6, exclude: ReadonlySet<string>): string | undefined {
    const cands = this.core.addrs.filter(
      (a) =>
        a.dev === dev &&
        a.family === family &&
        !exclude.has(a.address) &&
        (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0,
    );
    if (family === 4) return (cands.find((a) => (a.flags & IFA_F_SECONDARY) === 0) ?? cands[0])?.address;
    return cands.find((a) => a.scope === RT_SCOPE_LINK && isLinkLocal6(a.address))?.address;
  }

  /** keepalived remove_residual_vips(): addresses of ours left by a previous run go first. */
  async removeResidualVips(): Promise<void> {
    const core = this.core;
    const present = new Set(core.addrs.map((a) => `${a.dev}/${a.address}`));
    for (const rt of core.instances) {
      for (const v of allVips(rt.r)) {
        if (!present.has(`${v.dev}/${v.address}`)) continue;
        try {
          await core.io.net.removeAddress(v);
        } catch (err) {
          core.fail(
            new VrrpError(
              "VRRP_NETCONF",
              `cannot remove stale ${v.address} from ${v.dev}`,
              { object: v.address },
              { cause: err },
            ),
          );
        }
      }
    }
  }
}
