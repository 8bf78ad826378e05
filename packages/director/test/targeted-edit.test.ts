// A health failure reaches the dataplane as a targeted edit: the engine's desired table for that
// service against what the passes last saw, one operation sent, nothing read — and never behind a
// full read in progress (seconds with 5,000 services under emulation). The full pass that read
// before the edit leaves the edited service alone instead of putting the failed server back.
// Against @lvs/ipvs's in-memory IPVS behind the IPVS dataplane; full reads can be held at a gate.
import { MemoryIpvs, type ServiceKey, type ServiceWithDests, serviceId } from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import { compilePlan, DirectorEngine, type EngineEffect, IpvsDataplane, Reconciler } from "../src/index.js";
import { TurnBudget } from "../src/turns.js";
import { conf, vsBlock } from "./helpers.js";

const TEXT =
  vsBlock(
    "10.0.0.1 80",
    "lb_kind NAT\n real_server 10.1.0.1 8080 { weight 2\n TCP_CHECK { connect_timeout 1\n retry 0 } }\n real_server 10.1.0.2 8080 { }",
  ) + vsBlock("10.0.0.2 443", "lb_kind DR\n real_server 10.1.0.3 443 { }");
const S1 = serviceId({ protocol: 6, address: "10.0.0.1", port: 80 });

function make() {
  const kernel = new MemoryIpvs();
  const engine = new DirectorEngine(() => 0);
  const plan = compilePlan(conf(TEXT));
  engine.load(plan);
  const dataplane = new IpvsDataplane(kernel);
  const reads: string[] = [];
  let gate: Promise<void> | undefined;
  const read = dataplane.read.bind(dataplane);
  // What the kernel held when the read began, returned once the gate opens (a slow dump).
  dataplane.read = async (keys?: readonly ServiceKey[]): Promise<ServiceWithDests[]> => {
    reads.push(keys ? keys.map(serviceId).join(",") : "*");
    const seen = await read(keys);
    if (!keys && gate) await gate;
    return seen;
  };
  const rec = new Reconciler({ dataplane, engine });
  const checkId = plan.virtualServers[0]?.realServers[0]?.checks[0]?.id as string;
  /** The check fails: the engine's effects (the pass it asks for names the service). */
  const fail = (): EngineEffect[] =>
    engine.handle({
      kind: "health",
      id: checkId,
      state: { up: false, weight: 2, reason: "ECONNREFUSED", latencyMs: 1, at: 0 },
    });
  const hold = () => {
    let open = () => {};
    gate = new Promise((r) => {
      open = r;
    });
    return () => {
      gate = undefined;
      open();
    };
  };
  return { kernel, rec, reads, fail, hold };
}

const scopeOf = (effects: EngineEffect[]): ReadonlySet<string> => {
  const pass = effects.find((e) => e.kind === "pass");
  if (pass?.kind !== "pass" || !pass.scope) throw new Error("no scoped pass asked for");
  return pass.scope;
};

describe("targeted edits", () => {
  it("a failed check is one DEL_DEST, sent without reading the kernel", async () => {
    const t = make();
    await t.rec.pass();
    const before = t.kernel.log.length;
    t.reads.length = 0;
    const scope = scopeOf(t.fail());
    expect([...scope]).toEqual([S1]);
    const r = await t.rec.edit(scope);
    expect(r?.kind).toBe("edit");
    expect(r?.operations).toEqual([
      expect.objectContaining({ op: "delDest", dest: expect.objectContaining({ address: "10.1.0.1" }) }),
    ]);
    expect(t.reads).toEqual([]);
    expect(t.kernel.log.slice(before).map((o) => o.op)).toEqual(["delDest"]);
    expect(t.kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    expect(t.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
    // What the edit did is what the passes now take as seen: the next full pass has nothing to do.
    const next = await t.rec.pass();
    expect(next.operations).toEqual([]);
    expect(next.drift).toEqual({ service: 0, dest: 0 });
  });

  it("does not wait for a full read in progress, and that pass leaves the edited service alone", async () => {
    const t = make();
    await t.rec.pass();
    const open = t.hold();
    let fullDone = false;
    const full = t.rec.pass().then((r) => {
      fullDone = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(t.reads.at(-1)).toBe("*"); // the full read has begun and is held
    const edit = await t.rec.edit(scopeOf(t.fail()));
    expect(fullDone).toBe(false);
    expect(edit?.operations.map((o) => o.op)).toEqual(["delDest"]);
    expect(t.kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    open();
    // Its read still shows the failed server; it must not be put back, nor counted as drift.
    const r = await full;
    expect(r.operations).toEqual([]);
    expect(r.drift).toEqual({ service: 0, dest: 0 });
    expect(t.kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    expect(t.rec.table.get(S1)?.dests.map((d) => d.address)).toEqual(["10.1.0.2"]);
    expect((await t.rec.pass()).operations).toEqual([]);
  });

  it("can't tell before the service was seen: undefined, for a scoped pass to read it", async () => {
    const t = make();
    expect(await t.rec.edit(scopeOf(t.fail()))).toBeUndefined();
    expect(t.kernel.log).toEqual([]);
  });

  it("refused (the kernel differs from what was seen): reported, a scoped pass then repairs", async () => {
    const t = make();
    await t.rec.pass();
    // Somebody removed the server by hand; the edit still believes it is there.
    t.kernel.apply({
      op: "delDest",
      service: { protocol: 6, address: "10.0.0.1", port: 80 },
      dest: { address: "10.1.0.1", port: 8080 },
    });
    const r = await t.rec.edit(scopeOf(t.fail()));
    expect(r?.failed.map((f) => f.code)).toEqual(["IPVS_ENOENT_DEST"]);
    const scoped = await t.rec.pass({ scope: new Set([S1]) });
    expect(scoped.operations).toEqual([]);
    expect(t.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
  });

  it("an edit while a full pass computes its diff (in slices) is not undone by that pass", async () => {
    // Over a thousand services, and a budget spent at once: the pass yields between every two.
    let text = TEXT;
    for (let i = 0; i < 1_100; i++)
      text += vsBlock(`10.2.${i >> 8}.${i & 255} 80`, "lb_kind DR\n real_server 10.3.0.1 80 { }");
    const kernel = new MemoryIpvs();
    const engine = new DirectorEngine(() => 0);
    const plan = compilePlan(conf(text));
    engine.load(plan);
    const budgets: TurnBudget[] = [];
    const turnBudget = () => {
      budgets.push(new TurnBudget({ budgetMs: 0 }));
      return budgets.at(-1) as TurnBudget;
    };
    const rec = new Reconciler({ dataplane: new IpvsDataplane(kernel), engine, turnBudget });
    await rec.pass();
    // Removed by hand: the next full pass will want to put it back (drift repair)…
    kernel.apply({
      op: "delDest",
      service: { protocol: 6, address: "10.0.0.1", port: 80 },
      dest: { address: "10.1.0.1", port: 8080 },
    });
    // …but its check fails while that pass computes: the edit goes out between two slices.
    const checkId = plan.virtualServers[0]?.realServers[0]?.checks[0]?.id as string;
    const desired = engine.desiredInTurns.bind(engine);
    let edit: Promise<unknown> | undefined;
    engine.desiredInTurns = (scope, budget) => {
      if (!scope && !edit)
        setImmediate(() => {
          const effects = engine.handle({
            kind: "health",
            id: checkId,
            state: { up: false, weight: 2, reason: "ECONNREFUSED", latencyMs: 1, at: 0 },
          });
          edit = rec.edit(scopeOf(effects));
        });
      return desired(scope, budget);
    };
    const r = await rec.pass();
    expect(budgets.at(-1)?.yields).toBeGreaterThan(1_000);
    expect(edit).toBeDefined();
    await edit;
    expect(r.operations.filter((o) => serviceId(o.service) === S1)).toEqual([]);
    expect(kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    expect(kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
  });
});
