// What the passes saw in place, per service: its settings and its destinations' settings as one
// string each (reconcile-compare.ts). An operation on an object seen in place with the settings
// still wanted means somebody changed the kernel behind our back (drift); a refused operation
// forgets its object, so that its retry is not counted as drift.
import type { DesiredService, Operation } from "@lvs/ipvs";
import { destId, serviceId } from "@lvs/ipvs";
import type { DataplaneResult } from "./dataplane.js";
import { flat } from "./keys.js";
import { destRepr, type Seen, seenOf, serviceRepr } from "./reconcile-compare.js";

/** A desired service with its id and its settings as a pass will take them as seen (Seen). */
export interface Wanted {
  id: string;
  desired: DesiredService;
  seen: Seen;
}

export class SeenInPlace {
  /** Service id → its settings and its destinations' settings, as a pass last saw them in place. */
  private readonly byId = new Map<string, Seen>();

  /**
   * What a pass will take as seen once `desired` (service `id`) is in place: the record it has
   * when that still says the same, so a no-op pass over 20,000 real servers builds no new maps
   * and keys (seenOf's), only compares.
   */
  seenFor(id: string, desired: DesiredService): Seen {
    const prev = this.byId.get(id);
    if (
      prev !== undefined &&
      prev.dests.size === desired.dests.length &&
      prev.svc === serviceRepr(desired.service) &&
      desired.dests.every((x) => prev.dests.get(destId(x)) === destRepr(x))
    )
      return prev;
    return seenOf(desired);
  }

  /** Operations on objects a pass saw in place with the settings still wanted: somebody else's change. */
  drift(operations: readonly Operation[], wanted: readonly Wanted[]): { service: number; dest: number } {
    const drift = { service: 0, dest: 0 };
    if (!operations.length) return drift;
    const desiredById = new Map(wanted.map((w) => [w.id, w.desired]));
    const wantedDests = new Map<string, Set<string>>();
    const wantedIn = (sid: string): Set<string> => {
      let set = wantedDests.get(sid);
      if (!set) {
        set = new Set((desiredById.get(sid)?.dests ?? []).map(destId));
        wantedDests.set(sid, set);
      }
      return set;
    };
    for (const op of operations) {
      const sid = serviceId(op.service);
      const seen = this.byId.get(sid);
      if (op.op === "addService" || op.op === "editService") {
        if (seen?.svc === serviceRepr(op.service)) drift.service++;
      } else if (op.op === "addDest" || op.op === "editDest") {
        if (seen?.dests.get(destId(op.dest)) === destRepr(op.dest)) drift.dest++;
      } else if (op.op === "delDest") {
        const did = destId(op.dest);
        // A destination nobody asked for, inside a service we had in place: added by hand.
        if (seen?.svc !== undefined && !seen.dests.has(did) && !wantedIn(sid).has(did)) drift.dest++;
      }
    }
    return drift;
  }

  /** What is in place now: refused objects are forgotten (their retry is not drift). */
  record(
    results: readonly DataplaneResult[],
    wanted: readonly Wanted[],
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
          this.byId.get(sid)?.dests.delete(did);
        } else {
          failedServices.add(sid);
          this.byId.delete(sid);
        }
      } else if (op.op === "delService") this.byId.delete(sid);
    }
    const desiredIds = new Set<string>();
    // The settings strings were worked out before the turn (seenOf); only the refusals come off.
    for (const w of wanted) {
      desiredIds.add(w.id);
      if (failedServices.has(w.id)) continue;
      if (failedDests.size) {
        for (const did of [...w.seen.dests.keys()])
          if (failedDests.has(`${w.id} ${did}`)) w.seen.dests.delete(did);
      }
      // The same record as before (seenFor): its key is in already, flat.
      if (this.byId.get(w.id) !== w.seen) this.byId.set(flat(w.id), w.seen);
    }
    // Services in scope that are no longer wanted (deleted, or failed to delete) are forgotten.
    for (const sid of [...this.byId.keys()]) if (inScope(sid) && !desiredIds.has(sid)) this.byId.delete(sid);
  }

  /** Forget everything (after a flush or a restart of the kernel side). */
  clear(): void {
    this.byId.clear();
  }
}
