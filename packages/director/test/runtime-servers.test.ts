// Real servers added at runtime (keepalived #1296): the engine's rules for adding and removing
// one, its port and family by keepalived's rules for a configured server, what a reload does with
// it (kept; dropped once the configuration names it, never duplicated), and its round trip
// through the state file. The kernel side is proven in parity.kernel.test.ts.
import { type DesiredService, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_MASQ } from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import {
  compilePlan,
  DirectorEngine,
  DirectorError,
  type EngineEffect,
  parseStateFile,
  STATE_FILE_VERSION,
} from "../src/index.js";
import { newRuntimeServer } from "../src/runtime-servers.js";
import { conf, vsBlock } from "./helpers.js";

const RS = "real_server 10.1.0.1 8080 {\n weight 2\n }";

function start(text = vsBlock("10.0.0.1 80", `lb_kind NAT\n ${RS}`)) {
  const engine = new DirectorEngine(() => 1_000);
  const fx = engine.handle({ kind: "config", plan: compilePlan(conf(text)), localAddresses: new Set() });
  const vs = engine.currentPlan.virtualServers[0]!;
  return { engine, fx, vs };
}

/** `address:port -> weight` of the first kernel service. */
const table = (engine: DirectorEngine) =>
  Object.fromEntries(
    (engine.desired()[0] as DesiredService).dests.map((d) => [`${d.address}:${d.port}`, d.weight]),
  );

const add = (engine: DirectorEngine, address: string, port: number | undefined, weight = 1) => {
  const vs = engine.currentPlan.virtualServers[0]!;
  const rs = newRuntimeServer(vs, address, port, weight);
  return engine.handle({
    kind: "change",
    vsKey: vs.key,
    rsKey: rs.key,
    change: { op: "add", server: { address: rs.address, port: rs.port, weight: rs.weight } },
  });
};

const errorOf = (fn: () => unknown): DirectorError => {
  try {
    fn();
  } catch (err) {
    return err as DirectorError;
  }
  throw new Error("no error thrown");
};

describe("real servers added at runtime", () => {
  it("add: in the table with its weight, reported, saved and reconciled; remove: gone with its overrides", () => {
    const { engine, vs } = start();
    const fx = add(engine, "10.1.0.9", 8080, 5);
    expect(fx.map((e) => e.kind)).toEqual(["runtime-server", "save-state", "pass"]);
    expect(fx[0]).toMatchObject({ change: "added", rs: { key: "10.1.0.9:8080", runtime: true } });
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2, "10.1.0.9:8080": 5 });
    expect(engine.runtimeServers()).toEqual({
      [vs.key]: [{ address: "10.1.0.9", port: 8080, weight: 5 }],
    });
    // Overrides apply to it like to a configured server…
    engine.handle({
      kind: "change",
      vsKey: vs.key,
      rsKey: "10.1.0.9:8080",
      change: { op: "weight", weight: 9 },
    });
    expect(table(engine)["10.1.0.9:8080"]).toBe(9);
    // …and go with it.
    const rm = engine.handle({
      kind: "change",
      vsKey: vs.key,
      rsKey: "10.1.0.9:8080",
      change: { op: "remove" },
    });
    expect(rm[0]).toMatchObject({ kind: "runtime-server", change: "removed" });
    expect(rm.map((e: EngineEffect) => e.kind)).toContain("save-state");
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2 });
    expect(engine.runtimeServers()).toEqual({});
    expect(engine.allOverrides().size).toBe(0);
  });

  it("it counts for the quorum like a configured server", () => {
    const { engine, vs } = start(
      vsBlock(
        "10.0.0.1 80",
        `lb_kind NAT\n quorum 4\n sorry_server 10.1.0.99 8080\n ${RS}\n real_server 10.1.0.2 8080 {\n weight 2\n }`,
      ),
    );
    engine.handle({
      kind: "change",
      vsKey: vs.key,
      rsKey: "10.1.0.2:8080",
      change: { op: "disable", disabled: true },
    });
    expect(engine.quorumUp(vs.key)).toBe(false);
    expect(table(engine)).toEqual({ "10.1.0.99:8080": 1 });
    const fx = add(engine, "10.1.0.9", 8080, 2);
    expect(fx).toContainEqual(expect.objectContaining({ kind: "quorum", up: true }));
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2, "10.1.0.9:8080": 2 });
  });

  it("refuses a server that is there already, configured or added, with a stable code", () => {
    const { engine, vs } = start();
    const configured = errorOf(() => newRuntimeServer(vs, "10.1.0.1", 8080, 1));
    expect(configured).toBeInstanceOf(DirectorError);
    expect(configured).toMatchObject({
      code: "DIRECTOR_EXISTS",
      message: expect.stringContaining("in the configuration"),
    });
    add(engine, "10.1.0.9", 8080);
    const vs2 = engine.currentPlan.virtualServers[0]!;
    expect(errorOf(() => newRuntimeServer(vs2, "10.1.0.9", 8080, 1))).toMatchObject({
      code: "DIRECTOR_EXISTS",
      message: expect.stringContaining("added at runtime"),
    });
  });

  it("ports and families by keepalived's rules: NAT defaults to the VS port, DR takes it, a family mismatch is refused", () => {
    const nat = start();
    expect(newRuntimeServer(nat.vs, "10.1.0.9", undefined, 1)).toMatchObject({
      key: "10.1.0.9:80",
      fwd: { forward: IP_VS_CONN_F_MASQ },
    });
    const dr = start(vsBlock("10.0.0.1 80", "lb_kind DR\n real_server 10.1.0.1 80 { }"));
    expect(newRuntimeServer(dr.vs, "10.1.0.9", undefined, 1)).toMatchObject({
      key: "10.1.0.9:80",
      fwd: { forward: IP_VS_CONN_F_DROUTE },
    });
    expect(errorOf(() => newRuntimeServer(dr.vs, "10.1.0.9", 8080, 1))).toMatchObject({
      code: "DIRECTOR_BAD_ARGUMENT",
      message: expect.stringContaining("takes its virtual server's port"),
    });
    expect(errorOf(() => newRuntimeServer(nat.vs, "fd00::9", 8080, 1))).toMatchObject({
      code: "DIRECTOR_BAD_ARGUMENT",
      message: expect.stringContaining("address family"),
    });
    const fwm = start("virtual_server fwmark 5 {\n lb_kind NAT\n real_server 10.1.0.1 8080 { }\n}\n");
    expect(errorOf(() => newRuntimeServer(fwm.vs, "10.1.0.9", undefined, 1))).toMatchObject({
      code: "DIRECTOR_BAD_ARGUMENT",
      message: expect.stringContaining("needs a port"),
    });
  });

  it("a reload keeps it; a reload whose configuration names it drops the runtime entry (no duplicate)", () => {
    const { engine, vs } = start();
    add(engine, "10.1.0.9", 8080, 5);
    const same = engine.handle({
      kind: "config",
      plan: compilePlan(conf(vsBlock("10.0.0.1 80", `lb_kind NAT\n ${RS}`))),
      localAddresses: new Set(),
    });
    expect(same.map((e) => e.kind)).not.toContain("save-state");
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2, "10.1.0.9:8080": 5 });

    const named = engine.handle({
      kind: "config",
      plan: compilePlan(
        conf(vsBlock("10.0.0.1 80", `lb_kind NAT\n ${RS}\n real_server 10.1.0.9 8080 {\n weight 3\n }`)),
      ),
      localAddresses: new Set(),
    });
    expect(named).toContainEqual(expect.objectContaining({ kind: "runtime-server", change: "configured" }));
    expect(named.map((e) => e.kind)).toContain("save-state");
    const rs = engine.currentPlan.virtualServers[0]!.realServers;
    expect(rs.map((r) => r.key)).toEqual(["10.1.0.1:8080", "10.1.0.9:8080"]);
    expect(rs[1]!.runtime).toBeUndefined();
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2, "10.1.0.9:8080": 3 });
    expect(engine.runtimeServers()).toEqual({});
    // A configured server can't be removed as a runtime one: nothing happens.
    expect(
      engine.handle({ kind: "change", vsKey: vs.key, rsKey: "10.1.0.9:8080", change: { op: "remove" } }),
    ).not.toContainEqual(expect.objectContaining({ kind: "runtime-server" }));
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2, "10.1.0.9:8080": 3 });
  });

  it("a virtual server that leaves the configuration keeps its runtime servers for when it comes back", () => {
    const { engine, vs } = start();
    add(engine, "10.1.0.9", 8080, 5);
    engine.handle({
      kind: "config",
      plan: compilePlan(conf(vsBlock("10.0.0.2 80", `lb_kind NAT\n ${RS}`))),
      localAddresses: new Set(),
    });
    expect(engine.runtimeServers()).toEqual({ [vs.key]: [{ address: "10.1.0.9", port: 8080, weight: 5 }] });
    engine.handle({
      kind: "config",
      plan: compilePlan(conf(vsBlock("10.0.0.1 80", `lb_kind NAT\n ${RS}`))),
      localAddresses: new Set(),
    });
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2, "10.1.0.9:8080": 5 });
  });

  it("state file: restored at start from what was saved; malformed entries are skipped", () => {
    const first = start();
    add(first.engine, "10.1.0.9", 8080, 5);
    const text = JSON.stringify({
      version: STATE_FILE_VERSION,
      overrides: {},
      owned: [],
      runtimeServers: {
        ...first.engine.runtimeServers(),
        "TCP/10.0.0.7:80": [
          { address: "not-an-ip", port: 1, weight: 1 },
          { address: "10.1.0.1", port: 70000, weight: 1 },
        ],
      },
    });
    const state = parseStateFile(text, "/x.state.json");
    expect(state.runtimeServers).toEqual({
      [first.vs.key]: [{ address: "10.1.0.9", port: 8080, weight: 5 }],
    });
    const engine = new DirectorEngine(() => 1_000);
    engine.handle({
      kind: "config",
      plan: compilePlan(conf(vsBlock("10.0.0.1 80", `lb_kind NAT\n ${RS}`))),
      runtimeServers: state.runtimeServers ?? {},
      localAddresses: new Set(),
    });
    expect(table(engine)).toEqual({ "10.1.0.1:8080": 2, "10.1.0.9:8080": 5 });
    // A file written before runtime servers existed still parses.
    expect(
      parseStateFile(JSON.stringify({ version: STATE_FILE_VERSION, overrides: {}, owned: [] }), "/x")
        .runtimeServers,
    ).toBeUndefined();
  });
});
