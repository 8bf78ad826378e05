// The runtime API: HTTP/1.1 with JSON bodies on a unix socket (mode 0600, so only root — or the
// socket's owner — talks to it), and optionally on a TCP address where every request needs
// `Authorization: Bearer <token>`.
//
//   GET  /status                 → DirectorStatus
//   GET  /metrics                → Prometheus text format
//   POST /drain    {virtualServer, realServer, timeout?}
//   POST /undrain  {virtualServer, realServer}
//   POST /weight   {virtualServer, realServer, weight}   (weight null: back to the configured one)
//   POST /enable   {virtualServer, realServer}
//   POST /disable  {virtualServer, realServer}
//   POST /reload
//
// Errors answer `{ "error": { "code": "DIRECTOR_NOT_FOUND", "message": "…" } }` with a status.
import { timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { dirname } from "node:path";
import { API_MAX_BODY } from "./constants.js";
import { DirectorError, httpStatusOf } from "./errors.js";

export interface RealServerRequest {
  virtualServer: string;
  realServer: string;
}

export interface ApiHandlers {
  status(): Promise<unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
  drain(r: RealServerRequest & { timeout?: number }): Promise<unknown>;
  undrain(r: RealServerRequest): Promise<unknown>;
  weight(r: RealServerRequest & { weight: number | null }): Promise<unknown>;
  enable(r: RealServerRequest): Promise<unknown>;
  disable(r: RealServerRequest): Promise<unknown>;
  reload(): Promise<unknown>;
}

export interface ApiServerOptions {
  handlers: ApiHandlers;
  /** Unix socket path (created 0600; a stale socket is replaced, a live one is an error). */
  socketPath?: string;
  /** `HOST:PORT` for TCP (needs `token`). */
  listen?: string;
  token?: string;
  onError?: (err: unknown) => void;
}

function send(res: ServerResponse, status: number, body: unknown, contentType = "application/json"): void {
  const text = typeof body === "string" ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > API_MAX_BODY) {
        reject(new DirectorError("DIRECTOR_BAD_ARGUMENT", `request body over ${API_MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8").trim();
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new DirectorError("DIRECTOR_BAD_ARGUMENT", "request body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

function realServerRequest(b: unknown): RealServerRequest {
  const o = b as Partial<RealServerRequest>;
  if (typeof o?.virtualServer !== "string" || typeof o.realServer !== "string") {
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      'body needs {"virtualServer": "10.0.0.1:80", "realServer": "10.0.0.2:80"}',
    );
  }
  return { virtualServer: o.virtualServer, realServer: o.realServer };
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  if (!m) return false;
  const a = Buffer.from(m[1] as string);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class ApiServer {
  private servers: Server[] = [];

  constructor(private readonly opts: ApiServerOptions) {
    if (opts.listen && !opts.token) {
      throw new DirectorError(
        "DIRECTOR_BAD_ARGUMENT",
        "a TCP listen address needs a token (--api-token or LVS_API_TOKEN)",
      );
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, needToken: boolean): Promise<void> {
    const h = this.opts.handlers;
    try {
      if (needToken && !tokenMatches(req.headers.authorization, this.opts.token as string)) {
        throw new DirectorError("DIRECTOR_UNAUTHORIZED", "missing or wrong bearer token");
      }
      const path = (req.url ?? "/").split("?")[0];
      const m = req.method ?? "GET";
      if (m === "GET" && path === "/status") return send(res, 200, await h.status());
      if (m === "GET" && path === "/metrics") {
        const r = await h.metrics();
        return send(res, 200, r.body, r.contentType);
      }
      if (m === "POST") {
        const body = await readBody(req);
        switch (path) {
          case "/drain": {
            const t = (body as { timeout?: unknown }).timeout;
            if (t !== undefined && t !== null && (typeof t !== "number" || !(t >= 0))) {
              throw new DirectorError("DIRECTOR_BAD_ARGUMENT", "timeout must be a number of seconds ≥ 0");
            }
            return send(
              res,
              200,
              await h.drain({ ...realServerRequest(body), ...(typeof t === "number" ? { timeout: t } : {}) }),
            );
          }
          case "/undrain":
            return send(res, 200, await h.undrain(realServerRequest(body)));
          case "/weight": {
            const w = (body as { weight?: unknown }).weight;
            if (w !== null && (typeof w !== "number" || !Number.isInteger(w) || w < 0)) {
              throw new DirectorError(
                "DIRECTOR_BAD_ARGUMENT",
                "weight must be an integer ≥ 0, or null for the configured weight",
              );
            }
            return send(res, 200, await h.weight({ ...realServerRequest(body), weight: w as number | null }));
          }
          case "/enable":
            return send(res, 200, await h.enable(realServerRequest(body)));
          case "/disable":
            return send(res, 200, await h.disable(realServerRequest(body)));
          case "/reload":
            return send(res, 200, await h.reload());
        }
      }
      send(res, 404, { error: { code: "DIRECTOR_NOT_FOUND", message: `no ${m} ${path}` } });
    } catch (err) {
      const e = err as DirectorError;
      const code = e instanceof DirectorError ? e.code : "DIRECTOR_API_ERROR";
      const status = e instanceof DirectorError ? httpStatusOf(e.code) : 500;
      if (status === 500) this.opts.onError?.(err);
      send(res, status, { error: { code, message: e.message } });
    }
  }

  async start(): Promise<void> {
    const { socketPath, listen } = this.opts;
    if (socketPath) {
      await ensureSocketFree(socketPath);
      mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
      const server = createServer((req, res) => void this.route(req, res, false));
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
      this.servers.push(server);
    }
    if (listen) {
      const i = listen.lastIndexOf(":");
      const host = listen.slice(0, i).replace(/^\[|\]$/g, "");
      const port = Number(listen.slice(i + 1));
      const server = createServer((req, res) => void this.route(req, res, true));
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
    if (this.opts.socketPath) {
      try {
        unlinkSync(this.opts.socketPath);
      } catch {
        // already gone
      }
    }
  }
}

/** A socket file that answers belongs to a running daemon; one that doesn't is stale. */
async function ensureSocketFree(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const req = request({ socketPath: path, path: "/status", method: "GET", timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
  if (alive) {
    throw new DirectorError(
      "DIRECTOR_ALREADY_RUNNING",
      `a director already answers on ${path}; stop it or give another --socket`,
      {
        object: path,
      },
    );
  }
  try {
    unlinkSync(path);
  } catch {
    // nothing there
  }
}
