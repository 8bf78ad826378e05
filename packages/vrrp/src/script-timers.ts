/**
 * vrrp_script timers: each script runs every `interval` (never two runs of one script at once,
 * as keepalived), its result goes through rise/fall (tracking.ts) and, when it flips, every
 * instance gets its tracking again.
 */
import type { ResolvedScript } from "./options.js";
import type { RouterCore, ScriptRuntime } from "./router-core.js";
import { ScriptResult } from "./tracking.js";

export function scriptRuntime(s: ResolvedScript, result?: ScriptResult): ScriptRuntime {
  return {
    s,
    result: result ?? new ScriptResult(s.rise, s.fall, s.initFail),
    running: false,
    runs: 0,
    timer: undefined,
  };
}

export class ScriptTimers {
  constructor(private readonly core: RouterCore) {}

  /** Adds a script (not yet scheduled). */
  add(s: ScriptRuntime): void {
    this.core.scripts.set(s.s.name, s);
  }

  /** Stops a script's timer for good and forgets it; a run still going is ignored. */
  retire(s: ScriptRuntime): void {
    s.retired = true;
    if (s.timer !== undefined) this.core.clock.clearTimeout(s.timer);
    s.timer = undefined;
    if (this.core.scripts.get(s.s.name) === s) this.core.scripts.delete(s.s.name);
  }

  /** Stops every timer (router stop). */
  stopAll(): void {
    for (const s of this.core.scripts.values())
      if (s.timer !== undefined) this.core.clock.clearTimeout(s.timer);
  }

  schedule(s: ScriptRuntime, delayMs: number): void {
    const core = this.core;
    if (core.stopped || s.retired) return;
    s.timer = core.clock.setTimeout(() => {
      s.timer = undefined;
      this.schedule(s, s.s.intervalMs);
      // keepalived: "Track script %s is already running, expect idle - skipping run"
      if (s.running) return;
      s.running = true;
      void core.io.runScript(s.s.command, s.s.timeoutMs).then((o) => {
        s.running = false;
        s.runs++;
        if (core.stopped || s.retired) return;
        if (s.result.update(o.ok) !== undefined) core.retrack();
      });
    }, delayMs);
  }
}
