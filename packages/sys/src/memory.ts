import { fromNative, SysError } from "./errors.js";
import { type NativeBinding, native } from "./native.js";

/**
 * Returns the C heap's free pages to the kernel (glibc `malloc_trim(0)`); `true` when some were.
 *
 * glibc keeps memory that was freed as resident, ready for reuse: after a worker thread exits
 * (its isolate, its malloc arenas) that is ~15 MiB of RSS a long-running daemon never asks for
 * again. Call it after such a one-off peak. A no-op returning `false` where there is nothing to
 * call: another libc, or an addon built before it had this function, or no addon at all.
 */
export function mallocTrim(): boolean {
  let trim: (() => boolean) | undefined;
  try {
    trim = native().mallocTrim;
  } catch {
    return false; // addon not built: the daemon runs without the trim
  }
  return typeof trim === "function" ? trim() : false;
}

/** What `heapMemoryPressure` tells V8. */
export type HeapPressureLevel = "none" | "moderate" | "critical";

/**
 * Tells V8 this thread's heap is under memory pressure, so it gives back the pages it keeps
 * committed (`Isolate::MemoryPressureNotification`); `true` when the call was made.
 *
 * An ordinary major GC frees objects but leaves half-empty pages committed: a daemon whose heap
 * peaked once (a start that programs 25,000 objects) keeps the peak's pages, ~40 MiB of RSS at
 * 20,000 checks. `"moderate"` starts an incremental mark-compact that evacuates the fragmented
 * pages and releases the empty ones, without a long pause (it marks concurrently and in steps,
 * as the program runs); `"critical"` collects that way at once, blocking (tens of milliseconds
 * per 100 MiB of heap). A no-op returning `false` without the addon or with one built before it
 * had this function.
 */
export function heapMemoryPressure(level: HeapPressureLevel): boolean {
  let notify: NativeBinding["memoryPressure"];
  try {
    notify = native().memoryPressure;
  } catch {
    return false; // addon not built
  }
  return typeof notify === "function" ? notify(level) : false;
}

/**
 * Replaces this process with `path` run with `argv` and `env` (execve(2)): same PID, same open
 * descriptors without close-on-exec. For a daemon that must restart itself with V8 flags only a
 * command line sets (the young generation's size); Node 20 has no `process.execve`. Returns only
 * by throwing a SysError `SYS_EXEC` (the exec failed, or the addon predates this function).
 */
export function execProcess(path: string, argv: readonly string[], env: NodeJS.ProcessEnv): never {
  const exec = native().execve;
  if (typeof exec !== "function") {
    throw new SysError(
      "SYS_EXEC",
      "@lvs/sys native addon has no execve: rebuild it (`npm rebuild @lvs/sys`)",
      {
        object: path,
      },
    );
  }
  const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  try {
    return exec(path, [...argv], envList);
  } catch (err) {
    throw fromNative("SYS_EXEC", path, err);
  }
}
