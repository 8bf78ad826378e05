// Real servers added through the runtime API and not in the configuration (keepalived #1296:
// operators add a server to a running pool without editing keepalived.conf). They live here,
// keyed by virtual server, are persisted in the state file like drains, and are merged into each
// plan the engine loads: a reload keeps them, and a reload whose configuration now names the same
// server drops the runtime entry (the configured one takes over: no duplicate). Pure.
import { IP_VS_CONN_F_MASQ, IP_VS_CONN_F_TUNNEL } from "@lvs/ipvs";
import { DirectorError } from "./errors.js";
import { flat, hostPort, trio } from "./keys.js";
import type { Plan, PlannedRealServer, PlannedVirtualServer } from "./plan.js";
import { familyOf, realWeight } from "./plan-values.js";

/** One real server added at runtime (what the state file stores). */
export interface RuntimeServer {
  address: string;
  port: number;
  weight: number;
}

/** A runtime server the configuration now names: the configured one replaced it. */
export interface AdoptedServer {
  vsKey: string;
  rsKey: string;
}

const isAddressVs = (vs: PlannedVirtualServer) => !vs.key.startsWith("FWM/") && !vs.key.startsWith("GROUP/");

/**
 * The port a real server added to `vs` gets, by keepalived's rules for a configured one
 * (validate_check_config): a NAT server defaults to the virtual server's port; a DR/TUN server
 * takes it (0 for a fwmark). What keepalived would correct with a warning is refused here: the
 * operator is at a prompt and can type it again.
 */
function portFor(vs: PlannedVirtualServer, address: string, port: number | undefined): number {
  const nat = vs.fwd.forward === IP_VS_CONN_F_MASQ;
  const vsPort = isAddressVs(vs) ? vs.services[0]?.port : undefined;
  if (nat) {
    const p = port ?? vsPort;
    if (p === undefined || p === 0)
      throw new DirectorError(
        "DIRECTOR_BAD_ARGUMENT",
        `a NAT real server of ${vs.key} needs a port: write ${hostPort(address, 8080)}`,
        { object: `${vs.key} ${address}` },
      );
    return p;
  }
  const want = vsPort ?? 0;
  if (isAddressVs(vs) && port !== undefined && port !== want)
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      `a DR/TUN real server takes its virtual server's port: ${hostPort(address, want)} (or ${address}), not ${hostPort(address, port)}`,
      { object: `${vs.key} ${address}` },
    );
  return isAddressVs(vs) ? want : (port ?? 0);
}

/** The planned real server of a runtime addition: no checks, the virtual server's forwarding. */
export function runtimeRealServer(
  vs: PlannedVirtualServer,
  address: string,
  port: number | undefined,
  weight: number,
): PlannedRealServer {
  const af = familyOf(address);
  // Only a tunnel may carry one family inside the other (vs_end_handler's rule for the sorry server).
  const mismatch = vs.services.find((s) => {
    const saf = s.service.address === undefined ? s.service.af : familyOf(s.service.address);
    return saf !== undefined && saf !== af;
  });
  if (mismatch && vs.fwd.forward !== IP_VS_CONN_F_TUNNEL)
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      `${address} is not of ${vs.key}'s address family (only a tunnel may mix them)`,
      { object: `${vs.key} ${address}` },
    );
  const p = portFor(vs, address, port);
  return {
    key: flat(hostPort(address, p)),
    label: trio(address, vs.protocol, p),
    address,
    port: p,
    af,
    fwd: vs.fwd,
    upperThreshold: 0,
    lowerThreshold: 0,
    weight: realWeight(weight),
    inhibit: false,
    checks: [],
    runtime: true,
  };
}

/**
 * The real server `address[:port]` would be in `vs`; refused when it is there already (configured
 * or added) or the kernel could not take it.
 */
export function newRuntimeServer(
  vs: PlannedVirtualServer,
  address: string,
  port: number | undefined,
  weight: number,
): PlannedRealServer {
  const rs = runtimeRealServer(vs, address, port, weight);
  const have = vs.realServers.find((r) => r.key === rs.key);
  if (have)
    throw new DirectorError(
      "DIRECTOR_EXISTS",
      `${vs.key} has ${rs.key} already (${have.runtime ? "added at runtime" : "in the configuration"}); change its weight with \`lvsctl weight\``,
      { object: `${vs.key} ${rs.key}` },
    );
  return rs;
}

export class RuntimeServers {
  /** vsKey → rsKey → the server. */
  private readonly byVs = new Map<string, Map<string, RuntimeServer>>();

  get size(): number {
    let n = 0;
    for (const m of this.byVs.values()) n += m.size;
    return n;
  }

  has(vsKey: string, rsKey: string): boolean {
    return this.byVs.get(vsKey)?.has(rsKey) ?? false;
  }

  add(vsKey: string, rsKey: string, server: RuntimeServer): void {
    const m = this.byVs.get(vsKey) ?? new Map<string, RuntimeServer>();
    m.set(rsKey, { ...server });
    this.byVs.set(vsKey, m);
  }

  remove(vsKey: string, rsKey: string): boolean {
    const m = this.byVs.get(vsKey);
    const had = m?.delete(rsKey) ?? false;
    if (m && m.size === 0) this.byVs.delete(vsKey);
    return had;
  }

  /** State file form: `VSKEY` → servers. */
  toRecord(): Record<string, RuntimeServer[]> {
    const out: Record<string, RuntimeServer[]> = {};
    for (const [vsKey, m] of this.byVs) out[vsKey] = [...m.values()].map((s) => ({ ...s }));
    return out;
  }

  /** Replace everything (loading the state file). */
  restore(record: Readonly<Record<string, readonly RuntimeServer[]>>): void {
    this.byVs.clear();
    for (const [vsKey, list] of Object.entries(record))
      for (const s of list) this.add(vsKey, hostPort(s.address, s.port), s);
  }

  /**
   * `plan` with the runtime servers appended to their virtual servers. An entry whose virtual
   * server is gone stays recorded (a later reload may bring it back); one the configuration now
   * names is dropped and reported. A runtime server the kernel can't take is left out.
   */
  merge(plan: Plan): { plan: Plan; adopted: AdoptedServer[] } {
    if (this.byVs.size === 0) return { plan, adopted: [] };
    const adopted: AdoptedServer[] = [];
    const virtualServers = plan.virtualServers.map((vs) => {
      const m = this.byVs.get(vs.key);
      if (!m) return vs;
      const extra: PlannedRealServer[] = [];
      for (const [rsKey, s] of [...m]) {
        if (vs.realServers.some((r) => r.key === rsKey)) {
          this.remove(vs.key, rsKey);
          adopted.push({ vsKey: vs.key, rsKey });
          continue;
        }
        try {
          extra.push(runtimeRealServer(vs, s.address, s.port, s.weight));
        } catch {
          // The virtual server changed under it (family, method): kept recorded, not programmed.
        }
      }
      return extra.length ? { ...vs, realServers: [...vs.realServers, ...extra] } : vs;
    });
    return { plan: { ...plan, virtualServers }, adopted };
  }
}
