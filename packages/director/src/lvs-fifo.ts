// keepalived's LVS lines on the notify FIFOs: `VS [10.0.0.1]:tcp:80 UP` when a virtual server
// gains or loses quorum, `RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN` when a real server goes up or
// down (keepalived 2.2 check/ipwrapper.c notify_fifo_vs/notify_fifo_rs). They go to `notify_fifo`
// (shared with the VRRP lines our VRRP side writes, as keepalived's two children share it) and to
// `lvs_notify_fifo`. A FIFO is opened at its first line, so a dry run or a config without quorum
// changes creates nothing; one that cannot be opened is warned about once per load.
import type { LvsConfig } from "@lvs/config";
import { NotifyFifo } from "@lvs/vrrp";
import type { Logger } from "./log.js";

export class LvsFifos {
  private paths: string[] = [];
  private readonly open = new Map<string, NotifyFifo>();
  private readonly failed = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** The FIFOs of a configuration just loaded; those it no longer names are closed. */
  configure(config: LvsConfig): void {
    const g = config.globalDefs;
    const paths = [g.notifyFifo?.path, g.lvsNotifyFifo?.path].filter((p): p is string => !!p);
    this.paths = [...new Set(paths)];
    for (const [path, fifo] of this.open) {
      if (this.paths.includes(path)) continue;
      fifo.close();
      this.open.delete(path);
    }
    this.failed.clear();
  }

  virtualServer(vsLabel: string, up: boolean): void {
    this.write(`VS ${vsLabel} ${up ? "UP" : "DOWN"}\n`);
  }

  realServer(rsLabel: string, vsLabel: string, up: boolean): void {
    this.write(`RS ${rsLabel} ${vsLabel} ${up ? "UP" : "DOWN"}\n`);
  }

  /** Lines written and dropped (a full FIFO nobody reads), per path. */
  stats(): { path: string; written: number; dropped: number }[] {
    return [...this.open].map(([path, f]) => ({ path, written: f.written, dropped: f.dropped }));
  }

  close(): void {
    for (const fifo of this.open.values()) fifo.close();
    this.open.clear();
  }

  private write(line: string): void {
    for (const path of this.paths) {
      let fifo = this.open.get(path);
      if (!fifo) {
        if (this.failed.has(path)) continue;
        try {
          fifo = new NotifyFifo(path);
        } catch (err) {
          this.failed.add(path);
          this.log.warn(
            { fifo: path, err },
            `Cannot open the notify FIFO ${path}: ${(err as Error).message}`,
          );
          continue;
        }
        this.open.set(path, fifo);
      }
      fifo.write(line);
    }
  }
}
