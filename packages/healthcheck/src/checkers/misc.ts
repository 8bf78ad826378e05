import { spawn } from "node:child_process";
import { MISC_DYNAMIC_WEIGHT_OFFSET } from "../constants.js";
import { stopProcessGroup } from "../process-group.js";
import type { MiscCheck, ProbeOptions, ProbeResult } from "../types.js";
import { Attempt, errorReason } from "./util.js";

/**
 * MISC_CHECK: run `miscPath` as argv (no shell). keepalived.conf.5: exit 0 = up, 1 = down;
 * with `misc_dynamic`, 2..255 = up with weight = status - 2. The program runs in a process group
 * of its own; on timeout (or cancel) the whole group gets SIGTERM, then SIGKILL, so nothing it
 * started outlives the check.
 */
export function checkMisc(
  def: MiscCheck,
  opts: ProbeOptions = {},
  defaultTimeoutS = 60,
): Promise<ProbeResult> {
  const attempt = new Attempt(def.miscTimeout ?? defaultTimeoutS, opts);
  const [file, ...args] = def.miscPath;
  if (file === undefined) {
    attempt.down("misc_path is empty");
    return attempt.promise;
  }
  const child = spawn(file, args, {
    shell: false,
    stdio: "ignore",
    detached: true,
    ...(def.user !== undefined ? { uid: def.user.uid, gid: def.user.gid ?? def.user.uid } : {}),
  });
  attempt.onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      stopProcessGroup(child.pid);
  });
  child.once("error", (err) => attempt.down(`${file}: ${errorReason(err)}`));
  child.once("exit", (code, signal) => {
    if (code === null) attempt.down(`killed by ${signal}`);
    else if (code === 0) attempt.up("exit 0");
    else if (code === 1 || !def.miscDynamic) attempt.down(`exit ${code}`);
    else attempt.up(`exit ${code}`, code - MISC_DYNAMIC_WEIGHT_OFFSET);
  });
  return attempt.promise;
}
