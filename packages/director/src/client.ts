// The API's client side (what `lvsctl status/drain/…` use): HTTP over the daemon's unix socket,
// or over TCP with a bearer token.
import { request } from "node:http";
import type { ConnectionsAnswer, TimeoutsAnswer } from "./api.js";
import { DirectorError, type DirectorErrorCode } from "./errors.js";
import type { Explanation } from "./explain.js";
import { defaultSocketPath } from "./paths.js";
import type { DirectorDrainAnswer, DirectorStatus } from "./status.js";

export interface DirectorClientOptions {
  /** Unix socket (default: defaultSocketPath(), /run/lvs/director.sock for root). */
  socketPath?: string;
  /** `http://HOST:PORT` instead of the socket. */
  url?: string;
  token?: string;
  timeoutMs?: number;
}

export class DirectorClient {
  constructor(private readonly opts: DirectorClientOptions = {}) {}

  private call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string; contentType: string }> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (data !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(data));
    }
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const target = this.opts.url ? new URL(path, this.opts.url) : undefined;
    const where = target ? target.host : (this.opts.socketPath ?? defaultSocketPath());
    return new Promise((resolve, reject) => {
      const req = request(
        target
          ? {
              host: target.hostname,
              port: target.port,
              path,
              method,
              headers,
              timeout: this.opts.timeoutMs ?? 30_000,
            }
          : { socketPath: where, path, method, headers, timeout: this.opts.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              contentType: String(res.headers["content-type"] ?? ""),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err: NodeJS.ErrnoException) =>
        reject(
          new DirectorError(
            "DIRECTOR_UNREACHABLE",
            `no director answers on ${where} (${err.code ?? err.message}); is it running? (--socket PATH)`,
            { object: where, errnoName: err.code, cause: err },
          ),
        ),
      );
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call(method, path, body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.text);
    } catch {
      throw new DirectorError(
        "DIRECTOR_API_ERROR",
        `unexpected answer (${r.status}): ${r.text.slice(0, 200)}`,
        { status: r.status },
      );
    }
    if (r.status >= 400) {
      const e = (parsed as { error?: { code?: string; message?: string } }).error;
      throw new DirectorError(
        (e?.code as DirectorErrorCode) ?? "DIRECTOR_API_ERROR",
        e?.message ?? `HTTP ${r.status}`,
        {
          status: r.status,
        },
      );
    }
    return parsed as T;
  }

  status(): Promise<DirectorStatus> {
    return this.json("GET", "/status");
  }

  async metrics(): Promise<string> {
    const r = await this.call("GET", "/metrics");
    if (r.status >= 400)
      throw new DirectorError("DIRECTOR_API_ERROR", `HTTP ${r.status}: ${r.text.slice(0, 200)}`, {
        status: r.status,
      });
    return r.text;
  }

  /** The dataplane's connection table (GET /connections). */
  connections(): Promise<ConnectionsAnswer> {
    return this.json("GET", "/connections") as Promise<ConnectionsAnswer>;
  }

  /** The dataplane's idle timeouts (GET /timeouts). */
  timeouts(): Promise<TimeoutsAnswer> {
    return this.json("GET", "/timeouts") as Promise<TimeoutsAnswer>;
  }

  /** `ipvsadm --set` on the daemon's dataplane (POST /timeouts; 0 = unchanged). */
  setTimeouts(t: { tcp: number; tcpFin: number; udp: number }): Promise<TimeoutsAnswer> {
    return this.json("POST", "/timeouts", t) as Promise<TimeoutsAnswer>;
  }

  drain(virtualServer: string, realServer: string, timeout?: number): Promise<unknown> {
    return this.json("POST", "/drain", {
      virtualServer,
      realServer,
      ...(timeout !== undefined ? { timeout } : {}),
    });
  }

  /** Add a real server that is not in the configuration (kept across restarts and reloads). */
  addServer(virtualServer: string, realServer: string, weight?: number): Promise<unknown> {
    return this.json("POST", "/servers/add", {
      virtualServer,
      realServer,
      ...(weight === undefined ? {} : { weight }),
    });
  }

  /** Remove a real server added with addServer. */
  removeServer(virtualServer: string, realServer: string): Promise<unknown> {
    return this.json("POST", "/servers/remove", { virtualServer, realServer });
  }

  undrain(virtualServer: string, realServer: string): Promise<unknown> {
    return this.json("POST", "/undrain", { virtualServer, realServer });
  }

  weight(virtualServer: string, realServer: string, weight: number | null): Promise<unknown> {
    return this.json("POST", "/weight", { virtualServer, realServer, weight });
  }

  enable(virtualServer: string, realServer: string): Promise<unknown> {
    return this.json("POST", "/enable", { virtualServer, realServer });
  }

  disable(virtualServer: string, realServer: string): Promise<unknown> {
    return this.json("POST", "/disable", { virtualServer, realServer });
  }

  reload(): Promise<unknown> {
    return this.json("POST", "/reload");
  }

  /** Drain the whole director: every BGP announcement withdrawn, IPVS keeps serving (POST /director/drain). */
  drainDirector(): Promise<DirectorDrainAnswer> {
    return this.json("POST", "/director/drain");
  }

  /** Undo drainDirector(): announce again (POST /director/undrain). */
  undrainDirector(): Promise<DirectorDrainAnswer> {
    return this.json("POST", "/director/undrain");
  }

  /** Which real server a new connection from `client` (IP[:PORT]) to `service` gets now, and why. */
  explain(client: string, service: string): Promise<Explanation> {
    const q = `client=${encodeURIComponent(client)}&service=${encodeURIComponent(service)}`;
    return this.json("GET", `/api/explain?${q}`);
  }
}
