// The status page's routes on the runtime API's listeners (api.ts hands GET requests here first):
//
//   GET /                   the page (server-rendered; assets/app.js makes it live)
//   GET /assets/app.js      \ a fixed allow-list compiled into the package (web-assets.generated.ts):
//   GET /assets/style.css   / no request path ever reaches the file system
//   GET /api/state          the page's data (schema/state-v1.schema.json)
//   GET /api/events         server-sent events: `state` (the document) or, with ?format=html,
//                           `view` (the page's live part); one push per change, none without
//   GET /api/explain        ?client=IP[:PORT]&service=VIP:PORT: which real server a new
//                           connection from that client gets now, and why (explain.ts)
//   GET /healthz            200 when every VRRP instance is MASTER or BACKUP and the dataplane
//                           answers, else 503 with the reasons (Seesaw's rule)
//
// These are read-only and answer without the token on the TCP listener too; actions (POST) still
// need it (api.ts). Every answer carries a strict Content-Security-Policy: scripts and styles only
// from this origin's /assets, no inline code, no framing, no form posts.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "@lvs/inet";
import { DirectorError } from "./errors.js";
import type { Explanation } from "./explain.js";
import { WEB_ASSETS } from "./web-assets.generated.js";
import { renderLive, renderPage } from "./web-page.js";
import type { HealthVerdict, WebState } from "./web-state.js";

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-resource-policy": "same-origin",
};

/** Event-stream subscribers at once (each holds a connection of the listener's cap). */
export const WEB_MAX_SUBSCRIBERS = 16;
/** Changes closer together than this are pushed as one (a burst of probes: one push). */
export const WEB_PUSH_MIN_INTERVAL_MS = 250;
/** While someone listens, counters (conns/s, passes) are looked at this often; pushed only if changed. */
export const WEB_REFRESH_MS = 2_000;
/** A comment line keeps idle streams (and proxies in between) from timing out. */
export const WEB_HEARTBEAT_MS = 15_000;

/** What the routes need from the daemon. */
export interface WebSources {
  state(access: "read" | "write"): Promise<WebState>;
  health(): Promise<HealthVerdict>;
  /** `GET /api/explain?client=IP[:PORT]&service=VIP:PORT` (absent: 404). */
  explain?(client: string, service: string): Promise<Explanation>;
  /** Call `fn` whenever something shown may have changed; returns the unsubscribe. */
  watch(fn: () => void): () => void;
  clock: Clock;
}

/** Handles the request and answers true, or answers false for a path that is not the page's. */
export type WebRoutes = (req: IncomingMessage, res: ServerResponse, authorized: boolean) => Promise<boolean>;

function send(res: ServerResponse, status: number, type: string, body: string, cache = "no-store"): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": cache,
  });
  res.end(body);
}

const json = (v: unknown) => `${JSON.stringify(v)}\n`;

interface Subscriber {
  res: ServerResponse;
  access: "read" | "write";
  html: boolean;
  last: string | undefined;
}

/**
 * One stream for every subscriber: a change (or the refresh tick) builds the state once, and
 * each subscriber is sent it only when what it would see differs from what it saw last.
 */
class EventFeed {
  private readonly subs = new Set<Subscriber>();
  private unwatch: (() => void) | undefined;
  private timer: unknown;
  private refresh: unknown;
  private heartbeat: unknown;
  private building = false;
  private again = false;

  constructor(private readonly src: WebSources) {}

  get size(): number {
    return this.subs.size;
  }

  add(sub: Subscriber): void {
    this.subs.add(sub);
    if (this.subs.size === 1) this.start();
    sub.res.on("close", () => this.remove(sub));
    this.schedule(0);
  }

  private remove(sub: Subscriber): void {
    if (!this.subs.delete(sub) || this.subs.size) return;
    const c = this.src.clock;
    this.unwatch?.();
    this.unwatch = undefined;
    for (const t of [this.timer, this.refresh, this.heartbeat]) if (t !== undefined) c.clearTimeout(t);
    this.timer = this.refresh = this.heartbeat = undefined;
  }

  private start(): void {
    this.unwatch = this.src.watch(() => this.schedule(WEB_PUSH_MIN_INTERVAL_MS));
    const c = this.src.clock;
    const tick = () => {
      this.refresh = c.setTimeout(tick, WEB_REFRESH_MS);
      this.schedule(0);
    };
    this.refresh = c.setTimeout(tick, WEB_REFRESH_MS);
    const beat = () => {
      this.heartbeat = c.setTimeout(beat, WEB_HEARTBEAT_MS);
      for (const s of this.subs) s.res.write(": keep-alive\n\n");
    };
    this.heartbeat = c.setTimeout(beat, WEB_HEARTBEAT_MS);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined || !this.subs.size) return;
    this.timer = this.src.clock.setTimeout(() => {
      this.timer = undefined;
      void this.push();
    }, ms);
  }

  private async push(): Promise<void> {
    if (this.building) {
      this.again = true;
      return;
    }
    this.building = true;
    try {
      const state = await this.src.state("read");
      // `generatedAt` alone changing is not a change.
      const key = JSON.stringify({ ...state, generatedAt: 0 });
      const views = new Map<string, string>();
      for (const s of this.subs) {
        if (s.last === key) continue;
        const kind = `${s.access} ${s.html}`;
        let payload = views.get(kind);
        if (payload === undefined) {
          const st = { ...state, access: s.access };
          payload = s.html ? JSON.stringify({ access: s.access, html: renderLive(st) }) : JSON.stringify(st);
          views.set(kind, payload);
        }
        s.last = key;
        s.res.write(`event: ${s.html ? "view" : "state"}\ndata: ${payload}\n\n`);
      }
    } catch {
      // The next change or tick tries again; the stream stays open.
    } finally {
      this.building = false;
      if (this.again) {
        this.again = false;
        this.schedule(WEB_PUSH_MIN_INTERVAL_MS);
      }
    }
  }
}

export function createWebRoutes(src: WebSources): WebRoutes {
  const feed = new EventFeed(src);
  return async (req, res, authorized) => {
    // The path as sent: `new URL` would resolve `..` and percent-escapes first.
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
    const access = authorized ? "write" : "read";
    if (path === "/" || path === "/index.html") {
      send(res, 200, "text/html; charset=utf-8", renderPage(await src.state(access)));
      return true;
    }
    if (path.startsWith("/assets/")) {
      // Only the allow-list: `/assets/../x`, `%2e%2e`, absolute paths are just unknown keys.
      const asset = Object.hasOwn(WEB_ASSETS, path) ? WEB_ASSETS[path] : undefined;
      if (asset) send(res, 200, asset.type, asset.body, "no-cache");
      else
        send(
          res,
          404,
          "application/json",
          json({ error: { code: "DIRECTOR_NOT_FOUND", message: "no such asset" } }),
        );
      return true;
    }
    if (path === "/api/state") {
      send(res, 200, "application/json", json(await src.state(access)));
      return true;
    }
    if (path === "/api/explain" && src.explain) {
      const client = query.get("client");
      const service = query.get("service");
      if (!client || !service)
        throw new DirectorError("DIRECTOR_BAD_ARGUMENT", "needs ?client=IP[:PORT]&service=VIP:PORT");
      send(res, 200, "application/json", json(await src.explain(client, service)));
      return true;
    }
    if (path === "/healthz") {
      const h = await src.health();
      send(
        res,
        h.ok ? 200 : 503,
        "application/json",
        json({ status: h.ok ? "ok" : "unhealthy", reasons: h.reasons }),
      );
      return true;
    }
    if (path === "/api/events") {
      if (feed.size >= WEB_MAX_SUBSCRIBERS) {
        send(
          res,
          503,
          "application/json",
          json({ error: { code: "DIRECTOR_API_ERROR", message: "too many event streams" } }),
        );
        return true;
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      });
      res.write("retry: 2000\n\n");
      feed.add({ res, access, html: query.get("format") === "html", last: undefined });
      return true;
    }
    return false;
  };
}
