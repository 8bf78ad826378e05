/**
 * The VRRP child process of an IsolatedRouter (keepalived's VRRP process): a VrrpRouter with its
 * sockets, timers, state machine, scripts, notifies and VIPs, driven over the IPC channel. It
 * never reads a configuration file: the parent sends configurations already parsed. When the
 * channel closes (the parent died or let go), or on SIGTERM, it stops cleanly — priority-0
 * adverts, VIPs removed — and exits. SIGINT and SIGHUP are the parent's to handle (a terminal's
 * Ctrl-C reaches the whole process group; the parent then asks for the stop).
 */
import { VrrpError } from "./errors.js";
import { type ChildMessage, ISOLATED_CHILD_ENV, type ParentMessage, toWire } from "./isolation-protocol.js";
import type { ReloadSummary } from "./reload-plan.js";
import { type StateChange, VrrpRouter } from "./router.js";
import type { RouterStatus } from "./router-status.js";

/** True in a process forked by an IsolatedRouter (for entry points shared with other programs). */
export function isIsolatedRouterChild(): boolean {
  return process.env[ISOLATED_CHILD_ENV] === "1" && typeof process.send === "function";
}

class ChildHost {
  private router: VrrpRouter | undefined;
  private started: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusInFlight = false;
  private statusSoon = false;
  private adverts = false;

  send(msg: ChildMessage, done?: () => void): void {
    if (!process.connected) {
      done?.();
      return;
    }
    process.send?.(msg, undefined, {}, () => done?.());
  }

  onMessage(msg: ParentMessage): void {
    switch (msg.type) {
      case "start":
        this.started ??= this.start(msg);
        return;
      case "adverts":
        this.adverts = msg.on;
        return;
      case "status":
        void this.reply(msg.id, async (r) => ({ status: r.status() }));
        return;
      case "reload":
        void this.reply(msg.id, async (r) => {
          const summary = await r.reload(msg.options);
          return { summary, status: r.status() };
        });
        return;
      case "stop":
        void this.stop().then(() =>
          this.send({ type: "reply", id: msg.id, ok: true, status: this.snapshot() }, () => this.exit(0)),
        );
        return;
    }
  }

  private async reply(
    id: number,
    fn: (router: VrrpRouter) => Promise<{ summary?: ReloadSummary; status: RouterStatus }>,
  ): Promise<void> {
    try {
      await this.started;
      if (!this.router) throw new VrrpError("VRRP_CHILD", "the VRRP child runs no router (not started)", {});
      this.send({ type: "reply", id, ok: true, ...(await fn(this.router)) });
    } catch (err) {
      this.send({ type: "reply", id, ok: false, error: toWire(err) });
    }
  }

  private snapshot() {
    return this.router?.status() ?? { instances: [], groups: [], interfaces: [], scripts: [] };
  }

  private async start(msg: Extract<ParentMessage, { type: "start" }>): Promise<void> {
    let router: VrrpRouter;
    try {
      router = new VrrpRouter(msg.options);
    } catch (err) {
      this.send({ type: "start-failed", error: toWire(err) }, () => this.exit(1));
      return;
    }
    this.router = router;
    this.adverts ||= msg.adverts;
    router.on("state", (change: StateChange) => {
      this.send({ type: "state", change });
      this.pushStatusSoon();
    });
    router.on("warning", (message: string) => this.send({ type: "warning", message }));
    router.on("error", (err: VrrpError) => this.send({ type: "error", error: toWire(err) }));
    router.on("advert", (advert) => {
      if (this.adverts) this.send({ type: "advert", advert });
    });
    try {
      await router.start();
    } catch (err) {
      await router.stop().catch(() => {});
      this.send({ type: "start-failed", error: toWire(err) }, () => this.exit(1));
      return;
    }
    this.send({ type: "started", status: router.status() });
    if (msg.statusIntervalMs > 0) {
      this.statusTimer = setInterval(() => this.pushStatus(), msg.statusIntervalMs);
      this.statusTimer.unref();
    }
  }

  /** A snapshot for the parent's synchronous status(); one in flight at a time (a blocked parent reads none). */
  private pushStatus(): void {
    if (!this.router || this.statusInFlight || this.stopping) return;
    this.statusInFlight = true;
    this.send({ type: "status", status: this.router.status() }, () => {
      this.statusInFlight = false;
    });
  }

  /** After a burst of state changes, one snapshot. */
  private pushStatusSoon(): void {
    if (this.statusSoon) return;
    this.statusSoon = true;
    setImmediate(() => {
      this.statusSoon = false;
      this.pushStatus();
    });
  }

  /** Clean stop, once: whatever asked for it (parent, SIGTERM, a closed channel). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.statusTimer) clearInterval(this.statusTimer);
      await this.started?.catch(() => {});
      await this.router?.stop();
    })();
    return this.stopping;
  }

  exit(code: number): void {
    if (process.connected) process.disconnect();
    process.exit(code);
  }
}

/**
 * Runs this process as an isolated VRRP router (the entry module of dist, or a program's own
 * entry when it is started with ISOLATED_CHILD_ENV set, e.g. the bundled lvsctl).
 */
export function runIsolatedRouterChild(): void {
  if (typeof process.send !== "function")
    throw new VrrpError("VRRP_CHILD", "an isolated VRRP router must be forked with an IPC channel", {});
  // the variable is ours: notify and track scripts do not inherit it
  delete process.env[ISOLATED_CHILD_ENV];
  const host = new ChildHost();
  process.on("message", (msg: ParentMessage) => host.onMessage(msg));
  process.on("SIGINT", () => {});
  process.on("SIGHUP", () => {});
  // keepalived's VRRP child on SIGTERM: a clean stop (the parent sees an exit it did not ask for)
  process.on("SIGTERM", () => void host.stop().then(() => host.exit(0)));
  // the parent died or let go: nothing will ask for a stop any more
  process.on("disconnect", () => void host.stop().then(() => process.exit(0)));
}
