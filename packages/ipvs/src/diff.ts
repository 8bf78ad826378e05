/**
 * Reconciliation: a pure `diff(desired, actual)` giving the fewest ordered operations, and
 * `apply()` running them. Settings change in place (SET_SERVICE / SET_DEST keep established
 * connections); delete + recreate only happens when identity changes (address, port, protocol,
 * family, mark), which is a different object anyway. Counters never take part.
 *
 * Order: new services, service edits, new real servers, real-server edits, then removals
 * (real servers of kept services, then whole services), so capacity is added before it is taken.
 */
import { canonicalAddress } from "@lvs/inet";
import type { IpvsClient, Operation, OperationResult } from "./client.js";
import * as C from "./constants.js";
import { keyOf, serviceFamily } from "./model.js";
import type {
  Destination,
  DestinationEntry,
  Service,
  ServiceEntry,
  ServiceKey,
  ServiceWithDests,
} from "./types.js";

export interface DesiredService {
  service: Service;
  dests: Destination[];
}

/** A stable identity string for a service key (canonical address, explicit family). */
export function serviceId(k: ServiceKey | ServiceEntry): string {
  const af = k.af ?? serviceFamily(k as ServiceKey);
  if (k.fwmark) return `fwm/${af}/${k.fwmark}`;
  return `${af}/${k.protocol}/${canonicalAddress(k.address as string)}/${k.port}`;
}

export function destId(d: { address: string; port: number }): string {
  return `${canonicalAddress(d.address)}/${d.port}`;
}

interface NormalService {
  scheduler: string;
  flags: number;
  timeout: number;
  netmask: number;
  peName: string;
}

function normalService(s: Service | ServiceEntry, af: number): NormalService {
  return {
    scheduler: s.scheduler ?? "wlc",
    // IP_VS_SVC_F_HASHED is the kernel's bookkeeping, reported back but never ours to set.
    flags: (s.flags ?? 0) & ~C.IP_VS_SVC_F_HASHED,
    timeout: s.timeout ?? 0,
    netmask: s.netmask ?? (af === C.AF_INET6 ? 128 : 32),
    peName: s.peName ?? "",
  };
}

interface NormalDest {
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnelType: number;
  tunnelPort: number;
  tunnelFlags: number;
}

function normalDest(d: Destination | DestinationEntry): NormalDest {
  const forward = (d.forward ?? C.IP_VS_CONN_F_DROUTE) & C.IP_VS_CONN_F_FWD_MASK;
  const tunnel = forward === C.IP_VS_CONN_F_TUNNEL;
  return {
    forward,
    weight: d.weight ?? 1,
    upperThreshold: d.upperThreshold ?? 0,
    lowerThreshold: d.lowerThreshold ?? 0,
    // tunnel settings only mean something for tunnel forwarding
    tunnelType: tunnel ? (d.tunnelType ?? 0) : 0,
    tunnelPort: tunnel && d.tunnelType === C.IP_VS_CONN_F_TUNNEL_TYPE_GUE ? (d.tunnelPort ?? 0) : 0,
    tunnelFlags: tunnel && d.tunnelType !== C.IP_VS_CONN_F_TUNNEL_TYPE_IPIP ? (d.tunnelFlags ?? 0) : 0,
  };
}

// Field by field: a no-op reconcile compares every object of the table (JSON.stringify of both
// sides cost more than the rest of the diff).
const sameService = (a: NormalService, b: NormalService): boolean =>
  a.scheduler === b.scheduler &&
  a.flags === b.flags &&
  a.timeout === b.timeout &&
  a.netmask === b.netmask &&
  a.peName === b.peName;
const sameDest = (a: NormalDest, b: NormalDest): boolean =>
  a.forward === b.forward &&
  a.weight === b.weight &&
  a.upperThreshold === b.upperThreshold &&
  a.lowerThreshold === b.lowerThreshold &&
  a.tunnelType === b.tunnelType &&
  a.tunnelPort === b.tunnelPort &&
  a.tunnelFlags === b.tunnelFlags;

/** destId with the canonical form of each address text computed once per diff (texts repeat on both sides). */
function destIdCache(): (d: { address: string; port: number }) => string {
  const canonical = new Map<string, string>();
  return (d) => {
    let c = canonical.get(d.address);
    if (c === undefined) {
      c = canonicalAddress(d.address);
      canonical.set(d.address, c);
    }
    return `${c}/${d.port}`;
  };
}

/** The minimal ordered operations turning `actual` into `desired`. Pure. */
export function diff(desired: readonly DesiredService[], actual: readonly ServiceWithDests[]): Operation[] {
  const actualById = new Map(actual.map((a) => [serviceId(a.service), a]));
  const destKey = destIdCache();
  const desiredIds = new Set<string>();
  const addServices: Operation[] = [];
  const editServices: Operation[] = [];
  const addDests: Operation[] = [];
  const editDests: Operation[] = [];
  const delDests: Operation[] = [];
  const delServices: Operation[] = [];

  for (const want of desired) {
    const id = serviceId(want.service);
    desiredIds.add(id);
    const af = serviceFamily(want.service);
    const have = actualById.get(id);
    if (!have) {
      addServices.push({ op: "addService", service: want.service });
      for (const d of want.dests) addDests.push({ op: "addDest", service: want.service, dest: d });
      continue;
    }
    if (!sameService(normalService(want.service, af), normalService(have.service, af))) {
      editServices.push({ op: "editService", service: want.service });
    }
    const haveDests = new Map(have.dests.map((d) => [destKey(d), d]));
    const wantIds = new Set<string>();
    for (const d of want.dests) {
      const did = destKey(d);
      wantIds.add(did);
      const h = haveDests.get(did);
      if (!h) addDests.push({ op: "addDest", service: want.service, dest: d });
      else if (!sameDest(normalDest(d), normalDest(h)))
        editDests.push({ op: "editDest", service: want.service, dest: d });
    }
    for (const [did, h] of haveDests) {
      if (!wantIds.has(did))
        delDests.push({ op: "delDest", service: want.service, dest: { address: h.address, port: h.port } });
    }
  }
  for (const [id, have] of actualById) {
    if (!desiredIds.has(id)) delServices.push({ op: "delService", service: keyOf(have.service) });
  }
  return [...addServices, ...editServices, ...addDests, ...editDests, ...delDests, ...delServices];
}

export interface ApplyReport {
  /** What was (or, in a dry run, would be) sent, in order. */
  operations: Operation[];
  /** Per operation outcome (empty in a dry run). */
  results: OperationResult[];
  /** The operations the kernel refused; everything else stays applied. */
  failed: OperationResult[];
  dryRun: boolean;
}

/**
 * Reads the table, diffs it against `desired` and sends the operations pipelined. A refusal
 * is reported and the rest still applied: nothing already in place is rolled back.
 */
export async function apply(
  client: IpvsClient,
  desired: readonly DesiredService[],
  opts: { dryRun?: boolean } = {},
): Promise<ApplyReport> {
  const actual = await client.table();
  const operations = diff(desired, actual);
  if (opts.dryRun) return { operations, results: [], failed: [], dryRun: true };
  const results = operations.length ? await client.batch(operations) : [];
  return { operations, results, failed: results.filter((r) => r.error), dryRun: false };
}
