// The V8 young generation's cap. Its two semi-spaces grow to 16 MiB each while 20,000 checks run
// (short-lived promises, buffers, timers) and V8 never shrinks them: 32 MiB of RSS for garbage.
// Only the command line (or NODE_OPTIONS) sets the cap: `v8.setFlagsFromString` after start does
// not resize a heap that already exists. So a daemon started without it restarts itself, in the
// same process (execve), with the flag in NODE_OPTIONS, before it does anything else.
import { setFlagsFromString } from "node:v8";
import { execProcess } from "@lvs/sys";

/** The environment variable that sets the cap in MiB when no command-line flag does. */
export const SEMI_SPACE_ENV = "LVS_MAX_SEMI_SPACE_MIB";

/**
 * 2 MiB per semi-space: RSS 25–30 MiB lower at 5,000 services and 20,000 checks, for more
 * frequent scavenges (each cheaper); see the README's memory section. 0 keeps V8's default.
 */
export const DEFAULT_SEMI_SPACE_MIB = 2;

const FLAG = "--max-semi-space-size";

/** glibc malloc arenas the restarted daemon gets unless $MALLOC_ARENA_MAX says otherwise. */
export const DEFAULT_MALLOC_ARENA_MAX = "2";

/** The cap asked for: the option, else $LVS_MAX_SEMI_SPACE_MIB, else the default. */
export function semiSpaceMib(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) return option;
  const v = env[SEMI_SPACE_ENV];
  if (v === undefined || v === "") return DEFAULT_SEMI_SPACE_MIB;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 1024 ? n : DEFAULT_SEMI_SPACE_MIB;
}

/** Whether this process already runs with a semi-space flag (then it is left as the user set it). */
function flagged(): boolean {
  return process.execArgv.some((a) => a.startsWith(FLAG)) || (process.env.NODE_OPTIONS ?? "").includes(FLAG);
}

/** Whether this is a single executable (its argv[1] repeats the binary and takes no Node flags). */
async function singleExecutable(): Promise<boolean> {
  try {
    const sea = (await import("node:sea")) as { isSea?: () => boolean };
    return sea.isSea?.() ?? false;
  } catch {
    return false;
  }
}

/**
 * Restarts this process (same PID: execve) with the young generation capped at `mib` MiB per
 * semi-space, unless it already has a cap or `mib` is 0. Call it first thing in a daemon's start,
 * before it has side effects. Returns only when there is nothing to do or the restart could not
 * happen (`warn` says why; the daemon then runs with V8's default).
 */
export async function capYoungGeneration(mib: number, warn: (message: string) => void): Promise<void> {
  if (mib <= 0 || flagged()) return;
  const env = {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${FLAG}=${mib}`.trim(),
    // glibc's malloc arenas, two instead of up to eight per core: memory a thread freed (the
    // config worker's parse, the netlink pool threads) goes back to arenas the others use, ~5 MiB
    // less RSS at 20,000 checks. Read by glibc at start, hence here; the user's value stays.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? DEFAULT_MALLOC_ARENA_MAX,
  };
  const argv = (await singleExecutable())
    ? [process.execPath, ...process.argv.slice(2)]
    : [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  try {
    execProcess(process.execPath, argv, env);
  } catch (err) {
    warn(`cannot restart with ${FLAG}=${mib} (${(err as Error).message}); V8's default young generation`);
  }
}

/** The environment variable that turns the daemon's heap sizing for memory on ("1"). */
export const OPTIMIZE_FOR_SIZE_ENV = "LVS_V8_OPTIMIZE_FOR_SIZE";

/** Whether the daemon sizes its heap for memory: the option, else $LVS_V8_OPTIMIZE_FOR_SIZE=1; off by default. */
export function wantsOptimizeForSize(
  option: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (option !== undefined) return option;
  return env[OPTIMIZE_FOR_SIZE_ENV] === "1";
}

/**
 * V8's `--optimize-for-size`, set in this process: the heap grows by smaller steps and gives
 * back what a burst used (a start that programs 25,000 objects, 20,000 first check results in a
 * minute). Measured at 5,000 services and 20,000 checks after 70 s (bench/memory-host.mjs): the
 * same ~77 MiB of live heap, V8's committed heap ~86–91 MiB instead of ~128 MiB, RSS 145–151 MiB
 * instead of ~183 MiB. Not the default: it costs CPU, the director's no-op passes took 45–65 %
 * longer with it in the VM (see the README). Set at run time, not on the command line, so a
 * single executable gets it too; call it first thing, before the daemon allocates.
 */
export function optimizeHeapForSize(): void {
  setFlagsFromString("--optimize-for-size");
}
