// The shape of `GET /status` (what `lvsctl status --json` prints).
import type { SyncDaemonConfig } from "@lvs/sync";
import type { BgpAnnouncementStatus, BgpSessionStatus } from "./bgp.js";
import type { DrainState } from "./events.js";
import type { VrrpInstanceStatus } from "./vrrp.js";

export interface CheckStatus {
  id: string;
  /** TCP_CHECK, HTTP_GET… */
  kind: string;
  up: boolean;
  /** Why (last probe): `connected`, `ECONNREFUSED`, `status 503 not in 200-299`… */
  reason: string | null;
  latencyMs: number | null;
  /** Epoch ms of the last probe. */
  at: number | null;
}

export interface RealServerStatus {
  /** `10.0.0.2:80` */
  key: string;
  /** keepalived's `[10.0.0.2]:tcp:80` */
  label: string;
  address: string;
  port: number;
  forward: "NAT" | "DR" | "TUN";
  /** Configured weight. */
  configWeight: number;
  /** Weight from config, runtime changes and checks. */
  effectiveWeight: number;
  /** What the kernel holds (first kernel service of the virtual server), null when absent. */
  kernelWeight: number | null;
  /** What the kernel should hold, null when it should be absent. */
  desiredWeight: number | null;
  alive: boolean;
  inhibit: boolean;
  /** Summed over the virtual server's kernel services (last read). */
  activeConns: number;
  inactiveConns: number;
  /** `up`, `down`, `draining`, `drained`, `disabled`, `sorry` (out while the sorry server serves). */
  state: string;
  checks: CheckStatus[];
  override: { weight?: number; disabled?: boolean; drain?: DrainState } | null;
}

export interface VirtualServerStatus {
  /** `TCP/10.0.0.1:80`, `FWM/5`, `GROUP/WEB/TCP` */
  key: string;
  /** keepalived's FMT_VS */
  label: string;
  /** Kernel services, ipvsadm style: `TCP 10.0.0.1:80`, `FWM 5`. */
  services: string[];
  scheduler: string;
  /** Persistence timeout (s), null when not persistent. */
  persistence: number | null;
  forward: string;
  quorum: { up: boolean; quorum: number; hysteresis: number; liveWeight: number };
  sorry: { key: string; active: boolean; inhibit: boolean } | null;
  /** ha_suspend holds the checks (no VIP on a local interface). */
  checksSuspended: boolean;
  /** Every kernel service of it exists. */
  inKernel: boolean;
  realServers: RealServerStatus[];
}

export interface DrainStatus {
  virtualServer: string;
  realServer: string;
  phase: "draining" | "drained";
  since: number;
  deadline: number | null;
  doneAt: number | null;
  doneReason: string | null;
  activeConns: number;
}

export interface DirectorStatus {
  /** BGP sessions of the `bgp:` section and what they announce (absent without one). */
  bgp?: BgpSessionStatus[];
  /** What the `bgp:` sessions announce and why not (absent without a `bgp:` section). */
  bgpAnnouncement?: BgpAnnouncementStatus;
  /** The whole director is drained (`lvsctl drain --director`) since then; null: not drained. */
  directorDrain?: { since: number } | null;
  daemon: {
    pid: number;
    startedAt: number;
    configPath: string;
    statePath: string;
    mode: "all" | "check" | "vrrp";
  };
  config: { loadedAt: number; files: string[]; warnings: string[] };
  reconcile: {
    intervalMs: number;
    passes: number;
    lastPassAt: number | null;
    lastDurationMs: number | null;
    lastOperations: number;
    driftRepairs: number;
    /** Operations the kernel refused in the last pass (retried by the next). */
    failures: Array<{
      operation: string;
      object: string | null;
      code: string;
      errno: string | null;
      message: string;
    }>;
    lastReadError: string | null;
  };
  virtualServers: VirtualServerStatus[];
  drains: DrainStatus[];
  vrrp: { running: boolean; instances: VrrpInstanceStatus[] };
  syncDaemons: SyncDaemonConfig[];
}

/** POST /director/drain and /director/undrain: the director's drain, and what BGP did. */
export interface DirectorDrainAnswer {
  drained: boolean;
  /** Epoch ms the drain began (null: not drained). */
  since: number | null;
  /** false: it was already so. */
  changed: boolean;
  /** A `bgp:` section runs (without one there is nothing to withdraw). */
  bgp: boolean;
  /** Prefixes this call withdrew from every peer. */
  withdrawn: string[];
  /** Prefixes announced now. */
  announced: string[];
  peers: string[];
}
