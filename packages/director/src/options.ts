// What a director is built from: its options, and the configuration file as loaded.

import type { SpeakerOptions } from "@lvs/bgp";
import type { LvsConfig, SourceMap } from "@lvs/config";
import type { RunnerOptions } from "@lvs/healthcheck";
import type { Clock } from "@lvs/inet";
import type { ApiLimits } from "./api.js";
import type { BgpSpeakerLike } from "./bgp.js";
import type { Dataplane } from "./dataplane.js";
import type { DataplaneChoice } from "./dataplane-choice.js";
import { DirectorError } from "./errors.js";
import type { HistoryLimits } from "./history.js";
import type { DirectorKernel } from "./ipvs-dataplane.js";
import type { Logger } from "./log.js";
import type { ScriptRunner } from "./scripts.js";
import type { SysctlAccess } from "./sysctl-host.js";
import type { LocalAddresses } from "./vip.js";
import type { VrrpComponent } from "./vrrp.js";

export type DirectorMode = "all" | "check" | "vrrp";

export interface LoadedConfig {
  config: LvsConfig;
  files: string[];
  warnings: string[];
  /** Where each value came from (file:line of errors the director finds later). */
  sources?: SourceMap;
}

export interface DirectorOptions {
  /** keepalived.conf, or the native YAML/JSON. */
  configPath: string;
  /** `@ID` lines of keepalived.conf (keepalived -i); default: the host name up to the first dot. */
  configId?: string;
  /** Default: `<configPath>.state.json` (in the runtime directory when that directory is not ours to write). */
  statePath?: string;
  /** API socket (default: defaultSocketPath(), /run/lvs/director.sock for root); null = none. */
  socketPath?: string | null;
  /** Optional TCP API `HOST:PORT` (needs `token`). */
  listen?: string;
  token?: string;
  /** API bounds: body size, connections, timeouts (default DEFAULT_API_LIMITS). */
  apiLimits?: Partial<ApiLimits>;
  /** `all` (default): LVS + VRRP; `check`: LVS only (keepalived --check); `vrrp`: VRRP only. */
  mode?: DirectorMode;
  log?: Logger;
  /**
   * What programs the packets: a Dataplane object, or `ipvs` (the default: IpvsDataplane over
   * `client`, or the kernel's opened now), `proxy` (@lvs/proxy, the userspace L4 dataplane) or
   * `auto` (IPVS when /proc/net/ip_vs exists and CAP_NET_ADMIN is held, else the proxy).
   */
  dataplane?: Dataplane | DataplaneChoice;
  /** An IPVS client for the default dataplane (MemoryIpvs in tests); default IpvsClient.open({ netns }). */
  client?: DirectorKernel;
  netns?: string;
  /**
   * The sysctls the LVS part needs (ip_forward for NAT…): read, warned about or set. Default: the
   * host's (of `netns`), and only on the kernel's IPVS opened by the daemon itself.
   */
  sysctls?: SysctlAccess;
  reconcileIntervalMs?: number;
  drainPollMs?: number;
  haSuspendPollMs?: number;
  /** Health runner options (tests inject `probe`; its clock defaults to the director's). */
  health?: Omit<RunnerOptions, "onEvent" | "onResult">;
  loadConfig?: (path: string) => LoadedConfig | Promise<LoadedConfig>;
  scriptRunner?: ScriptRunner;
  vrrp?: VrrpComponent;
  localAddresses?: LocalAddresses;
  /** Timers (periodic pass, drain and ha_suspend polls, slow start); default the system clock. */
  clock?: Clock;
  /** Epoch ms (drains, status). Default: Date.now, or one that moves with `clock` when that is given. */
  now?: () => number;
  /**
   * /proc/net/ip_vs for quick periodic passes. Default: the file, when the daemon programs its
   * own namespace's IPVS; a client with `procText()` (MemoryIpvs) answers for itself.
   */
  readProc?: (() => Promise<string>) | null;
  /** Every Nth periodic pass reads the whole table over netlink (the others look at /proc). Default 12. */
  fullPassEvery?: number;
  /**
   * At stop, delete our services as keepalived does without --dont-release-ipvs. Default false:
   * the table stays (connections keep flowing while the daemon restarts). `lvs_flush_on_stop`
   * in the file flushes regardless.
   */
  releaseOnStop?: boolean;
  /**
   * Why VRRP and VIP handling are skipped (not root: `runDaemon` sets it), said in one warning at
   * start; on the proxy dataplane virtual addresses must then already be local.
   */
  vrrpSkipped?: string;
  /** The BGP speakers of the `bgp:` section (tests pass a double); default @lvs/bgp's BgpSpeaker. */
  createBgpSpeaker?: (o: SpeakerOptions) => BgpSpeakerLike;
  /**
   * How many check results the status page keeps: at most `checksPerRealServer` per real server
   * (default 100), and about `checkResults` in all (default 250,000, ~28 bytes a result), so a
   * director with many real servers keeps fewer per real server (never fewer than 10, or
   * `checksPerRealServer` if smaller).
   */
  history?: HistoryLimits;
}

/**
 * keepalived.conf, YAML or JSON (@lvs/config's loadConfig tells them apart). Asynchronous because
 * the parsers (zod, yaml: ~23 MiB of RSS) are imported on the first call: a daemon whose file is
 * parsed in a worker (config-load.ts) never loads them in its own isolate.
 */
export async function loadConfigFile(path: string, opts: { configId?: string } = {}): Promise<LoadedConfig> {
  const lvsConfig = await import("@lvs/config");
  try {
    const r = lvsConfig.loadConfig(path, opts.configId !== undefined ? { configId: opts.configId } : {});
    return {
      config: r.config,
      files: r.files,
      warnings: r.warnings.map((w) => lvsConfig.formatIssue(w)),
      sources: r.sources,
    };
  } catch (err) {
    if (err instanceof lvsConfig.ConfigError) {
      const lines = err.errors.map((i) => lvsConfig.formatIssue(i)).join("\n");
      throw new DirectorError("DIRECTOR_CONFIG", lines || err.message, { object: path, cause: err });
    }
    throw err;
  }
}
