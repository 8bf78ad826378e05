// keepalived's notify scripts (quorum_up / quorum_down / notify_up / notify_down): argv as the
// config split it, run without a shell, as the configured user, not waited for by the caller
// (keepalived's notify_exec forks and moves on). Each run is bounded by a timeout, and runs in a
// process group of its own so the timeout ends everything it started: SIGTERM to the group, then
// SIGKILL (@lvs/healthcheck's stopProcessGroup, as MISC_CHECK and the VRRP scripts).
import { spawn } from "node:child_process";
import type { Script } from "@lvs/config";
import { stopProcessGroup } from "@lvs/healthcheck";
import { SCRIPT_TIMEOUT_MS } from "./constants.js";

export interface ScriptResult {
  argv: string[];
  /** Exit status, or 128 + signal number style -1 when it could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `ENOENT`… when it could not be started. */
  error?: string;
  timedOut: boolean;
  durationMs: number;
}

export type ScriptRunner = (
  script: Script,
  opts?: { timeoutMs?: number; env?: Record<string, string> },
) => Promise<ScriptResult>;

/** Run one script; never throws (the result says what happened). */
export const runScript: ScriptRunner = (script, opts = {}) => {
  const started = performance.now();
  const [file, ...args] = script.argv;
  return new Promise((resolve) => {
    if (!file) {
      resolve({
        argv: script.argv,
        code: null,
        signal: null,
        error: "EMPTY",
        timedOut: false,
        durationMs: 0,
      });
      return;
    }
    let timedOut = false;
    const child = spawn(file, args, {
      stdio: "ignore",
      detached: true,
      ...(script.user ? { uid: script.user.uid, gid: script.user.gid } : {}),
      env: { ...process.env, ...opts.env },
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) stopProcessGroup(child.pid);
    }, opts.timeoutMs ?? SCRIPT_TIMEOUT_MS);
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        argv: script.argv,
        code: null,
        signal: null,
        error: err.code ?? err.message,
        timedOut: false,
        durationMs: performance.now() - started,
      });
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ argv: script.argv, code, signal, timedOut, durationMs: performance.now() - started });
    });
  });
};
