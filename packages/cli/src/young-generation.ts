import {
  capYoungGeneration,
  DEFAULT_SEMI_SPACE_MIB,
  OPTIMIZE_FOR_SIZE_ENV,
  optimizeHeapForSize,
  SEMI_SPACE_ENV,
  semiSpaceMib,
  wantsOptimizeForSize,
} from "@lvs/director";
import { type Command, InvalidArgumentError, Option } from "commander";
import { DAEMON_NATIVE_ADDONS, preloadNativeAddons } from "./native-addon.js";

function mibArg(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 1024)
    throw new InvalidArgumentError("--max-semi-space must be an integer 0..1024 (MiB; 0 = V8's default)");
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
        `V8's --optimize-for-size: ~30 MiB less RSS at 20,000 checks (the heap gives back what bursts used), for passes that take up to 65 % longer (also $${OPTIMIZE_FOR_SIZE_ENV}=1)`,
      ),
    );
}

/**
 * Restarts the daemon in place with the cap, first thing (see @lvs/director capYoungGeneration).
 * A bundle without its addons says so in its one line first, rather than warn about the restart.
 */
export async function restartWithSemiSpaceCap(
  o: { maxSemiSpace?: number; optimizeForSize?: boolean },
  command: string,
): Promise<void> {
  preloadNativeAddons(DAEMON_NATIVE_ADDONS);
  // The flag, else the environment (off by default: it costs CPU).
  if (wantsOptimizeForSize(o.optimizeForSize ? true : undefined)) optimizeHeapForSize();
  await capYoungGeneration(semiSpaceMib(o.maxSemiSpace), (m) =>
    process.stderr.write(`lvsctl ${command}: warning: ${m}\n`),
  );
}
