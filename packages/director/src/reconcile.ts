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
import { diff, serviceId } from "@lvs/ipvs";
import type { Dataplane, DataplaneResult } from "./dataplane.js";
import { ObservedTable } from "./observed.js";
import { seenOf, summaryKey, summaryMatches } from "./reconcile-compare.js";
import { SeenInPlace, type Wanted } from "./seen.js";
import { TurnBudget } from "./turns.js";

/** Where a pass gets the desired table (the engine): one look at what was read, then the answer. */
export interface TableSource<E = unknown> {
  /**
   * The table as just read (`scope`: the service ids it covers; undefined: all of it); returns
   * what that changed (a drain finishes on its connection counts).
   */
  onObserved?(actual: readonly ServiceWithDests[], scope: ReadonlySet<string> | undefined): E[];
  /** What the dataplane should hold (only the services of `scope` when given). */
  desired(scope?: ReadonlySet<string>): DesiredService[];
  /** desired(), the event loop getting a turn whenever `budget` is spent. */
  desiredInTurns?(scope: ReadonlySet<string> | undefined, budget: TurnBudget): Promise<DesiredService[]>;
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
  /** Each pass's turn budget (when its JavaScript gives the event loop a turn); tests pass their clock. */
  turnBudget?: () => TurnBudget;
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

/** Services diffed at once between two looks at the turn budget (a diff call has its own cost). */
const SERVICES_PER_DIFF = 16;

/** What a pass computed before its turn to apply: what it wants, and the operations that takes. */
interface Computed {
  wanted: Wanted[];
  operations: Operation[];
  /** The services read, by id. */
  actualById: Map<string, ServiceWithDests>;
}

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
  private readonly synced = new SeenInPlace();
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

  /** The desired table; the event loop gets turns while the engine works it out, if it can. */
  private desiredInTurns(
    scope: ReadonlySet<string> | undefined,
    budget: TurnBudget,
  ): Promise<DesiredService[]> {
    const e = this.engine;
    return e.desiredInTurns ? e.desiredInTurns(scope, budget) : Promise.resolve(e.desired(scope));
  }

  /**
   * The services whose summary differs from the desired table (or from our owned set), or
   * undefined when the summary can't tell (two fwmark services of one mark).
   */
  private async summaryDifferences(
    desired: readonly DesiredService[],
    summary: readonly ServiceWithDests[],
    summaryIds: readonly string[],
    budget: TurnBudget,
  ): Promise<Set<string> | undefined> {
    const byKey = new Map<string, ServiceWithDests>();
    for (let i = 0; i < summary.length; i++) {
      if (budget.due()) await budget.pause();
      byKey.set(summaryKey(summaryIds[i] as string), summary[i] as ServiceWithDests);
    }
    const out = new Set<string>();
    const seenKeys = new Set<string>();
    for (const d of desired) {
      // Checks complete and edits go out between slices (seconds of this under emulation).
      if (budget.due()) await budget.pause();
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
    budget: TurnBudget,
  ): Promise<{ report?: PassReport<E>; scope?: Set<string>; effects: E[] }> {
    let summary: ServiceWithDests[];
    try {
      // A fwmark service's family isn't in the summary: offer it under both, so the desired side
      // (and drains watching its connections) find it by their own id.
      summary = [...((await this.dataplane.summary?.()) ?? [])];
      const fwmarks = summary.filter((p) => p.service.fwmark);
      for (const p of fwmarks)
        summary.push({ service: { ...p.service, af: 10, netmask: 128 }, dests: p.dests });
    } catch {
      return { effects: [] }; // no summary here: a full read instead
    }
    const effects = this.observe(summary, undefined);
    // Each summary service's id, made once (the comparison and the refresh both look them up).
    const ids = summary.map((p) => serviceId(p.service));
    const differ = await this.summaryDifferences(
      await this.desiredInTurns(undefined, budget),
      summary,
      ids,
      budget,
    );
    if (differ && differ.size === 0) {
      // Edits may go out while this runs: each service is looked up as it comes.
      const edited = (id: string) => (this.editedAt.get(id) ?? 0) > seq;
      if (!dryRun) await this.table.refreshInTurns(summary, edited, budget, ids);
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
    // One budget for the pass's JavaScript: the event loop gets a turn whenever it is spent.
    const budget = this.opts.turnBudget?.() ?? new TurnBudget();
    let scope = opts.scope;
    const early: E[] = [];
    if (opts.quick && !scope && this.dataplane.summary) {
      const look = await this.quickLook(startedAt, t0, dryRun, seq, budget);
      if (look.report) return look.report;
      early.push(...look.effects);
      scope = look.scope;
    }
    if (scope && scope.size > (this.opts.maxScoped ?? 64)) scope = undefined;
    const actual = await this.dataplane.read(scope ? [...scope].map(keyFromServiceId) : undefined);
    const readMs = performance.now() - t0;
    const effects = [...early, ...this.observe(actual, scope)];
    return this.settle({ startedAt, readMs, actual, effects, seq }, scope, dryRun, budget);
  }

  /** A pass after its read: the diff computed in slices (checks run between), applied in its turn. */
  private async settle(
    read: PassRead<E>,
    scope: ReadonlySet<string> | undefined,
    dryRun: boolean,
    budget: TurnBudget,
  ) {
    const computed = await this.slicedDiff(read.actual, scope, this.editedSince(read.seq), budget);
    if (dryRun) {
      const { startedAt, readMs, actual, effects } = read;
      const drift = this.synced.drift(computed.operations, computed.wanted);
      const kind = scope ? "scoped" : "full";
      const report = { kind, startedAt, readMs, operations: computed.operations, drift, actual, effects };
      return { ...report, applyMs: 0, failed: [], dryRun: true } as PassReport<E>;
    }
    return this.exclusive(() => this.commit(read, scope, computed, budget));
  }

  /**
   * What the desired table asks of what was read, the event loop getting a turn whenever the
   * budget is spent (25,000 destinations are seconds of JavaScript under emulation): the services
   * edited since the read began (`keep`) left out, ours no longer wanted deleted. What a commit
   * will take as seen is worked out here too, outside the turn an edit waits for.
   */
  private async slicedDiff(
    actual: readonly ServiceWithDests[],
    scope: ReadonlySet<string> | undefined,
    keep: ReadonlySet<string>,
    budget: TurnBudget,
  ): Promise<Computed> {
    const wanted: Wanted[] = [];
    await budget.each(await this.desiredInTurns(scope, budget), (desired) => {
      const id = serviceId(desired.service);
      if (!keep.has(id)) wanted.push({ id, desired, seen: this.synced.seenFor(id, desired) });
    });
    const desiredIds = new Set(wanted.map((w) => w.id));
    const actualById = new Map<string, ServiceWithDests>();
    await budget.each(actual, (a) => actualById.set(serviceId(a.service), a));
    const operations: Operation[] = [];
    for (let i = 0; i < wanted.length; i += SERVICES_PER_DIFF) {
      await budget.check();
      const slice = wanted.slice(i, i + SERVICES_PER_DIFF);
      const ours = slice.flatMap((w) => actualById.get(w.id) ?? []);
      for (const op of diff(
        slice.map((w) => w.desired),
        ours,
      ))
        operations.push(op);
    }
    const unwanted: ServiceWithDests[] = [];
    for (const [id, a] of actualById) {
      if ((!scope || scope.has(id)) && !keep.has(id) && !desiredIds.has(id) && this.ownedSet.has(id))
        unwanted.push(a);
    }
    for (const op of diff([], unwanted)) operations.push(op);
    return { wanted, operations, actualById };
  }

  /** In its turn: what the slices computed, less what an edit touched meanwhile, sent and recorded. */
  private async commit(
    read: PassRead<E>,
    scope: ReadonlySet<string> | undefined,
    computed: Computed,
    budget: TurnBudget,
  ): Promise<PassReport<E>> {
    const { startedAt, readMs, actual, effects } = read;
    const keep = this.editedSince(read.seq);
    const untouched = (id: string) => !keep.has(id);
    const inScope = (id: string) => (!scope || scope.has(id)) && untouched(id);
    const wanted = keep.size ? computed.wanted.filter((w) => untouched(w.id)) : computed.wanted;
    const operations = computed.operations.filter((o) => untouched(serviceId(o.service)));
    const desiredIds = new Set(wanted.map((w) => w.id));
    const drift = this.synced.drift(operations, wanted);
    const kind = scope ? "scoped" : "full";
    const report = { kind, startedAt, readMs, operations, drift, actual, effects } as const;
    // Each step after a full read goes over 5,000 services: checks run between them (an edit
    // waits for the turn, so none of this can interleave with one).
    await budget.check();
    // Write-ahead: a crash during the batch must not leave services we created unowned.
    if ([...desiredIds].some((id) => !this.ownedSet.has(id))) {
      for (const id of desiredIds) this.ownedSet.add(id);
      await this.opts.saveOwned?.(this.ownedSet);
    }
    const { applied, failed, applyMs } = await this.send(operations, wanted, inScope);
    await budget.check();
    await this.updateOwned(desiredIds, failed, inScope);
    await budget.check();
    this.table.record(kind, scope, actual, applied, keep, computed.actualById);
    return { ...report, applyMs, failed, dryRun: false };
  }

  /** Send operations and take in their outcome (what is in place now). */
  private async send(
    operations: readonly Operation[],
    wanted: readonly Wanted[],
    inScope: (id: string) => boolean,
  ): Promise<{ applied: Operation[]; failed: PassFailure[]; applyMs: number }> {
    const t1 = performance.now();
    if (operations.length) this.opts.onApply?.(operations);
    const results = operations.length ? await this.dataplane.apply(operations) : [];
    const applyMs = performance.now() - t1;
    this.synced.record(results, wanted, inScope);
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
      const wanted = desired.map((d) => ({ id: serviceId(d.service), desired: d, seen: seenOf(d) }));
      const { applied, failed, applyMs } = await this.send(operations, wanted, inScope);
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
