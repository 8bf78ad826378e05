/**
 * I/O: keepalived's notifications (vrrp_notify.c). On a transition: the state's own script
 * (notify_master / notify_backup / notify_fault / notify_stop) with its configured arguments,
 * then the generic `notify` script with four more: `INSTANCE|GROUP "name"… STATE PRIORITY` (a
 * group's priority is 0), and one line on the notify FIFO: `INSTANCE "VI_1" MASTER 100`.
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, lstatSync, openSync, writeSync } from "node:fs";
import type { VrrpState } from "./engine.js";
import { fromSystemError, VrrpError } from "./errors.js";
import { runScript, type ScriptCommand, type ScriptOutcome } from "./scripts.js";

/** keepalived's notify scripts of one instance or group. */
export interface NotifyScripts {
  master?: ScriptCommand;
  backup?: ScriptCommand;
  fault?: ScriptCommand;
  stop?: ScriptCommand;
  /** Generic `notify`: called after the state's script with TYPE NAME STATE PRIORITY appended. */
  any?: ScriptCommand;
  /** `notify_master_rx_lower_pri` (instances only). */
  masterRxLowerPri?: ScriptCommand;
}

export type NotifyKind = "INSTANCE" | "GROUP";

/** keepalived's state words (vrrp_notify.c notify_fifo()). */
export function stateWord(
  state: VrrpState | "MASTER_RX_LOWER_PRI" | "MASTER_PRIORITY" | "BACKUP_PRIORITY",
): string {
  switch (state) {
    case "master":
      return "MASTER";
    case "backup":
      return "BACKUP";
    case "fault":
      return "FAULT";
    case "stop":
      return "STOP";
    case "init":
      return "{UNKNOWN}";
    default:
      return state;
  }
}

/** One FIFO line, keepalived's `"%s \"%s\" %s %d\n"`. */
export function fifoLine(kind: NotifyKind, name: string, state: string, priority: number): string {
  return `${kind} "${name}" ${state} ${priority}\n`;
}

/** The generic notify script's argv: configured args + TYPE NAME STATE PRIORITY. */
export function notifyArgv(
  script: ScriptCommand,
  kind: NotifyKind,
  name: string,
  state: string,
  priority: number,
): string[] {
  return [...script.argv, kind, name, state, String(priority)];
}

/** keepalived's notify FIFO: created if missing (mode 0600), opened read-write so writes never block on a missing reader. */
export class NotifyFifo {
  private fd: number | undefined;
  /** Lines not written because the FIFO was full (no reader draining it). */
  dropped = 0;
  written = 0;

  constructor(readonly path: string) {
    let isFifo = false;
    try {
      const st = lstatSync(path);
      if (!st.isFIFO()) {
        throw new VrrpError("VRRP_FIFO", `${path} exists and is not a FIFO`, { object: path });
      }
      isFifo = true;
    } catch (err) {
      if (err instanceof VrrpError) throw err;
    }
    if (!isFifo) {
      try {
        execFileSync("mkfifo", ["-m", "600", path], { stdio: "ignore" });
      } catch (err) {
        // Another writer (the director's LVS side, or our VRRP child) may have made it meanwhile.
        let madeMeanwhile = false;
        try {
          madeMeanwhile = lstatSync(path).isFIFO();
        } catch {}
        if (!madeMeanwhile) {
          throw fromSystemError("VRRP_FIFO", `cannot create the FIFO ${path}`, err, { object: path });
        }
      }
    }
    try {
      this.fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    } catch (err) {
      throw fromSystemError("VRRP_FIFO", `cannot open the FIFO ${path}`, err, { object: path });
    }
  }

  write(line: string): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, line);
      this.written++;
    } catch {
      this.dropped++; // EAGAIN: full, nobody reading
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface NotifierOptions {
  fifos?: NotifyFifo[];
  /** Injected script runner (tests). */
  run?: (cmd: ScriptCommand) => Promise<ScriptOutcome>;
  /** Reports failed notify scripts. */
  onScriptError?: (what: string, outcome: ScriptOutcome) => void;
  /** Network namespace the scripts start in. */
  netns?: string;
}

/** Sends keepalived's notifications for instances and groups. */
export class Notifier {
  private readonly run: (cmd: ScriptCommand) => Promise<ScriptOutcome>;
  /** Notify scripts still running (awaited on shutdown, as keepalived waits for notify_stop). */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly opts: NotifierOptions = {}) {
    this.run = opts.run ?? ((cmd) => runScript(cmd, undefined, opts.netns));
  }

  private exec(cmd: ScriptCommand, what: string): void {
    const p = this.run(cmd).then((o) => {
      if (!o.ok) this.opts.onScriptError?.(what, o);
    });
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** A state change of an instance or group. */
  state(
    kind: NotifyKind,
    name: string,
    state: VrrpState,
    priority: number,
    scripts: NotifyScripts | undefined,
  ): void {
    const word = stateWord(state);
    const own =
      state === "master" || state === "backup" || state === "fault" || state === "stop"
        ? scripts?.[state]
        : undefined;
    if (own) this.exec(own, `notify_${state} of ${name}`);
    if (scripts?.any)
      this.exec(
        { ...scripts.any, argv: notifyArgv(scripts.any, kind, name, word, priority) },
        `notify of ${name}`,
      );
    for (const f of this.opts.fifos ?? []) f.write(fifoLine(kind, name, word, priority));
  }

  /** A FIFO line only (keepalived fifo_write_vrrp_states_on_reload: states kept across a reload). */
  fifo(kind: NotifyKind, name: string, state: VrrpState, priority: number): void {
    for (const f of this.opts.fifos ?? []) f.write(fifoLine(kind, name, stateWord(state), priority));
  }

  /** An event that is not a state (MASTER_RX_LOWER_PRI, MASTER_PRIORITY, BACKUP_PRIORITY). */
  event(
    name: string,
    event: "MASTER_RX_LOWER_PRI" | "MASTER_PRIORITY" | "BACKUP_PRIORITY",
    priority: number,
    script?: ScriptCommand,
  ): void {
    if (script) this.exec(script, `notify_master_rx_lower_pri of ${name}`);
    for (const f of this.opts.fifos ?? []) f.write(fifoLine("INSTANCE", name, event, priority));
  }

  /** Resolves when every notify script started so far has ended (bounded by `timeoutMs`). */
  async drain(timeoutMs = 5000): Promise<void> {
    if (this.running.size === 0) return;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise((r) => {
      t = setTimeout(r, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
    if (t) clearTimeout(t);
  }
}
