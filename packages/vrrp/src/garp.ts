/**
 * keepalived's gratuitous ARP / unsolicited NA schedule for one MASTER (vrrp.c
 * vrrp_state_become_master(), vrrp_scheduler.c vrrp_gratuitous_arp_thread(),
 * vrrp_lower_prio_gratuitous_arp_thread()): a second round `garp_master_delay` after taking
 * over, a round every `garp_master_refresh` while MASTER, and after a lower-priority advert a
 * round now and one `garp_lower_prio_delay` later. The engine says when; this keeps the timers.
 */
import type { Clock } from "@lvs/inet";
import type { EngineParams, InstanceEffect } from "./engine-types.js";

type Announce = Extract<InstanceEffect, { type: "announce" }>;

export class GarpSchedule {
  private delayTimer: unknown;
  private lowerTimer: unknown;
  private refreshAt: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly announce: (e: Announce) => void,
    /** MASTER, and whether its addresses are installed. */
    private readonly master: () => { master: boolean; addresses: boolean },
  ) {}

  /** Taking over: the refresh clock starts. */
  startRefresh(p: EngineParams, now: number): void {
    if (p.garpMasterRefreshMs > 0) this.refreshAt = now + p.garpMasterRefreshMs;
  }

  /** Taking over: the delayed second round (the timers so far, the refresh clock included, are reset). */
  scheduleDelayed(p: EngineParams): void {
    if (!(p.garpMasterDelayMs > 0)) return;
    this.cancel();
    this.delayTimer = this.clock.setTimeout(() => {
      this.delayTimer = undefined;
      const m = this.master();
      if (m.master && m.addresses)
        this.announce({ type: "announce", repeat: p.garpMasterRepeat, reason: "delayed" });
    }, p.garpMasterDelayMs);
  }

  /** Each advert sent as MASTER: a refresh round when one is due. */
  refreshIfDue(p: EngineParams, now: number): void {
    if (this.refreshAt === undefined || now <= this.refreshAt) return;
    this.announce({ type: "announce", repeat: p.garpMasterRefreshRepeat, reason: "refresh" });
    this.refreshAt = now + p.garpMasterRefreshMs;
  }

  /** A lower-priority advert reached the MASTER: a round now and one garp_lower_prio_delay later. */
  lowerPriority(p: EngineParams): void {
    if (!(p.garpLowerPrioRepeat > 0)) return;
    this.announce({ type: "announce", repeat: p.garpLowerPrioRepeat, reason: "lower-priority" });
    if (!(p.garpLowerPrioDelayMs > 0)) return;
    if (this.lowerTimer !== undefined) this.clock.clearTimeout(this.lowerTimer);
    this.lowerTimer = this.clock.setTimeout(() => {
      this.lowerTimer = undefined;
      if (this.master().master)
        this.announce({ type: "announce", repeat: p.garpLowerPrioRepeat, reason: "lower-priority" });
    }, p.garpLowerPrioDelayMs);
  }

  /** A reload moved garp_master_refresh: the clock restarts from now (or stops). */
  refreshChanged(p: EngineParams, addressesSet: boolean, now: number): void {
    this.refreshAt = addressesSet && p.garpMasterRefreshMs > 0 ? now + p.garpMasterRefreshMs : undefined;
  }

  cancel(): void {
    if (this.delayTimer !== undefined) this.clock.clearTimeout(this.delayTimer);
    if (this.lowerTimer !== undefined) this.clock.clearTimeout(this.lowerTimer);
    this.delayTimer = undefined;
    this.lowerTimer = undefined;
    this.refreshAt = undefined;
  }
}
