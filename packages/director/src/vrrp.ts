// The VRRP side of the director, as a component: @lvs/vrrp runs the `vrrp_instance` /
// `vrrp_sync_group` / `vrrp_script` part of the configuration; the director only needs to start,
// reload and stop it, read instance states for the API and metrics, and follow state changes
// (lvs_sync_daemon master/backup, ha_suspend through the VIPs it adds and removes).
//
// An adapter for @lvs/vrrp implements this interface; runDaemon takes it as `vrrp`. Without one
// the daemon runs the LVS side only and says so when the file has vrrp_instance blocks.
import type { LvsConfig } from "@lvs/config";

export type VrrpStateName = "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP";

/** One instance as the API and metrics show it (keepalived-exporter's labels and counters). */
export interface VrrpInstanceStatus {
  /** `vrrp_instance` name (keepalived-exporter `iname`). */
  name: string;
  /** `intf`. */
  interface: string;
  vrid: number;
  state: VrrpStateName;
  priority: number;
  effectivePriority: number;
  /** Virtual addresses (`ip_address` label). */
  vips: string[];
  /** Epoch ms of the last transition. */
  since?: number;
  /** keepalived's counters: advert_rcvd, advert_sent, become_master, release_master, ip_ttl_err, auth_failure, pri_zero_rcvd, pri_zero_sent… */
  counters?: Partial<Record<string, number>>;
}

export interface VrrpStateChange {
  instance: string;
  from: VrrpStateName;
  to: VrrpStateName;
  /** Why, as the VRRP engine says (`master down timer expired`, `higher priority advert`…). */
  reason?: string;
}

export interface VrrpComponent {
  /** Start every instance of the configuration. */
  start(config: LvsConfig): Promise<void>;
  /**
   * Apply a new configuration in place (keepalived's reload): unchanged instances keep running
   * untouched, changed ones keep their state, removed ones stop, new ones start. Rejects, with
   * the running configuration left as it was, when the VRRP part refuses the new one.
   */
  reload(config: LvsConfig): Promise<void>;
  /** Stop cleanly: priority-0 adverts, VIPs removed (keepalived's shutdown). */
  stop(): Promise<void>;
  states(): VrrpInstanceStatus[];
  on(event: "state", listener: (change: VrrpStateChange) => void): void;
}
