// Scripts (MISC_CHECK here, the director's notify scripts) start in a process group of their own
// (spawn `detached: true` calls setsid), so a timeout can end everything the script started —
// `sleep 1000 &` included — and not only the direct child.
import { SCRIPT_KILL_GRACE_MS } from "./constants.js";

/** Send `signal` to every process of group `pgid`; false when none is left. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

/**
 * End a timed-out script's process group: SIGTERM now, SIGKILL `graceMs` later for whatever
 * ignored it (the group leader may be gone by then while its children live on, so the second
 * step happens regardless). The timer does not keep the process alive.
 */
export function stopProcessGroup(pgid: number, graceMs = SCRIPT_KILL_GRACE_MS): void {
  if (!signalProcessGroup(pgid, "SIGTERM")) return;
  setTimeout(() => signalProcessGroup(pgid, "SIGKILL"), graceMs).unref();
}
