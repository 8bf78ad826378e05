// The plan: what the LVS part of a configuration means for the kernel — virtual servers, the
// kernel services each stands for, real and sorry servers with their forwarding, quorum settings
// and health-check targets. compile.ts builds it; the engine runs on it.
import type { LvsSyncDaemon, LvsTimeouts, Script } from "@lvs/config";
import type { TargetConfig } from "@lvs/healthcheck";
import type { Service } from "@lvs/ipvs";
import type { ProtoName } from "./keys.js";
import type { ForwardSpec } from "./plan-values.js";

/** One kernel service a virtual server stands for. */
export interface PlannedService {
  /** @lvs/ipvs serviceId (canonical). */
  id: string;
  service: Service;
  /** The port non-NAT destinations take (the service's port; 0 for a fwmark). */
  port: number;
}

/** One health check of a real server. */
export interface PlannedCheck {
  /** Runner target id: stable across reloads while the check and its server stay the same. */
  id: string;
  /** keepalived block name (TCP_CHECK…). */
  kind: string;
  target: TargetConfig;
  /** log_all_failures (checker, else global checker_log_all_failures): every failed probe at info. */
  logAllFailures?: boolean;
}

/** What a real or sorry server contributes to each kernel service. */
export interface PlannedDest {
  /** `10.0.0.2:80` — the operator's name for it (RIP:PORT). */
  key: string;
  /** keepalived's `[10.0.0.2]:tcp:80`. */
  label: string;
  address: string;
  /** Port as configured (after keepalived's corrections). */
  port: number;
  af: number;
  fwd: ForwardSpec;
  upperThreshold: number;
  lowerThreshold: number;
}

export interface PlannedRealServer extends PlannedDest {
  /** `weight` (keepalived's iweight). */
  weight: number;
  inhibit: boolean;
  checks: PlannedCheck[];
  notifyUp?: Script;
  notifyDown?: Script;
  /** `proxy_protocol v1|v2` (lvs extension): the PROXY header the proxy dataplane sends it. */
  proxyProtocol?: "v1" | "v2";
  /** smtp_alert of the real server, else of its virtual server (undefined: the global setting). */
  smtpAlert?: boolean;
  /** Added through the runtime API (`lvsctl add-server`), not in the configuration. */
  runtime?: true;
}

export interface PlannedSorryServer extends PlannedDest {
  /** `sorry_server_inhibit`: kept with weight 0 while not in use. */
  inhibit: boolean;
}

export interface PlannedVirtualServer {
  /** Stable key: `TCP/10.0.0.1:80`, `FWM/5`, `GROUP/WEB/TCP`. */
  key: string;
  /** keepalived's FMT_VS: `[10.0.0.1]:tcp:80`, `FWM 5`, `[WEB]:0`. */
  label: string;
  protocol: ProtoName | undefined;
  services: PlannedService[];
  realServers: PlannedRealServer[];
  sorry: PlannedSorryServer | undefined;
  quorum: number;
  hysteresis: number;
  quorumUp: Script | undefined;
  quorumDown: Script | undefined;
  omega: boolean;
  /** Checks run only while one of `vips` is on a local interface. */
  haSuspend: boolean;
  vips: string[];
  /** The virtual server's `lvs_method` (what a real server added at runtime forwards with). */
  fwd: ForwardSpec;
  /** smtp_alert of the virtual server (undefined: the global smtp_alert_checker, else smtp_alert). */
  smtpAlert?: boolean;
}

export interface Plan {
  virtualServers: PlannedVirtualServer[];
  /** keepalived's "correcting" messages (ports reset, quorum reduced…), in config order. */
  warnings: string[];
  lvsFlush: boolean;
  lvsFlushOnStop: "RS" | "VS" | undefined;
  lvsTimeouts: LvsTimeouts | undefined;
  lvsSyncDaemon: LvsSyncDaemon | undefined;
  /** rs_init_notifies: notify_up and the FIFO's RS line for the real servers that start alive. */
  rsInitNotifies?: boolean;
}
