/**
 * keepalived.conf (as parsed by @lvs/config) → router options: global_defs, vrrp_script,
 * vrrp_sync_group and vrrp_instance. What lvs does not do is reported as a warning with the
 * keyword's position, never silently dropped.
 */
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

/**
 * Maps a loaded keepalived.conf to VrrpRouterOptions. `sources` (from loadKeepalivedConf) lets
 * warnings and errors carry file:line:column.
 */
export function routerOptionsFromConfig(
  config: LvsConfig,
  opts: { netns?: string; sources?: SourceMap } = {},
): { options: VrrpRouterOptions; warnings: ConfigWarning[] } {
  const warnings: ConfigWarning[] = [];
  const pos = (path: Array<string | number>): string | undefined => {
    const p = opts.sources?.positionOf(path);
    return p ? `${p.file}:${p.line}:${p.column}` : undefined;
  };
  const warn = (message: string, path: Array<string | number>) => {
    const position = pos(path);
    warnings.push({ message, ...(position ? { position } : {}) });
  };
  const g = config.globalDefs;
  const scriptUser = g.scriptUser;
  const instances: VrrpInstanceOptions[] = config.vrrpInstances.map((i: VrrpInstance, idx) => {
    const at = ["vrrpInstances", idx];
    if (!i.interface) {
      throw new VrrpError(
        "VRRP_BAD_CONFIG",
        `vrrp_instance ${i.name}: lvs needs an \`interface\` (keepalived allows none with unicast peers); add \`interface <dev>\``,
        {
          object: i.name,
          ...(pos(at) ? { position: pos(at) as string } : {}),
        },
      );
    }
    if (i.authentication?.authType === "AH") {
      throw new VrrpError(
        "VRRP_AUTH_UNSUPPORTED",
        `vrrp_instance ${i.name}: auth_type AH is not supported; write \`auth_type PASS\` (VRRPv2) or remove the authentication block`,
        {
          object: i.name,
          ...(pos([...at, "authentication"]) ? { position: pos([...at, "authentication"]) as string } : {}),
        },
      );
    }
    if (i.useVmac)
      warn(`vrrp_instance ${i.name}: use_vmac is not supported; the VIPs go on ${i.interface}`, [
        ...at,
        "useVmac",
      ]);
    if (i.virtualRoutes.length)
      warn(`vrrp_instance ${i.name}: virtual_routes are not applied by lvs`, [...at, "virtualRoutes"]);
    if (i.virtualRules.length)
      warn(`vrrp_instance ${i.name}: virtual_rules are not applied by lvs`, [...at, "virtualRules"]);
    if (i.mcastDstIp)
      warn(`vrrp_instance ${i.name}: mcast_dst_ip is not supported; using the standard group`, [
        ...at,
        "mcastDstIp",
      ]);
    if (i.strictMode ?? g.vrrpStrict)
      warn(`vrrp_instance ${i.name}: strict mode checks are not enforced`, at);
    for (const [j, p] of i.unicastPeer.entries()) {
      if (p.minTtl !== undefined || p.maxTtl !== undefined)
        warn(`vrrp_instance ${i.name}: unicast_peer min_ttl/max_ttl are ignored`, [...at, "unicastPeer", j]);
    }
    const notify = notifyOf(i, scriptUser);
    const version = i.version ?? (i.virtualIpaddress[0]?.address.includes(":") ? 3 : g.vrrpVersion);
    const o: VrrpInstanceOptions = {
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
      ...(i.mcastSrcIp !== undefined ? { mcastSourceIp: i.mcastSrcIp } : {}),
      checkUnicastSource: i.checkUnicastSrc || g.vrrpCheckUnicastSrc,
      skipCheckAdvAddr: i.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr,
      trackInterfaces: i.trackInterface.map((t) => ({ name: t.name, weight: t.weight, reverse: t.reverse })),
      trackScripts: i.trackScript.map((t) => ({
        name: t.name,
        ...(t.weight !== undefined ? { weight: t.weight } : {}),
        ...(t.reverse !== undefined ? { reverse: t.reverse } : {}),
      })),
      dontTrackPrimary: i.dontTrackPrimary,
      ...(notify ? { notify } : {}),
      ...(i.notifyPriorityChanges !== undefined ? { notifyPriorityChanges: i.notifyPriorityChanges } : {}),
      ...(i.garpMasterDelay !== undefined ? { garpMasterDelay: i.garpMasterDelay } : {}),
      ...(i.garpMasterRepeat !== undefined ? { garpMasterRepeat: i.garpMasterRepeat } : {}),
      ...(i.garpMasterRefresh !== undefined ? { garpMasterRefresh: i.garpMasterRefresh } : {}),
      ...(i.garpMasterRefreshRepeat !== undefined
        ? { garpMasterRefreshRepeat: i.garpMasterRefreshRepeat }
        : {}),
      ...(i.garpLowerPrioDelay !== undefined ? { garpLowerPrioDelay: i.garpLowerPrioDelay } : {}),
      ...(i.garpLowerPrioRepeat !== undefined ? { garpLowerPrioRepeat: i.garpLowerPrioRepeat } : {}),
      ...(i.lowerPrioNoAdvert !== undefined ? { lowerPrioNoAdvert: i.lowerPrioNoAdvert } : {}),
      ...(i.higherPrioSendAdvert !== undefined ? { higherPrioSendAdvert: i.higherPrioSendAdvert } : {}),
      ...(i.downTimerAdverts !== undefined ? { downTimerAdverts: i.downTimerAdverts } : {}),
    };
    return o;
  });
  const options: VrrpRouterOptions = {
    ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
    instances,
    syncGroups: config.vrrpSyncGroups.map((sg) => {
      const notify = notifyOf(sg, scriptUser);
      return {
        name: sg.name,
        members: sg.group,
        ...(notify ? { notify } : {}),
        trackInterfaces: sg.trackInterface.map((t) => ({
          name: t.name,
          weight: t.weight,
          reverse: t.reverse,
        })),
        trackScripts: sg.trackScript.map((t) => ({
          name: t.name,
          ...(t.weight !== undefined ? { weight: t.weight } : {}),
          ...(t.reverse !== undefined ? { reverse: t.reverse } : {}),
        })),
      };
    }),
    scripts: config.vrrpScripts.map((s) => {
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
    }),
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
  };
  if (g.vrrpMcastGroup4 !== "224.0.0.18" || g.vrrpMcastGroup6 !== "ff02::12") {
    warn("vrrp_mcast_group4/6 other than the standard groups are not supported", ["globalDefs"]);
  }
  if (g.notifyFifoScript || g.vrrpNotifyFifoScript)
    warn("notify_fifo_script is not run by lvs; read the FIFO yourself", ["globalDefs"]);
  if (g.vrrpStartupDelay) warn("vrrp_startup_delay is not supported", ["globalDefs", "vrrpStartupDelay"]);
  return { options, warnings };
}
