// The pipeline crossed once: a failing probe becomes one engine event; the engine answers with the
// transition, its script and a pass request — never a table; the reconciler then takes the desired
// table of that service from the engine and applies the one operation as a targeted edit, without
// reading the dataplane first — also while a full read is under way. The daemon is the real one (runtime, effects, loop, reconciler); the
// dataplane is IpvsDataplane over @lvs/ipvs's in-memory IPVS, recorded call by call.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Script } from "@lvs/config";
import type { CheckDefinition, ProbeResult } from "@lvs/healthcheck";
import { FakeClock } from "@lvs/inet";
import { MemoryIpvs, type ServiceKey, serviceId } from "@lvs/ipvs";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, Director, type EngineEffect, IpvsDataplane } from "../src/index.js";

const CONF = `virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 2
  lb_kind NAT
  real_server 10.1.0.1 8080 {
    notify_down "/bin/rs-down 10.1.0.1"
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.1.0.2 8080 {
  }
}
`;
const S1 = serviceId({ protocol: 6, address: "10.0.0.1", port: 80 });

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe("a health failure crosses the pipeline once", () => {
  const dir = mkdtempSync(join(tmpdir(), "lvs-pipeline-"));
  let director: Director | undefined;
  afterEach(async () => {
    await director?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("health event → engine → reconciler → dataplane; the shell only got effects", async () => {
    writeFileSync(join(dir, "keepalived.conf"), CONF);
    const kernel = new MemoryIpvs();
    const dataplane = new IpvsDataplane(kernel);
    const clock = new FakeClock(1_000_000);
    let down = false;
    const scripts: string[][] = [];
    director = new Director({
      configPath: join(dir, "keepalived.conf"),
      socketPath: null,
      mode: "check",
      dataplane,
      clock,
      reconcileIntervalMs: 3_600_000,
      drainPollMs: 3_600_000,
      // No clock here: the runner runs on the director's.
      health: {
        random: () => 0,
        probe: async (_def: CheckDefinition): Promise<ProbeResult> =>
          down
            ? { up: false, reason: "ECONNREFUSED", latencyMs: 0 }
            : { up: true, reason: "connected", latencyMs: 0 },
      },
      scriptRunner: async (s: Script) => {
        scripts.push(s.argv);
        return { argv: s.argv, code: 0, signal: null, timedOut: false, durationMs: 0 };
      },
      log: createLogger({ destination: { write: () => {} } }),
    });

    // Every call across the engine's and the dataplane's boundaries, in order.
    const calls: string[] = [];
    const engine = director.engine;
    const handle = engine.handle.bind(engine);
    engine.handle = (event) => {
      calls.push(`engine.handle ${event.kind}`);
      const effects: EngineEffect[] = handle(event);
      calls.push(
        `  → ${effects.map((e) => (e.kind === "pass" ? `pass ${[...(e.scope ?? ["*"])]}` : e.kind)).join(", ")}`,
      );
      return effects;
    };
    const onObserved = engine.onObserved.bind(engine);
    engine.onObserved = (actual, scope) => {
      calls.push("engine.onObserved");
      return onObserved(actual, scope);
    };
    const desired = engine.desired.bind(engine);
    engine.desired = (scope) => {
      calls.push(`engine.desired ${scope ? [...scope] : "*"}`);
      return desired(scope);
    };
    const read = dataplane.read.bind(dataplane);
    dataplane.read = (keys?: readonly ServiceKey[]) => {
      calls.push(`dataplane.read ${keys ? keys.map(serviceId) : "*"}`);
      return read(keys);
    };
    const apply = dataplane.apply.bind(dataplane);
    dataplane.apply = (ops) => {
      calls.push(`dataplane.apply ${ops.map((o) => o.op)}`);
      return apply(ops);
    };

    await director.start();
    clock.advance(0); // the first probe: up, as the server already is
    await settle();
    expect(kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(1);

    calls.length = 0;
    down = true;
    clock.advance(2_000);
    for (let i = 0; i < 100 && !calls.some((c) => c.startsWith("dataplane.apply")); i++) await settle();

    expect(calls).toEqual([
      "engine.handle health",
      `  → rs, script, pass ${S1}`,
      // The pass the effect asked for, as a targeted edit: no read, the engine asked, one operation.
      `engine.desired ${S1}`,
      "dataplane.apply delDest",
    ]);
    expect(kernel.log.at(-1)).toMatchObject({ op: "delDest", dest: { address: "10.1.0.1", port: 8080 } });
    expect(kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    expect(kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
    expect(scripts).toEqual([["/bin/rs-down", "10.1.0.1"]]);
  });

  it("a full read under way (a multi-second dump) does not hold the failure back", async () => {
    const own = mkdtempSync(join(tmpdir(), "lvs-pipeline-"));
    writeFileSync(join(own, "keepalived.conf"), CONF);
    const kernel = new MemoryIpvs();
    const dataplane = new IpvsDataplane(kernel);
    const clock = new FakeClock(1_000_000);
    let down = false;
    director = new Director({
      configPath: join(own, "keepalived.conf"),
      socketPath: null,
      mode: "check",
      dataplane,
      clock,
      reconcileIntervalMs: 3_600_000,
      drainPollMs: 3_600_000,
      health: {
        random: () => 0,
        probe: async (): Promise<ProbeResult> =>
          down
            ? { up: false, reason: "ECONNREFUSED", latencyMs: 0 }
            : { up: true, reason: "connected", latencyMs: 0 },
      },
      log: createLogger({ destination: { write: () => {} } }),
    });
    await director.start();
    clock.advance(0);
    await settle();
    expect(kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(1);

    // The next full read is held until we open it.
    let open = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const read = dataplane.read.bind(dataplane);
    let fullReads = 0;
    dataplane.read = async (keys?: readonly ServiceKey[]) => {
      const seen = await read(keys);
      if (!keys) {
        fullReads++;
        await gate;
      }
      return seen;
    };
    let fullDone = false;
    const full = director.requestPass().then(() => {
      fullDone = true;
    });
    await settle();
    expect(fullReads).toBe(1);

    down = true;
    clock.advance(2_000);
    for (let i = 0; i < 100 && kernel.dest(S1, "10.1.0.1", 8080); i++) await settle();
    expect(kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    expect(fullDone).toBe(false);
    open();
    await full;
    // The full pass read the server before it failed: it must not put it back.
    expect(kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    expect(kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
    rmSync(own, { recursive: true, force: true });
  });
});
