// The director's sysctls on its host (shell): at start and reload, each sysctl the plan needs
// (sysctls.ts) is read; a lacking one is warned about, or — with `lvs_director_sysctl` — set,
// remembering the value it had; at stop those are put back, unless someone changed them since.
import { readSysctlSync, writeSysctlSync } from "@lvs/netconf";
import type { Logger } from "./log.js";
import type { Plan } from "./plan.js";
import { CONNTRACK_PROBE, directorSysctls } from "./sysctls.js";

/** Reading and writing sysctls (the host's through @lvs/netconf; a map in tests). */
export interface SysctlAccess {
  /** The value, undefined when the key does not exist. */
  read(key: string): string | undefined;
  write(key: string, value: string): void;
}

/** The sysctls of the namespace the director programs (`netns`: that namespace; default: ours). */
export function hostSysctls(netns?: string): SysctlAccess {
  const opts = netns === undefined ? {} : { netns };
  return {
    read: (key) => readSysctlSync(key, opts),
    write: (key, value) => writeSysctlSync(key, value, opts),
  };
}

/** A sysctl the daemon set: the value it had before, and what was set (kept in the state file). */
export interface SavedSysctl {
  previous: string;
  set: string;
}

export class DirectorSysctls {
  /** key → the value it had before we set it, and what we set. */
  private readonly saved = new Map<string, SavedSysctl>();

  constructor(
    private readonly access: SysctlAccess,
    private readonly log: Logger,
  ) {}

  /** What the state file keeps, so a restart after kill -9 still restores the old values at stop. */
  savedRecord(): Record<string, SavedSysctl> {
    return Object.fromEntries([...this.saved].map(([k, v]) => [k, { ...v }]));
  }

  /** The state file's record, at start (before ensure()). */
  restoreSaved(record: Readonly<Record<string, SavedSysctl>>): void {
    for (const [k, v] of Object.entries(record)) this.saved.set(k, { ...v });
  }

  /**
   * At start and reload: warn about (or, with `set`, set) each sysctl the plan lacks. True when
   * something was set (the state file should be written).
   */
  ensure(plan: Plan, set: boolean): boolean {
    let changed = false;
    const facts = { conntrack: this.read(CONNTRACK_PROBE) !== undefined };
    for (const n of directorSysctls(plan, facts)) {
      const current = this.read(n.key);
      if (current === undefined) {
        this.log.warn(
          { sysctl: n.key },
          `${n.key} does not exist here (module not loaded?); ${n.why} needs it`,
        );
        continue;
      }
      if (current.trim() === n.value) continue;
      if (!set) {
        this.log.warn(
          { sysctl: n.key, value: current, want: n.value },
          `${n.key} is ${current}; ${n.why} needs ${n.value}: run \`sysctl -w ${n.key}=${n.value}\`, or add lvs_director_sysctl to global_defs (YAML: globalDefs.lvsDirectorSysctl: true) to have it set at start and restored at stop`,
        );
        continue;
      }
      try {
        this.access.write(n.key, n.value);
      } catch (err) {
        this.log.warn({ err, sysctl: n.key }, `Cannot set ${n.key}=${n.value}: ${(err as Error).message}`);
        continue;
      }
      if (!this.saved.has(n.key)) this.saved.set(n.key, { previous: current, set: n.value });
      changed = true;
      this.log.info(
        { sysctl: n.key, value: n.value, previous: current },
        `Set ${n.key}=${n.value} (was ${current}) for ${n.why}; restored at stop`,
      );
    }
    return changed;
  }

  /** At stop: every value we set goes back to what it was, unless it was changed since. */
  restore(): void {
    for (const [key, { previous, set }] of this.saved) {
      const current = this.read(key);
      if (current?.trim() !== set) {
        this.log.warn(
          { sysctl: key, value: current },
          `${key} is ${current ?? "gone"} now, not the ${set} we set: left as it is (it was ${previous})`,
        );
        continue;
      }
      try {
        this.access.write(key, previous);
        this.log.info({ sysctl: key, value: previous }, `Restored ${key}=${previous}`);
      } catch (err) {
        this.log.warn({ err, sysctl: key }, `Cannot restore ${key}=${previous}: ${(err as Error).message}`);
      }
    }
    this.saved.clear();
  }

  private read(key: string): string | undefined {
    try {
      return this.access.read(key);
    } catch (err) {
      this.log.warn({ err, sysctl: key }, `Cannot read ${key}: ${(err as Error).message}`);
      return undefined;
    }
  }
}
