// WorkerCheckRunner against real TCP listeners on 127.0.0.1: real sockets in the worker threads,
// results and events back on the main thread in HealthCheckRunner's shapes. Runs the built
// dist/worker-entry.js (turbo builds before testing).
import { createServer, type Server } from "node:net";
import { performance } from "node:perf_hooks";
import { waitFor } from "@lvs/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CheckRunner,
  HealthCheckRunner,
  HealthcheckError,
  type ProbeResult,
  type TargetConfig,
  type TargetEvent,
  type TargetStatus,
  WorkerCheckRunner,
} from "../src/index.js";

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function listener(): Promise<{ server: Server; port: number }> {
  const server = createServer((c) => {
    c.on("error", () => {});
    c.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  open.push({ close: () => new Promise((r) => server.close(r)) });
  return { server, port: (server.address() as { port: number }).port };
}

function runner(opts: ConstructorParameters<typeof WorkerCheckRunner>[0] = {}) {
  const results: Array<{ id: string; result: ProbeResult; status: TargetStatus }> = [];
  const events: TargetEvent[] = [];
  const r = new WorkerCheckRunner({
    threads: 2,
    onResult: (id, result, status) => results.push({ id, result, status }),
    onEvent: (e) => events.push(e),
    ...opts,
  });
  open.push(r);
  return { r, results, events };
}

const target = (id: string, port: number, extra: Partial<TargetConfig> = {}): TargetConfig => ({
  id,
  // A generous timeout: under load a probe of a live listener must not time out into a DOWN.
  check: { type: "tcp", connectIp: "127.0.0.1", connectPort: port, connectTimeout: 5 },
  policy: { delayLoop: 0.05, retry: 0 },
  ...extra,
});

describe("WorkerCheckRunner", () => {
  it("probes real listeners from its workers and delivers results on the main thread", async () => {
    const a = await listener();
    const b = await listener();
    const { r, results } = runner();
    expect(r.threads).toBe(2);
    // 16 distinct checks (two ports × eight timeouts), so both shards get some.
    const targets = Array.from({ length: 16 }, (_, i) =>
      target(`t${i}`, i % 2 ? a.port : b.port, {
        check: {
          type: "tcp",
          connectIp: "127.0.0.1",
          connectPort: i % 2 ? a.port : b.port,
          connectTimeout: 5 + (i >> 1),
        },
      }),
    );
    r.configure(targets);
    await waitFor(() => targets.every((t) => results.some((x) => x.id === t.id)), {
      what: "a result per target",
    });
    for (const x of results) {
      expect(x.result).toMatchObject({ up: true, reason: "connected" });
      expect(x.status).toMatchObject({ id: x.id, up: true, weight: 1, lastResult: x.result });
      expect(x.status.progress).toMatchObject({ rise: 1, fall: 1, retry: 0 });
    }
    expect(r.status("t3")?.up).toBe(true);
    expect(
      r
        .statuses()
        .map((s) => s.id)
        .sort(),
    ).toEqual(targets.map((t) => t.id).sort());
    await waitFor(() => r.uniqueChecks === 16, { what: "16 unique checks across the workers" });
    expect(r.stats.probesCompleted).toBeGreaterThanOrEqual(16);
    expect(r.stats.jitterMs.length).toBeGreaterThan(0);
  });

  it("gives the same result, status and event shapes as HealthCheckRunner (either fits a CheckRunner)", async () => {
    const a = await listener();
    const def = target("same", a.port, { policy: { delayLoop: 0.05, retry: 0, alpha: true, weight: 3 } });
    const seen = (runner: CheckRunner, results: unknown[], events: unknown[]) =>
      waitFor(() => results.length > 0 && events.length > 0 && runner.status("same")?.lastResult, {
        what: "a result and an event",
      });
    const single = { results: [] as unknown[], events: [] as unknown[] };
    const local = new HealthCheckRunner({
      onResult: (id, result, status) => single.results.push({ id, result, status }),
      onEvent: (e) => single.events.push(e),
    });
    open.push({ close: () => local.stop() });
    const { r, results, events } = runner();
    for (const x of [local, r] as CheckRunner[]) x.configure([def]);
    await seen(local, single.results, single.events);
    await seen(r, results, events);
    // Same keys, same types, and the values that do not depend on timing.
    const shape = (v: unknown): unknown =>
      v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
        : typeof v;
    expect(shape(results[0])).toEqual(shape(single.results[0]));
    expect(shape(events[0])).toEqual(shape(single.events[0]));
    expect(events[0]).toMatchObject({ id: "same", kind: "up", reason: "connected", weight: 3 });
    expect(single.events[0]).toMatchObject({ id: "same", kind: "up", reason: "connected", weight: 3 });
    expect(shape(r.status("same"))).toEqual(shape(local.status("same")));
  });

  it("reports a listener that goes down as DOWN through the worker path, with the event on our clock", async () => {
    const a = await listener();
    const { r, events } = runner();
    r.configure([target("rs1", a.port, { policy: { delayLoop: 0.05, retry: 0, alpha: true, weight: 7 } })]);
    const up = await waitFor(() => events.find((e) => e.kind === "up"), { what: "rs1 up" });
    expect(up).toMatchObject({ id: "rs1", reason: "connected", weight: 7 });
    const closedAt = performance.now();
    await new Promise((res) => a.server.close(res));
    const down = await waitFor(() => events.find((e) => e.kind === "down"), { what: "rs1 down" });
    expect(down).toMatchObject({ id: "rs1", reason: "ECONNREFUSED", weight: 0 });
    // `at` is converted from the worker's clock to this thread's (to within µs: 1 ms of slack).
    expect(down.at).toBeGreaterThan(closedAt - 1);
    expect(down.at).toBeLessThan(performance.now() + 1);
    expect(r.status("rs1")).toMatchObject({ up: false, weight: 0, lastResult: { up: false } });
  });

  it("keeps identical checks on one worker (one probe), drops removed targets, forwards setWeight", async () => {
    const a = await listener();
    const { r, results } = runner();
    r.configure([
      target("x", a.port),
      target("y", a.port),
      target("z", a.port, { policy: { delayLoop: 0.06 } }),
    ]);
    await waitFor(() => ["x", "y", "z"].every((id) => results.some((e) => e.id === id)), { what: "x, y, z" });
    await waitFor(() => r.uniqueChecks === 2, { what: "x and y share a probe" });
    expect(r.stats.fannedOut).toBeGreaterThan(0);

    r.setWeight("x", 42);
    await waitFor(() => r.status("x")?.weight === 42, { what: "x at weight 42" });

    r.configure([target("x", a.port)]);
    expect(r.status("y")).toBeUndefined();
    expect(r.status("x")?.weight).toBe(42); // x kept its state
    await waitFor(() => r.uniqueChecks === 1, { what: "one check left" });
    const n = results.length;
    await waitFor(() => results.length > n + 3, { what: "more results" });
    expect(results.slice(n).every((e) => e.id === "x")).toBe(true);
  });

  it("refuses a duplicate target id, and configure() after stop(), with stable codes", async () => {
    const { r } = runner({ threads: 1 });
    expect(() => r.configure([target("d", 1), target("d", 2)])).toThrow(
      expect.objectContaining({ code: "HC_DUPLICATE_TARGET" }),
    );
    await r.close();
    expect(() => r.configure([])).toThrow(HealthcheckError);
    expect(() => r.configure([])).toThrow(expect.objectContaining({ code: "HC_RUNNER_STOPPED" }));
  });

  it("reports a worker that cannot start as HC_WORKER_FAILED", async () => {
    const errors: HealthcheckError[] = [];
    const { r } = runner({
      threads: 1,
      entry: new URL("data:text/javascript,throw new Error('boom')"),
      onError: (e) => errors.push(e),
    });
    await waitFor(() => errors.length > 0, { what: "an error" });
    expect(errors[0]).toMatchObject({ code: "HC_WORKER_FAILED" });
    expect(errors[0]?.message).toMatch(/boom/);
    await r.close();
  });
});
