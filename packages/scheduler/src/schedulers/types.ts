// The interface between a service and its scheduler: struct ip_vs_scheduler's callbacks.
import type { IpAddress as Address } from "@lvs/inet";
import type { Dest } from "../dest.js";

/** What a scheduler reads of the packet (struct ip_vs_iphdr + the ports, never inverse here). */
export interface PacketView {
  af: number;
  protocol: number;
  caddr: Address;
  cport: number;
  vaddr: Address;
  vport: number;
  fwmark: number;
}

/** What a scheduler reads of its service (struct ip_vs_service). */
export interface SchedHost {
  /** svc->destinations in list order (the head's next first). */
  readonly dests: readonly Dest[];
  readonly af: number;
  readonly flags: number;
  /** ms. */
  now(): number;
  /** An integer in [0, bound). */
  random(bound: number): number;
  /** Arms a timer; returns a handle for cancelTimer. */
  addTimer(at: number, fn: (at: number) => void): object;
  cancelTimer(handle: object): void;
  /** ip_vs_dest_hold / ip_vs_dest_put for references a scheduler keeps (lblc/lblcr caches). */
  hold(d: Dest): void;
  put(d: Dest): void;
  readonly options: ResolvedSchedOptions;
}

export interface ResolvedSchedOptions {
  mhTableSize: number;
  /** IP_VS_MH_TAB_BITS (CONFIG_IP_VS_MH_TAB_INDEX / 2) for the weight shift. */
  mhTableBits: number;
  lblcExpirationMs: number;
  lblcrExpirationMs: number;
}

/**
 * A bound scheduler (init_service done). The hooks run after the service changed its list, as in
 * ip_vs_ctl.c: add after list_add_rcu (at the head), del after list_del_rcu (`index` is where the
 * destination was), upd after an edit. Schedulers whose kernel callback is NULL still get the
 * hooks when they keep list positions by index.
 */
export interface Scheduler {
  readonly name: string;
  schedule(pkt: PacketView): Dest | undefined;
  addDest?(d: Dest): void;
  delDest?(d: Dest, index: number): void;
  updDest?(d: Dest): void;
  done?(): void;
  /** Bytes the kernel allocates for this scheduler's state (sched_data), for the README figures. */
  kernelBytes?(): number;
}

export type SchedulerFactory = (host: SchedHost) => Scheduler;
