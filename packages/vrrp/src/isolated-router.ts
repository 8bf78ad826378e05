/**
 * IsolatedRouter: a VrrpRouter in a child process (keepalived runs VRRP and the checkers in
 * separate processes for the same reason): whatever blocks the caller's event loop — parsing a
 * big keepalived.conf on SIGHUP, reconciling thousands of virtual servers — cannot delay an
 * advert. The child is forked with `child_process.fork` (not a worker thread: the raw-socket
 * addon does not load in a worker, "Module did not self-register", and the netlink addon aborts
 * the process when a worker loads it) and driven over its IPC channel (isolation-protocol.ts).
 *
 * Same surface as VrrpRouter (VrrpRouterLike): start, stop, reload(options) with options
 * already parsed here, status() (the child's last snapshot: pushed after every state change and
 * reload and every `statusIntervalMs`), events. If the child dies unexpectedly: an "error" event
 * (VRRP_CHILD_EXIT), a "state" event to FAULT for each instance it ran, and a new child after a
 * bounded back-off, started with the configuration in force. If this process dies, the child sees
 * its IPC channel close and stops cleanly.
 */
import { type ChildProcess, fork } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VrrpError } from "./errors.js";
import {
  type ChildMessage,
  fromWire,
  ISOLATED_CHILD_ENV,
  type ParentMessage,
  type WireError,
} from "./isolation-protocol.js";
import type { VrrpRouterOptions } from "./options.js";
import { setProcessNice, setProcessRealtime } from "./process-priority.js";
import { emptySummary, type ReloadSummary } from "./reload-plan.js";
import type { VrrpRouterLike } from "./router.js";
import type { StateChange } from "./router-core.js";
import { planOf } from "./router-plan.js";
import type { RouterStatus } from "./router-status.js";

/** How the child is started: a module run by node (or by this executable, for a bundled program). */
export interface IsolatedRouterEntry {
  modulePath: string;
  args?: string[];
  /** Added to the child's environment (ISOLATED_CHILD_ENV is always set). */
  env?: Record<string, string>;
}

export interface IsolationOptions {
  /** Default: setDefaultIsolatedRouterEntry()'s, else this package's dist/isolated-entry.js. */
  entry?: IsolatedRouterEntry;
  /** Node options for the child (default none: an --inspect port must not be inherited). */
  execArgv?: string[];
  /** Restart back-off after an unexpected exit: first delay, doubling up to `maxDelayMs`. */
  restart?: { initialDelayMs?: number; maxDelayMs?: number; stableAfterMs?: number };
  /** How often the child pushes a status snapshot (ms; 0: only after changes). Default 1000. */
  statusIntervalMs?: number;
  /** How long stop() waits for the child's clean stop before SIGKILL (ms). Default 10000. */
  stopTimeoutMs?: number;
  /**
   * The child's nice value, -20..19 (keepalived's `vrrp_priority`), set on every thread of it:
   * below 0 (root) the kernel schedules the VRRP process ahead of the rest of a busy host.
   * Default: unchanged (vrrpSchedulingFromConfig() gives lvs's default for a configuration).
   */
  priority?: number;
  /** SCHED_RR priority 1..99 for the child (keepalived's `vrrp_rt_priority`). Default: none. */
  realtimePriority?: number;
}

/** What happened to the child process ("child" event). */
export type ChildEvent =
  | { type: "spawned"; pid: number; restart: number }
  | { type: "exited"; pid: number; code: number | null; signal: string | null; expected: boolean }
  | { type: "restarting"; pid: number; delayMs: number; restart: number };

let defaultEntry: IsolatedRouterEntry | undefined;

/**
 * The child entry for every IsolatedRouter of this process that names none. A program bundled
 * into one file (lvsctl) points it at itself and runs runIsolatedRouterChild() when
 * isIsolatedRouterChild().
 */
export function setDefaultIsolatedRouterEntry(entry: IsolatedRouterEntry | undefined): void {
  defaultEntry = entry;
}

function packagedEntry(): IsolatedRouterEntry {
  // dist/index.js → dist/isolated-entry.js; from the sources (tests), the built one
  const candidates = ["./isolated-entry.js", "../dist/isolated-entry.js"].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new VrrpError(
      "VRRP_CHILD",
      `no isolated VRRP router entry (looked for ${candidates.join(", ")}; build @lvs/vrrp or pass isolation.entry)`,
      {},
    );
  return { modulePath: found };
}

interface Pending {
  resolve: (m: Extract<ChildMessage, { type: "reply"; ok: true }>) => void;
  reject: (e: VrrpError) => void;
}

/** Requests wait here while no child runs the router (starting, restarting). */
class Gate {
  private waiters: Array<() => void> = [];
  private isOpen = false;
  open(): void {
    this.isOpen = true;
    for (const w of this.waiters.splice(0)) w();
  }
  close(): void {
    this.isOpen = false;
  }
  wait(): Promise<void> {
    return this.isOpen ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

const EMPTY_STATUS: RouterStatus = { instances: [], groups: [], interfaces: [], scripts: [] };

export class IsolatedRouter extends EventEmitter implements VrrpRouterLike {
  private opts: VrrpRouterOptions;
  private readonly iso: IsolationOptions;
  private child: ChildProcess | undefined;
  private snapshot: RouterStatus = EMPTY_STATUS;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly gate = new Gate();
  /** A child has run the router once: from then on an exit is a crash to restart from. */
  private everStarted = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private restarts = 0;
  private failures = 0;
  private spawnedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<unknown> = Promise.resolve();

  /** Checks `options` here (a VrrpError, as VrrpRouter's constructor); the child is forked by start(). */
  constructor(options: VrrpRouterOptions, isolation: IsolationOptions = {}) {
    super();
    planOf(options, () => {});
    this.opts = options;
    this.iso = isolation;
    // received adverts cross the channel only while someone listens
    this.on("newListener", (event) => {
      if (event === "advert" && this.listenerCount("advert") === 0) this.post({ type: "adverts", on: true });
    });
    this.on("removeListener", (event) => {
      if (event === "advert" && this.listenerCount("advert") === 0) this.post({ type: "adverts", on: false });
    });
  }

  get options(): VrrpRouterOptions {
    return this.opts;
  }

  /** The child's process id (undefined while none runs). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Forks the child and starts the router in it; rejects with the child's error if it cannot start. */
  start(): Promise<void> {
    if (this.stopping)
      return Promise.reject(new VrrpError("VRRP_STOPPED", "the router is stopped; make a new one", {}));
    this.starting ??= Promise.resolve()
      .then(() => this.launch())
      .finally(() => this.gate.open());
    return this.starting;
  }

  private entry(): IsolatedRouterEntry {
    return this.iso.entry ?? defaultEntry ?? packagedEntry();
  }

  /** Forks a child and starts the router in it with the configuration in force. */
  private launch(): Promise<void> {
    const entry = this.entry();
    const child = fork(entry.modulePath, entry.args ?? [], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: this.iso.execArgv ?? [],
      env: { ...process.env, ...entry.env, [ISOLATED_CHILD_ENV]: "1" },
    });
    this.child = child;
    this.spawnedAt = Date.now();
    // The main thread at once (its start-up runs at that priority), every thread once started.
    if (child.pid !== undefined) this.renice(child.pid);
    const started = new Promise<void>((resolve, reject) => {
      child.on("message", (m: ChildMessage) => {
        if (m.type === "started") {
          this.snapshot = m.status;
          this.everStarted = true;
          if (child.pid !== undefined) this.prioritize(child.pid);
          resolve();
        } else if (m.type === "start-failed") reject(fromWire(m.error));
        else this.onMessage(m);
      });
      child.once("exit", (code, signal) =>
        reject(
          new VrrpError(
            "VRRP_CHILD_EXIT",
            `VRRP child process exited before it started (${how(code, signal)})`,
            {
              object: `pid ${child.pid}`,
            },
          ),
        ),
      );
      child.once("error", (err) =>
        reject(
          new VrrpError("VRRP_CHILD", `cannot start the VRRP child: ${err.message}`, {}, { cause: err }),
        ),
      );
    });
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    // a message that cannot be sent (the channel closing under it) is reported, never thrown
    child.on("error", (err) => {
      if (this.child === child && this.everStarted)
        this.fail(new VrrpError("VRRP_CHILD", `VRRP child process: ${err.message}`, {}, { cause: err }));
    });
    this.post({
      type: "start",
      options: this.opts,
      statusIntervalMs: this.iso.statusIntervalMs ?? 1000,
      adverts: this.listenerCount("advert") > 0,
    });
    this.emit("child", { type: "spawned", pid: child.pid ?? 0, restart: this.restarts } satisfies ChildEvent);
    return started;
  }

  private renice(pid: number): void {
    const nice = this.iso.priority;
    if (nice === undefined) return;
    for (const p of setProcessNice(pid, nice)) this.warn(`VRRP child: ${p}`);
  }

  /** keepalived's vrrp_priority and vrrp_rt_priority, applied to the running child. */
  private prioritize(pid: number): void {
    this.renice(pid);
    const rt = this.iso.realtimePriority;
    if (rt !== undefined)
      void setProcessRealtime(pid, rt).then((problem) => {
        if (problem) this.warn(`VRRP child: ${problem}`);
      });
  }

  private warn(message: string): void {
    if (this.listenerCount("warning") > 0) this.emit("warning", message);
  }

  private post(msg: ParentMessage): void {
    const child = this.child;
    if (child?.connected) child.send(msg);
  }

  private onMessage(m: ChildMessage): void {
    switch (m.type) {
      case "state":
        this.emit("state", m.change);
        return;
      case "warning":
        if (this.listenerCount("warning") > 0) this.emit("warning", m.message);
        return;
      case "error":
        this.fail(fromWire(m.error));
        return;
      case "advert":
        this.emit("advert", m.advert);
        return;
      case "status":
        this.snapshot = m.status;
        return;
      case "reply":
        this.settle(m);
        return;
    }
  }

  private settle(m: Extract<ChildMessage, { type: "reply" }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) {
      this.snapshot = m.status;
      p.resolve(m);
    } else p.reject(fromWire(m.error as WireError));
  }

  private fail(err: VrrpError): void {
    if (this.listenerCount("error") > 0) this.emit("error", err);
  }

  /** One request to the child that runs the router, waiting for a start or restart in progress. */
  private async request(
    msg: { type: "reload"; options: VrrpRouterOptions } | { type: "status" },
  ): Promise<Extract<ChildMessage, { type: "reply"; ok: true }>> {
    await this.gate.wait();
    const child = this.child;
    if (this.stopping) throw new VrrpError("VRRP_STOPPED", "the router is stopped", {});
    if (!child?.connected)
      throw new VrrpError("VRRP_CHILD_EXIT", "the VRRP child process is not running", {});
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ ...msg, id } satisfies ParentMessage);
    });
  }

  /**
   * Reload in place in the child (VrrpRouter.reload), with a configuration parsed here. A
   * configuration the child refuses changes nothing (its VrrpError, with code and context).
   * Before start() it only replaces the configuration.
   */
  reload(options: VrrpRouterOptions): Promise<ReloadSummary> {
    const next = this.reloading.then(async () => {
      if (this.stopping)
        throw new VrrpError("VRRP_STOPPED", "the router is stopped; a reload needs a running router", {});
      if (!this.starting) return this.replaceBeforeStart(options);
      const reply = await this.request({ type: "reload", options });
      this.opts = options;
      return reply.summary as ReloadSummary;
    });
    this.reloading = next.catch(() => {});
    return next;
  }

  private replaceBeforeStart(options: VrrpRouterOptions): ReloadSummary {
    const plan = planOf(options, () => {});
    const summary = emptySummary();
    summary.instances.removed = this.opts.instances.map((i) => i.name);
    summary.scripts.removed = (this.opts.scripts ?? []).map((s) => s.name);
    summary.instances.added = plan.instances.map((r) => r.name);
    summary.scripts.added = [...plan.scripts.keys()];
    summary.groups.added = plan.groups.map((g) => g.name);
    this.opts = options;
    return summary;
  }

  /** The child's last status snapshot (see statusIntervalMs); fetchStatus() asks for a fresh one. */
  status(): RouterStatus {
    return this.snapshot;
  }

  async fetchStatus(): Promise<RouterStatus> {
    return (await this.request({ type: "status" })).status;
  }

  /** Clean stop in the child (priority-0 adverts, VIPs removed, STOP notifies), then its exit. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.gate.open();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const timer = setTimeout(() => child.kill("SIGKILL"), this.iso.stopTimeoutMs ?? 10_000);
    // the child stops once its start is over (a stop during start waits for it)
    if (child.connected) child.send({ type: "stop", id: this.nextId++ } satisfies ParentMessage);
    else child.kill("SIGTERM");
    await exited;
    clearTimeout(timer);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    const pid = child.pid ?? 0;
    this.child = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(
        new VrrpError("VRRP_CHILD_EXIT", `the VRRP child process exited (${how(code, signal)})`, {
          object: `pid ${pid}`,
        }),
      );
    }
    const expected = this.stopping !== undefined || !this.everStarted;
    this.emit("child", { type: "exited", pid, code, signal, expected } satisfies ChildEvent);
    // before the first start succeeded, start() rejects: nothing to restart from
    if (!expected) this.restartAfterCrash(pid, how(code, signal));
  }

  /** keepalived respawns its VRRP child: here after a back-off doubling up to maxDelayMs. */
  private restartAfterCrash(pid: number, why: string): void {
    const r = this.iso.restart ?? {};
    if (Date.now() - this.spawnedAt >= (r.stableAfterMs ?? 60_000)) this.failures = 0;
    const delayMs = Math.min(r.maxDelayMs ?? 30_000, (r.initialDelayMs ?? 200) * 2 ** this.failures);
    this.failures++;
    this.restarts++;
    this.gate.close();
    this.fail(
      new VrrpError(
        "VRRP_CHILD_EXIT",
        `VRRP child process ${pid} exited (${why}); restarting it in ${delayMs} ms`,
        {
          object: `pid ${pid}`,
        },
      ),
    );
    this.faultAll("VRRP child process exited");
    this.emit("child", { type: "restarting", pid, delayMs, restart: this.restarts } satisfies ChildEvent);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      // a child that fails to start exits: onExit schedules the next attempt
      Promise.resolve()
        .then(() => this.launch())
        .then(
          () => this.gate.open(),
          (err: VrrpError) => this.fail(err),
        );
    }, delayMs);
  }

  /** Nothing advertises for the instances the dead child ran: FAULT until the new child reports. */
  private faultAll(reason: string): void {
    const at = Date.now();
    const instances = this.snapshot.instances.map((i) => {
      if (i.state === "fault" || i.state === "stop") return i;
      this.emit("state", {
        kind: "INSTANCE",
        name: i.name,
        from: i.state,
        to: "fault",
        priority: i.effectivePriority,
        reason,
        at,
      } satisfies StateChange);
      return { ...i, state: "fault" as const };
    });
    this.snapshot = { ...this.snapshot, instances };
  }
}

function how(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/** An IsolatedRouter for `options` (the child is forked by start()). */
export function spawnIsolatedRouter(
  options: VrrpRouterOptions,
  isolation?: IsolationOptions,
): IsolatedRouter {
  return new IsolatedRouter(options, isolation);
}
