/**
 * The VRRP child's scheduling priority, as keepalived sets its VRRP process's
 * (keepalived.conf(5) global_defs: `vrrp_priority` -20..19 is the nice value, `vrrp_rt_priority`
 * 1..99 switches it to SCHED_RR). An advert is due every advert_int whatever else the host runs:
 * a higher priority lets the kernel run the child first when the CPUs are shared.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { setPriority } from "node:os";
import type { LvsConfig } from "@lvs/config";

/**
 * The nice value lvs gives its VRRP child when it runs as root and the file sets no
 * `vrrp_priority`. keepalived leaves its VRRP process at the parent's nice value unless told; lvs
 * raises it by default because a Node process pays for its garbage collector and JIT in CPU time
 * that a busy host hands out by priority (bench/isolation.mjs measures the difference).
 * `vrrp_priority 0` keeps keepalived's behaviour.
 */
export const DEFAULT_VRRP_NICE = -10;

export interface SchedulingPriority {
  /** Nice value -20..19 for every thread of the process (below 0 needs CAP_SYS_NICE). */
  nice?: number;
  /** SCHED_RR priority 1..99 (needs CAP_SYS_NICE); absent: the normal scheduler. */
  realtime?: number;
}

/**
 * What the configuration asks for the VRRP process: its `vrrp_priority` / `vrrp_rt_priority`, or
 * DEFAULT_VRRP_NICE when running as root (a non-root process may not lower its nice value).
 */
export function vrrpSchedulingFromConfig(
  globalDefs: Pick<LvsConfig["globalDefs"], "vrrpPriority" | "vrrpRtPriority">,
  opts: { root?: boolean } = {},
): SchedulingPriority {
  const root = opts.root ?? process.getuid?.() === 0;
  const nice = globalDefs.vrrpPriority ?? (root ? DEFAULT_VRRP_NICE : undefined);
  return {
    ...(nice !== undefined ? { nice } : {}),
    ...(globalDefs.vrrpRtPriority !== undefined ? { realtime: globalDefs.vrrpRtPriority } : {}),
  };
}

/** The thread ids of a process (/proc/PID/task); just the pid when that cannot be read. */
export function processThreads(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    return [pid];
  }
}

/**
 * Sets the nice value of every thread of `pid` (setpriority(2) on Linux acts on one thread; a
 * thread created later inherits its creator's). Returns what could not be done, never throws.
 */
export function setProcessNice(pid: number, nice: number): string[] {
  const problems = new Set<string>();
  for (const tid of processThreads(pid)) {
    try {
      setPriority(tid, nice);
    } catch (err) {
      // Node's SystemError carries the errno name in `info.code`; ESRCH: the thread ended meanwhile
      const e = err as NodeJS.ErrnoException & { info?: { code?: string } };
      const code = e.info?.code ?? e.code;
      if (code !== "ESRCH")
        problems.add(`cannot set the nice value of pid ${pid} to ${nice}: ${code ?? e.message}`);
    }
  }
  return [...problems];
}

/**
 * SCHED_RR at `priority` for every thread of `pid`, through util-linux's chrt (Node has no
 * sched_setscheduler). Resolves with a problem, or undefined once set.
 */
export function setProcessRealtime(pid: number, priority: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("chrt", ["--all-tasks", "--rr", "--pid", String(priority), String(pid)], (err, _o, stderr) => {
      if (!err) resolve(undefined);
      else resolve(`cannot set SCHED_RR ${priority} for pid ${pid}: ${stderr.trim() || err.message}`);
    });
  });
}
