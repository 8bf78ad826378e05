import {
  capYoungGeneration,
  DEFAULT_HEAP_REDUCE_INTERVAL_S,
  DEFAULT_SEMI_SPACE_MIB,
  HEAP_REDUCE_ENV,
  heapReduceIntervalS,
  OPTIMIZE_FOR_SIZE_ENV,
  optimizeHeapForSize,
  SEMI_SPACE_ENV,
  semiSpaceMib,
  startHeapReducer,
  wantsOptimizeForSize,
} from "@lvs/director";
import { type Command, InvalidArgumentError, Option } from "commander";
import { DAEMON_NATIVE_ADDONS, preloadNativeAddons } from "./native-addon.js";

function mibArg(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 1024)
    throw new InvalidArgumentError("--max-semi-space must be an integer 0..1024 (MiB; 0 = V8's default)");
  return Number(v);
}

function secondsArg(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 86400)
    throw new InvalidArgumentError("--heap-reduce-interval must be an integer 0..86400 (seconds; 0 = off)");
  return Number(v);
}

/** The daemon commands' `--max-semi-space <MiB>` (the young generation's cap; see the director README). */
export function addSemiSpaceOption(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--max-semi-space <MiB>",
        `cap V8's young generation (per semi-space; 0 = V8's default, up to 16): less RSS for more frequent minor GCs (default: $${SEMI_SPACE_ENV} or ${DEFAULT_SEMI_SPACE_MIB})`,
      ).argParser(mibArg),
    )
    .addOption(
      new Option(
        "--optimize-for-size",
        `V8's --optimize-for-size: the heap grows by smaller steps, for passes that take up to 65 % longer; little RSS to gain beside the heap reducer (also $${OPTIMIZE_FOR_SIZE_ENV}=1)`,
      ),
    )
    .addOption(
      new Option(
        "--heap-reduce-interval <s>",
        `every <s> seconds, ask V8 to compact the heap when much more is committed than used (incremental, no long pause; 0 = off; default $${HEAP_REDUCE_ENV} or ${DEFAULT_HEAP_REDUCE_INTERVAL_S})`,
      ).argParser(secondsArg),
    );
}

/**
 * Restarts the daemon in place with the cap, first thing (see @lvs/director capYoungGeneration),
 * then starts the heap reducer (@lvs/director startHeapReducer).
 * A bundle without its addons says so in its one line first, rather than warn about the restart.
 */
export async function restartWithSemiSpaceCap(
  o: { maxSemiSpace?: number; optimizeForSize?: boolean; heapReduceInterval?: number },
  command: string,
): Promise<void> {
  preloadNativeAddons(DAEMON_NATIVE_ADDONS);
  // The flag, else the environment (off by default: it costs CPU).
  if (wantsOptimizeForSize(o.optimizeForSize ? true : undefined)) optimizeHeapForSize();
  await capYoungGeneration(semiSpaceMib(o.maxSemiSpace), (m) =>
    process.stderr.write(`lvsctl ${command}: warning: ${m}\n`),
  );
  // In the restarted process (capYoungGeneration returns only there, or when it had nothing to do).
  startHeapReducer({ intervalMs: heapReduceIntervalS(o.heapReduceInterval) * 1000 });
}
