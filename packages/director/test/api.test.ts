// The runtime API against hostile or careless clients, over real unix and TCP sockets: a mistyped
// --socket deletes nothing, slow or idle clients are cut off, connections are capped, big or
// malformed bodies are refused with a JSON error before any handler runs.
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ApiHandlers,
  type ApiLimits,
  ApiServer,
  DEFAULT_API_LIMITS,
  vrrpOnlyApiHandlers,
} from "../src/index.js";

let dir = "";
let socketPath = "";
let api: ApiServer | undefined;
/** What reached the handlers (nothing may, for a refused request). */
let calls: Array<[string, unknown]> = [];

const record =
  (name: string) =>
  async <T>(r: T): Promise<T> => {
    calls.push([name, r]);
    return r;
  };
const handlers: ApiHandlers = {
  status: async () => ({ ok: true }),
  metrics: async () => ({ contentType: "text/plain", body: "m 1\n" }),
  drain: record("drain"),
  undrain: record("undrain"),
  weight: record("weight"),
  addServer: record("addServer"),
  removeServer: record("removeServer"),
  enable: record("enable"),
  disable: record("disable"),
  reload: async () => {
    calls.push(["reload", null]);
    throw new TypeError("boom");
  },
};

async function startApi(
  opts: { limits?: Partial<ApiLimits>; listen?: string; token?: string } = {},
): Promise<ApiServer> {
  api = new ApiServer({ socketPath, handlers, ...opts });
  await api.start();
  return api;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A raw connection: what it receives and whether the server closed it. */
function raw(path = socketPath): Promise<{ s: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    let got = "";
    s.setEncoding("utf8").on("data", (d: string) => {
      got += d;
    });
    const closed = new Promise<void>((r) => s.on("close", () => r()));
    s.on("error", () => {});
    s.once("connect", () => resolve({ s, received: () => got, closed }));
    s.once("error", reject);
  });
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lvs-api-"));
  socketPath = join(dir, "director.sock");
  calls = [];
});
afterEach(async () => {
  await api?.stop();
  api = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe("--socket: only a dead socket is replaced", () => {
  it("a regular file at the path (a mistyped --socket) is refused and kept", async () => {
    writeFileSync(socketPath, "keepalived.conf the operator meant to keep\n");
    await expect(startApi()).rejects.toMatchObject({
      code: "DIRECTOR_UNSAFE_PATH",
      object: socketPath,
      message: expect.stringContaining("is a regular file, not a socket"),
    });
    expect(readFileSync(socketPath, "utf8")).toBe("keepalived.conf the operator meant to keep\n");
  });

  it("a directory or a symlink at the path is refused and kept", async () => {
    mkdirSync(socketPath);
    await expect(startApi()).rejects.toMatchObject({ code: "DIRECTOR_UNSAFE_PATH" });
    expect(lstatSync(socketPath).isDirectory()).toBe(true);
  });

  it("a socket another program listens on (not HTTP) is left alone", async () => {
    const other: Server = createServer((c) => c.on("error", () => {}));
    await new Promise<void>((r) => other.listen(socketPath, () => r()));
    try {
      await expect(startApi()).rejects.toMatchObject({ code: "DIRECTOR_ALREADY_RUNNING" });
      expect(lstatSync(socketPath).isSocket()).toBe(true);
      // still that program's: it accepts
      const c = await raw();
      c.s.destroy();
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it("a stale socket (its process died, connect says ECONNREFUSED) is replaced", async () => {
    // A process that binds the path and dies without unlinking it.
    const died = spawnSync(process.execPath, [
      "-e",
      `require("node:net").createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    expect(died.signal).toBe("SIGKILL");
    expect(lstatSync(socketPath).isSocket()).toBe(true);
    await startApi();
    expect((await call("GET", "/status")).status).toBe(200);
    expect(lstatSync(socketPath).mode & 0o777).toBe(0o600);
  });
}, 30_000);

describe("connections and timeouts", () => {
  it("defaults are bounded (Node's own: 60 s headers, 300 s request, no connection cap)", () => {
    expect(DEFAULT_API_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(DEFAULT_API_LIMITS.requestTimeoutMs).toBeLessThanOrEqual(60_000);
    expect(DEFAULT_API_LIMITS.maxConnections).toBeGreaterThan(0);
    expect(DEFAULT_API_LIMITS.maxConnections).toBeLessThanOrEqual(1_000);
    expect(DEFAULT_API_LIMITS.maxBodyBytes).toBe(64 * 1024);
    expect(() => new ApiServer({ handlers, limits: { maxConnections: 0 } })).toThrow(/maxConnections/);
    expect(
      () => new ApiServer({ handlers, limits: { headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 } }),
    ).toThrow(/headers timeout/);
  });

  it("connections past maxConnections are closed at once; the others keep working", async () => {
    await startApi({ limits: { maxConnections: 4 } });
    const conns = await Promise.all(Array.from({ length: 10 }, () => raw()));
    const closed = conns.map(() => false);
    conns.forEach((c, i) => {
      void c.closed.then(() => {
        closed[i] = true;
      });
    });
    await within(
      (async () => {
        while (closed.filter(Boolean).length < 6) await new Promise((r) => setTimeout(r, 20));
      })(),
      5_000,
      "6 connections closed",
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(closed.filter(Boolean)).toHaveLength(6);
    // One of the four admitted ones still gets answers.
    const open = conns.find((_, i) => !closed[i]) as Awaited<ReturnType<typeof raw>>;
    open.s.write("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
    await within(
      (async () => {
        while (!open.received().includes("\r\n\r\n")) await new Promise((r) => setTimeout(r, 10));
      })(),
      5_000,
      "an answer",
    );
    expect(open.received()).toMatch(/^HTTP\/1\.1 200 /);
    for (const c of conns) c.s.destroy();
  });

  it("a slowloris client (headers a byte at a time) and an idle one are cut off at headersTimeout", async () => {
    await startApi({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 1_000 } });
    const slow = await raw();
    const idle = await raw();
    slow.s.write("GET /status HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => slow.s.writable && slow.s.write("X-a: b\r\n"), 100);
    try {
      // 300 ms plus Node's checking interval; 15 s is a generous bound that still fails the old
      // behaviour (the default was 60 s + 30 s) and holds on a loaded 2-core machine.
      await within(Promise.all([slow.closed, idle.closed]), 15_000, "slow and idle connections closed");
    } finally {
      clearInterval(drip);
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe("request bodies", () => {
  it("a declared body over 64 KiB gets 413 (JSON error) before it is read; the handler never runs", async () => {
    await startApi();
    const c = await raw();
    c.s.write(
      "POST /weight HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{",
    );
    await within(c.closed, 5_000, "connection closed after the 413");
    const [head, body] = c.received().split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head?.toLowerCase()).toContain("connection: close");
    expect(JSON.parse(body as string)).toEqual({
      error: { code: "DIRECTOR_BODY_TOO_LARGE", message: "request body over 65536 bytes" },
    });
    expect(calls).toEqual([]);
  });

  it("a chunked body growing past the limit gets 413 too", async () => {
    await startApi({ limits: { maxBodyBytes: 1024 } });
    const c = await raw();
    const chunk = "x".repeat(600);
    c.s.write(
      `POST /drain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n`,
    );
    await within(
      (async () => {
        while (!c.received().includes("}")) await new Promise((r) => setTimeout(r, 10));
      })(),
      5_000,
      "the 413",
    );
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(calls).toEqual([]);
    c.s.destroy();
  });

  it.each([
    ["null", "request body must be a JSON object, not null"],
    ["[1,2]", "request body must be a JSON object, not an array"],
    ["42", "request body must be a JSON object, not number"],
    ['"x"', "request body must be a JSON object, not string"],
    ["{nope", "request body is not JSON"],
    ["{}", 'body needs {"virtualServer": "10.0.0.1:80", "realServer": "10.0.0.2:80"}'],
  ])("body %s: 400 with a JSON error, nothing called", async (text, message) => {
    await startApi();
    for (const path of ["/drain", "/weight", "/enable"]) {
      const r = await call("POST", path, text, { "content-type": "application/json" });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ error: { code: "DIRECTOR_BAD_ARGUMENT", message } });
    }
    expect(calls).toEqual([]);
  });

  const rs = { virtualServer: "10.0.0.1:80", realServer: "10.1.0.1:80" };
  it.each([
    ["1e20", 1e20],
    ["65536 (past keepalived's 0..65535)", 65536],
    ["-1", -1],
    ["1.5", 1.5],
    ['"5"', "5"],
    ["missing", undefined],
  ])("weight %s: 400, nothing called", async (_, weight) => {
    await startApi();
    const r = await call("POST", "/weight", JSON.stringify({ ...rs, weight }));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({
      code: "DIRECTOR_BAD_ARGUMENT",
      message: expect.stringContaining("weight must be an integer 0..65535"),
    });
    expect(calls).toEqual([]);
  });

  it("weights 0, 65535 and null (back to the configured one) pass", async () => {
    await startApi();
    for (const weight of [0, 65535, null]) {
      const r = await call("POST", "/weight", JSON.stringify({ ...rs, weight }));
      expect(r.status, r.body).toBe(200);
    }
    expect(calls.map(([, r]) => (r as { weight: unknown }).weight)).toEqual([0, 65535, null]);
  });

  it("servers/add: the weight is optional and checked like /weight; servers/remove takes the pair", async () => {
    await startApi();
    const bad = await call("POST", "/servers/add", JSON.stringify({ ...rs, weight: 65536 }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toContain("weight must be an integer 0..65535");
    expect((await call("POST", "/servers/remove", "{}")).status).toBe(400);
    expect(calls).toEqual([]);
    expect((await call("POST", "/servers/add", JSON.stringify(rs))).status).toBe(200);
    expect((await call("POST", "/servers/add", JSON.stringify({ ...rs, weight: 3 }))).status).toBe(200);
    expect((await call("POST", "/servers/remove", JSON.stringify(rs))).status).toBe(200);
    expect(calls).toEqual([
      ["addServer", rs],
      ["addServer", { ...rs, weight: 3 }],
      ["removeServer", rs],
    ]);
  });

  it("drain timeout: a finite number of seconds up to 31 days (1e400 parses to Infinity)", async () => {
    await startApi();
    for (const t of ["1e400", "-1", '"10"', String(86400 * 31 + 1)]) {
      const r = await call("POST", "/drain", `{"virtualServer":"a:1","realServer":"b:1","timeout":${t}}`);
      expect(r.status, t).toBe(400);
      expect(JSON.parse(r.body).error.code).toBe("DIRECTOR_BAD_ARGUMENT");
    }
    expect(calls).toEqual([]);
    expect((await call("POST", "/drain", JSON.stringify({ ...rs, timeout: 30 }))).status).toBe(200);
    expect(calls).toEqual([["drain", { ...rs, timeout: 30 }]]);
  });

  it("a handler that throws something unexpected is a JSON 500", async () => {
    await startApi();
    const r = await call("POST", "/reload");
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toEqual({ error: { code: "DIRECTOR_API_ERROR", message: "boom" } });
  });
});

describe("TCP with a bearer token", () => {
  it("401 names the scheme (WWW-Authenticate: Bearer); the right token passes", async () => {
    const server = await startApi({ listen: "127.0.0.1:0", token: "s3cret-token" });
    const port = server.tcpPort as number;
    const get = (auth?: string) =>
      new Promise<Reply>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            path: "/status",
            headers: auth ? { authorization: auth } : {},
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (d: string) => {
              text += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
          },
        );
        req.on("error", reject);
        req.end();
      });
    for (const auth of [undefined, "Bearer wrong", "Bearer s3cret-tokenX", "Basic czNjcmV0"]) {
      const r = await get(auth);
      expect(r.status).toBe(401);
      expect(r.headers["www-authenticate"]).toMatch(/^Bearer\b/);
      expect(JSON.parse(r.body).error.code).toBe("DIRECTOR_UNAUTHORIZED");
    }
    expect((await get("Bearer s3cret-token")).status).toBe(200);
  });
});

describe("a VRRP-only node's API (lvsctl up --vrrp)", () => {
  const instance = {
    name: "VI_1",
    interface: "eth0",
    vrid: 51,
    state: "MASTER" as const,
    priority: 150,
    effectivePriority: 150,
    vips: ["10.0.0.100"],
    counters: { advert_sent: 12, become_master: 1 },
  };

  it("status and metrics show the VRRP instances; LVS requests answer 409; reload is the VRRP reload", async () => {
    let reloads = 0;
    api = new ApiServer({
      socketPath,
      handlers: vrrpOnlyApiHandlers({
        configPath: "/etc/keepalived/keepalived.conf",
        states: () => [instance],
        reload: async () => ({ reloaded: ++reloads }),
      }),
    });
    await api.start();
    const st = JSON.parse((await call("GET", "/status")).body);
    expect(st).toMatchObject({
      daemon: { mode: "vrrp", configPath: "/etc/keepalived/keepalived.conf", pid: process.pid },
      virtualServers: [],
      vrrp: { running: true, instances: [instance] },
    });
    const m = (await call("GET", "/metrics")).body;
    expect(m).toContain('lvs_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="10.0.0.100"} 2');
    expect(m).toContain('lvs_vrrp_advert_sent_total{iname="VI_1",intf="eth0",vrid="51"} 12');
    for (const path of ["/drain", "/undrain", "/weight", "/enable", "/disable"]) {
      const r = await call(
        "POST",
        path,
        JSON.stringify({ virtualServer: "a:1", realServer: "b:1", weight: 1 }),
      );
      expect(r.status, path).toBe(409);
      expect(JSON.parse(r.body).error).toMatchObject({
        code: "DIRECTOR_LVS_NOT_RUNNING",
        message: expect.stringContaining("the LVS side isn't running"),
      });
    }
    expect(JSON.parse((await call("POST", "/reload")).body)).toEqual({ reloaded: 1 });
  });
});
