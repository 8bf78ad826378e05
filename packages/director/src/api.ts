// The runtime API: HTTP/1.1 with JSON bodies on a unix socket (mode 0600, so only root — or the
// socket's owner — talks to it), and optionally on a TCP address where every request needs
// `Authorization: Bearer <token>`.
//
//   GET  /status                 → DirectorStatus
//   GET  /metrics                → Prometheus text format
//   POST /drain    {virtualServer, realServer, timeout?}
//   POST /undrain  {virtualServer, realServer}
//   POST /weight   {virtualServer, realServer, weight}   (weight null: back to the configured one)
//   POST /servers/add     {virtualServer, realServer, weight?}   (a real server not in the config)
//   POST /servers/remove  {virtualServer, realServer}            (only one added that way)
//   POST /enable   {virtualServer, realServer}
//   POST /disable  {virtualServer, realServer}
//   POST /reload
//   POST /director/drain    withdraw every BGP announcement (IPVS keeps serving); kept across restarts
//   POST /director/undrain  announce again
//
// Errors answer `{ "error": { "code": "DIRECTOR_NOT_FOUND", "message": "…" } }` with a status.
//
// Hostile clients change nothing: bodies over `maxBodyBytes` get 413 unread, a body that is not
// a JSON object or a value out of range gets 400, connections are capped per listener and must
// send their headers within `headersTimeoutMs` (a slowloris client is cut off), and a stale socket
// file is replaced only when it is a socket nobody listens on.
import { createHash, timingSafeEqual } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { dirname } from "node:path";
import { LVS_MAX_TIMEOUT, RS_WEIGHT_MAX } from "@lvs/config";
import type { Connection, Timeouts } from "@lvs/ipvs";
import {
  drainTimeoutOf,
  type RealServerRequest,
  realServerRequest,
  timeoutsOf,
  weightOf,
} from "./api-body.js";
import {
  API_HEADERS_TIMEOUT_MS,
  API_IDLE_TIMEOUT_MS,
  API_KEEPALIVE_TIMEOUT_MS,
  API_MAX_BODY,
  API_MAX_CONNECTIONS,
  API_REQUEST_TIMEOUT_MS,
} from "./constants.js";
import { DirectorError, httpStatusOf } from "./errors.js";
import { ensurePrivateDir, runtimeDir } from "./paths.js";

export type { RealServerRequest } from "./api-body.js";

/** GET /connections: which dataplane, and its connection table in /proc/net/ip_vs_conn's model. */
export interface ConnectionsAnswer {
  dataplane: "ipvs" | "proxy";
  connections: Connection[];
}

/** GET/POST /timeouts: which dataplane, and its tcp/tcpfin/udp idle timeouts in seconds. */
export interface TimeoutsAnswer extends Timeouts {
  dataplane: "ipvs" | "proxy";
}

export interface ApiHandlers {
  status(): Promise<unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The dataplane's connection table (`ipvsadm -Lcn`'s entries); absent: 404. */
  connections?(): Promise<ConnectionsAnswer>;
  /** The dataplane's idle timeouts (`ipvsadm -L --timeout`); absent: 404. */
  timeouts?(): Promise<TimeoutsAnswer>;
  /** `ipvsadm --set tcp tcpfin udp` on the dataplane (0 = unchanged); answers the new values. */
  setTimeouts?(t: Timeouts): Promise<TimeoutsAnswer>;
  drain(r: RealServerRequest & { timeout?: number }): Promise<unknown>;
  undrain(r: RealServerRequest): Promise<unknown>;
  weight(r: RealServerRequest & { weight: number | null }): Promise<unknown>;
  /** Add a real server that is not in the configuration (persisted like a drain). */
  addServer(r: RealServerRequest & { weight?: number }): Promise<unknown>;
  /** Remove a real server added by addServer. */
  removeServer(r: RealServerRequest): Promise<unknown>;
  enable(r: RealServerRequest): Promise<unknown>;
  disable(r: RealServerRequest): Promise<unknown>;
  reload(): Promise<unknown>;
  /** Drain (true) or undrain the whole director: BGP withdrawn / announced again; absent: 404. */
  drainDirector?(drained: boolean): Promise<unknown>;
  /** The status page's read-only routes (web.ts): tried first for GET, without the token. */
  web?: (req: IncomingMessage, res: ServerResponse, authorized: boolean) => Promise<boolean>;
}

/** Resource bounds of the API server (each listener separately). */
export interface ApiLimits {
  /** Largest request body, bytes; more is refused with 413. */
  maxBodyBytes: number;
  /** Open connections; more are closed as they arrive. */
  maxConnections: number;
  /** Time to receive a request's headers, ms (Node's server.headersTimeout). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, ms (server.requestTimeout); ≥ headersTimeoutMs. */
  requestTimeoutMs: number;
  /** Idle time allowed between requests of a kept-alive connection, ms. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way is closed after this, ms (server.timeout). */
  idleTimeoutMs: number;
}

export const DEFAULT_API_LIMITS: Readonly<ApiLimits> = Object.freeze({
  maxBodyBytes: API_MAX_BODY,
  maxConnections: API_MAX_CONNECTIONS,
  headersTimeoutMs: API_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: API_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: API_KEEPALIVE_TIMEOUT_MS,
  idleTimeoutMs: API_IDLE_TIMEOUT_MS,
});

/** Defaults filled in; a value that is not a positive integer (or headers > request) is refused. */
export function apiLimits(partial: Partial<ApiLimits> = {}): ApiLimits {
  const l = { ...DEFAULT_API_LIMITS, ...partial };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new DirectorError("DIRECTOR_BAD_ARGUMENT", `API limit ${k} must be an integer > 0, not ${v}`);
  }
  if (l.headersTimeoutMs > l.requestTimeoutMs) {
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      `API headers timeout (${l.headersTimeoutMs} ms) must not exceed the request timeout (${l.requestTimeoutMs} ms)`,
    );
  }
  return l;
}

export interface ApiServerOptions {
  handlers: ApiHandlers;
  /** Bounds on bodies, connections and timeouts (defaults: DEFAULT_API_LIMITS). */
  limits?: Partial<ApiLimits>;
  /** Unix socket path (created 0600; a stale socket is replaced, a live one is an error). */
  socketPath?: string;
  /** `HOST:PORT` for TCP (needs `token`). */
  listen?: string;
  token?: string;
  onError?: (err: unknown) => void;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = "application/json",
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...headers,
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function tooLarge(max: number): DirectorError {
  return new DirectorError("DIRECTOR_BODY_TOO_LARGE", `request body over ${max} bytes`);
}

/** The body as a JSON object (empty body: `{}`); anything else is a DirectorError. */
function readBody(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    // A declared length over the limit is refused before a byte of it is read.
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) {
      reject(tooLarge(max));
      return;
    }
    let size = 0;
    let over = false;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      if (over) return; // discarded: the 413 is on its way and the connection closes after it
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        reject(tooLarge(max));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (over) return;
      const text = Buffer.concat(chunks).toString("utf8").trim();
      if (!text) return resolve({});
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return reject(new DirectorError("DIRECTOR_BAD_ARGUMENT", "request body is not JSON"));
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return reject(
          new DirectorError(
            "DIRECTOR_BAD_ARGUMENT",
            `request body must be a JSON object, not ${parsed === null ? "null" : Array.isArray(parsed) ? "an array" : typeof parsed}`,
          ),
        );
      }
      resolve(parsed as Record<string, unknown>);
    });
    req.on("error", reject);
  });
}

/** Compares digests, so neither the token's content nor its length shows in the timing. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer +(\S+) *$/.exec(header ?? "");
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1] as string), digest(token));
}

export class ApiServer {
  private servers: Server[] = [];
  private readonly limits: ApiLimits;
  /** Inode of the socket we created, so stop() removes ours and nothing else. */
  private socketIno: number | undefined;

  constructor(private readonly opts: ApiServerOptions) {
    if (opts.listen && !opts.token) {
      throw new DirectorError(
        "DIRECTOR_BAD_ARGUMENT",
        "a TCP listen address needs a token (--api-token-file, $LVS_API_TOKEN or --api-token)",
      );
    }
    this.limits = apiLimits(opts.limits);
  }

  private async route(req: IncomingMessage, res: ServerResponse, needToken: boolean): Promise<void> {
    const h = this.opts.handlers;
    try {
      const authorized = !needToken || tokenMatches(req.headers.authorization, this.opts.token as string);
      const path = (req.url ?? "/").split("?")[0];
      const m = req.method ?? "GET";
      if (m === "GET" && h.web && (await h.web(req, res, authorized))) return;
      if (!authorized) throw new DirectorError("DIRECTOR_UNAUTHORIZED", "missing or wrong bearer token");
      if (m === "GET" && path === "/status") return send(res, 200, await h.status());
      // `/api/connections` too: the name the proxy issue gave it.
      if (m === "GET" && (path === "/connections" || path === "/api/connections") && h.connections)
        return send(res, 200, await h.connections());
      if (m === "GET" && path === "/timeouts" && h.timeouts) return send(res, 200, await h.timeouts());
      if (m === "GET" && path === "/metrics") {
        const r = await h.metrics();
        return send(res, 200, r.body, r.contentType);
      }
      if (m === "POST") {
        const body = await readBody(req, this.limits.maxBodyBytes);
        switch (path) {
          case "/drain": {
            const target = realServerRequest(body);
            const timeout = drainTimeoutOf(body);
            return send(res, 200, await h.drain(timeout === undefined ? target : { ...target, timeout }));
          }
          case "/undrain":
            return send(res, 200, await h.undrain(realServerRequest(body)));
          case "/weight": {
            const target = realServerRequest(body);
            return send(res, 200, await h.weight({ ...target, weight: weightOf(body) }));
          }
          case "/servers/add": {
            const target = realServerRequest(body);
            const weight = body.weight === undefined ? undefined : weightOf(body);
            return send(
              res,
              200,
              await h.addServer(weight === undefined || weight === null ? target : { ...target, weight }),
            );
          }
          case "/servers/remove":
            return send(res, 200, await h.removeServer(realServerRequest(body)));
          case "/enable":
            return send(res, 200, await h.enable(realServerRequest(body)));
          case "/disable":
            return send(res, 200, await h.disable(realServerRequest(body)));
          case "/reload":
            return send(res, 200, await h.reload());
          case "/director/drain":
          case "/director/undrain":
            if (h.drainDirector) return send(res, 200, await h.drainDirector(path === "/director/drain"));
            break;
          case "/timeouts":
            if (h.setTimeouts) return send(res, 200, await h.setTimeouts(timeoutsOf(body)));
            break;
        }
      }
      send(res, 404, { error: { code: "DIRECTOR_NOT_FOUND", message: `no ${m} ${path}` } });
    } catch (err) {
      const e = err as DirectorError;
      const code = e instanceof DirectorError ? e.code : "DIRECTOR_API_ERROR";
      const status = e instanceof DirectorError ? httpStatusOf(e.code) : 500;
      if (status === 500) this.opts.onError?.(err);
      const headers: Record<string, string> = {};
      // RFC 6750 §3: a 401 names the scheme the client must use.
      if (status === 401) headers["www-authenticate"] = 'Bearer realm="lvs"';
      // The rest of an oversized body is not read: this connection is done after the answer.
      if (status === 413) headers.connection = "close";
      if (res.headersSent) res.destroy();
      else send(res, status, { error: { code, message: e.message } }, "application/json", headers);
    }
  }

  private newServer(needToken: boolean): Server {
    const l = this.limits;
    const server = createServer(
      {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        keepAliveTimeout: l.keepAliveTimeoutMs,
        // How often Node looks for connections past headersTimeout/requestTimeout (default 30 s,
        // which would let a slowloris client live that much longer).
        connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(l.headersTimeoutMs / 4))),
      },
      (req, res) => void this.route(req, res, needToken),
    );
    server.maxConnections = l.maxConnections;
    server.timeout = l.idleTimeoutMs;
    return server;
  }

  async start(): Promise<void> {
    const { socketPath, listen } = this.opts;
    if (socketPath) {
      await ensureSocketFree(socketPath);
      // The per-user runtime directory is created private (and refused when it isn't ours).
      const runtime = runtimeDir();
      if (runtime.why !== "root" && dirname(socketPath) === runtime.dir) ensurePrivateDir(runtime.dir);
      else mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
      const server = this.newServer(false);
      // The socket is created with a umask that leaves only the owner's bits, then chmod'ed.
      const old = process.umask(0o177);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(socketPath, () => resolve());
        });
      } finally {
        process.umask(old);
      }
      chmodSync(socketPath, 0o600);
      this.socketIno = lstatSync(socketPath).ino;
      this.servers.push(server);
    }
    if (listen) {
      const i = listen.lastIndexOf(":");
      const host = listen.slice(0, i).replace(/^\[|\]$/g, "");
      const port = Number(listen.slice(i + 1));
      if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new DirectorError("DIRECTOR_BAD_ARGUMENT", `--listen ${listen}: expected HOST:PORT`, {
          object: listen,
        });
      }
      const server = this.newServer(true);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host || undefined, () => resolve());
      });
      this.servers.push(server);
    }
  }

  /** The TCP port actually bound (listen "127.0.0.1:0" picks one). */
  get tcpPort(): number | undefined {
    for (const s of this.servers) {
      const a = s.address();
      if (a && typeof a === "object") return a.port;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections?.();
          }),
      ),
    );
    const path = this.opts.socketPath;
    if (path && this.socketIno !== undefined) {
      try {
        if (lstatSync(path).ino === this.socketIno) unlinkSync(path);
      } catch {
        // already gone
      }
      this.socketIno = undefined;
    }
  }
}

/**
 * Make way for our socket at `path` without ever deleting what isn't a dead socket: nothing
 * there is fine; a socket that refuses connections (ECONNREFUSED: its daemon died) is stale and
 * removed; a socket someone listens on, or any other file, is refused with the reason.
 */
async function ensureSocketFree(path: string): Promise<void> {
  let kind: string;
  try {
    const st = lstatSync(path);
    if (st.isSocket()) kind = "socket";
    else if (st.isSymbolicLink()) kind = "symbolic link";
    else if (st.isDirectory()) kind = "directory";
    else if (st.isFile()) kind = "regular file";
    else kind = "special file";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new DirectorError(
      "DIRECTOR_UNSAFE_PATH",
      `cannot look at --socket ${path}: ${(err as Error).message}`,
      {
        object: path,
        errnoName: (err as NodeJS.ErrnoException).code,
        cause: err,
      },
    );
  }
  if (kind !== "socket") {
    throw new DirectorError(
      "DIRECTOR_UNSAFE_PATH",
      `--socket ${path} is a ${kind}, not a socket; refusing to replace it (mistyped path? give another --socket or remove it yourself)`,
      { object: path },
    );
  }
  const errno = await new Promise<string | undefined>((resolve) => {
    const c = connect({ path });
    c.setTimeout(1_000, () => {
      c.destroy();
      resolve("ETIMEDOUT");
    });
    c.once("connect", () => {
      c.destroy();
      resolve(undefined);
    });
    c.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "EIO"));
  });
  if (errno === undefined) {
    throw new DirectorError(
      "DIRECTOR_ALREADY_RUNNING",
      `a process already listens on ${path} (another director?); stop it or give another --socket`,
      { object: path },
    );
  }
  if (errno !== "ECONNREFUSED") {
    throw new DirectorError(
      "DIRECTOR_UNSAFE_PATH",
      `socket ${path} exists and connecting to it failed with ${errno}, not ECONNREFUSED; not removing it`,
      { object: path, errnoName: errno },
    );
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
