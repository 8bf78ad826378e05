// The status page's routes and data against a real director on the userspace proxy dataplane
// with real backends: /api/state validates against the shipped JSON Schema (with every object
// closed, so an undocumented field fails too), /api/events pushes a killed backend's failed
// checks without being asked, /healthz follows VRRP and the dataplane, assets come only from the
// allow-list, and without the token the page is read-only. Plus the history's ring buffers.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { generate } from "../scripts/embed-assets.mjs";
import {
  CheckRing,
  DirectorHistory,
  HISTORY_CHECK_RESULTS,
  HISTORY_CHECKS,
  HISTORY_CHECKS_MIN,
  RingBuffer,
} from "../src/history.js";
import { ApiServer, type VrrpComponent, type VrrpInstanceStatus, vrrpOnlyApiHandlers } from "../src/index.js";
import { CONTENT_SECURITY_POLICY } from "../src/web.js";
import type { WebState } from "../src/web-state.js";
import { textSparkline } from "../src/web-watch.js";
import { type Rig, startRig, waitFor } from "./web-rig.js";

const pkg = join(import.meta.dirname, "..");
const schema = JSON.parse(readFileSync(join(pkg, "schema", "state-v1.schema.json"), "utf8"));

/** The schema with every object closed: a field the schema doesn't document fails validation. */
function closed(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(closed);
  if (!s || typeof s !== "object") return s;
  const o = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, closed(v)]));
  if ("properties" in o && !("additionalProperties" in o)) o.additionalProperties = false;
  return o;
}
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(closed(schema) as object);

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Reply>((resolve, reject) => {
    // The path as typed (`new URL` would resolve `..` before it leaves).
    const u = /^http:\/\/([^/:]+):(\d+)(.*)$/.exec(url);
    if (!u) throw new Error(`bad url ${url}`);
    const opts = { host: u[1], port: Number(u[2]), path: u[3] || "/", method: init.method ?? "GET" };
    const req = request({ ...opts, headers: init.headers ?? {} }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Reads `event:`/`data:` frames of an event stream until `until` says enough. */
function events(
  url: string,
  until: (frames: { event: string; data: string }[]) => boolean,
  timeoutMs = 15_000,
) {
  return new Promise<{ event: string; data: string }[]>((resolve, reject) => {
    const frames: { event: string; data: string }[] = [];
    const req = request(url, (res) => {
      let buf = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        buf += d;
        let i = buf.indexOf("\n\n");
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) frames.push({ event, data });
          i = buf.indexOf("\n\n");
        }
        if (until(frames)) {
          clearTimeout(timer);
          req.destroy();
          resolve(frames);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no matching event within ${timeoutMs} ms (${frames.length} frames)`));
    }, timeoutMs);
    req.on("error", (e) => {
      if (!req.destroyed) reject(e);
    });
    req.end();
  });
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe("GET /api/state on a running director", () => {
  it("validates against schema/state-v1.schema.json, read-only without the token, write with it", async () => {
    rig = await startRig();
    const r = rig;
    await waitFor(async () => {
      const s = JSON.parse((await http(`${r.base}/api/state`)).body) as WebState;
      return s.virtualServers[0]?.realServers.every((x) => x.history.checks.length > 0) ?? false;
    }, "a check result for every backend");
    const anon = await http(`${r.base}/api/state`);
    expect(anon.status).toBe(200);
    expect(anon.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    const state = JSON.parse(anon.body) as WebState;
    expect(validate(state), JSON.stringify(validate.errors, null, 1)).toBe(true);
    expect(state.access).toBe("read");
    expect(state.dataplane).toBe("proxy");
    expect(state.health).toEqual({ ok: true, reasons: [] });
    const vs = state.virtualServers[0];
    expect(vs?.key).toBe(r.vsKey);
    expect(vs?.realServers.map((x) => x.port).sort()).toEqual(r.backends.map((b) => b.port).sort());
    expect(vs?.realServers.every((x) => x.state === "up" && x.kernelWeight === 1)).toBe(true);
    // Each check carries the runner's rise/fall progress: passing, so no failed round counted.
    for (const rs of vs?.realServers ?? []) {
      expect(rs.checks[0]?.progress).toMatchObject({ fail: 0, rise: 1, fall: 1 });
      expect(rs.checks[0]?.progress?.ok).toBeGreaterThan(0);
    }
    // The first transition of each real server is its appearance, from nothing.
    expect(vs?.realServers[0]?.history.transitions[0]).toMatchObject({ fromState: null, state: "up" });

    const authed = JSON.parse(
      (await http(`${r.base}/api/state`, { headers: { authorization: `Bearer ${r.token}` } })).body,
    ) as WebState;
    expect(authed.access).toBe("write");
    expect(validate(authed)).toBe(true);

    // Actions and the older endpoints keep needing the token on TCP.
    const body = JSON.stringify({
      virtualServer: `127.0.0.1:${r.vport}`,
      realServer: `127.0.0.1:${r.backends[0]?.port}`,
    });
    const refused = await http(`${r.base}/drain`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(refused.status).toBe(401);
    expect((await http(`${r.base}/status`)).status).toBe(401);
    expect((await http(`${r.base}/metrics`)).status).toBe(401);
    const [svc] = await r.dataplane.read();
    expect(svc?.dests.every((d) => d.weight === 1)).toBe(true);
  });

  it("the event stream pushes a killed backend's failed checks and its down transition", async () => {
    rig = await startRig();
    const r = rig;
    const victim = r.backends[1];
    if (!victim) throw new Error("no backend");
    const url = `${r.base}/api/events`;
    const seen = events(url, (frames) =>
      frames.some((f) => {
        const s = JSON.parse(f.data) as WebState;
        const rs = s.virtualServers[0]?.realServers.find((x) => x.port === victim.port);
        return (
          rs?.state === "down" &&
          rs.history.checks.some((c) => !c.ok) &&
          rs.history.transitions.some((t) => t.state === "down" && /TCP_CHECK/.test(t.reason))
        );
      }),
    );
    // Kill it once the stream is open (its first frame is the state before).
    await new Promise((res) => setTimeout(res, 300));
    await victim.kill();
    const frames = await seen;
    expect(frames.every((f) => f.event === "state")).toBe(true);
    const last = JSON.parse(frames.at(-1)?.data ?? "{}") as WebState;
    expect(validate(last), JSON.stringify(validate.errors)).toBe(true);
    expect(last.health.ok).toBe(true);
    const dead = last.virtualServers[0]?.realServers.find((x) => x.port === victim.port);
    expect(dead?.checks[0]?.progress).toMatchObject({ ok: 0 });
    expect(dead?.checks[0]?.progress?.fail).toBeGreaterThanOrEqual(1);
    // Consecutive frames differ beyond their time stamp: pushed on change, not on a timer.
    const bodies = frames.map((f) => JSON.stringify({ ...JSON.parse(f.data), generatedAt: 0 }));
    expect(new Set(bodies).size).toBe(bodies.length);
  });
});

describe("the page and its assets", () => {
  it("serves server-rendered HTML with a strict CSP; assets only from the allow-list", async () => {
    rig = await startRig({ backends: 2 });
    const r = rig;
    const page = await http(`${r.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["content-security-policy"]).not.toContain("unsafe");
    for (const b of r.backends) expect(page.body).toContain(`127.0.0.1:${b.port}`);
    expect(page.body).not.toContain("<script>");
    expect(page.body).not.toMatch(/ style=/);
    let bytes = Buffer.byteLength(page.body);
    for (const p of ["/assets/app.js", "/assets/style.css"]) {
      const a = await http(`${r.base}${p}`);
      expect(a.status, p).toBe(200);
      expect(a.headers["x-content-type-options"]).toBe("nosniff");
      bytes += Buffer.byteLength(a.body);
    }
    // The budget: the document and its assets under 60 KB.
    expect(bytes).toBeLessThan(60 * 1024);
    for (const p of [
      "/assets/../package.json",
      "/assets/%2e%2e/package.json",
      "/assets/..%2fsrc/web.ts",
      "/assets//etc/passwd",
      "/assets/app.js/",
      "/assets/constructor",
      "/assets/__proto__",
      "/assets/../../../../etc/passwd",
    ]) {
      const a = await http(`${r.base}${p}`);
      expect(a.status, p).toBe(404);
      expect(a.body).not.toContain("root:");
    }
    // Outside /assets/ a path is no route of the page: the API answers (401 without the token).
    const out = await http(`${r.base}/../../etc/passwd`);
    expect(out.status).toBe(401);
    expect(out.body).not.toContain("root:");
  });

  it("the generated asset module is the assets/ files (run `pnpm build` after editing them)", () => {
    expect(readFileSync(join(pkg, "src", "web-assets.generated.ts"), "utf8")).toBe(generate());
  });
});

describe("GET /healthz", () => {
  it("200 while every VRRP instance is MASTER or BACKUP, 503 with the reason otherwise", async () => {
    const instances: VrrpInstanceStatus[] = [
      {
        name: "VI_1",
        interface: "eth0",
        vrid: 51,
        state: "MASTER",
        priority: 150,
        effectivePriority: 150,
        vips: ["10.0.0.100"],
      },
      {
        name: "VI_2",
        interface: "eth0",
        vrid: 52,
        state: "BACKUP",
        priority: 100,
        effectivePriority: 100,
        vips: ["10.0.0.101"],
      },
    ];
    const listeners: ((c: { instance: string; from: "MASTER"; to: "FAULT"; reason: string }) => void)[] = [];
    const vrrp: VrrpComponent = {
      start: async () => {},
      reload: async () => {},
      stop: async () => {},
      states: () => instances.map((i) => ({ ...i })),
      on: (_e, l) => void listeners.push(l as never),
    };
    rig = await startRig({ vrrp, backends: 1 });
    const ok = await http(`${rig.base}/healthz`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ status: "ok", reasons: [] });

    (instances[0] as VrrpInstanceStatus).state = "FAULT";
    for (const l of listeners)
      l({ instance: "VI_1", from: "MASTER", to: "FAULT", reason: "interface eth0 down" });
    const bad = await http(`${rig.base}/healthz`);
    expect(bad.status).toBe(503);
    expect(JSON.parse(bad.body)).toEqual({ status: "unhealthy", reasons: ["VI_1 is FAULT"] });
    const state = JSON.parse((await http(`${rig.base}/api/state`)).body) as WebState;
    expect(validate(state), JSON.stringify(validate.errors)).toBe(true);
    expect(state.vrrp.instances[0]?.transitions).toEqual([
      { at: expect.any(Number), from: "MASTER", to: "FAULT", reason: "interface eth0 down" },
    ]);

    // The dataplane stops answering: 503 names it.
    (instances[0] as VrrpInstanceStatus).state = "BACKUP";
    rig.dataplane.timeouts = () => Promise.reject(new Error("netlink socket closed"));
    const down = await http(`${rig.base}/healthz`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).reasons).toEqual(["dataplane: netlink socket closed"]);
  });
});

describe("a VRRP-only node (lvsctl up --vrrp) serves the page too", () => {
  it("lists its instances; /healthz follows their states", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-web-vrrp-"));
    const instance: VrrpInstanceStatus = {
      name: "VI_7",
      interface: "eth0",
      vrid: 7,
      state: "MASTER",
      priority: 150,
      effectivePriority: 148,
      vips: ["10.7.0.100"],
    };
    const server = new ApiServer({
      socketPath: join(dir, "v.sock"),
      handlers: vrrpOnlyApiHandlers({ configPath: join(dir, "k.conf"), states: () => [{ ...instance }] }),
    });
    await server.start();
    try {
      const get = (path: string) =>
        new Promise<Reply>((resolve, reject) => {
          const req = request({ socketPath: join(dir, "v.sock"), path }, (res) => {
            let body = "";
            res.setEncoding("utf8").on("data", (d: string) => {
              body += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          });
          req.on("error", reject);
          req.end();
        });
      const page = await get("/");
      expect(page.status).toBe(200);
      expect(page.body).toContain("VI_7");
      expect(page.body).toContain("150 / 148");
      const state = JSON.parse((await get("/api/state")).body) as WebState;
      expect(validate(state), JSON.stringify(validate.errors)).toBe(true);
      expect(state).toMatchObject({ dataplane: "none", access: "write", daemon: { mode: "vrrp" } });
      expect((await get("/healthz")).status).toBe(200);
      instance.state = "FAULT";
      const bad = await get("/healthz");
      expect(bad.status).toBe(503);
      expect(JSON.parse(bad.body).reasons).toEqual(["VI_7 is FAULT"]);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the terminal view (lvsctl status --watch)", () => {
  it("draws check results as blocks by latency and failures as ✗, newest last", () => {
    const c = (ok: boolean, latencyMs: number) => ({
      at: 0,
      check: "TCP_CHECK",
      ok,
      reason: null,
      latencyMs,
    });
    expect(textSparkline([c(true, 1), c(true, 10), c(false, 1000), c(true, 5)])).toBe("▁█✗▄");
    expect(
      textSparkline(
        Array.from({ length: 40 }, (_, i) => c(i !== 39, 1)),
        30,
      ),
    ).toBe(`${"█".repeat(29)}✗`);
  });
});

describe("history ring buffers", () => {
  it("keep the newest items up to their capacity, oldest first", () => {
    const r = new RingBuffer<number>(3);
    expect(r.toArray()).toEqual([]);
    for (let i = 1; i <= 7; i++) r.push(i);
    expect(r.toArray()).toEqual([5, 6, 7]);
    expect(r.length).toBe(3);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });

  it("check results kept compactly: grown on use, wrapped at capacity, every field round-trips", () => {
    const ring = new CheckRing(20);
    const rec = (i: number) => ({
      at: 1_700_000_000_000 + i,
      check: i % 2 ? "HTTP_GET" : "TCP_CHECK",
      ok: i % 3 !== 0,
      reason: i % 5 ? `reason ${i}` : null,
      latencyMs: i % 7 ? i / 4 : null,
    });
    for (let i = 0; i < 13; i++) ring.push(rec(i));
    expect(ring.toArray()).toEqual(Array.from({ length: 13 }, (_, i) => rec(i)));
    for (let i = 13; i < 47; i++) ring.push(rec(i));
    expect(ring.length).toBe(20);
    expect(ring.toArray()).toEqual(Array.from({ length: 20 }, (_, i) => rec(27 + i)));
    expect(() => new CheckRing(0)).toThrow(RangeError);
  });

  it("the check results kept in all stay within a budget: fewer per real server when there are many", () => {
    const known = (n: number, limits: ConstructorParameters<typeof DirectorHistory>[1]) => {
      const h = new DirectorHistory(() => 0, limits);
      // What observe() needs: the plan's virtual servers and each one's real servers' states.
      const engine = { currentPlan: { virtualServers: [{ key: "VS" }] } } as never;
      const states = Array.from({ length: n }, (_, i) => [`RS${i}`, { state: "up", weight: 1 }] as const);
      h.observe({ kind: "config" } as never, engine, () => states as never);
      return h;
    };
    const fill = (h: DirectorHistory, rs: string, n: number) => {
      for (let i = 0; i < n; i++)
        h.check("VS", rs, { at: i, check: "TCP_CHECK", ok: true, reason: "connected", latencyMs: 1 });
      return h.checksOf("VS", rs).length;
    };
    // Few real servers: the per-real-server cap.
    expect(fill(known(10, {}), "RS3", 150)).toBe(HISTORY_CHECKS);
    // 20,000 real servers share the default budget: 12 each.
    expect(fill(known(20_000, {}), "RS7", 150)).toBe(Math.floor(HISTORY_CHECK_RESULTS / 20_000));
    // Never fewer than the floor, however many.
    expect(fill(known(200_000, {}), "RS9", 150)).toBe(HISTORY_CHECKS_MIN);
    // Both limits are the operator's (DirectorOptions.history).
    expect(fill(known(100, { checks: 500, checkResults: 10_000 }), "RS1", 600)).toBe(100);
    expect(fill(known(2, { checks: 5 }), "RS1", 50)).toBe(5);
    expect(() => new DirectorHistory(() => 0, { checkResults: 0 })).toThrow(/checkResults/);
  });

  it("a real server's check results stay bounded however long it runs", () => {
    let t = 0;
    const h = new DirectorHistory(() => t, { checks: 100, transitions: 50, vrrp: 50 });
    for (let i = 0; i < 60; i++) h.vrrpTransition("VI_1", "BACKUP", "MASTER", `#${i}`);
    expect(h.vrrpTransitionsOf("VI_1")).toHaveLength(50);
    expect(h.vrrpTransitionsOf("VI_1")[0]?.reason).toBe("#10");
    // check() before the real server is known (no observe yet) keeps nothing.
    h.check("VS", "RS", { at: t++, check: "TCP_CHECK", ok: true, reason: "connected", latencyMs: 1 });
    expect(h.checksOf("VS", "RS")).toEqual([]);
  });
});
