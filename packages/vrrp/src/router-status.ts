/** The router's status and counters, as `lvsctl`, the director and the exporters read them. */
import type { InstanceStatus, VrrpState } from "./engine.js";
import type { RouterCore } from "./router-core.js";
import type { InterfaceStats } from "./stats.js";
import type { TrackState } from "./tracking.js";
import type { InterfaceCounters } from "./wire.js";

export interface RouterInstanceStatus extends InstanceStatus {
  interface: string;
  family: 4 | 6;
  version: 2 | 3;
  /** The source address of our adverts (undefined while the interface has none). */
  primaryAddress?: string;
  addresses: string[];
  unicastPeers: string[];
}

export interface RouterStatus {
  instances: RouterInstanceStatus[];
  groups: Array<{ name: string; state: VrrpState; members: string[] }>;
  interfaces: Array<{ name: string; family: 4 | 6; stats: InterfaceStats }>;
  scripts: Array<{ name: string; state: TrackState; runs: number }>;
}

export function routerStatus(core: RouterCore, interfaces: Iterable<InterfaceCounters>): RouterStatus {
  return {
    instances: core.instances.map((rt) => ({
      ...rt.engine.status(),
      interface: rt.r.interface,
      family: rt.r.family,
      version: rt.r.params.version,
      ...(rt.primary !== undefined ? { primaryAddress: rt.primary } : {}),
      addresses: rt.r.vips.map((v) => `${v.address}/${v.prefixLength}`),
      unicastPeers: rt.r.unicastPeers,
    })),
    groups: core.groups.map((g) => ({
      name: g.name,
      state: g.state,
      members: g.members.map((m) => m.name),
    })),
    interfaces: [...interfaces].map((i) => ({ ...i, stats: { ...i.stats } })),
    scripts: [...core.scripts.values()].map((s) => ({
      name: s.s.name,
      state: s.result.state,
      runs: s.runs,
    })),
  };
}
