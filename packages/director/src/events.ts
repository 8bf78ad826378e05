// What goes into the director's engine and what comes out of it. Events carry everything the
// engine needs (a probe's outcome with its target's full status, the addresses on the host, what
// the dataplane holds); effects are what the shell does about them (log a transition, run a
// script, ask for a reconcile pass, save the state file, reconfigure the checks…). The engine
// never does I/O and the shell never decides.
import type { Script } from "@lvs/config";
import type { TargetConfig } from "@lvs/healthcheck";
import type { ServiceWithDests } from "@lvs/ipvs";
import type { Plan, PlannedRealServer, PlannedVirtualServer } from "./compile.js";
import type { DestConnections } from "./dataplane.js";
import type { RuntimeServer } from "./runtime-servers.js";

/** What the engine knows about one health-check target. */
export interface HealthState {
  up: boolean;
  /** The runner's weight for the target (slow start, misc_dynamic); ignored while down. */
  weight: number;
  reason?: string;
  latencyMs?: number;
  /** When the last result arrived (epoch ms). */
  at?: number;
}

export interface DrainState {
  phase: "draining" | "drained";
  /** Epoch ms when the drain was asked for. */
  since: number;
  /** Epoch ms after which the server is removed even with connections left. */
  deadline: number | undefined;
  /** Epoch ms when it was removed. */
  doneAt?: number;
  /** Why it was removed: no active connections left, or the timeout. */
  doneReason?: "idle" | "timeout";
}

/** Runtime changes to one real server of one virtual server (persisted in the state file). */
export interface Override {
  /** Replaces the configured weight. */
  weight?: number;
  /** Administratively out of the pool (removed from the kernel; checks go on). */
  disabled?: boolean;
  drain?: DrainState;
}

/** The whole director is drained (`lvsctl drain --director`): nothing announced over BGP. */
export interface DirectorDrain {
  /** Epoch ms when it was asked for. */
  since: number;
}

/** A change asked for through the runtime API. */
export type RuntimeChange =
  | { op: "drain"; timeoutMs: number | undefined }
  | { op: "undrain" }
  | { op: "weight"; weight: number | undefined }
  | { op: "disable"; disabled: boolean }
  /** A real server that is not in the configuration joins the virtual server (keepalived #1296). */
  | { op: "add"; server: RuntimeServer }
  /** A real server added at runtime leaves it. */
  | { op: "remove" };

/** The status of a target as the health runner has it (TargetStatus's fields the engine uses). */
export interface TargetWeight {
  id: string;
  up: boolean;
  weight: number;
}

export type DirectorEvent =
  /** The configuration, at start (with the state file's overrides) and at each reload. */
  | {
      kind: "config";
      plan: Plan;
      overrides?: ReadonlyMap<string, Override>;
      /** The state file's real servers added at runtime (at start), by virtual server key. */
      runtimeServers?: Readonly<Record<string, readonly RuntimeServer[]>>;
      /** The state file's drain of the whole director (at start; absent: unchanged). */
      directorDrain?: DirectorDrain | null;
      localAddresses: ReadonlySet<string>;
    }
  /** `lvsctl drain --director` (true) / `undrain --director` (false). */
  | { kind: "director-drain"; drained: boolean }
  /** A probe's outcome with its target's status after it (state, weight; `at`: epoch ms). */
  | { kind: "health"; id: string; state: HealthState & { at: number } }
  /** The runner's current weights (slow start ramps between probes). */
  | { kind: "weights"; targets: readonly TargetWeight[] }
  /** The addresses on this host's interfaces (ha_suspend). */
  | { kind: "addresses"; local: ReadonlySet<string> }
  | { kind: "vrrp"; instance: string; from: string; to: string }
  /** Time to look at the draining servers' connections. */
  | { kind: "drain-poll" }
  /** Connection counts of `services`, as asked for by a `read-connections` effect. */
  | { kind: "connections"; services: ReadonlySet<string>; counts: readonly DestConnections[] }
  /** What a reconcile pass read (`scope`: the services it covers; undefined: all). */
  | { kind: "observed"; actual: readonly ServiceWithDests[]; scope: ReadonlySet<string> | undefined }
  | { kind: "change"; vsKey: string; rsKey: string; change: RuntimeChange }
  /** The daemon stops (omega's down notifiers). */
  | { kind: "stop" }
  /** What becomes of the table at stop; `requested`: the caller asked to remove our services. */
  | { kind: "release"; requested: boolean };

/** A transition keepalived reports (and acts on). */
export type Transition =
  | {
      kind: "quorum";
      vs: PlannedVirtualServer;
      up: boolean;
      /** At start (keepalived: "Starting with quorum up/down"). */
      init: boolean;
      weightSum: number;
      threshold: number;
    }
  | {
      kind: "rs";
      vs: PlannedVirtualServer;
      rs: PlannedRealServer;
      up: boolean;
      reason: string | undefined;
      /** rs_init_notifies: the state a real server starts in (notifies only, no log line or mail). */
      init?: boolean;
    }
  | { kind: "drain"; vsKey: string; rsKey: string; reason: "idle" | "timeout"; activeConns: number }
  /**
   * A real server added or removed at runtime, or one the configuration now names (a reload
   * replaced the runtime entry by the configured server).
   */
  | {
      kind: "runtime-server";
      vs: PlannedVirtualServer;
      rs: PlannedRealServer;
      change: "added" | "removed" | "configured";
    };

export type ScriptName = "quorum_up" | "quorum_down" | "notify_up" | "notify_down";

export type EngineEffect =
  | Transition
  /** Run a notify script; `shutdown`: at stop, awaited with a short timeout (omega). */
  | { kind: "script"; name: ScriptName; script: Script; shutdown?: boolean }
  /**
   * Reconcile these services (undefined: the whole table). `edit`: only the desired side changed (a
   * check's outcome): a targeted edit against what was last seen will do, no read first.
   */
  | { kind: "pass"; scope: ReadonlySet<string> | undefined; edit?: boolean }
  | { kind: "save-state" }
  /** Withdraw every BGP announcement (the director is drained) or announce again. */
  | { kind: "bgp-drain"; drained: boolean }
  /** The health checks that should run now. */
  | { kind: "checks"; targets: TargetConfig[] }
  /** ha_suspend holds (or releases) the checks of one real server. */
  | { kind: "suspend"; vs: PlannedVirtualServer; rs: PlannedRealServer; suspended: boolean }
  /** Some weight ramps (slow start): report the runner's weights every tick until it says stop. */
  | { kind: "slow-start"; running: boolean }
  /** The lvs_sync_daemon's VRRP instance is in this state now. */
  | { kind: "sync-role"; state: string }
  /** Read these services' connection counts and answer with a `connections` event. */
  | { kind: "read-connections"; services: ReadonlySet<string> }
  /** At stop: flush the table, delete our services, or leave it in place. */
  | { kind: "release"; how: "flush" | "delete-services" | "keep" };
