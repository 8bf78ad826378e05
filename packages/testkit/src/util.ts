import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (no shell) and collects its output. Never throws for a non-zero exit. */
export function sh(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ShResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) {
      reject(new Error("sh: empty argv"));
      return;
    }
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    // A child that exits before reading its stdin must not turn into an EPIPE error here.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/** True when this process can create network namespaces (root, iproute2 present). */
export function canUseNetns(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Prefix of every namespace the testkit creates: `lvst<pid>-`. */
export const NS_PREFIX = "lvst";

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Deletes namespaces left behind by testkit processes that died (SIGKILL, crash):
 * a name carries its creator's pid, and a dead pid's namespaces are garbage.
 */
export function sweepStaleNamespaces(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync("/run/netns");
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^lvst(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
      removed.push(name);
    } catch {
      // already gone
    }
  }
  return removed;
}

/**
 * Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws with `what`;
 * a function is called then, so the message can carry a process's output at the timeout).
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `waitFor: timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${
          (typeof opts.what === "function" ? opts.what() : opts.what) ?? "condition"
        } (last: ${String(last)})`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** pid → [state, pgrp] from /proc/PID/stat (proc(5): fields 3 and 5, after the `(comm)`). */
function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0] as string, pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** True while `pid` runs (a zombie waiting for its parent does not count). */
export function processRunning(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
}

/** Running (non-zombie) members of process group `pgid`, read from /proc. */
export function processGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s && s.pgrp === pgid && s.state !== "Z" && s.state !== "X") out.push(Number(name));
  }
  return out;
}
