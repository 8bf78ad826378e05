// The V8 young generation's cap. Its two semi-spaces grow to 16 MiB each while 20,000 checks run
// (short-lived promises, buffers, timers) and V8 never shrinks them: 32 MiB of RSS for garbage.
// Only the command line (or NODE_OPTIONS) sets the cap: `v8.setFlagsFromString` after start does
// not resize a heap that already exists. So a daemon started without it restarts itself, in the
// same process (execve), with the flag in NODE_OPTIONS, before it does anything else.
import { execProcess } from "@lvs/sys";

/** The environment variable that sets the cap in MiB when no command-line flag does. */
export const SEMI_SPACE_ENV = "LVS_MAX_SEMI_SPACE_MIB";

/**
 * 2 MiB per semi-space: RSS 25–30 MiB lower at 5,000 services and 20,000 checks, for more
 * frequent scavenges (each cheaper); see the README's memory section. 0 keeps V8's default.
 */
export const DEFAULT_SEMI_SPACE_MIB = 2;

const FLAG = "--max-semi-space-size";

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
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${FLAG}=${mib}`.trim() };
  const argv = (await singleExecutable())
    ? [process.execPath, ...process.argv.slice(2)]
    : [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  try {
    execProcess(process.execPath, argv, env);
  } catch (err) {
    warn(`cannot restart with ${FLAG}=${mib} (${(err as Error).message}); V8's default young generation`);
  }
}
