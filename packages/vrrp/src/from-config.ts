/**
 * keepalived.conf (as parsed by @lvs/config) → router options: global_defs, vrrp_script,
 * vrrp_sync_group and vrrp_instance. What lvs does not do is reported as a warning with the
 * keyword's position, never silently dropped.
 */
import { execFileSync } from "node:child_process";
import type { LvsConfig, RunAs, Script, SourceMap, VirtualIpAddress, VrrpInstance } from "@lvs/config";
import { VrrpError } from "./errors.js";
import type { NotifyScripts } from "./notify.js";
import type { VirtualAddressOptions, VrrpInstanceOptions, VrrpRouterOptions } from "./options.js";
import type { ScriptCommand } from "./scripts.js";

export interface ConfigWarning {
  message: string;
  /** "file:line:column" when known. */
  position?: string;
}

const cmd = (s: Script | undefined, dflt?: RunAs): ScriptCommand | undefined => {
  if (!s) return undefined;
  const user = s.user ?? dflt;
  return { argv: s.argv, ...(user ? { uid: user.uid, gid: user.gid } : {}) };
};

function notifyOf(
  x: {
    notifyMaster?: Script;
    notifyBackup?: Script;
    notifyFault?: Script;
    notifyStop?: Script;
    notify?: Script;
    notifyMasterRxLowerPri?: Script;
  },
  dflt: RunAs | undefined,
): NotifyScripts | undefined {
  const n: NotifyScripts = {};
  const set = (k: keyof NotifyScripts, s: Script | undefined) => {
    const c = cmd(s, dflt);
    if (c) n[k] = c;
  };
  set("master", x.notifyMaster);
  set("backup", x.notifyBackup);
  set("fault", x.notifyFault);
  set("stop", x.notifyStop);
  set("any", x.notify);
  set("masterRxLowerPri", x.notifyMasterRxLowerPri);
  return Object.keys(n).length > 0 ? n : undefined;
}

function vip(v: VirtualIpAddress): VirtualAddressOptions {
  const scope = v.scope === "nowhere" ? undefined : v.scope;
  return {
    address: v.address,
    prefixLength: v.prefix,
    ...(v.dev !== undefined ? { dev: v.dev } : {}),
    ...(v.label !== undefined ? { label: v.label } : {}),
    ...(scope !== undefined ? { scope } : {}),
  };
}

/** Positions of the configuration's objects ("file:line:column") and the warnings collected. */
class Reporter {
  readonly warnings: ConfigWarning[] = [];
  constructor(private readonly sources: SourceMap | undefined) {}

  pos(path: Array<string | number>): string | undefined {
    const p = this.sources?.positionOf(path);
    return p ? `${p.file}:${p.line}:${p.column}` : undefined;
  }

  warn(message: string, path: Array<string | number>): void {
    const position = this.pos(path);
    this.warnings.push({ message, ...(position ? { position } : {}) });
  }
}

type GlobalDefs = LvsConfig["globalDefs"];
type SyncGroup = LvsConfig["vrrpSyncGroups"][number];
type VrrpScript = LvsConfig["vrrpScripts"][number];

/** The interface the kernel routes `address` through (`ip route get`), in `netns` when given. */
export function routeInterface(address: string, netns?: string): string | undefined {
  try {
    const out = execFileSync("ip", [...(netns ? ["-n", netns] : []), "-o", "route", "get", address], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    });
    return / dev (\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * An instance without `interface`: as keepalived, the one routing to its first unicast peer,
 * else global_defs `default_interface`; undefined when neither gives one.
 */
function chooseInterface(
  i: VrrpInstance,
  g: GlobalDefs,
  interfaceFor: (address: string) => string | undefined,
): string | undefined {
  const peer = i.unicastPeer[0]?.address;
  return (peer !== undefined ? interfaceFor(peer) : undefined) ?? g.defaultInterface;
}

/** What lvs refuses (an error with the position) or does not do (a warning) in one vrrp_instance. */
function checkInstance(i: VrrpInstance, idx: number, g: GlobalDefs, rep: Reporter): void {
  const at = ["vrrpInstances", idx];
  const position = (path: Array<string | number>) => {
    const p = rep.pos(path);
    return p ? { position: p } : {};
  };
  if (!i.interface)
    throw new VrrpError(
      "VRRP_BAD_CONFIG",
      `vrrp_instance ${i.name}: no \`interface\`, no route to a unicast peer and no \`default_interface\`; add \`interface <dev>\``,
      { object: i.name, ...position(at) },
    );
  if (i.authentication?.authType === "AH")
    throw new VrrpError(
      "VRRP_AUTH_UNSUPPORTED",
      `vrrp_instance ${i.name}: auth_type AH is not supported; write \`auth_type PASS\` (VRRPv2) or remove the authentication block`,
      { object: i.name, ...position([...at, "authentication"]) },
    );
  const warn = (what: string, key?: string) =>
    rep.warn(`vrrp_instance ${i.name}: ${what}`, key !== undefined ? [...at, key] : at);
  if (i.useVmac) warn(`use_vmac is not supported; the VIPs go on ${i.interface}`, "useVmac");
  if (i.virtualRoutes.length) warn("virtual_routes are not applied by lvs", "virtualRoutes");
  if (i.virtualRules.length) warn("virtual_rules are not applied by lvs", "virtualRules");
  if (i.mcastDstIp) warn("mcast_dst_ip is not supported; using the standard group", "mcastDstIp");
  if (i.strictMode ?? g.vrrpStrict) warn("strict mode checks are not enforced");
  if (i.trackSrcIp && i.unicastSrcIp === undefined && i.mcastSrcIp === undefined)
    warn(
      "track_src_ip without unicast_src_ip or mcast_src_ip does nothing (keepalived clears it)",
      "trackSrcIp",
    );
  for (const [j, p] of i.unicastPeer.entries()) {
    if (p.minTtl !== undefined || p.maxTtl !== undefined)
      rep.warn(`vrrp_instance ${i.name}: unicast_peer min_ttl/max_ttl are ignored`, [
        ...at,
        "unicastPeer",
        j,
      ]);
  }
}

/** The instance's own settings that are optional: present only when the file sets them. */
function instanceTuning(i: VrrpInstance): Partial<VrrpInstanceOptions> {
  const keys = [
    "notifyPriorityChanges",
    "garpMasterDelay",
    "garpMasterRepeat",
    "garpMasterRefresh",
    "garpMasterRefreshRepeat",
    "garpLowerPrioDelay",
    "garpLowerPrioRepeat",
    "lowerPrioNoAdvert",
    "higherPrioSendAdvert",
    "downTimerAdverts",
  ] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (i[k] !== undefined) out[k] = i[k];
  return out as Partial<VrrpInstanceOptions>;
}

const trackScripts = (list: Array<{ name: string; weight?: number; reverse?: boolean }>) =>
  list.map((t) => ({
    name: t.name,
    ...(t.weight !== undefined ? { weight: t.weight } : {}),
    ...(t.reverse !== undefined ? { reverse: t.reverse } : {}),
  }));

function instanceOptions(i: VrrpInstance & { interface: string }, g: GlobalDefs): VrrpInstanceOptions {
  const notify = notifyOf(i, g.scriptUser);
  const version = i.version ?? (i.virtualIpaddress[0]?.address.includes(":") ? 3 : g.vrrpVersion);
  return {
    name: i.name,
    interface: i.interface,
    vrid: i.virtualRouterId,
    priority: i.priority,
    state: i.state,
    version,
    advertInterval: i.advertInt,
    virtualAddresses: i.virtualIpaddress.map(vip),
    excludedAddresses: i.virtualIpaddressExcluded.map(vip),
    nopreempt: i.nopreempt,
    preemptDelay: i.preemptDelay,
    ...(i.accept !== undefined ? { accept: i.accept } : {}),
    ...(i.authentication
      ? {
          authentication: {
            type: i.authentication.authType,
            ...(i.authentication.authPass !== undefined ? { password: i.authentication.authPass } : {}),
          },
        }
      : {}),
    ...(i.unicastSrcIp !== undefined ? { unicastSourceIp: i.unicastSrcIp } : {}),
    unicastPeers: i.unicastPeer.map((p) => p.address),
    ...(i.unicastTtl !== undefined ? { unicastTtl: i.unicastTtl } : {}),
    ...(i.promoteSecondaries ? { promoteSecondaries: true } : {}),
    ...(i.mcastSrcIp !== undefined ? { mcastSourceIp: i.mcastSrcIp } : {}),
    ...(i.trackSrcIp ? { trackSourceIp: true } : {}),
    ...(i.unicastFaultNoPeer ? { unicastFaultNoPeer: true } : {}),
    checkUnicastSource: i.checkUnicastSrc || g.vrrpCheckUnicastSrc,
    skipCheckAdvAddr: i.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr,
    trackInterfaces: i.trackInterface.map((t) => ({ name: t.name, weight: t.weight, reverse: t.reverse })),
    trackScripts: trackScripts(i.trackScript),
    dontTrackPrimary: i.dontTrackPrimary,
    ...(notify ? { notify } : {}),
    ...instanceTuning(i),
  };
}

function syncGroupOptions(sg: SyncGroup, scriptUser: RunAs | undefined) {
  const notify = notifyOf(sg, scriptUser);
  return {
    name: sg.name,
    members: sg.group,
    ...(notify ? { notify } : {}),
    trackInterfaces: sg.trackInterface.map((t) => ({ name: t.name, weight: t.weight, reverse: t.reverse })),
    trackScripts: trackScripts(sg.trackScript),
  };
}

function scriptOptions(s: VrrpScript, scriptUser: RunAs | undefined) {
  const user = s.user ?? scriptUser;
  return {
    name: s.name,
    argv: s.script,
    interval: s.interval,
    ...(s.timeout !== undefined ? { timeout: s.timeout } : {}),
    weight: s.weight,
    reverse: s.weightReverse,
    rise: s.rise,
    fall: s.fall,
    ...(user ? { user: { uid: user.uid, gid: user.gid } } : {}),
    initFail: s.initFail,
  };
}

/** global_defs → the router-wide settings (keepalived's vrrp_* globals). */
function globalOptions(g: GlobalDefs): Omit<VrrpRouterOptions, "instances"> {
  const scriptUser = g.scriptUser;
  return {
    notifyFifos: [g.notifyFifo?.path, g.vrrpNotifyFifo?.path].filter(
      (p, k, a): p is string => p !== undefined && a.indexOf(p) === k,
    ),
    version: g.vrrpVersion,
    garpMasterDelay: g.vrrpMinGarp ? 0 : g.vrrpGarpMasterDelay,
    garpMasterRepeat: g.vrrpMinGarp ? 1 : g.vrrpGarpMasterRepeat,
    garpMasterRefresh: g.vrrpGarpMasterRefresh,
    garpMasterRefreshRepeat: g.vrrpGarpMasterRefreshRepeat,
    ...(g.vrrpGarpLowerPrioDelay !== undefined ? { garpLowerPrioDelay: g.vrrpGarpLowerPrioDelay } : {}),
    ...(g.vrrpGarpLowerPrioRepeat !== undefined ? { garpLowerPrioRepeat: g.vrrpGarpLowerPrioRepeat } : {}),
    garpInterval: g.vrrpGarpInterval,
    gnaInterval: g.vrrpGnaInterval,
    ...(g.vrrpLowerPrioNoAdvert !== undefined ? { lowerPrioNoAdvert: g.vrrpLowerPrioNoAdvert } : {}),
    ...(g.vrrpHigherPrioSendAdvert !== undefined ? { higherPrioSendAdvert: g.vrrpHigherPrioSendAdvert } : {}),
    checkUnicastSource: g.vrrpCheckUnicastSrc,
    skipCheckAdvAddr: g.vrrpSkipCheckAdvAddr,
    ...(g.vrrpNotifyPriorityChanges !== undefined
      ? { notifyPriorityChanges: g.vrrpNotifyPriorityChanges }
      : {}),
    ...(g.vrrpDownTimerAdverts !== undefined ? { downTimerAdverts: g.vrrpDownTimerAdverts } : {}),
    ...(scriptUser ? { scriptUser: { uid: scriptUser.uid, gid: scriptUser.gid } } : {}),
    ...(g.fifoWriteVrrpStatesOnReload ? { fifoWriteStatesOnReload: true } : {}),
    ...(g.vrrpStartupDelay ? { startupDelay: g.vrrpStartupDelay } : {}),
  };
}

function warnGlobals(g: GlobalDefs, rep: Reporter): void {
  if (g.vrrpMcastGroup4 !== "224.0.0.18" || g.vrrpMcastGroup6 !== "ff02::12")
    rep.warn("vrrp_mcast_group4/6 other than the standard groups are not supported", ["globalDefs"]);
  if (g.notifyFifoScript || g.vrrpNotifyFifoScript)
    rep.warn("notify_fifo_script is not run by lvs; read the FIFO yourself", ["globalDefs"]);
}

/**
 * Maps a loaded keepalived.conf to VrrpRouterOptions. `sources` (from loadKeepalivedConf) lets
 * warnings and errors carry file:line:column.
 */
export function routerOptionsFromConfig(
  config: LvsConfig,
  opts: {
    netns?: string;
    sources?: SourceMap;
    /** The interface routing to an address (default: `ip route get`, in `netns`). */
    interfaceFor?: (address: string) => string | undefined;
  } = {},
): { options: VrrpRouterOptions; warnings: ConfigWarning[] } {
  const rep = new Reporter(opts.sources);
  const g = config.globalDefs;
  const interfaceFor = opts.interfaceFor ?? ((a: string) => routeInterface(a, opts.netns));
  const instances = config.vrrpInstances.map((idx0, idx) => {
    const chosen = idx0.interface ?? chooseInterface(idx0, g, interfaceFor);
    const i = chosen !== undefined ? { ...idx0, interface: chosen } : idx0;
    checkInstance(i, idx, g, rep);
    return instanceOptions(i as VrrpInstance & { interface: string }, g);
  });
  const options: VrrpRouterOptions = {
    ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
    instances,
    syncGroups: config.vrrpSyncGroups.map((sg) => syncGroupOptions(sg, g.scriptUser)),
    scripts: config.vrrpScripts.map((s) => scriptOptions(s, g.scriptUser)),
    ...globalOptions(g),
  };
  warnGlobals(g, rep);
  return { options, warnings: rep.warnings };
}
