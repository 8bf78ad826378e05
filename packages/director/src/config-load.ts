// Load and compile the configuration in a short-lived worker thread. Parsing a 5,000-service
// keepalived.conf peaks the heap at ~200 MiB (tokens, tree, source positions); in the daemon's
// own isolate V8 keeps those pages long after, so RSS stayed near 280 MiB for a plan of ~40 MiB.
// In a worker the peak is returned to the system when the worker exits, and the main thread
// receives only the model and the plan (structured clone). A failure comes back as the same
// DirectorError (DIRECTOR_CONFIG with its ConfigError); anything unexpected makes the main thread
// parse the file itself, so it throws exactly what it always did.
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ConfigError, type ConfigIssue, type IssueCounts, SourceMap } from "@lvs/config";
import { mallocTrim } from "@lvs/sys";
import { compilePlan, type Plan } from "./compile.js";
import type { Dataplane } from "./dataplane.js";
import { DirectorError } from "./errors.js";
import { type DirectorOptions, type LoadedConfig, loadConfigFile } from "./options.js";

export interface ParseRequest {
  path: string;
  configId?: string;
  /** Send the source positions back too (only the proxy dataplane's checks need them). */
  sources: boolean;
  /** Parse in the main thread below this file size, unless the file includes others (default 256 KiB). */
  workerMinBytes?: number;
}

/**
 * A file of ~500 services peaks the parse at ~25 MiB; below that a worker's start-up (50–200 ms,
 * its own isolate and modules) costs more than it saves.
 */
const WORKER_MIN_BYTES = 256 * 1024;

/** Big enough for a worker: by its size, or because what it includes may be big. */
function worthAWorker(path: string, minBytes: number): boolean {
  try {
    const st = statSync(path);
    if (!st.isFile()) return false;
    if (st.size >= minBytes) return true;
    return /^[ \t]*include[ \t]/m.test(readFileSync(path, "utf8"));
  } catch {
    return false; // the main thread's parse says what is wrong with it
  }
}

export type ParseReply =
  | { ok: true; loaded: LoadedConfig; plan: Plan }
  | {
      ok: false;
      /** A configuration error; absent: something else failed (the main thread parses again). */
      error?: { message: string; object: string | undefined; issues: ConfigIssue[]; counts: IssueCounts };
    };

/** The built worker: next to this module in dist/, or dist/ when running from src/ (tests). */
function workerFile(): string | undefined {
  for (const rel of ["./config-worker.js", "../dist/config-worker.js"]) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return file;
  }
  return undefined;
}

async function inProcess(req: ParseRequest): Promise<CompiledConfig> {
  const loaded = await loadConfigFile(req.path, req.configId !== undefined ? { configId: req.configId } : {});
  return { loaded, plan: compilePlan(loaded.config), parsedIn: "main thread" };
}

function run(file: string, req: ParseRequest): Promise<ParseReply> {
  return new Promise((resolve) => {
    const worker = new Worker(file, { workerData: req });
    let reply: ParseReply = { ok: false };
    worker.once("message", (m: ParseReply) => {
      reply = m;
    });
    // A worker that fails to start or crashes: the main thread parses (the same result or error).
    worker.once("error", () => undefined);
    worker.once("exit", () => resolve(reply));
  });
}

/**
 * One copy of each distinct string, in place. A structured clone writes a string once per
 * place it occurs (a check's id sits in its check and in its target; `TCP_CHECK` 20,000 times),
 * where the compiler had shared them; this shares them again (~4 MiB at 20,000 checks).
 */
export function shareStrings(root: unknown): void {
  const pool = new Map<string, string>();
  const seen = new Set<object>();
  const stack: object[] = [];
  const share = (v: unknown): unknown => {
    if (typeof v === "string") {
      const have = pool.get(v);
      if (have !== undefined) return have;
      pool.set(v, v);
      return v;
    }
    if (v !== null && typeof v === "object" && !seen.has(v) && !ArrayBuffer.isView(v)) {
      seen.add(v);
      stack.push(v);
    }
    return v;
  };
  share(root);
  for (let o = stack.pop(); o; o = stack.pop()) {
    if (Array.isArray(o)) for (let i = 0; i < o.length; i++) o[i] = share(o[i]);
    else if (o instanceof Map || o instanceof Set) for (const v of o.values()) share(v);
    else {
      const rec = o as Record<string, unknown>;
      for (const k of Object.keys(rec)) rec[k] = share(rec[k]);
    }
  }
}

export interface CompiledConfig {
  loaded: LoadedConfig;
  plan: Plan;
  /** Where the parse ran (tests check that the worker did). */
  parsedIn: "worker" | "main thread";
}

/** The configuration file, loaded and compiled (in a worker when the built one is there). */
export async function loadAndCompile(req: ParseRequest): Promise<CompiledConfig> {
  const file = workerFile();
  if (!file || !worthAWorker(req.path, req.workerMinBytes ?? WORKER_MIN_BYTES)) return inProcess(req);
  const reply = await run(file, req);
  // glibc keeps what the exited worker freed (its isolate, its arenas) resident: ~15 MiB of RSS
  // at 5,000 services, that the daemon would never reuse.
  mallocTrim();
  if (reply.ok) {
    const { loaded, plan } = reply;
    shareStrings([plan, loaded.config, loaded.warnings]);
    // The compiler shares one frozen policy among the checks that have it; a clone keeps the
    // sharing but not the freeze.
    for (const vs of plan.virtualServers)
      for (const rs of vs.realServers)
        for (const c of rs.checks) if (c.target.policy) Object.freeze(c.target.policy);
    if (loaded.sources) loaded.sources = SourceMap.revive(loaded.sources);
    return { loaded, plan, parsedIn: "worker" };
  }
  if (!reply.error) return inProcess(req);
  const { message, object, issues, counts } = reply.error;
  throw new DirectorError("DIRECTOR_CONFIG", message, {
    ...(object !== undefined ? { object } : {}),
    cause: new ConfigError(issues, counts),
  });
}

/** The proxy dataplane's checks point at file:line, so they need the source positions. */
function wantsSources(o: DirectorOptions, running: Dataplane | undefined): boolean {
  if (running) return running.kind === "proxy";
  if (typeof o.dataplane === "object") return o.dataplane.kind === "proxy";
  return !o.client && (o.dataplane === "proxy" || o.dataplane === "auto");
}

/** The file the options name, loaded (by `loadConfig` when given) and compiled. */
export async function readConfig(
  o: DirectorOptions,
  running: Dataplane | undefined,
): Promise<{ loaded: LoadedConfig; plan: Plan }> {
  if (o.loadConfig) {
    const loaded = await o.loadConfig(o.configPath);
    return { loaded, plan: compilePlan(loaded.config) };
  }
  return loadAndCompile({
    path: o.configPath,
    ...(o.configId !== undefined ? { configId: o.configId } : {}),
    sources: wantsSources(o, running),
  });
}
