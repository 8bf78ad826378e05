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
//
// Targeted edits (a check failed, a weight changed): the services concerned are compared with what
// the passes last saw of them, and the difference (one DEL_DEST or EDIT_DEST) is sent at once, with
// no read. Reads run outside the one-at-a-time turn that applying takes, so an edit never waits for
// a full dump (seconds with 5,000 services under emulation); a pass whose read began before an edit
// leaves the edited services alone (its read is older than what they now hold).
import type { DesiredService, Operation, ServiceKey, ServiceWithDests } from "@lvs/ipvs";
import { destId, diff, serviceId } from "@lvs/ipvs";
import type { Dataplane, DataplaneResult } from "./dataplane.js";
import { flat } from "./keys.js";
import { ObservedTable } from "./observed.js";
import { destRepr, serviceRepr, summaryKey, summaryMatches } from "./reconcile-compare.js";

/** Where a pass gets the desired table (the engine): one look at what was read, then the answer. */
export interface TableSource<E = unknown> {
  /**
   * The table as just read (`scope`: the service ids it covers; undefined: all of it); returns
   * what that changed (a drain finishes on its connection counts).
   */
  onObserved?(actual: readonly ServiceWithDests[], scope: ReadonlySet<string> | undefined): E[];
  /** What the dataplane should hold (only the services of `scope` when given). */
  desired(scope?: ReadonlySet<string>): DesiredService[];
}

export interface PassOptions {
  /** Only these service ids (an event's); undefined = the whole table. */
  scope?: ReadonlySet<string>;
  /**
   * Look at the dataplane's summary (/proc/net/ip_vs) first; read only the services that differ
   * there. Settings the summary does not show are checked by the non-quick passes.
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

export interface PassReport<E = unknown> {
  /**
   * quick: the summary showed nothing to do (`actual` then is the summary); edit: a targeted edit
   * (nothing read, `actual` empty).
   */
  kind: "full" | "scoped" | "quick" | "edit";
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
  /** What the engine said about what was read (TableSource.onObserved). */
  effects: E[];
  dryRun: boolean;
}

export interface ReconcilerOptions<E = unknown> {
  dataplane: Dataplane;
  engine: TableSource<E>;
  /** Services managed before this process (from the state file). */
  owned?: Iterable<string>;
  /** Persist the owned set; awaited before operations that create services (write-ahead). */
  saveOwned?: (owned: ReadonlySet<string>) => Promise<void> | void;
  now?: () => number;
  /** Scopes larger than this read the whole table instead (cheaper than many small requests). */
  maxScoped?: number;
  /** Called with the operations just before they are sent. */
  onApply?: (operations: readonly Operation[]) => void;
}

/** ServiceKey back from an @lvs/ipvs serviceId (`2/6/10.0.0.1/80`, `fwm/2/5`). */
export function keyFromServiceId(id: string): ServiceKey {
  const p = id.split("/");
  if (p[0] === "fwm") return { af: Number(p[1]), fwmark: Number(p[2]) };
  return { af: Number(p[0]), protocol: Number(p[1]), address: p[2] as string, port: Number(p[3]) };
}

function failureOf(r: DataplaneResult): PassFailure {
  const e = r.error;
  return {
    operation: r.operation,
    code: e?.code ?? "IPVS_UNKNOWN",
    errno: e?.errno,
    errnoName: e?.errnoName,
    object: e?.object,
    message: e?.message ?? "failed",
  };
}

/** Services compared or diffed between two turns of the event loop. */
const SERVICES_PER_TURN = 250;
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** What a pass read, and when (`seq`: the edits sent before the read began). */
interface PassRead<E> {
  startedAt: number;
  readMs: number;
  actual: ServiceWithDests[];
  effects: E[];
  seq: number;
}

export class Reconciler<E = unknown> {
  private readonly dataplane: Dataplane;
  private readonly engine: TableSource<E>;
  private readonly opts: ReconcilerOptions<E>;
  private readonly now: () => number;
  private ownedSet: Set<string>;
  /** Service id → its settings and its destinations' settings, as a pass last saw them in place. */
  private readonly synced = new Map<string, { svc: string | undefined; dests: Map<string, string> }>();
  /** The table as the passes saw it, with what they applied since (status, metrics). */
  readonly table = new ObservedTable();
  /** Targeted edits so far; each takes the next number. */
  private editSeq = 0;
  /** Service id → the number of the last edit that touched it. */
  private readonly editedAt = new Map<string, number>();
  /** Applying (a pass's diff and batch, an edit) takes turns; reading doesn't. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(opts: ReconcilerOptions<E>) {
    this.opts = opts;
    this.dataplane = opts.dataplane;
    this.engine = opts.engine;
    this.now = opts.now ?? Date.now;
    this.ownedSet = new Set(opts.owned ?? []);
  }

  get owned(): ReadonlySet<string> {
    return this.ownedSet;
  }

  private observe(actual: readonly ServiceWithDests[], scope: ReadonlySet<string> | undefined): E[] {
    return this.engine.onObserved?.(actual, scope) ?? [];
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn, fn);
    // Settled with nothing: a turn kept the last pass's report (its operations and the whole
    // table read: ~8 MiB at 20,000 real servers) until the next pass.
    this.turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Services edited after edit number `seq` (a read begun then is older than what they hold). */
  private editedSince(seq: number): Set<string> {
    const out = new Set<string>();
    if (seq === this.editSeq) return out;
    for (const [id, n] of this.editedAt) if (n > seq) out.add(id);
    return out;
  }

  /**
   * The services whose summary differs from the desired table (or from our owned set), or
   * undefined when the summary can't tell (two fwmark services of one mark).
   */
  private async summaryDifferences(
    desired: readonly DesiredService[],
    summary: readonly ServiceWithDests[],
  ): Promise<Set<string> | undefined> {
    const byKey = new Map<string, ServiceWithDests>();
    for (const p of summary) byKey.set(summaryKey(serviceId(p.service)), p);
    const out = new Set<string>();
    const seenKeys = new Set<string>();
    let n = 0;
    for (const d of desired) {
      // Checks complete and edits go out between slices (seconds of this under emulation).
      if (++n % SERVICES_PER_TURN === 0) await nextTurn();
      const id = serviceId(d.service);
      const key = summaryKey(id);
      if (seenKeys.has(key)) return undefined;
      seenKeys.add(key);
      const p = byKey.get(key);
      if (!p || !summaryMatches(d, p)) out.add(id);
    }
    for (const id of this.ownedSet) {
      if (!seenKeys.has(summaryKey(id)) && byKey.has(summaryKey(id))) out.add(id);
    }
    return out;
  }

  /**
   * A quick pass's first look, at the summary: either a finished report (nothing differs), or the
   * services to read (undefined: the summary can't tell, read everything).
   */
  private async quickLook(
    startedAt: number,
    t0: number,
    dryRun: boolean,
    seq: number,
  ): Promise<{ report?: PassReport<E>; scope?: Set<string>; effects: E[] }> {
    let summary: ServiceWithDests[];
    try {
      // A fwmark service's family isn't in the summary: offer it under both, so the desired side
      // (and drains watching its connections) find it by their own id.
      summary = ((await this.dataplane.summary?.()) ?? []).flatMap((p) =>
        p.service.fwmark ? [p, { service: { ...p.service, af: 10, netmask: 128 }, dests: p.dests }] : [p],
      );
    } catch {
      return { effects: [] }; // no summary here: a full read instead
    }
    const effects = this.observe(summary, undefined);
    const differ = await this.summaryDifferences(this.engine.desired(undefined), summary);
    if (differ && differ.size === 0) {
      if (!dryRun) this.table.record("quick", undefined, summary, [], this.editedSince(seq));
      const report: PassReport<E> = {
        kind: "quick",
        startedAt,
        readMs: performance.now() - t0,
        applyMs: 0,
        operations: [],
        failed: [],
        drift: { service: 0, dest: 0 },
        actual: summary,
        effects,
        dryRun,
      };
      return { report, effects };
    }
    return differ ? { scope: differ, effects } : { effects };
  }

  /** Operations on objects a pass saw in place with the settings still wanted: somebody else's change. */
  private countDrift(operations: readonly Operation[], desired: readonly DesiredService[]) {
    const drift = { service: 0, dest: 0 };
    const desiredById = new Map(desired.map((d) => [serviceId(d.service), d]));
    const wantedDests = new Map<string, Set<string>>();
    const wanted = (sid: string): Set<string> => {
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
    return drift;
  }

  /** What is in place now: refused objects are forgotten (their retry is not drift). */
  private recordSynced(
    results: readonly DataplaneResult[],
    desired: readonly DesiredService[],
    inScope: (id: string) => boolean,
  ): void {
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
    const desiredIds = new Set<string>();
    for (const d of desired) {
      const sid = serviceId(d.service);
      desiredIds.add(sid);
      if (failedServices.has(sid)) continue;
      // Kept until the next pass: flat copies of the keys (built by templates, each a tree of its
      // parts, ~1.5 MiB at 20,000 real servers).
      const dests = new Map<string, string>();
      for (const x of d.dests) {
        const did = destId(x);
        if (!failedDests.has(`${sid} ${did}`)) dests.set(flat(did), destRepr(x));
      }
      this.synced.set(flat(sid), { svc: serviceRepr(d.service), dests });
    }
    // Services in scope that are no longer wanted (deleted, or failed to delete) are forgotten.
    for (const sid of [...this.synced.keys()])
      if (inScope(sid) && !desiredIds.has(sid)) this.synced.delete(sid);
  }

  /** Owned from now on: what is wanted, plus what we failed to delete (retried next pass). */
  private async updateOwned(
    desiredIds: ReadonlySet<string>,
    failed: readonly PassFailure[],
    inScope: (id: string) => boolean,
  ): Promise<void> {
    const next = new Set<string>();
    for (const id of this.ownedSet) if (!inScope(id)) next.add(id);
    for (const id of desiredIds) next.add(id);
    for (const f of failed) if (f.operation.op === "delService") next.add(serviceId(f.operation.service));
    const changed = next.size !== this.ownedSet.size || [...next].some((id) => !this.ownedSet.has(id));
    this.ownedSet = next;
    if (changed) await this.opts.saveOwned?.(this.ownedSet);
  }

  /** One pass. Throws only when the dataplane can't be read (nothing was sent then). */
  async pass(opts: PassOptions = {}): Promise<PassReport<E>> {
    const startedAt = this.now();
    const t0 = performance.now();
    const seq = this.editSeq;
    const dryRun = !!opts.dryRun;
    let scope = opts.scope;
    const early: E[] = [];
    if (opts.quick && !scope && this.dataplane.summary) {
      const look = await this.quickLook(startedAt, t0, dryRun, seq);
      if (look.report) return look.report;
      early.push(...look.effects);
      scope = look.scope;
    }
    if (scope && scope.size > (this.opts.maxScoped ?? 64)) scope = undefined;
    const actual = await this.dataplane.read(scope ? [...scope].map(keyFromServiceId) : undefined);
    const readMs = performance.now() - t0;
    const effects = [...early, ...this.observe(actual, scope)];
    return this.settle({ startedAt, readMs, actual, effects, seq }, scope, dryRun);
  }

  /** A pass after its read: the diff computed in slices (checks run between), applied in its turn. */
  private async settle(read: PassRead<E>, scope: ReadonlySet<string> | undefined, dryRun: boolean) {
    const computed = await this.slicedDiff(read.actual, scope, this.editedSince(read.seq));
    if (dryRun) {
      const { startedAt, readMs, actual, effects } = read;
      const drift = this.countDrift(computed.operations, computed.desired);
      const kind = scope ? "scoped" : "full";
      const report = { kind, startedAt, readMs, operations: computed.operations, drift, actual, effects };
      return { ...report, applyMs: 0, failed: [], dryRun: true } as PassReport<E>;
    }
    return this.exclusive(() => this.commit(read, scope, computed));
  }

  /**
   * What the desired table asks of what was read, a slice of services at a time (25,000
   * destinations are seconds of JavaScript under emulation): the services edited since the read
   * began (`keep`) left out, ours no longer wanted deleted.
   */
  private async slicedDiff(
    actual: readonly ServiceWithDests[],
    scope: ReadonlySet<string> | undefined,
    keep: ReadonlySet<string>,
  ): Promise<{ desired: DesiredService[]; operations: Operation[] }> {
    const desired = this.engine.desired(scope).filter((d) => !keep.has(serviceId(d.service)));
    const desiredIds = new Set(desired.map((d) => serviceId(d.service)));
    const actualById = new Map(actual.map((a) => [serviceId(a.service), a]));
    const operations: Operation[] = [];
    for (let i = 0; i < desired.length; i += SERVICES_PER_TURN) {
      if (i > 0) await nextTurn();
      const slice = desired.slice(i, i + SERVICES_PER_TURN);
      const ours = slice.flatMap((d) => actualById.get(serviceId(d.service)) ?? []);
      for (const op of diff(slice, ours)) operations.push(op);
    }
    const unwanted = actual.filter((a) => {
      const id = serviceId(a.service);
      return (!scope || scope.has(id)) && !keep.has(id) && !desiredIds.has(id) && this.ownedSet.has(id);
    });
    for (const op of diff([], unwanted)) operations.push(op);
    return { desired, operations };
  }

  /** In its turn: what the slices computed, less what an edit touched meanwhile, sent and recorded. */
  private async commit(
    read: PassRead<E>,
    scope: ReadonlySet<string> | undefined,
    computed: { desired: DesiredService[]; operations: Operation[] },
  ): Promise<PassReport<E>> {
    const { startedAt, readMs, actual, effects } = read;
    const keep = this.editedSince(read.seq);
    const untouched = (id: string) => !keep.has(id);
    const inScope = (id: string) => (!scope || scope.has(id)) && untouched(id);
    const desired = computed.desired.filter((d) => untouched(serviceId(d.service)));
    const operations = computed.operations.filter((o) => untouched(serviceId(o.service)));
    const desiredIds = new Set(desired.map((d) => serviceId(d.service)));
    const drift = this.countDrift(operations, desired);
    const kind = scope ? "scoped" : "full";
    const report = { kind, startedAt, readMs, operations, drift, actual, effects } as const;
    // Write-ahead: a crash during the batch must not leave services we created unowned.
    if ([...desiredIds].some((id) => !this.ownedSet.has(id))) {
      for (const id of desiredIds) this.ownedSet.add(id);
      await this.opts.saveOwned?.(this.ownedSet);
    }
    const { applied, failed, applyMs } = await this.send(operations, desired, inScope);
    await this.updateOwned(desiredIds, failed, inScope);
    this.table.record(kind, scope, actual, applied, keep);
    return { ...report, applyMs, failed, dryRun: false };
  }

  /** Send operations and take in their outcome (what is in place now). */
  private async send(
    operations: readonly Operation[],
    desired: readonly DesiredService[],
    inScope: (id: string) => boolean,
  ): Promise<{ applied: Operation[]; failed: PassFailure[]; applyMs: number }> {
    const t1 = performance.now();
    if (operations.length) this.opts.onApply?.(operations);
    const results = operations.length ? await this.dataplane.apply(operations) : [];
    const applyMs = performance.now() - t1;
    this.recordSynced(results, desired, inScope);
    return {
      applied: results.filter((r) => !r.error).map((r) => r.operation),
      failed: results.filter((r) => r.error).map(failureOf),
      applyMs,
    };
  }

  /**
   * A targeted edit of `scope`'s services: what the engine wants against what the passes last saw
   * of them (and applied since), the difference sent now, nothing read. Undefined when the table
   * can't tell (a wanted service not seen, or not ours yet): a scoped pass reads them instead. A
   * refused operation means the kernel differs from what was seen: a scoped pass repairs it.
   */
  edit(scope: ReadonlySet<string>): Promise<PassReport<E> | undefined> {
    return this.exclusive(async () => {
      const startedAt = this.now();
      const desired = this.engine.desired(scope);
      const desiredIds = new Set(desired.map((d) => serviceId(d.service)));
      for (const id of desiredIds) if (!this.table.has(id) || !this.ownedSet.has(id)) return undefined;
      const ours = [...scope].flatMap((id) => {
        const seen = this.table.get(id);
        return seen && (desiredIds.has(id) || this.ownedSet.has(id)) ? [seen] : [];
      });
      const operations = diff(desired, ours);
      this.editSeq++;
      for (const id of scope) this.editedAt.set(id, this.editSeq);
      const inScope = (id: string) => scope.has(id);
      const { applied, failed, applyMs } = await this.send(operations, desired, inScope);
      await this.updateOwned(desiredIds, failed, inScope);
      this.table.record("edit", scope, [], applied);
      const drift = { service: 0, dest: 0 };
      return {
        kind: "edit",
        startedAt,
        readMs: 0,
        applyMs,
        operations,
        failed,
        drift,
        actual: [],
        effects: [],
        dryRun: false,
      };
    });
  }

  /** Forget what was seen in place (after a flush or a restart of the kernel side). */
  resetSynced(): void {
    this.synced.clear();
  }
}
