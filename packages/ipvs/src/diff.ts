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
import { isKernelTable, keyOf, serviceFamily } from "./model.js";
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
  return serviceIdOf(k, k.af ?? serviceFamily(k as ServiceKey), canonicalAddress);
}

/** serviceId with the family known and the canonicalisation given (none for a kernel read). */
function serviceIdOf(
  k: ServiceKey | ServiceEntry,
  af: number,
  canonical: (address: string) => string,
): string {
  if (k.fwmark) return `fwm/${af}/${k.fwmark}`;
  return `${af}/${k.protocol}/${canonical(k.address as string)}/${k.port}`;
}

export function destId(d: { address: string; port: number }): string {
  return `${canonicalAddress(d.address)}/${d.port}`;
}

const defaultNetmask = (af: number): number => (af === C.AF_INET6 ? 128 : 32);

// Field by field, each side's defaults filled in place: a no-op reconcile compares every object of
// the table, so no normalised copies are allocated (and no JSON.stringify, which cost more than
// the rest of the diff).
function sameService(a: Service | ServiceEntry, b: Service | ServiceEntry, af: number): boolean {
  return (
    (a.scheduler ?? "wlc") === (b.scheduler ?? "wlc") &&
    // IP_VS_SVC_F_HASHED is the kernel's bookkeeping, reported back but never ours to set.
    ((a.flags ?? 0) & ~C.IP_VS_SVC_F_HASHED) === ((b.flags ?? 0) & ~C.IP_VS_SVC_F_HASHED) &&
    (a.timeout ?? 0) === (b.timeout ?? 0) &&
    (a.netmask ?? defaultNetmask(af)) === (b.netmask ?? defaultNetmask(af)) &&
    (a.peName ?? "") === (b.peName ?? "")
  );
}

const forwardOf = (d: Destination | DestinationEntry): number =>
  (d.forward ?? C.IP_VS_CONN_F_DROUTE) & C.IP_VS_CONN_F_FWD_MASK;
// Tunnel settings only mean something for tunnel forwarding (and the port only for GUE, the
// flags not for IPIP).
const tunnelPortOf = (d: Destination | DestinationEntry): number =>
  d.tunnelType === C.IP_VS_CONN_F_TUNNEL_TYPE_GUE ? (d.tunnelPort ?? 0) : 0;
const tunnelFlagsOf = (d: Destination | DestinationEntry): number =>
  d.tunnelType !== C.IP_VS_CONN_F_TUNNEL_TYPE_IPIP ? (d.tunnelFlags ?? 0) : 0;

function sameDest(a: Destination | DestinationEntry, b: Destination | DestinationEntry): boolean {
  const forward = forwardOf(a);
  if (
    forward !== forwardOf(b) ||
    (a.weight ?? 1) !== (b.weight ?? 1) ||
    (a.upperThreshold ?? 0) !== (b.upperThreshold ?? 0) ||
    (a.lowerThreshold ?? 0) !== (b.lowerThreshold ?? 0)
  ) {
    return false;
  }
  if (forward !== C.IP_VS_CONN_F_TUNNEL) return true;
  return (
    (a.tunnelType ?? 0) === (b.tunnelType ?? 0) &&
    tunnelPortOf(a) === tunnelPortOf(b) &&
    tunnelFlagsOf(a) === tunnelFlagsOf(b)
  );
}

/**
 * Canonical address text. No per-diff cache: a dotted quad is its own canonical text after one
 * scan (canonicalAddress's fast path), cheaper than filling a Map with every address of the table.
 */
const canonical = (address: string): string => canonicalAddress(address);

const asIs = (address: string): string => address;

/** Real servers per service up to which a linear scan beats building a Map of keys. */
const LINEAR_MATCH_MAX = 16;

/** The family and identity of each desired service: the half of a diff that needs no table. */
interface DesiredIds {
  afs: number[];
  ids: string[];
}

function desiredIdsOf(desired: readonly DesiredService[]): DesiredIds {
  const afs: number[] = new Array(desired.length);
  const ids: string[] = new Array(desired.length);
  for (let k = 0; k < desired.length; k++) {
    const service = (desired[k] as DesiredService).service;
    const af = serviceFamily(service);
    afs[k] = af;
    ids[k] = serviceIdOf(service, af, canonical);
  }
  return { afs, ids };
}

/** The minimal ordered operations turning `actual` into `desired`. Pure. */
export function diff(desired: readonly DesiredService[], actual: readonly ServiceWithDests[]): Operation[] {
  return diffWithIds(desired, desiredIdsOf(desired), actual);
}

function diffWithIds(
  desired: readonly DesiredService[],
  { afs, ids }: DesiredIds,
  actual: readonly ServiceWithDests[],
): Operation[] {
  // What table() read has canonical addresses already (the kernel's bytes, formatted); a
  // hand-built table is canonicalised like the desired one.
  const fromKernel = isKernelTable(actual);
  const actualCanonical = fromKernel ? asIs : canonical;
  // Index into `actual` by identity; `kept` marks those some desired service asked for.
  const actualById = new Map<string, number>();
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as ServiceWithDests;
    actualById.set(
      // A hand-built table may leave the family out, as a key may.
      serviceIdOf(
        a.service,
        a.service.af ?? serviceFamily(a.service as unknown as ServiceKey),
        actualCanonical,
      ),
      i,
    );
  }
  const kept = new Uint8Array(actual.length);
  const addServices: Operation[] = [];
  const editServices: Operation[] = [];
  const addDests: Operation[] = [];
  const editDests: Operation[] = [];
  const delDests: Operation[] = [];
  const delServices: Operation[] = [];

  for (let k = 0; k < desired.length; k++) {
    const want = desired[k] as DesiredService;
    const af = afs[k] as number;
    const index = actualById.get(ids[k] as string);
    if (index === undefined) {
      addServices.push({ op: "addService", service: want.service });
      for (const d of want.dests) addDests.push({ op: "addDest", service: want.service, dest: d });
      continue;
    }
    kept[index] = 1;
    const have = actual[index] as ServiceWithDests;
    if (!sameService(want.service, have.service, af)) {
      editServices.push({ op: "editService", service: want.service });
    }
    matchDests(want, have.dests, fromKernel, { addDests, editDests, delDests });
  }
  for (const index of actualById.values()) {
    if (!kept[index])
      delServices.push({ op: "delService", service: keyOf((actual[index] as ServiceWithDests).service) });
  }
  return [...addServices, ...editServices, ...addDests, ...editDests, ...delDests, ...delServices];
}

/** One kept service's real servers: what to add, edit and delete. */
function matchDests(
  want: DesiredService,
  haveDests: readonly DestinationEntry[],
  haveCanonical: boolean,
  out: { addDests: Operation[]; editDests: Operation[]; delDests: Operation[] },
): void {
  const haveAddresses = haveCanonical ? undefined : haveDests.map((h) => canonical(h.address));
  // Few real servers (the usual case): a scan over address and port, no key strings built.
  const byKey =
    haveDests.length > LINEAR_MATCH_MAX
      ? new Map(haveDests.map((h, i) => [`${haveAddresses ? haveAddresses[i] : h.address}/${h.port}`, i]))
      : undefined;
  // Which of the kernel's were asked for: bits of one number for the usual few, else an array.
  let matchedBits = 0;
  const matchedMany = haveDests.length > 31 ? new Array<boolean>(haveDests.length).fill(false) : undefined;
  for (const d of want.dests) {
    const address = canonical(d.address);
    let i = -1;
    if (byKey) i = byKey.get(`${address}/${d.port}`) ?? -1;
    else {
      for (let k = 0; k < haveDests.length; k++) {
        const h = haveDests[k] as DestinationEntry;
        if ((haveAddresses ? haveAddresses[k] : h.address) === address && h.port === d.port) {
          i = k;
          break;
        }
      }
    }
    if (i < 0) {
      out.addDests.push({ op: "addDest", service: want.service, dest: d });
      continue;
    }
    if (matchedMany) matchedMany[i] = true;
    else matchedBits |= 1 << i;
    if (!sameDest(d, haveDests[i] as DestinationEntry))
      out.editDests.push({ op: "editDest", service: want.service, dest: d });
  }
  for (let i = 0; i < haveDests.length; i++) {
    if (matchedMany ? matchedMany[i] : matchedBits & (1 << i)) continue;
    const h = haveDests[i] as DestinationEntry;
    out.delDests.push({ op: "delDest", service: want.service, dest: { address: h.address, port: h.port } });
  }
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
  // Counters never take part in a diff: not decoding them is most of a no-op pass's JavaScript.
  const read = client.table({ counters: false });
  // The desired side's half of the diff while the kernel dumps the table.
  let ids: DesiredIds;
  try {
    ids = desiredIdsOf(desired);
  } catch (err) {
    read.catch(() => {});
    throw err;
  }
  const operations = diffWithIds(desired, ids, await read);
  if (opts.dryRun) return { operations, results: [], failed: [], dryRun: true };
  const results = operations.length ? await client.batch(operations) : [];
  return { operations, results, failed: results.filter((r) => r.error), dryRun: false };
}
