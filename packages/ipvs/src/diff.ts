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
import { sameDest, sameService } from "./compare.js";
import { compileReconcilePlan, type ReconcilePlan, type TableRead } from "./fast-match.js";
import { isKernelTable, keyOf, serviceFamily } from "./model.js";
import type {
  DesiredService,
  Destination,
  DestinationEntry,
  Service,
  ServiceEntry,
  ServiceKey,
  ServiceWithDests,
} from "./types.js";

export type { DesiredService } from "./types.js";

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

/**
 * Canonical address text. No per-diff cache: a dotted quad is its own canonical text after one
 * scan (canonicalAddress's fast path), cheaper than filling a Map with every address of the table.
 */
const canonical = (address: string): string => canonicalAddress(address);

const asIs = (address: string): string => address;

/** Real servers per service up to which a linear scan beats building a Map of keys. */
const LINEAR_MATCH_MAX = 16;

/**
 * The family and identity of each desired service: the half of a diff that needs no table. The
 * identities (a canonical address and a string each) are made when first asked for: a reconcile
 * whose every kernel service linked to a desired one by its key never needs them.
 */
interface DesiredIds {
  afs: number[];
  ids: () => string[];
}

/** Each desired service's family: what throws, described, for an address of neither family. */
function desiredAfsOf(desired: readonly DesiredService[]): number[] {
  const afs: number[] = new Array(desired.length);
  for (let k = 0; k < desired.length; k++) afs[k] = serviceFamily((desired[k] as DesiredService).service);
  return afs;
}

function desiredIdsOf(desired: readonly DesiredService[], afs = desiredAfsOf(desired)): DesiredIds {
  let ids: string[] | undefined;
  return {
    afs,
    ids: () => {
      if (ids) return ids;
      const made: string[] = new Array(desired.length);
      for (let k = 0; k < desired.length; k++)
        made[k] = serviceIdOf((desired[k] as DesiredService).service, afs[k] as number, canonical);
      ids = made;
      return made;
    },
  };
}

/** The minimal ordered operations turning `actual` into `desired`. Pure. */
export function diff(desired: readonly DesiredService[], actual: readonly ServiceWithDests[]): Operation[] {
  // What table() read has canonical addresses already (the kernel's bytes, formatted); a
  // hand-built table is canonicalised like the desired one.
  return diffRead(desired, desiredIdsOf(desired), tableReadOf(actual), isKernelTable(actual));
}

/** A table as a read every row of which was decoded. */
function tableReadOf(actual: readonly ServiceWithDests[]): TableRead {
  return {
    services: actual.map((a) => a.service),
    dests: actual.map((a) => a.dests),
    linked: undefined,
    same: undefined,
  };
}

/**
 * diff() over a reconcile's read (fast-match.ts's TableRead): a kernel service linked to a
 * desired one comes with its sameService already answered and, when its real servers all matched
 * in their bytes, without any. Everything else is compared decoded, so the operations and their
 * order are those of diff() over the same table fully decoded.
 */
function diffRead(
  desired: readonly DesiredService[],
  { afs, ids }: DesiredIds,
  read: TableRead,
  fromKernel: boolean,
): Operation[] {
  const { services, dests, linked, same } = read;
  const actualCanonical = fromKernel ? asIs : canonical;
  // Index into the table by identity; `kept` marks those some desired service asked for. A
  // linked service's identity is its desired service's (equal keys, equal identities), and no
  // other desired service has it (compileReconcilePlan links none that shares one).
  const actualById = new Map<string, number>();
  // When every kernel service linked (a no-op, the steady state), the links are that index and no
  // identity string is made: a desired service without a link has none in the kernel either.
  let linkedIndex: Int32Array | undefined;
  if (linked && linked.every((k) => k >= 0)) {
    linkedIndex = new Int32Array(desired.length).fill(-1);
    for (let i = 0; i < services.length; i++) linkedIndex[linked[i] as number] = i;
  } else {
    const idList = ids();
    for (let i = 0; i < services.length; i++) {
      const k = linked ? (linked[i] as number) : -1;
      if (k >= 0) {
        actualById.set(idList[k] as string, i);
        continue;
      }
      const a = services[i] as ServiceEntry;
      // A hand-built table may leave the family out, as a key may.
      actualById.set(serviceIdOf(a, a.af ?? serviceFamily(a as unknown as ServiceKey), actualCanonical), i);
    }
  }
  const kept = new Uint8Array(services.length);
  const addServices: Operation[] = [];
  const editServices: Operation[] = [];
  const addDests: Operation[] = [];
  const editDests: Operation[] = [];
  const delDests: Operation[] = [];
  const delServices: Operation[] = [];
  const destOps = { addDests, editDests, delDests };

  const idList = linkedIndex ? undefined : ids();
  for (let k = 0; k < desired.length; k++) {
    const want = desired[k] as DesiredService;
    const index = linkedIndex
      ? linkedIndex[k] !== -1
        ? linkedIndex[k]
        : undefined
      : actualById.get((idList as string[])[k] as string);
    if (index === undefined) {
      addServices.push({ op: "addService", service: want.service });
      for (const d of want.dests) addDests.push({ op: "addDest", service: want.service, dest: d });
      continue;
    }
    kept[index] = 1;
    const haveDests = dests[index];
    if (linked && linked[index] === k) {
      if (!same?.[index]) editServices.push({ op: "editService", service: want.service });
      // No real servers: they all matched in the bytes.
      if (haveDests) matchDests(want, haveDests, fromKernel, destOps);
      continue;
    }
    if (!sameService(want.service, services[index] as ServiceEntry, afs[k] as number)) {
      editServices.push({ op: "editService", service: want.service });
    }
    matchDests(want, haveDests as DestinationEntry[], fromKernel, destOps);
  }
  // (All linked: each was asked for by its desired service, none to delete.)
  for (const index of actualById.values()) {
    // Never a linked one: its desired service asked for it.
    if (!kept[index]) delServices.push({ op: "delService", service: keyOf(services[index] as ServiceEntry) });
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
  // What matches the desired table is compared in the replies' bytes and not decoded at all
  // (fast-match.ts); the plan for that is made while the kernel dumps the services.
  let plan: ReconcilePlan | undefined;
  // A client without that read (a stand-in for IpvsClient): its table, as diff() takes it.
  let fromKernel = true;
  const read: Promise<TableRead> =
    typeof client.readForDiff === "function"
      ? client.readForDiff(() => plan)
      : (client as IpvsClient).table({ counters: false }).then((t) => {
          fromKernel = isKernelTable(t);
          return tableReadOf(t);
        });
  // The desired side's half of the diff while the kernel dumps the table.
  let ids: DesiredIds;
  try {
    ids = desiredIdsOf(desired);
    // A desired service the plan cannot key asks for the identities here, where an address of
    // neither family throws (before the read is awaited, as the full diff would).
    plan = compileReconcilePlan(desired, ids.afs, ids.ids);
  } catch (err) {
    read.catch(() => {});
    throw err;
  }
  const table = await read;
  const operations = diffRead(desired, ids, table, fromKernel);
  if (opts.dryRun) return { operations, results: [], failed: [], dryRun: true };
  const results = operations.length ? await client.batch(operations) : [];
  return { operations, results, failed: results.filter((r) => r.error), dryRun: false };
}
