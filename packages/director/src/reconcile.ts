// One reconcile pass: read the kernel once (the whole table, or the services an event touched),
// compute the desired table, diff (@lvs/ipvs: edits in place, never delete + recreate what can be
// edited) and send the minimal operations. Refusals are reported with the object and errno and
// retried by the next pass; nothing that succeeded is rolled back.
//
// Ownership: only services we manage are compared. Those are the ones the plan names plus the
// ones we created before (persisted, so a restart after a config change still removes what the
// old config made); a service somebody else created is never touched.
//
// Drift: an operation on an object whose desired state has not changed since a pass saw it in
// place means somebody changed the kernel behind our back (ipvsadm by hand) — counted.
import type {
  DesiredService,
  Destination,
  DestinationEntry,
  Operation,
  OperationResult,
  Service,
  ServiceEntry,
  ServiceKey,
  ServiceWithDests,
} from "@lvs/ipvs";
import { destId, diff, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, serviceId } from "@lvs/ipvs";
import { parseProcIpvs, sameTimeout } from "./proc-ipvs.js";

/** The part of @lvs/ipvs's IpvsClient a reconciler uses (a fake kernel implements it in tests). */
export interface KernelClient {
  table(): Promise<ServiceWithDests[]>;
  service(key: ServiceKey): Promise<ServiceEntry>;
  dests(key: ServiceKey): Promise<DestinationEntry[]>;
  batch(ops: readonly Operation[]): Promise<OperationResult[]>;
}

export interface PassOptions {
  /** Only these service ids (an event's); undefined = the whole table. */
  scope?: ReadonlySet<string>;
  /**
   * Look at /proc/net/ip_vs first (needs `readProc`); read netlink only for the services that
   * differ there. Settings /proc does not show are checked by the non-quick passes.
   */
  quick?: boolean;
  /** Compute the operations, send nothing. */
  dryRun?: boolean;
}

export interface PassFailure {
  operation: Operation;
  /** `IPVS_ESRCH_SERVICE`… */
  code: string;
  errno: number | undefined;
  errnoName: string | undefined;
  /** `TCP 10.0.0.1:80 -> 10.0.0.2:80` */
  object: string | undefined;
  message: string;
}

export interface PassReport {
  /** quick: /proc/net/ip_vs showed nothing to do (`actual` then comes from /proc). */
  kind: "full" | "scoped" | "quick";
  /** Epoch ms. */
  startedAt: number;
  readMs: number;
  applyMs: number;
  /** The operations sent (or, in a dry run, that would be). */
  operations: Operation[];
  failed: PassFailure[];
  /** Operations that repaired somebody else's change. */
  drift: { service: number; dest: number };
  /** What was read (all services, ours and foreign; for metrics and status). */
  actual: ServiceWithDests[];
  dryRun: boolean;
}

export interface ReconcilerOptions {
  client: KernelClient;
  /**
   * The desired table for a read: the engine looks at `actual` first (drains finish on it), then
   * answers. With a scope, only services of the scope count.
   */
  desired: (actual: ServiceWithDests[], scope: ReadonlySet<string> | undefined) => DesiredService[];
  /** Services managed before this process (from the state file). */
  owned?: Iterable<string>;
  /** Persist the owned set; awaited before operations that create services (write-ahead). */
  saveOwned?: (owned: ReadonlySet<string>) => Promise<void> | void;
  now?: () => number;
  /** Scopes larger than this read the whole table instead (cheaper than many small requests). */
  maxScoped?: number;
  /** Called with the operations just before they are sent. */
  onApply?: (operations: readonly Operation[]) => void;
  /** /proc/net/ip_vs of the namespace the client programs (for quick passes). */
  readProc?: () => Promise<string>;
}

/** ServiceKey back from an @lvs/ipvs serviceId (`2/6/10.0.0.1/80`, `fwm/2/5`). */
export function keyFromServiceId(id: string): ServiceKey {
  const p = id.split("/");
  if (p[0] === "fwm") return { af: Number(p[1]), fwmark: Number(p[2]) };
  return { af: Number(p[0]), protocol: Number(p[1]), address: p[2] as string, port: Number(p[3]) };
}

const serviceRepr = (s: Service): string =>
  JSON.stringify([s.scheduler ?? "wlc", s.flags ?? 0, s.timeout ?? 0, s.netmask ?? null, s.peName ?? ""]);
const destRepr = (d: Destination): string =>
  JSON.stringify([
    d.forward,
    d.weight ?? 1,
    d.upperThreshold ?? 0,
    d.lowerThreshold ?? 0,
    d.tunnelType ?? 0,
    d.tunnelPort ?? 0,
    d.tunnelFlags ?? 0,
  ]);

function failureOf(r: OperationResult): PassFailure {
  const e = r.error as
    | (Error & { code?: string; errno?: number; errnoName?: string; object?: string })
    | undefined;
  return {
    operation: r.operation,
    code: e?.code ?? "IPVS_UNKNOWN",
    errno: e?.errno,
    errnoName: e?.errnoName,
    object: e?.object,
    message: e?.message ?? "failed",
  };
}

const ESRCH = 3;

export class Reconciler {
  private readonly client: KernelClient;
  private readonly opts: ReconcilerOptions;
  private readonly now: () => number;
  private ownedSet: Set<string>;
  /** Service id → its settings and its destinations' settings, as a pass last saw them in place. */
  private readonly synced = new Map<string, { svc: string | undefined; dests: Map<string, string> }>();

  constructor(opts: ReconcilerOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.now = opts.now ?? Date.now;
    this.ownedSet = new Set(opts.owned ?? []);
  }

  get owned(): ReadonlySet<string> {
    return this.ownedSet;
  }

  private async read(scope: ReadonlySet<string> | undefined): Promise<ServiceWithDests[]> {
    if (!scope) return this.client.table();
    const out: ServiceWithDests[] = [];
    for (const id of scope) {
      const key = keyFromServiceId(id);
      let service: ServiceEntry;
      try {
        service = await this.client.service(key);
      } catch (err) {
        if ((err as { errno?: number }).errno === ESRCH) continue;
        throw err;
      }
      let dests: DestinationEntry[];
      try {
        dests = await this.client.dests(key);
      } catch (err) {
        if ((err as { errno?: number }).errno === ESRCH) continue;
        throw err;
      }
      out.push({ service, dests });
    }
    return out;
  }

  /**
   * The services whose /proc/net/ip_vs view differs from the desired table (or from our owned
   * set), or undefined when /proc can't tell (two fwmark services of one mark).
   */
  private procDifferences(
    desired: readonly DesiredService[],
    proc: readonly ServiceWithDests[],
  ): Set<string> | undefined {
    // /proc prints no family for a fwmark service: key those by mark.
    const keyOf = (id: string) => (id.startsWith("fwm/") ? `fwm/${id.split("/")[2]}` : id);
    const procByKey = new Map<string, ServiceWithDests>();
    for (const p of proc) procByKey.set(keyOf(serviceId(p.service)), p);
    const out = new Set<string>();
    const seenKeys = new Set<string>();
    for (const d of desired) {
      const id = serviceId(d.service);
      const key = keyOf(id);
      if (seenKeys.has(key)) return undefined;
      seenKeys.add(key);
      const p = procByKey.get(key);
      if (!p) {
        out.add(id);
        continue;
      }
      const s = d.service;
      const flags = s.flags ?? 0;
      const persistent = (flags & IP_VS_SVC_F_PERSISTENT) !== 0;
      const v6 = p.service.af === 10 && !s.fwmark;
      let same =
        p.service.scheduler === (s.scheduler ?? "wlc") &&
        ((p.service.flags & IP_VS_SVC_F_PERSISTENT) !== 0) === persistent &&
        (v6 || ((p.service.flags & IP_VS_SVC_F_ONEPACKET) !== 0) === ((flags & IP_VS_SVC_F_ONEPACKET) !== 0));
      if (same && persistent) {
        same =
          sameTimeout(p.service.timeout, s.timeout ?? 0) &&
          (p.service.af !== 2 || s.fwmark !== undefined || p.service.netmask === (s.netmask ?? 32));
      }
      if (same) {
        if (p.dests.length !== d.dests.length) same = false;
        else {
          const have = new Map(p.dests.map((x) => [destId(x), x]));
          for (const x of d.dests) {
            const h = have.get(destId(x));
            if (!h || h.weight !== (x.weight ?? 1) || h.forward !== ((x.forward ?? 3) & 7)) {
              same = false;
              break;
            }
          }
        }
      }
      if (!same) out.add(id);
    }
    for (const id of this.ownedSet) {
      if (!seenKeys.has(keyOf(id)) && procByKey.has(keyOf(id))) out.add(id);
    }
    return out;
  }

  /** One pass. Throws only when the kernel can't be read (nothing was sent then). */
  async pass(opts: PassOptions = {}): Promise<PassReport> {
    const startedAt = this.now();
    const t0 = performance.now();
    let scope = opts.scope;
    if (opts.quick && !scope && this.opts.readProc) {
      let proc: ServiceWithDests[] | undefined;
      try {
        // /proc prints no family for a fwmark service: offer it under both, so the desired
        // side (and drains watching its connections) find it by their own id.
        proc = parseProcIpvs(await this.opts.readProc()).flatMap((p) =>
          p.service.fwmark ? [p, { service: { ...p.service, af: 10, netmask: 128 }, dests: p.dests }] : [p],
        );
      } catch {
        proc = undefined; // no /proc here: a netlink pass instead
      }
      if (proc) {
        const differ = this.procDifferences(this.opts.desired(proc, undefined), proc);
        if (differ && differ.size === 0) {
          const readMs = performance.now() - t0;
          return {
            kind: "quick",
            startedAt,
            readMs,
            applyMs: 0,
            operations: [],
            failed: [],
            drift: { service: 0, dest: 0 },
            actual: proc,
            dryRun: !!opts.dryRun,
          };
        }
        if (differ) scope = differ;
      }
    }
    if (scope && scope.size > (this.opts.maxScoped ?? 64)) scope = undefined;
    const actual = await this.read(scope);
    const readMs = performance.now() - t0;

    const desired = this.opts.desired(actual, scope);
    const desiredIds = new Set(desired.map((d) => serviceId(d.service)));
    const inScope = (id: string) => !scope || scope.has(id);
    const ours = actual.filter((a) => {
      const id = serviceId(a.service);
      return inScope(id) && (desiredIds.has(id) || this.ownedSet.has(id));
    });
    const operations = diff(desired, ours);

    // Drift: operations on objects a pass saw in place with the settings still wanted.
    const drift = { service: 0, dest: 0 };
    const desiredById = new Map(desired.map((d) => [serviceId(d.service), d]));
    let wantedDests: Map<string, Set<string>> | undefined;
    const wanted = (sid: string): Set<string> => {
      wantedDests ??= new Map();
      let set = wantedDests.get(sid);
      if (!set) {
        set = new Set((desiredById.get(sid)?.dests ?? []).map(destId));
        wantedDests.set(sid, set);
      }
      return set;
    };
    for (const op of operations) {
      const sid = serviceId(op.service);
      const seen = this.synced.get(sid);
      if (op.op === "addService" || op.op === "editService") {
        if (seen?.svc === serviceRepr(op.service)) drift.service++;
      } else if (op.op === "addDest" || op.op === "editDest") {
        if (seen?.dests.get(destId(op.dest)) === destRepr(op.dest)) drift.dest++;
      } else if (op.op === "delDest") {
        const did = destId(op.dest);
        // A destination nobody asked for, inside a service we had in place: added by hand.
        if (seen?.svc !== undefined && !seen.dests.has(did) && !wanted(sid).has(did)) drift.dest++;
      }
    }

    if (opts.dryRun) {
      return {
        kind: scope ? "scoped" : "full",
        startedAt,
        readMs,
        applyMs: 0,
        operations,
        failed: [],
        drift,
        actual,
        dryRun: true,
      };
    }

    // Write-ahead: a crash during the batch must not leave services we created unowned.
    const grown = [...desiredIds].some((id) => !this.ownedSet.has(id));
    if (grown) {
      for (const id of desiredIds) this.ownedSet.add(id);
      await this.opts.saveOwned?.(this.ownedSet);
    }

    const t1 = performance.now();
    if (operations.length) this.opts.onApply?.(operations);
    const results = operations.length ? await this.client.batch(operations) : [];
    const applyMs = performance.now() - t1;
    const failed = results.filter((r) => r.error).map(failureOf);

    // What is in place now: refused objects are forgotten (their retry is not drift).
    const failedServices = new Set<string>();
    const failedDests = new Set<string>();
    for (const r of results) {
      const op = r.operation;
      const sid = serviceId(op.service);
      if (r.error) {
        if (op.op.endsWith("Dest")) {
          const did = destId((op as { dest: { address: string; port: number } }).dest);
          failedDests.add(`${sid} ${did}`);
          this.synced.get(sid)?.dests.delete(did);
        } else {
          failedServices.add(sid);
          this.synced.delete(sid);
        }
      } else if (op.op === "delService") this.synced.delete(sid);
    }
    for (const d of desired) {
      const sid = serviceId(d.service);
      if (failedServices.has(sid)) continue;
      const dests = new Map<string, string>();
      for (const x of d.dests) {
        const did = destId(x);
        if (!failedDests.has(`${sid} ${did}`)) dests.set(did, destRepr(x));
      }
      this.synced.set(sid, { svc: serviceRepr(d.service), dests });
    }
    // Services in scope that are no longer wanted (deleted, or failed to delete) are forgotten.
    for (const sid of [...this.synced.keys()])
      if (inScope(sid) && !desiredById.has(sid)) this.synced.delete(sid);

    // Owned from now on: what is wanted, plus what we failed to delete (retried next pass).
    const next = new Set<string>();
    for (const id of this.ownedSet) if (!inScope(id)) next.add(id);
    for (const id of desiredIds) next.add(id);
    for (const f of failed) if (f.operation.op === "delService") next.add(serviceId(f.operation.service));
    const changed = next.size !== this.ownedSet.size || [...next].some((id) => !this.ownedSet.has(id));
    this.ownedSet = next;
    if (changed) await this.opts.saveOwned?.(this.ownedSet);

    return {
      kind: scope ? "scoped" : "full",
      startedAt,
      readMs,
      applyMs,
      operations,
      failed,
      drift,
      actual,
      dryRun: false,
    };
  }

  /** Forget what was seen in place (after a flush or a restart of the kernel side). */
  resetSynced(): void {
    this.synced.clear();
  }
}
