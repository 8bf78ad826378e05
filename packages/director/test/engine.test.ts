// The desired-state engine against keepalived 2.2.7's rules (check/ipwrapper.c): start with and
// without alpha, failures with and without inhibit_on_failure, sorry server (+ inhibit), quorum
// with hysteresis and its events, dynamic weights, drains, runtime overrides, reloads.
import { type DesiredService, type ServiceWithDests, serviceId } from "@lvs/ipvs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePlan, DirectorEngine, type EngineEffect, type Plan } from "../src/index.js";
import { conf, vsBlock } from "./helpers.js";

const TCP = (port = 80) => `TCP_CHECK {\n connect_timeout 1\n connect_port ${port}\n }`;

function setup(
  body: string,
  head = "10.0.0.1 80",
): { plan: Plan; engine: DirectorEngine; effects: EngineEffect[]; clock: { t: number } } {
  const plan = compilePlan(conf(vsBlock(head, body)));
  const clock = { t: 1_000_000 };
  const engine = new DirectorEngine(() => clock.t);
  const effects = engine.load(plan);
  return { plan, engine, effects, clock };
}

/** `rs -> weight` of the one service of the one virtual server ("-" when absent). */
function table(engine: DirectorEngine): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of (engine.desired()[0] as DesiredService).dests)
    out[`${d.address}:${d.port}`] = d.weight ?? 1;
  return out;
}

function checkId(plan: Plan, rsAddress: string): string {
  const rs = plan.virtualServers[0]!.realServers.find((r) => r.address === rsAddress)!;
  return rs.checks[0]!.id;
}

const down = (reason = "ECONNREFUSED") => ({ up: false, weight: 0, reason });
const up = (weight = 1) => ({ up: true, weight, reason: "connected" });

describe("start", () => {
  it("without alpha every real server goes in at once, quorum up is announced", () => {
    const { engine, effects } = setup(
      `real_server 10.1.0.1 80 { weight 2\n ${TCP()} }\n real_server 10.1.0.2 80 { ${TCP()} }`,
    );
    expect(table(engine)).toEqual({ "10.1.0.1:80": 2, "10.1.0.2:80": 1 });
    expect(effects).toEqual([
      expect.objectContaining({ kind: "quorum", up: true, init: true, weightSum: 3 }),
    ]);
  });

  it("with alpha a checked server waits for its first success; one without checkers goes in", () => {
    const { plan, engine, effects } = setup(
      `alpha\n real_server 10.1.0.1 80 { ${TCP()} }\n real_server 10.1.0.2 80 { }`,
    );
    expect(table(engine)).toEqual({ "10.1.0.2:80": 1 });
    expect(effects.filter((e) => e.kind === "quorum")).toHaveLength(1);
    const fx = engine.setHealth([[checkId(plan, "10.1.0.1"), up()]]);
    expect(fx).toEqual([expect.objectContaining({ kind: "rs", up: true })]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 1, "10.1.0.2:80": 1 });
  });

  it("alpha with every server down and a sorry server: the sorry server is the pool from the start", () => {
    const { engine, effects } = setup(
      `alpha\n sorry_server 10.9.0.1 80\n real_server 10.1.0.1 80 { ${TCP()} }`,
    );
    expect(table(engine)).toEqual({ "10.9.0.1:80": 1 });
    expect(effects).toEqual([expect.objectContaining({ kind: "quorum", up: false, init: true })]);
  });

  it("alpha, all down, no sorry server: nothing in the pool and no quorum event (keepalived is silent)", () => {
    const { engine, effects } = setup(`alpha\n real_server 10.1.0.1 80 { ${TCP()} }`);
    expect(table(engine)).toEqual({});
    expect(effects).toEqual([]);
  });

  it("alpha + inhibit_on_failure: the server is in with weight 0 until it passes", () => {
    const { plan, engine } = setup(
      `alpha\n real_server 10.1.0.1 80 { inhibit_on_failure\n weight 4\n ${TCP()} }`,
    );
    expect(table(engine)).toEqual({ "10.1.0.1:80": 0 });
    engine.setHealth([[checkId(plan, "10.1.0.1"), up(4)]]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 4 });
  });
});

describe("health changes", () => {
  it("down → removed → up → back", () => {
    const { plan, engine } = setup(
      `real_server 10.1.0.1 80 { ${TCP()} }\n real_server 10.1.0.2 80 { ${TCP()} }`,
    );
    const id = checkId(plan, "10.1.0.1");
    const fx = engine.setHealth([[id, down()]]);
    expect(fx).toEqual([expect.objectContaining({ kind: "rs", up: false, reason: "ECONNREFUSED" })]);
    expect(table(engine)).toEqual({ "10.1.0.2:80": 1 });
    engine.setHealth([[id, up()]]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 1, "10.1.0.2:80": 1 });
  });

  it("inhibit_on_failure: weight 0 instead of removal", () => {
    const { plan, engine } = setup(
      `inhibit_on_failure\n real_server 10.1.0.1 80 { weight 3\n ${TCP()} }\n real_server 10.1.0.2 80 { ${TCP()} }`,
    );
    engine.setHealth([[checkId(plan, "10.1.0.1"), down()]]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 0, "10.1.0.2:80": 1 });
  });

  it("a server with two checkers is alive only while both pass", () => {
    const { plan, engine } = setup(`real_server 10.1.0.1 80 { ${TCP()}\n ${TCP(81)} }`);
    const [a, b] = plan.virtualServers[0]!.realServers[0]!.checks;
    engine.setHealth([[b!.id, down()]]);
    expect(table(engine)).toEqual({});
    engine.setHealth([[b!.id, up()]]);
    engine.setHealth([[a!.id, down()]]);
    expect(table(engine)).toEqual({});
    engine.setHealth([[a!.id, up()]]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 1 });
  });

  it("misc_dynamic weight replaces the configured one (iweight + (w - iweight))", () => {
    const { plan, engine } = setup(`real_server 10.1.0.1 80 { weight 10\n ${TCP()} }`);
    engine.setHealth([[checkId(plan, "10.1.0.1"), up(37)]]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 37 });
  });
});

describe("sorry server and quorum", () => {
  const body = (extra = "") =>
    `${extra}\n sorry_server 10.9.0.1 80\n quorum_up "/bin/true up"\n quorum_down "/bin/true down"\n real_server 10.1.0.1 80 { ${TCP()} }\n real_server 10.1.0.2 80 { inhibit_on_failure\n ${TCP()} }`;

  it("all down → sorry server in (weight 1), inhibited servers kept at 0; recovery swaps back", () => {
    const { plan, engine } = setup(body());
    const fx1 = engine.setHealth([[checkId(plan, "10.1.0.1"), down()]]);
    expect(fx1.filter((e) => e.kind === "quorum")).toEqual([]);
    const fx2 = engine.setHealth([[checkId(plan, "10.1.0.2"), down()]]);
    expect(fx2).toContainEqual(expect.objectContaining({ kind: "quorum", up: false, init: false }));
    expect(table(engine)).toEqual({ "10.1.0.2:80": 0, "10.9.0.1:80": 1 });
    const fx3 = engine.setHealth([[checkId(plan, "10.1.0.1"), up()]]);
    expect(fx3).toContainEqual(expect.objectContaining({ kind: "quorum", up: true }));
    expect(table(engine)).toEqual({ "10.1.0.1:80": 1, "10.1.0.2:80": 0 });
  });

  it("sorry_server_inhibit keeps the idle sorry server at weight 0", () => {
    const { plan, engine } = setup(
      body().replace("sorry_server 10.9.0.1 80", "sorry_server 10.9.0.1 80\n sorry_server_inhibit"),
    );
    expect(table(engine)).toEqual({ "10.1.0.1:80": 1, "10.1.0.2:80": 1, "10.9.0.1:80": 0 });
    engine.setHealth([
      [checkId(plan, "10.1.0.1"), down()],
      [checkId(plan, "10.1.0.2"), down()],
    ]);
    expect(table(engine)).toEqual({ "10.1.0.2:80": 0, "10.9.0.1:80": 1 });
  });

  it("while the sorry server serves, a recovering server waits for quorum", () => {
    const { plan, engine } = setup(
      `quorum 2\n sorry_server 10.9.0.1 80\n real_server 10.1.0.1 80 { ${TCP()} }\n real_server 10.1.0.2 80 { ${TCP()} }`,
    );
    engine.setHealth([[checkId(plan, "10.1.0.1"), down()]]);
    expect(table(engine)).toEqual({ "10.9.0.1:80": 1 });
    engine.setHealth([[checkId(plan, "10.1.0.2"), down()]]);
    engine.setHealth([[checkId(plan, "10.1.0.2"), up()]]);
    expect(table(engine)).toEqual({ "10.9.0.1:80": 1 });
    engine.setHealth([[checkId(plan, "10.1.0.1"), up()]]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 1, "10.1.0.2:80": 1 });
  });

  it("hysteresis: lose below quorum - h, regain at quorum + h", () => {
    const rs = [1, 2, 3, 4].map((i) => `real_server 10.1.0.${i} 80 { ${TCP()} }`).join("\n ");
    const { plan, engine } = setup(`quorum 3\n hysteresis 1\n ${rs}`);
    const id = (i: number) => checkId(plan, `10.1.0.${i}`);
    const q = (fx: EngineEffect[]) =>
      fx.filter((e) => e.kind === "quorum").map((e) => (e as { up: boolean }).up);
    expect(engine.quorumUp(plan.virtualServers[0]!.key)).toBe(true);
    expect(q(engine.setHealth([[id(1), down()]]))).toEqual([]); // 3 >= 2
    expect(q(engine.setHealth([[id(2), down()]]))).toEqual([]); // 2 >= 2
    expect(q(engine.setHealth([[id(3), down()]]))).toEqual([false]); // 1 < 2
    expect(q(engine.setHealth([[id(3), up()]]))).toEqual([]); // 2 < 4
    expect(q(engine.setHealth([[id(2), up()]]))).toEqual([]); // 3 < 4
    expect(q(engine.setHealth([[id(1), up()]]))).toEqual([true]); // 4 >= 4
  });

  it("property: with quorum 1 and no hysteresis, quorum is up exactly when some alive server has weight", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 30 }),
        (steps) => {
          const { plan, engine } = setup(
            `sorry_server 10.9.0.1 80\n ${[0, 1, 2, 3].map((i) => `real_server 10.1.0.${i + 1} 80 { ${TCP()} }`).join("\n ")}`,
          );
          const alive = [true, true, true, true];
          for (const [i, ok] of steps) {
            alive[i] = ok;
            engine.setHealth([[checkId(plan, `10.1.0.${i + 1}`), ok ? up() : down()]]);
          }
          const any = alive.some(Boolean);
          expect(engine.quorumUp(plan.virtualServers[0]!.key)).toBe(any);
          const t = table(engine);
          if (any) {
            expect(t["10.9.0.1:80"]).toBeUndefined();
            expect(Object.keys(t).length).toBe(alive.filter(Boolean).length);
          } else expect(t).toEqual({ "10.9.0.1:80": 1 });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("runtime changes", () => {
  const ids = (s: ServiceWithDests) => serviceId(s.service);
  const kernel = (engine: DirectorEngine, active: Record<string, number>): ServiceWithDests[] =>
    engine.desired().map((d) => ({
      service: {
        af: 2,
        protocol: 6,
        address: "10.0.0.1",
        port: 80,
        fwmark: 0,
        scheduler: "wlc",
        flags: 0,
        timeout: 0,
        netmask: 32,
        peName: undefined,
        stats: undefined,
        stats64: undefined,
      },
      dests: d.dests.map((x) => ({
        af: 2,
        address: x.address,
        port: x.port,
        forward: x.forward ?? 0,
        weight: x.weight ?? 1,
        upperThreshold: 0,
        lowerThreshold: 0,
        activeConns: active[`${x.address}:${x.port}`] ?? 0,
        inactiveConns: 0,
        persistConns: 0,
        tunnelType: 0,
        tunnelPort: 0,
        tunnelFlags: 0,
        stats: undefined,
        stats64: undefined,
      })),
    }));

  it("drain: weight 0 at once, removed when the last active connection ends, undrain restores", () => {
    const { plan, engine } = setup(`real_server 10.1.0.1 80 { weight 5 }\n real_server 10.1.0.2 80 { }`);
    const vs = plan.virtualServers[0]!;
    engine.drain(vs.key, "10.1.0.1:80", undefined);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 0, "10.1.0.2:80": 1 });
    expect(engine.drainingServices()).toEqual(new Set([vs.services[0]!.id]));
    expect(engine.observe(kernel(engine, { "10.1.0.1:80": 2 }), undefined, ids)).toEqual([]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 0, "10.1.0.2:80": 1 });
    const fx = engine.observe(kernel(engine, { "10.1.0.1:80": 0 }), undefined, ids);
    expect(fx).toEqual([expect.objectContaining({ kind: "drain", reason: "idle", rsKey: "10.1.0.1:80" })]);
    expect(table(engine)).toEqual({ "10.1.0.2:80": 1 });
    expect(engine.override(vs.key, "10.1.0.1:80")?.drain?.phase).toBe("drained");
    engine.undrain(vs.key, "10.1.0.1:80");
    expect(table(engine)).toEqual({ "10.1.0.1:80": 5, "10.1.0.2:80": 1 });
    expect(engine.override(vs.key, "10.1.0.1:80")).toBeUndefined();
  });

  it("drain timeout removes the server with connections left", () => {
    const { plan, engine, clock } = setup(`real_server 10.1.0.1 80 { }\n real_server 10.1.0.2 80 { }`);
    const vs = plan.virtualServers[0]!;
    engine.drain(vs.key, "10.1.0.1:80", 10_000);
    clock.t += 9_999;
    expect(engine.observe(kernel(engine, { "10.1.0.1:80": 1 }), undefined, ids)).toEqual([]);
    clock.t += 1;
    expect(engine.observe(kernel(engine, { "10.1.0.1:80": 1 }), undefined, ids)).toEqual([
      expect.objectContaining({ kind: "drain", reason: "timeout", activeConns: 1 }),
    ]);
    expect(table(engine)).toEqual({ "10.1.0.2:80": 1 });
  });

  it("a partial read that does not cover the drain's services leaves it waiting", () => {
    const { plan, engine } = setup(`real_server 10.1.0.1 80 { }`);
    engine.drain(plan.virtualServers[0]!.key, "10.1.0.1:80", undefined);
    expect(engine.observe([], new Set(["other"]), ids)).toEqual([]);
    expect(engine.observe([], new Set([plan.virtualServers[0]!.services[0]!.id]), ids)).toHaveLength(1);
  });

  it("weight and disable overrides; a disabled server counts for nothing in the quorum", () => {
    const { plan, engine } = setup(`sorry_server 10.9.0.1 80\n real_server 10.1.0.1 80 { weight 2 }`);
    const vs = plan.virtualServers[0]!;
    engine.setWeight(vs.key, "10.1.0.1:80", 7);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 7 });
    const fx = engine.setDisabled(vs.key, "10.1.0.1:80", true);
    expect(fx).toContainEqual(expect.objectContaining({ kind: "quorum", up: false }));
    expect(table(engine)).toEqual({ "10.9.0.1:80": 1 });
    engine.setDisabled(vs.key, "10.1.0.1:80", false);
    engine.setWeight(vs.key, "10.1.0.1:80", undefined);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 2 });
    expect(engine.allOverrides().size).toBe(0);
  });

  it("resolve: VIP:PORT / proto / fwmark / group forms, clear errors", async () => {
    const { parseRsReference, parseVsReference } = await import("../src/index.js");
    const { engine } = setup(`real_server 10.1.0.1 8080 { }\n real_server 10.1.0.2 8080 { }`);
    expect(engine.resolve(parseVsReference("10.0.0.1:80"), parseRsReference("10.1.0.2:8080")).rs.key).toBe(
      "10.1.0.2:8080",
    );
    expect(engine.resolve(parseVsReference("tcp/10.0.0.1:80"), parseRsReference("10.1.0.1")).rs.key).toBe(
      "10.1.0.1:8080",
    );
    expect(() => engine.resolve(parseVsReference("10.0.0.9:80"), parseRsReference("10.1.0.1"))).toThrow(
      /no virtual server 10.0.0.9:80/,
    );
    expect(() => engine.resolve(parseVsReference("10.0.0.1:80"), parseRsReference("10.1.0.7:80"))).toThrow(
      /has no real server 10.1.0.7:80; it has 10.1.0.1:8080, 10.1.0.2:8080/,
    );
    expect(() => parseVsReference("nonsense")).toThrow(/write 10.0.0.1:80/);
  });
});

describe("reload", () => {
  it("keeps quorum and alive state of unchanged virtual servers, initialises new ones", () => {
    const text = vsBlock("10.0.0.1 80", `quorum_up "/bin/true"\n real_server 10.1.0.1 80 { ${TCP()} }`);
    const plan1 = compilePlan(conf(text));
    const engine = new DirectorEngine(() => 0);
    expect(engine.load(plan1)).toHaveLength(1);
    const plan2 = compilePlan(conf(text + vsBlock("10.0.0.2 80", `real_server 10.1.0.2 80 { }`)));
    const fx = engine.load(plan2);
    expect(fx).toEqual([
      expect.objectContaining({
        kind: "quorum",
        init: true,
        vs: expect.objectContaining({ key: "TCP/10.0.0.2:80" }),
      }),
    ]);
    expect(engine.desired().map((d) => d.service.address)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });
});

describe("events → effects (the rules the daemon follows)", () => {
  const kinds = (fx: EngineEffect[]) =>
    fx.map((e) =>
      e.kind === "script"
        ? `script ${e.name}${e.shutdown ? " (shutdown)" : ""}`
        : e.kind === "pass"
          ? `pass ${e.scope ? [...e.scope].join(",") : "*"}`
          : e.kind === "slow-start"
            ? `slow-start ${e.running}`
            : e.kind === "release"
              ? `release ${e.how}`
              : e.kind,
    );
  const start = (body: string, extraConf = "") => {
    const plan = compilePlan(conf(extraConf + vsBlock("10.0.0.1 80", body)));
    const engine = new DirectorEngine(() => 5_000);
    const fx = engine.handle({ kind: "config", plan, localAddresses: new Set() });
    return { plan, engine, fx, sid: plan.virtualServers[0]!.services[0]!.id };
  };
  const health = (id: string, up: boolean, weight = up ? 1 : 0) =>
    ({
      kind: "health",
      id,
      state: { up, weight, reason: up ? "connected" : "ECONNREFUSED", at: 1 },
    }) as const;

  it("config: the checks to run, the transitions with their scripts, then the whole table", () => {
    const { fx } = start(`quorum_up "/bin/up"\n real_server 10.1.0.1 80 { ${TCP()} }`);
    expect(kinds(fx)).toEqual(["checks", "quorum", "script quorum_up", "pass *"]);
  });

  it("health: a change asks for its virtual server's services; the same state asks for nothing", () => {
    const { plan, engine, sid } = start(
      `real_server 10.1.0.1 80 { notify_down "/bin/down"\n ${TCP()} }\n real_server 10.1.0.2 80 { }`,
    );
    const id = checkId(plan, "10.1.0.1");
    expect(kinds(engine.handle(health(id, true)))).toEqual([]);
    expect(kinds(engine.handle(health(id, false)))).toEqual(["rs", "script notify_down", `pass ${sid}`]);
    expect(kinds(engine.handle(health(id, false)))).toEqual([]);
    expect(
      kinds(engine.handle({ kind: "health", id: "unknown", state: { up: false, weight: 0, at: 1 } })),
    ).toEqual([]);
  });

  it("alpha: a first failing run says down once (no transition: the server was never up)", () => {
    const { plan, engine, sid } = start(
      `alpha\n real_server 10.1.0.1 80 { notify_down "/bin/down"\n ${TCP()} }`,
    );
    const id = checkId(plan, "10.1.0.1");
    const fx = engine.handle(health(id, false));
    expect(fx).toContainEqual(expect.objectContaining({ kind: "rs", up: false, reason: "ECONNREFUSED" }));
    // The runner's weight (0) differs from the one an alpha server starts with: its services are looked at.
    expect(kinds(fx)).toEqual(["rs", "script notify_down", `pass ${sid}`]);
    expect(kinds(engine.handle(health(id, false)))).toEqual([]);
  });

  it("slow start: a weight below the check's full one starts the ticks; ticks move weights until none ramps", () => {
    const { plan, engine, sid } = start(`real_server 10.1.0.1 80 { weight 4\n ${TCP()} }`);
    const id = checkId(plan, "10.1.0.1");
    engine.handle(health(id, false, 0));
    expect(kinds(engine.handle(health(id, true, 1)))).toEqual([
      "rs",
      "quorum",
      `pass ${sid}`,
      "slow-start true",
    ]);
    expect(kinds(engine.handle({ kind: "weights", targets: [{ id, up: true, weight: 1 }] }))).toEqual([]);
    expect(kinds(engine.handle({ kind: "weights", targets: [{ id, up: true, weight: 3 }] }))).toEqual([
      `pass ${sid}`,
    ]);
    expect(table(engine)).toEqual({ "10.1.0.1:80": 3 });
    expect(kinds(engine.handle({ kind: "weights", targets: [{ id, up: true, weight: 4 }] }))).toEqual([
      `pass ${sid}`,
      "slow-start false",
    ]);
  });

  it("drains: the poll asks for connections; an idle server finishes, is saved and reconciled", () => {
    const { plan, engine, sid } = start(`real_server 10.1.0.1 80 { }\n real_server 10.1.0.2 80 { }`);
    const vs = plan.virtualServers[0]!;
    expect(kinds(engine.handle({ kind: "drain-poll" }))).toEqual([]);
    expect(
      kinds(
        engine.handle({
          kind: "change",
          vsKey: vs.key,
          rsKey: "10.1.0.1:80",
          change: { op: "drain", timeoutMs: undefined },
        }),
      ),
    ).toEqual(["save-state", `pass ${sid}`]);
    expect(engine.handle({ kind: "drain-poll" })).toEqual([
      { kind: "read-connections", services: new Set([sid]) },
    ]);
    const counts = (active: number) => [
      {
        service: vs.services[0]!.service,
        address: "10.1.0.1",
        port: 80,
        active,
        inactive: 0,
        persistent: 0,
      },
    ];
    const services = new Set([sid]);
    expect(kinds(engine.handle({ kind: "connections", services, counts: counts(2) }))).toEqual([]);
    expect(kinds(engine.handle({ kind: "connections", services, counts: counts(0) }))).toEqual([
      "drain",
      "save-state",
      `pass ${sid}`,
    ]);
    expect(table(engine)).toEqual({ "10.1.0.2:80": 1 });
  });

  it("ha_suspend: quiet at (re)load; then suspend/activate lines and the checks to run", () => {
    const { plan, engine } = start(`ha_suspend\n real_server 10.1.0.1 80 { ${TCP()} }`);
    expect(engine.checksSuspended(plan.virtualServers[0]!.key)).toBe(true);
    expect(engine.activeTargets()).toEqual([]);
    const fx = engine.handle({ kind: "addresses", local: new Set(["10.0.0.1"]) });
    expect(kinds(fx)).toEqual(["suspend", "checks"]);
    expect(fx[0]).toMatchObject({ suspended: false });
    expect(fx[1]).toMatchObject({ targets: [expect.objectContaining({ id: checkId(plan, "10.1.0.1") })] });
    expect(kinds(engine.handle({ kind: "addresses", local: new Set(["10.0.0.1"]) }))).toEqual([]);
    expect(engine.handle({ kind: "addresses", local: new Set() })).toEqual([
      expect.objectContaining({ kind: "suspend", suspended: true }),
      { kind: "checks", targets: [] },
    ]);
  });

  it("VRRP: only the lvs_sync_daemon's instance moves the sync daemon", () => {
    const { engine } = start(
      "real_server 10.1.0.1 80 { }",
      "global_defs {\n lvs_sync_daemon eth0 VI_1\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
    );
    expect(engine.handle({ kind: "vrrp", instance: "VI_1", from: "BACKUP", to: "MASTER" })).toEqual([
      { kind: "sync-role", state: "MASTER" },
    ]);
    expect(engine.handle({ kind: "vrrp", instance: "VI_2", from: "BACKUP", to: "MASTER" })).toEqual([]);
  });

  it("stop: omega's down notifiers for alive servers and a quorum that is up; the table stays unless asked", () => {
    const { engine } = start(
      `omega\n quorum_down "/bin/qdown"\n real_server 10.1.0.1 80 { notify_down "/bin/down" }\n real_server 10.1.0.2 80 { }`,
    );
    expect(kinds(engine.handle({ kind: "stop" }))).toEqual([
      "script notify_down (shutdown)",
      "script quorum_down (shutdown)",
    ]);
    expect(kinds(engine.handle({ kind: "release", requested: false }))).toEqual(["release keep"]);
    expect(kinds(engine.handle({ kind: "release", requested: true }))).toEqual(["release delete-services"]);
    const flush = start("real_server 10.1.0.1 80 { }", "global_defs {\n lvs_flush_on_stop\n}\n");
    expect(kinds(flush.engine.handle({ kind: "release", requested: false }))).toEqual(["release flush"]);
    const plain = start(`quorum_down "/bin/qdown"\n real_server 10.1.0.1 80 { notify_down "/bin/down" }`);
    expect(plain.engine.handle({ kind: "stop" })).toEqual([]);
  });
});

describe("drain of the whole director (BGP)", () => {
  it("drain and undrain: one bgp-drain effect and a state save each; repeated, nothing; the table untouched", () => {
    const { engine, clock } = setup(`real_server 10.1.0.1 80 {\n ${TCP()}\n }`);
    const before = table(engine);
    expect(engine.handle({ kind: "director-drain", drained: true })).toEqual([
      { kind: "bgp-drain", drained: true },
      { kind: "save-state" },
    ]);
    expect(engine.directorDrain()).toEqual({ since: clock.t });
    clock.t += 5_000;
    expect(engine.handle({ kind: "director-drain", drained: true })).toEqual([]);
    expect(engine.directorDrain()).toEqual({ since: clock.t - 5_000 });
    expect(table(engine)).toEqual(before);
    expect(engine.handle({ kind: "director-drain", drained: false })).toEqual([
      { kind: "bgp-drain", drained: false },
      { kind: "save-state" },
    ]);
    expect(engine.directorDrain()).toBeUndefined();
    expect(engine.handle({ kind: "director-drain", drained: false })).toEqual([]);
  });

  it("the state file's drain comes back with the configuration, before its quorum transitions", () => {
    const plan = compilePlan(conf(vsBlock("10.0.0.1 80", `real_server 10.1.0.1 80 {\n ${TCP()}\n }`)));
    const engine = new DirectorEngine(() => 1);
    const effects = engine.handle({
      kind: "config",
      plan,
      directorDrain: { since: 42 },
      localAddresses: new Set(),
    });
    expect(effects[0]).toEqual({ kind: "bgp-drain", drained: true });
    expect(effects.findIndex((e) => e.kind === "quorum")).toBeGreaterThan(0);
    expect(engine.directorDrain()).toEqual({ since: 42 });
    // A reload (no directorDrain in the event) keeps it.
    expect(
      engine.handle({ kind: "config", plan, localAddresses: new Set() }).some((e) => e.kind === "bgp-drain"),
    ).toBe(false);
    expect(engine.directorDrain()).toEqual({ since: 42 });
  });
});
