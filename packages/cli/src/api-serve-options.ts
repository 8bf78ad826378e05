// The options `lvsctl up` and `lvsctl director run` share for the runtime API they serve: where the
// bearer token comes from, and the API's bounds (@lvs/director's ApiLimits).
//
// Token sources, best first: --api-token-file (a 0600 file), $LVS_API_TOKEN (the environment of a
// process is readable by its owner only), --api-token (argv: every local user reads it in
// /proc/PID/cmdline and `ps`; accepted, with a warning).
import { readFileSync, statSync } from "node:fs";
import type { ApiLimits } from "@lvs/director";
import { type Command, InvalidArgumentError } from "commander";

export interface ApiServeFlags {
  apiToken?: string;
  apiTokenFile?: string;
  apiMaxConnections?: number;
  apiHeadersTimeout?: number;
  apiRequestTimeout?: number;
  checkHistory?: number;
}

export interface ApiServeSettings {
  token?: string;
  apiLimits?: Partial<ApiLimits>;
  /** The director's DirectorOptions.history. */
  history?: { checkResults: number };
}

function positiveInteger(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be an integer > 0`);
    return n;
  };
}

function positiveSeconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be seconds > 0`);
    return n;
  };
}

/** Adds --api-token-file, --api-token and the API bounds to a command that serves the API. */
export function addApiServeOptions(cmd: Command): Command {
  return cmd
    .option("--api-token-file <file>", "file holding the bearer token for --listen (keep it mode 0600)")
    .option(
      "--api-token <token>",
      "bearer token for --listen; every local user can read it in /proc/PID/cmdline: prefer --api-token-file or $LVS_API_TOKEN",
    )
    .option(
      "--api-max-connections <n>",
      "open API connections per listener; more are closed at once (default 64)",
      positiveInteger("--api-max-connections"),
    )
    .option(
      "--api-headers-timeout <s>",
      "seconds a client gets to send its request headers (default 10)",
      positiveSeconds("--api-headers-timeout"),
    )
    .option(
      "--api-request-timeout <s>",
      "seconds a client gets to send a whole request (default 30)",
      positiveSeconds("--api-request-timeout"),
    )
    .option(
      "--check-history <results>",
      "check results the status page keeps in all, about 28 bytes each (default 250000; up to 100 per real server, fewer when there are many)",
      positiveInteger("--check-history"),
    );
}

/** A token file: its first line, which must not be empty; a file others may read is a warning. */
export function readTokenFile(
  path: string,
  warn: (message: string) => void,
  flag = "--api-token-file",
): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const token = (text.split(/\r?\n/, 1)[0] ?? "").trim();
  if (!token) throw new Error(`${flag} ${path}: the first line is empty (expected the token)`);
  const mode = statSync(path).mode;
  if (mode & 0o077) {
    warn(`${flag} ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return token;
}

/** Token and bounds from the flags and the environment; `warn` gets what the operator should fix. */
export function apiServeSettings(
  o: ApiServeFlags,
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): ApiServeSettings {
  if (o.apiToken !== undefined && o.apiTokenFile !== undefined)
    throw new Error("--api-token and --api-token-file exclude each other");
  let token: string | undefined;
  if (o.apiTokenFile !== undefined) token = readTokenFile(o.apiTokenFile, warn);
  else if (o.apiToken !== undefined) {
    warn(
      "--api-token puts the token in /proc/PID/cmdline, readable by every local user; use --api-token-file or $LVS_API_TOKEN",
    );
    token = o.apiToken;
  } else if (env.LVS_API_TOKEN) token = env.LVS_API_TOKEN;
  const limits: Partial<ApiLimits> = {};
  if (o.apiMaxConnections !== undefined) limits.maxConnections = o.apiMaxConnections;
  if (o.apiHeadersTimeout !== undefined) limits.headersTimeoutMs = Math.round(o.apiHeadersTimeout * 1000);
  if (o.apiRequestTimeout !== undefined) limits.requestTimeoutMs = Math.round(o.apiRequestTimeout * 1000);
  return {
    ...(token !== undefined ? { token } : {}),
    ...(Object.keys(limits).length ? { apiLimits: limits } : {}),
    ...(o.checkHistory !== undefined ? { history: { checkResults: o.checkHistory } } : {}),
  };
}
