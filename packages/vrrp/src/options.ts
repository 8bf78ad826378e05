/**
 * The router's configuration, in keepalived's terms (durations in SECONDS as in keepalived.conf),
 * and its resolution into engine parameters with keepalived's defaults and corrections
 * (vrrp.c vrrp_complete_instance()).
 */
import { canonicalAddress, ipVersion } from "@lvs/inet";
import { passwordAuthData, type V3Ipv4Checksum } from "./codec.js";
import {
  KEEPALIVED_GARP_MASTER_DELAY_MS,
  KEEPALIVED_GARP_MASTER_REFRESH_REPEAT,
  KEEPALIVED_GARP_MASTER_REPEAT,
  KEEPALIVED_SCRIPT_FALL,
  KEEPALIVED_SCRIPT_INTERVAL_MS,
  KEEPALIVED_SCRIPT_RISE,
  VRRP_AUTH_NONE,
  VRRP_AUTH_PASS,
  VRRP_MAX_ADDRESSES,
  VRRP_PRIORITY_DEFAULT,
  VRRP_PRIORITY_OWNER,
  VRRP_V2_MAX_INTERVAL_S,
  VRRP_V3_MAX_INTERVAL_CS,
} from "./constants.js";
import type { InstanceParams } from "./engine.js";
import { VrrpError } from "./errors.js";
import type { NotifyScripts } from "./notify.js";
import type { ScriptCommand } from "./scripts.js";
import type { TrackRef } from "./tracking.js";

/** A `virtual_ipaddress` entry: "10.0.0.1/24" or the object form. */
export interface VirtualAddressOptions {
  address: string;
  /** Default 32 / 128. */
  prefixLength?: number;
  /** Default: the instance's interface. */
  dev?: string;
  label?: string;
  scope?: "global" | "site" | "link" | "host";
}

export interface TrackOptions {
  name: string;
  /** Default 0 for interfaces; for scripts, the vrrp_script's weight. */
  weight?: number;
  reverse?: boolean;
}

export interface VrrpInstanceOptions {
  name: string;
  interface: string;
  /** virtual_router_id, 1..255. */
  vrid: number;
  /** 1..255 (default 100; 255 when `state MASTER` and no priority, as keepalived). */
  priority?: number;
  /** keepalived `state`. */
  state?: "MASTER" | "BACKUP";
  /** Default: 3 for IPv6, else the router's `version` (default 2, keepalived's vrrp_version). */
  version?: 2 | 3;
  /** advert_int, seconds (default 1; VRRPv2 rounds to whole seconds, as keepalived). */
  advertInterval?: number;
  virtualAddresses: Array<string | VirtualAddressOptions>;
  /** virtual_ipaddress_excluded: installed with the others, not advertised. */
  excludedAddresses?: Array<string | VirtualAddressOptions>;
  nopreempt?: boolean;
  /** preempt_delay, seconds. */
  preemptDelay?: number;
  /** `accept` / `no_accept` (default accept, as keepalived without strict mode). */
  accept?: boolean;
  /** VRRPv2 authentication: PASS (simple password). AH is refused. */
  authentication?: { type: "PASS" | "AH"; password?: string };
  unicastSourceIp?: string;
  unicastPeers?: string[];
  /** unicast_ttl: IPv4 TTL of unicast adverts (1..255; default 255). */
  unicastTtl?: number;
  /** promote_secondaries: set net.ipv4.conf.IF.promote_secondaries=1 while running (restored at stop). */
  promoteSecondaries?: boolean;
  /** mcast_src_ip: the source address of multicast adverts. */
  mcastSourceIp?: string;
  /**
   * track_src_ip: FAULT while the configured source address (unicast_src_ip / mcast_src_ip) is
   * not on the instance's interface (keepalived.conf(5)); without one configured it does nothing.
   */
  trackSourceIp?: boolean;
  /**
   * unicast_fault_no_peer: an instance that names a unicast keyword but has no unicast_peer stays
   * in FAULT instead of falling back to multicast.
   */
  unicastFaultNoPeer?: boolean;
  checkUnicastSource?: boolean;
  skipCheckAdvAddr?: boolean;
  trackInterfaces?: TrackOptions[];
  trackScripts?: TrackOptions[];
  /** Don't go to FAULT when the instance's own interface is down. */
  dontTrackPrimary?: boolean;
  notify?: NotifyScripts;
  notifyPriorityChanges?: boolean;
  /** Seconds (default: the router's). */
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  garpMasterRefresh?: number;
  garpMasterRefreshRepeat?: number;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  downTimerAdverts?: number;
  /** Version 3 over IPv4 checksum (default: the router's, "pseudo-header" as keepalived). */
  v3Ipv4Checksum?: V3Ipv4Checksum;
}

export interface VrrpScriptOptions {
  name: string;
  argv: string[];
  /** Seconds (default 1). */
  interval?: number;
  /** Seconds (default: interval). */
  timeout?: number;
  weight?: number;
  reverse?: boolean;
  rise?: number;
  fall?: number;
  user?: { uid: number; gid?: number };
  initFail?: boolean;
}

export interface SyncGroupOptions {
  name: string;
  members: string[];
  notify?: NotifyScripts;
  trackInterfaces?: TrackOptions[];
  trackScripts?: TrackOptions[];
}

export interface VrrpRouterOptions {
  /** Network namespace to run in (a name under /run/netns or a path). */
  netns?: string;
  instances: VrrpInstanceOptions[];
  syncGroups?: SyncGroupOptions[];
  scripts?: VrrpScriptOptions[];
  /** keepalived notify_fifo / vrrp_notify_fifo paths. */
  notifyFifos?: string[];
  /** Default VRRP version for IPv4 instances (keepalived vrrp_version, default 2). */
  version?: 2 | 3;
  v3Ipv4Checksum?: V3Ipv4Checksum;
  /** How IPv6 adverts are read (see transport.ts); default "packet". */
  ipv6Receive?: "packet" | "raw";
  /** Global GARP defaults, seconds / counts (keepalived vrrp_garp_*). */
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  garpMasterRefresh?: number;
  garpMasterRefreshRepeat?: number;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  /** Seconds between GARP rounds / NA rounds on one interface (vrrp_garp_interval, vrrp_gna_interval). */
  garpInterval?: number;
  gnaInterval?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  checkUnicastSource?: boolean;
  skipCheckAdvAddr?: boolean;
  notifyPriorityChanges?: boolean;
  downTimerAdverts?: number;
  /** Default user for scripts (keepalived script_user). */
  scriptUser?: { uid: number; gid?: number };
  /** keepalived fifo_write_vrrp_states_on_reload: after a reload, the unchanged states go to the FIFO too. */
  fifoWriteStatesOnReload?: boolean;
  /**
   * keepalived vrrp_startup_delay (seconds): the instances start this long after the router (for
   * links that come up late after boot); until then they are in INIT and send nothing.
   */
  startupDelay?: number;
}

export interface ResolvedVip {
  dev: string;
  address: string;
  prefixLength: number;
  family: 4 | 6;
  label?: string;
  scope?: "global" | "site" | "link" | "host";
}

/** One instance after defaults and checks. */
export interface ResolvedInstance {
  name: string;
  interface: string;
  family: 4 | 6;
  params: InstanceParams;
  /** Advertised addresses (the instance's family, config order). */
  vips: ResolvedVip[];
  /** Installed, not advertised (excluded + other-family addresses, as keepalived). */
  extraVips: ResolvedVip[];
  authType: number;
  authData?: Uint8Array;
  unicastPeers: string[];
  /** IPv4 TTL of unicast adverts (absent: 255). */
  unicastTtl?: number;
  sourceIp?: string;
  /** track_src_ip with a configured source address: FAULT while it is not on the interface. */
  trackSourceIp?: true;
  /** Why the configuration itself keeps the instance in FAULT (unicast_fault_no_peer without peers). */
  configFault?: string;
  checkUnicastSource: boolean;
  skipCheckAdvAddr: boolean;
  v3Ipv4Checksum: V3Ipv4Checksum;
  tracks: TrackRef[];
  notify?: NotifyScripts;
  garpIntervalMs: number;
}

export interface ResolvedScript {
  name: string;
  command: ScriptCommand;
  intervalMs: number;
  timeoutMs: number;
  weight: number;
  reverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
}

function bad(inst: string, msg: string): VrrpError {
  return new VrrpError("VRRP_BAD_CONFIG", `vrrp_instance ${inst}: ${msg}`, { object: inst });
}

function parseVip(v: string | VirtualAddressOptions, dev: string, inst: string): ResolvedVip {
  const o: VirtualAddressOptions = typeof v === "string" ? { address: v } : v;
  let address = o.address.trim();
  let prefix = o.prefixLength;
  const slash = address.indexOf("/");
  if (slash >= 0) {
    prefix ??= Number(address.slice(slash + 1));
    address = address.slice(0, slash);
  }
  const family = ipVersion(address);
  if (family === 0) throw bad(inst, `virtual address ${JSON.stringify(o.address)} is not an IP address`);
  const max = family === 4 ? 32 : 128;
  const prefixLength = prefix ?? max;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw bad(inst, `prefix length of ${o.address} must be 0..${max}`);
  }
  return {
    dev: o.dev ?? dev,
    address: canonicalAddress(address),
    prefixLength,
    family,
    ...(o.label !== undefined ? { label: o.label } : {}),
    ...(o.scope !== undefined ? { scope: o.scope } : {}),
  };
}

const ms = (s: number | undefined, dflt: number) => (s === undefined ? dflt : Math.round(s * 1000));

type Warn = (msg: string) => void;

/** keepalived: the first address decides the family; others go to the excluded list. */
function resolveAddresses(o: VrrpInstanceOptions) {
  const all = o.virtualAddresses.map((v) => parseVip(v, o.interface, o.name));
  const family: 4 | 6 = all[0]?.family ?? 4;
  const vips = all.filter((v) => v.family === family);
  const extraVips = [
    ...all.filter((v) => v.family !== family),
    ...(o.excludedAddresses ?? []).map((v) => parseVip(v, o.interface, o.name)),
  ];
  if (vips.length > VRRP_MAX_ADDRESSES)
    throw bad(o.name, `at most ${VRRP_MAX_ADDRESSES} virtual addresses per instance`);
  return { family, vips, extraVips };
}

/** advert_int in centiseconds (keepalived vrrp_complete_instance()): v2 whole seconds, v3 capped at 40.95 s. */
function resolveInterval(name: string, seconds: number, version: 2 | 3, warn: Warn): number {
  if (!(seconds > 0)) throw bad(name, `advert_int ${seconds} must be > 0`);
  if (version === 2) {
    let s = Math.round(seconds);
    if (s !== seconds)
      warn(
        `${name}: VRRPv2 advert_int ${seconds} s rounded to ${Math.max(1, s)} s (use version 3 for sub-second adverts)`,
      );
    if (s < 1) s = 1;
    if (s > VRRP_V2_MAX_INTERVAL_S) {
      warn(`${name}: advert_int ${seconds} s capped at ${VRRP_V2_MAX_INTERVAL_S} s`);
      s = VRRP_V2_MAX_INTERVAL_S;
    }
    return s * 100;
  }
  let intervalCs = Math.round(seconds * 100);
  if (intervalCs < 1) intervalCs = 1;
  if (intervalCs > VRRP_V3_MAX_INTERVAL_CS) {
    warn(`${name}: advert_int ${seconds} s capped at 40.95 s (RFC 9568 §5.2.7)`);
    intervalCs = VRRP_V3_MAX_INTERVAL_CS;
  }
  return intervalCs;
}

/** VRRPv2 simple password (keepalived keeps its first 8 characters); AH is refused; v3 has none. */
function resolveAuth(
  o: VrrpInstanceOptions,
  version: 2 | 3,
  family: 4 | 6,
  warn: Warn,
): { authType: number; authData?: Uint8Array } {
  const name = o.name;
  if (!o.authentication) return { authType: VRRP_AUTH_NONE };
  if (o.authentication.type === "AH") {
    throw new VrrpError(
      "VRRP_AUTH_UNSUPPORTED",
      `vrrp_instance ${name}: auth_type AH is not supported (RFC 3768 removed it and keepalived only has it behind a build option); use auth_type PASS or no authentication`,
      { object: name },
    );
  }
  if (version === 3 || family === 6) {
    warn(`${name}: VRRPv3 has no authentication (RFC 9568 §9); authentication ignored`);
    return { authType: VRRP_AUTH_NONE };
  }
  if (!o.authentication.password) throw bad(name, "auth_type PASS needs auth_pass");
  return {
    authType: VRRP_AUTH_PASS,
    authData: passwordAuthData(Buffer.from(o.authentication.password).subarray(0, 8).toString()),
  };
}

/** Unicast peers and the source address (unicast_src_ip for unicast, mcast_src_ip for multicast first). */
function resolvePeers(o: VrrpInstanceOptions, family: 4 | 6) {
  const unicastPeers = (o.unicastPeers ?? []).map((p) => {
    if (ipVersion(p) !== family) throw bad(o.name, `unicast_peer ${p} is not IPv${family}`);
    return canonicalAddress(p);
  });
  const src =
    unicastPeers.length > 0 ? (o.unicastSourceIp ?? o.mcastSourceIp) : (o.mcastSourceIp ?? o.unicastSourceIp);
  if (src !== undefined && ipVersion(src) !== family)
    throw bad(o.name, `source address ${src} is not IPv${family}`);
  return { unicastPeers, ...(src !== undefined ? { sourceIp: canonicalAddress(src) } : {}) };
}

/** keepalived clears nopreempt and preempt_delay with `state MASTER`, and preempt_delay with nopreempt. */
function resolvePreempt(o: VrrpInstanceOptions, warn: Warn) {
  const name = o.name;
  let preempt = !o.nopreempt;
  let preemptDelayMs = ms(o.preemptDelay, 0);
  if (o.state === "MASTER" && !preempt) {
    warn(`${name}: nopreempt does not work with state MASTER (keepalived clears it)`);
    preempt = true;
  }
  if (o.state === "MASTER" && preemptDelayMs > 0) {
    warn(`${name}: preempt_delay does not work with state MASTER (keepalived clears it)`);
    preemptDelayMs = 0;
  }
  if (!preempt && preemptDelayMs > 0) {
    warn(`${name}: preempt_delay is incompatible with nopreempt (keepalived clears it)`);
    preemptDelayMs = 0;
  }
  return { preempt, preemptDelayMs };
}

/** The instance's own interface (unless dont_track_primary), track_interface and track_script. */
function resolveTracks(o: VrrpInstanceOptions, scripts: ReadonlyMap<string, ResolvedScript>): TrackRef[] {
  const tracks: TrackRef[] = [];
  if (!o.dontTrackPrimary) tracks.push({ kind: "interface", name: o.interface, weight: 0 });
  for (const t of o.trackInterfaces ?? []) {
    tracks.push({ kind: "interface", name: t.name, weight: t.weight ?? 0, reverse: t.reverse ?? false });
  }
  for (const t of o.trackScripts ?? []) {
    const s = scripts.get(t.name);
    if (!s) throw bad(o.name, `track_script ${t.name}: no vrrp_script of that name`);
    tracks.push({
      kind: "script",
      name: t.name,
      weight: t.weight ?? s.weight,
      reverse: t.reverse ?? s.reverse,
    });
  }
  return tracks;
}

/** The GARP and advert settings: the instance's, else the router's, else keepalived's defaults. */
function resolveTuning(o: VrrpInstanceOptions, router: VrrpRouterOptions) {
  return {
    downTimerAdverts: o.downTimerAdverts ?? router.downTimerAdverts ?? 3,
    lowerPrioNoAdvert: o.lowerPrioNoAdvert ?? router.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: o.higherPrioSendAdvert ?? router.higherPrioSendAdvert ?? false,
    accept: o.accept ?? true,
    garpMasterDelayMs: ms(o.garpMasterDelay ?? router.garpMasterDelay, KEEPALIVED_GARP_MASTER_DELAY_MS),
    garpMasterRepeat: o.garpMasterRepeat ?? router.garpMasterRepeat ?? KEEPALIVED_GARP_MASTER_REPEAT,
    garpMasterRefreshMs: ms(o.garpMasterRefresh ?? router.garpMasterRefresh, 0),
    garpMasterRefreshRepeat:
      o.garpMasterRefreshRepeat ?? router.garpMasterRefreshRepeat ?? KEEPALIVED_GARP_MASTER_REFRESH_REPEAT,
    // keepalived vrrp_complete_init(): the lower-priority GARP settings default to the global master ones
    garpLowerPrioDelayMs: ms(
      o.garpLowerPrioDelay ?? router.garpLowerPrioDelay ?? router.garpMasterDelay,
      KEEPALIVED_GARP_MASTER_DELAY_MS,
    ),
    garpLowerPrioRepeat:
      o.garpLowerPrioRepeat ??
      router.garpLowerPrioRepeat ??
      router.garpMasterRepeat ??
      KEEPALIVED_GARP_MASTER_REPEAT,
    notifyPriorityChanges: o.notifyPriorityChanges ?? router.notifyPriorityChanges ?? false,
  };
}

/** Resolves one instance; `warn` receives keepalived's corrections (rounded intervals…). */
export function resolveInstance(
  o: VrrpInstanceOptions,
  router: VrrpRouterOptions,
  scripts: ReadonlyMap<string, ResolvedScript>,
  warn: Warn = () => {},
): ResolvedInstance {
  const name = o.name;
  if (!o.interface) throw bad(name, "an interface is required");
  const { family, vips, extraVips } = resolveAddresses(o);
  let version = o.version ?? (family === 6 ? 3 : (router.version ?? 2));
  if (family === 6 && version === 2) {
    warn(`${name}: VRRPv2 is IPv4 only (RFC 3768); using version 3`);
    version = 3;
  }
  if (version === 3 && vips.length === 0) throw bad(name, "VRRPv3 needs at least one virtual address");
  if (!Number.isInteger(o.vrid) || o.vrid < 1 || o.vrid > 255)
    throw bad(name, `virtual_router_id ${o.vrid} must be 1..255`);
  const priority = o.priority ?? (o.state === "MASTER" ? VRRP_PRIORITY_OWNER : VRRP_PRIORITY_DEFAULT);
  if (!Number.isInteger(priority) || priority < 1 || priority > 255)
    throw bad(name, `priority ${priority} must be 1..255`);
  const intervalCs = resolveInterval(name, o.advertInterval ?? 1, version, warn);
  const auth = resolveAuth(o, version, family, warn);
  const peers = resolvePeers(o, family);
  const { preempt, preemptDelayMs } = resolvePreempt(o, warn);
  const tracks = resolveTracks(o, scripts);
  // keepalived vrrp_complete_instance(): no peers with unicast_fault_no_peer is a configuration
  // fault ("Cannot use unicast without any peers - going to fault state"), never multicast
  const configFault =
    o.unicastFaultNoPeer && peers.unicastPeers.length === 0
      ? "unicast_fault_no_peer and no unicast_peer: cannot use unicast without any peers"
      : undefined;
  if (configFault) warn(`${name}: ${configFault} - going to FAULT state`);
  else if (peers.unicastPeers.length === 0 && o.unicastSourceIp !== undefined)
    // keepalived's deprecated fallback (since 2.2.4): applied, so not a load-time "ignored" warning
    warn(
      `${name}: unicast_src_ip without any unicast_peer: using multicast, as keepalived does (deprecated there; add unicast_peer, or unicast_fault_no_peer to stay in FAULT)`,
    );
  const params: InstanceParams = {
    name,
    vrid: o.vrid,
    version,
    priority,
    ...(o.state !== undefined ? { initialState: o.state === "MASTER" ? "master" : "backup" } : {}),
    intervalCs,
    preempt: priority === VRRP_PRIORITY_OWNER ? true : preempt,
    preemptDelayMs,
    ...resolveTuning(o, router),
  };
  return {
    name,
    interface: o.interface,
    family,
    params,
    vips,
    extraVips,
    authType: auth.authType,
    ...(auth.authData ? { authData: auth.authData } : {}),
    unicastPeers: peers.unicastPeers,
    ...(o.unicastTtl !== undefined && peers.unicastPeers.length > 0 ? { unicastTtl: o.unicastTtl } : {}),
    ...(peers.sourceIp !== undefined ? { sourceIp: peers.sourceIp } : {}),
    // keepalived clears track_src_ip when no source address is configured
    ...(o.trackSourceIp && peers.sourceIp !== undefined ? { trackSourceIp: true as const } : {}),
    ...(configFault ? { configFault } : {}),
    checkUnicastSource: o.checkUnicastSource ?? router.checkUnicastSource ?? false,
    skipCheckAdvAddr: o.skipCheckAdvAddr ?? router.skipCheckAdvAddr ?? false,
    v3Ipv4Checksum: o.v3Ipv4Checksum ?? router.v3Ipv4Checksum ?? "pseudo-header",
    tracks,
    ...(o.notify ? { notify: o.notify } : {}),
    garpIntervalMs: ms(family === 4 ? router.garpInterval : router.gnaInterval, 0),
  };
}

export function resolveScript(o: VrrpScriptOptions, router: VrrpRouterOptions): ResolvedScript {
  if (!o.argv.length)
    throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_script ${o.name}: empty script`, { object: o.name });
  const intervalMs = ms(o.interval, KEEPALIVED_SCRIPT_INTERVAL_MS);
  if (!(intervalMs > 0))
    throw new VrrpError("VRRP_BAD_CONFIG", `vrrp_script ${o.name}: interval must be > 0`, { object: o.name });
  const user = o.user ?? router.scriptUser;
  return {
    name: o.name,
    command: { argv: o.argv, ...(user ? { uid: user.uid, gid: user.gid ?? user.uid } : {}) },
    intervalMs,
    timeoutMs: ms(o.timeout, intervalMs),
    weight: o.weight ?? 0,
    reverse: o.reverse ?? false,
    rise: o.rise ?? KEEPALIVED_SCRIPT_RISE,
    fall: o.fall ?? KEEPALIVED_SCRIPT_FALL,
    initFail: o.initFail ?? false,
  };
}
