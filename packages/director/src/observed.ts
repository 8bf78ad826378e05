// The table as the last passes saw it, with what they applied since: what status and metrics
// show, so neither ever reads the dataplane. A full read replaces it, a scoped read replaces its
// services, a summary (/proc) refreshes weights and connection counts only; operations that
// succeeded are then applied to it (counters stay as read). A targeted edit reads nothing: only its
// operations are applied. A read older than an edit leaves the edited services as they are.
import {
  destEntryOf,
  destId,
  type Operation,
  type ServiceWithDests,
  serviceEntryOf,
  serviceId,
} from "@lvs/ipvs";
import { sameDest } from "./reconcile-compare.js";
import type { TurnBudget } from "./turns.js";

export type ReadKind = "full" | "scoped" | "quick" | "edit";

export class ObservedTable {
  private readonly byId = new Map<string, ServiceWithDests>();
  private complete = false;

  /** Every service (ours and foreign), or undefined before the first full read. */
  services(): ServiceWithDests[] | undefined {
    return this.complete ? [...this.byId.values()] : undefined;
  }

  get(id: string): ServiceWithDests | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /**
   * Take in one pass: what it read (`scope`: the services a scoped read covered), then what it
   * applied. `keep`: services edited since that read began (the read is older than what they hold).
   * `actualById`: `actual` by service id, when the caller has it (a full read is 5,000 ids).
   */
  record(
    kind: ReadKind,
    scope: ReadonlySet<string> | undefined,
    actual: readonly ServiceWithDests[],
    applied: readonly Operation[],
    keep: ReadonlySet<string> = new Set(),
    actualById?: ReadonlyMap<string, ServiceWithDests>,
  ): void {
    if (kind === "full" && actualById) this.replaceById(actualById, keep);
    else this.recordRead(kind, scope, actual, keep);
    for (const op of applied) this.apply(op);
  }

  private recordRead(
    kind: ReadKind,
    scope: ReadonlySet<string> | undefined,
    actual: readonly ServiceWithDests[],
    keep: ReadonlySet<string>,
  ): void {
    const fresh = keep.size ? actual.filter((a) => !keep.has(serviceId(a.service))) : actual;
    if (kind === "full") this.replace(fresh, keep);
    else if (kind === "quick") this.refresh(fresh);
    else if (kind === "scoped") {
      for (const id of scope ?? []) if (!keep.has(id)) this.byId.delete(id);
      for (const a of fresh) this.byId.set(serviceId(a.service), a);
    }
  }

  /** A full read, its services already keyed (no id worked out again on the pass's turn). */
  private replaceById(actual: ReadonlyMap<string, ServiceWithDests>, keep: ReadonlySet<string>): void {
    for (const id of this.byId.keys()) if (!keep.has(id) && !actual.has(id)) this.byId.delete(id);
    for (const [id, a] of actual) if (!keep.has(id)) this.byId.set(id, a);
    this.complete = true;
  }

  private replace(actual: readonly ServiceWithDests[], keep: ReadonlySet<string>): void {
    for (const id of [...this.byId.keys()]) if (!keep.has(id)) this.byId.delete(id);
    for (const a of actual) this.byId.set(serviceId(a.service), a);
    this.complete = true;
  }

  /** A summary has weights and connection counts, not the counters: refresh what it has. */
  private refresh(summary: readonly ServiceWithDests[]): void {
    for (const p of summary) this.refreshOne(serviceId(p.service), p);
  }

  /**
   * A quick pass's summary taken in (as record("quick") does), the event loop getting a turn
   * whenever `budget` is spent. Edits may go out meanwhile: `edited` is asked per service, as it
   * comes (a summary older than an edit leaves the edited service as the edit left it).
   */
  async refreshInTurns(
    summary: readonly ServiceWithDests[],
    edited: (id: string) => boolean,
    budget: TurnBudget,
    ids: readonly string[] = summary.map((p) => serviceId(p.service)),
  ): Promise<void> {
    for (let i = 0; i < summary.length; i++) {
      if (budget.due()) await budget.pause();
      const id = ids[i] as string;
      if (!edited(id)) this.refreshOne(id, summary[i] as ServiceWithDests);
    }
  }

  private refreshOne(id: string, p: ServiceWithDests): void {
    const e = this.byId.get(id);
    if (!e) return;
    const byId = p.dests.length > 16 ? new Map(p.dests.map((d) => [destId(d), d])) : undefined;
    for (const d of e.dests) {
      const q = byId ? byId.get(destId(d)) : sameDest(p.dests, d);
      if (!q) continue;
      d.weight = q.weight;
      d.activeConns = q.activeConns;
      d.inactiveConns = q.inactiveConns;
    }
  }

  private apply(op: Operation): void {
    const id = serviceId(op.service);
    const entry = this.byId.get(id);
    if (op.op === "delService") this.byId.delete(id);
    else if (op.op === "addService" || op.op === "editService") {
      const service = serviceEntryOf(op.service, entry?.service);
      this.byId.set(id, { service, dests: entry?.dests ?? [] });
    } else if (entry) {
      const did = destId(op.dest);
      const i = entry.dests.findIndex((d) => destId(d) === did);
      if (op.op === "delDest") {
        if (i >= 0) entry.dests.splice(i, 1);
      } else {
        const next = destEntryOf(op.dest, i >= 0 ? entry.dests[i] : undefined);
        if (i >= 0) entry.dests[i] = next;
        else entry.dests.push(next);
      }
    }
  }
}
