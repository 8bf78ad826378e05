// `lvs_sync_daemon`: the kernel's connection-sync daemon, as keepalived 2.2.7 drives it.
// - Without a VRRP instance named (check/check_daemon.c start_check): stop master and backup
//   (left over from an abnormal end), then start both; stop both at exit.
// - With an instance (vrrp/vrrp.c vrrp_state_become_master / vrrp_state_leave_master): MASTER
//   runs the master daemon only, any other state the backup daemon only; the running one is
//   stopped at exit.
import type { LvsSyncDaemon } from "@lvs/config";
import {
  type DaemonClient,
  type SyncDaemonConfig,
  startSyncDaemon,
  stopSyncDaemon,
  syncDaemonStatus,
} from "@lvs/sync";

export type SyncRole = "master" | "backup";

export interface SyncDaemonLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

function same(a: LvsSyncDaemon | undefined, b: LvsSyncDaemon | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export class SyncDaemonControl {
  private cfg: LvsSyncDaemon | undefined;
  private running = new Set<SyncRole>();
  /** Sync id when no `id` is written: the instance's VRID, else 0. */
  private defaultSyncId = 0;
  /**
   * configure/follow/shutdown run one after another: VRRP can change state again while a
   * daemon start is still in flight, and each step must see the roles the previous one left
   * (or a BACKUP→MASTER→BACKUP burst could leave both daemons running).
   */
  private queue: Promise<void> = Promise.resolve();

  private serial(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => {});
    return run;
  }

  constructor(
    private readonly client: DaemonClient,
    private readonly log: SyncDaemonLog,
  ) {}

  private daemonConfig(role: SyncRole): SyncDaemonConfig {
    const c = this.cfg as LvsSyncDaemon;
    const d: SyncDaemonConfig = { role, interface: c.interface, syncId: c.syncId ?? this.defaultSyncId };
    if (c.maxlen !== undefined) d.maxLength = c.maxlen;
    if (c.group !== undefined) d.group = c.group;
    if (c.port !== undefined) d.port = c.port;
    if (c.ttl !== undefined) d.ttl = c.ttl;
    return d;
  }

  private async start(role: SyncRole): Promise<void> {
    try {
      await startSyncDaemon(this.client, this.daemonConfig(role));
      this.running.add(role);
      this.log.info(
        { role, interface: this.cfg?.interface },
        `Starting IPVS ${role} sync daemon on ${this.cfg?.interface}`,
      );
    } catch (err) {
      const e = err as { errnoName?: string; message?: string };
      // EEXIST: already running with these settings (a restart after an abnormal end).
      if (e.errnoName === "EEXIST") this.running.add(role);
      else this.log.warn({ role, err }, `IPVS ${role} sync daemon did not start: ${e.message}`);
    }
  }

  private async stop(role: SyncRole, quiet = false): Promise<void> {
    try {
      await stopSyncDaemon(this.client, role);
      if (!quiet) this.log.info({ role }, `Stopping IPVS ${role} sync daemon`);
    } catch (err) {
      if (!quiet)
        this.log.warn({ role, err }, `IPVS ${role} sync daemon did not stop: ${(err as Error).message}`);
    }
    this.running.delete(role);
  }

  /**
   * Apply the configuration. `instanceState` is the state of the named VRRP instance, or
   * undefined when no instance is named (both daemons run) or VRRP is not running here.
   */
  configure(
    cfg: LvsSyncDaemon | undefined,
    opts: { instanceState?: string; vrid?: number; vrrpRunning: boolean },
  ): Promise<void> {
    return this.serial(() => this.doConfigure(cfg, opts));
  }

  private async doConfigure(
    cfg: LvsSyncDaemon | undefined,
    opts: { instanceState?: string; vrid?: number; vrrpRunning: boolean },
  ): Promise<void> {
    const changed = !same(cfg, this.cfg);
    if (changed && this.cfg) {
      for (const r of [...this.running]) await this.stop(r);
    }
    this.cfg = cfg;
    this.defaultSyncId = opts.vrid ?? 0;
    if (!cfg) return;
    if (!cfg.instance) {
      if (changed) {
        // Left over from an abnormal end: stop quietly, then start both.
        await this.stop("master", true);
        await this.stop("backup", true);
        await this.start("master");
        await this.start("backup");
      }
      return;
    }
    if (!opts.vrrpRunning) return;
    await this.doFollow(opts.instanceState ?? "BACKUP");
  }

  /** The named VRRP instance changed state. */
  follow(state: string): Promise<void> {
    return this.serial(() => this.doFollow(state));
  }

  private async doFollow(state: string): Promise<void> {
    if (!this.cfg?.instance) return;
    const want: SyncRole = state === "MASTER" ? "master" : "backup";
    const other: SyncRole = want === "master" ? "backup" : "master";
    if (this.running.has(other)) await this.stop(other);
    if (!this.running.has(want)) await this.start(want);
  }

  shutdown(): Promise<void> {
    return this.serial(async () => {
      for (const r of [...this.running]) await this.stop(r);
    });
  }

  /** What the kernel runs (for the status API). */
  async status(): Promise<SyncDaemonConfig[]> {
    try {
      return await syncDaemonStatus(this.client);
    } catch {
      return [];
    }
  }

  get roles(): SyncRole[] {
    return [...this.running];
  }
}
