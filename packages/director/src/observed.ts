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
   */
  record(
    kind: ReadKind,
    scope: ReadonlySet<string> | undefined,
    actual: readonly ServiceWithDests[],
    applied: readonly Operation[],
    keep: ReadonlySet<string> = new Set(),
  ): void {
    const fresh = keep.size ? actual.filter((a) => !keep.has(serviceId(a.service))) : actual;
    if (kind === "full") this.replace(fresh, keep);
    else if (kind === "quick") this.refresh(fresh);
    else if (kind === "scoped") {
      for (const id of scope ?? []) if (!keep.has(id)) this.byId.delete(id);
      for (const a of fresh) this.byId.set(serviceId(a.service), a);
    }
    for (const op of applied) this.apply(op);
  }

  private replace(actual: readonly ServiceWithDests[], keep: ReadonlySet<string>): void {
    for (const id of [...this.byId.keys()]) if (!keep.has(id)) this.byId.delete(id);
    for (const a of actual) this.byId.set(serviceId(a.service), a);
    this.complete = true;
  }

  /** A summary has weights and connection counts, not the counters: refresh what it has. */
  private refresh(summary: readonly ServiceWithDests[]): void {
    for (const p of summary) {
      const e = this.byId.get(serviceId(p.service));
      if (!e) continue;
      const byId = new Map(p.dests.map((d) => [destId(d), d]));
      for (const d of e.dests) {
        const q = byId.get(destId(d));
        if (!q) continue;
        d.weight = q.weight;
        d.activeConns = q.activeConns;
        d.inactiveConns = q.inactiveConns;
      }
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
