/**
 * I/O: running tracking scripts (vrrp_script) and notify scripts as keepalived does — an argv
 * array, never a shell, as the configured user, in a process group of its own; a tracking script
 * that outlives its timeout gets SIGTERM, then SIGKILL 2 s later (vrrp_scheduler.c
 * vrrp_script_child_thread()).
 */
import { spawn } from "node:child_process";
import { withNetns } from "@lvs/sys";
import { SCRIPT_KILL_GRACE_MS } from "./constants.js";

/** A command: argv[0] is the program (a path or a name looked up in PATH). */
export interface ScriptCommand {
  argv: readonly string[];
  /** Run as this user/group (keepalived `user` / global `script_user`). */
  uid?: number;
  gid?: number;
}

export interface ScriptOutcome {
  /** Exit status 0 (the only success, as keepalived). */
  ok: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** A spawn failure (ENOENT, EACCES…). */
  error?: string;
}

/**
 * Runs `cmd` and resolves with its outcome; never rejects. With `netns` the script starts inside
 * that network namespace (the fork happens in this thread while it is switched there), as
 * keepalived's scripts run in its namespace.
 */
export function runScript(cmd: ScriptCommand, timeoutMs?: number, netns?: string): Promise<ScriptOutcome> {
  return new Promise((resolve) => {
    const [file, ...args] = cmd.argv;
    if (!file) {
      resolve({ ok: false, code: null, signal: null, timedOut: false, error: "empty argv" });
      return;
    }
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (o: ScriptOutcome) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      resolve(o);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = withNetns(netns, () =>
        spawn(file, args, {
          shell: false,
          stdio: "ignore",
          detached: true, // its own process group, so a timeout kills what it started too
          ...(cmd.uid !== undefined ? { uid: cmd.uid, gid: cmd.gid ?? cmd.uid } : {}),
        }),
      );
    } catch (err) {
      finish({ ok: false, code: null, signal: null, timedOut: false, error: (err as Error).message });
      return;
    }
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    child.once("error", (err) =>
      finish({ ok: false, code: null, signal: null, timedOut, error: err.message }),
    );
    child.once("exit", (code, signal) => {
      if (signal) killGroup("SIGKILL"); // and whatever it left behind
      finish({ ok: code === 0 && !timedOut, code, signal, timedOut });
    });
    if (timeoutMs !== undefined && timeoutMs > 0) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          killGroup("SIGTERM");
          timers.push(setTimeout(() => killGroup("SIGKILL"), SCRIPT_KILL_GRACE_MS));
        }, timeoutMs),
      );
    }
  });
}
