/**
 * The pure part of announcements: a per-interface queue that sends frames no earlier than their
 * due time and never closer together than `pacingMs` (switches police gratuitous-ARP storms; a
 * director failing over with hundreds of VIPs must spread them). Time comes from an injected
 * clock, so tests drive it without sleeping.
 */
import { type Clock, systemClock } from "@lvs/inet";
import { NetconfError, wrapError } from "./errors.js";

export interface AnnounceResult {
  /** Frames handed to the kernel. */
  sent: number;
  /** True when cancel()/close() dropped frames of this call before they were sent. */
  cancelled?: boolean;
}

interface Job {
  remaining: number;
  sent: number;
  settled: boolean;
  resolve: (r: AnnounceResult) => void;
  reject: (e: NetconfError) => void;
}

interface Item {
  frame: Uint8Array;
  due: number;
  job: Job;
}

/** Frames per synchronous burst before yielding to the event loop (pacing 0). */
const BURST = 256;
/** Retries of a frame the kernel refused for lack of buffer space (EAGAIN/ENOBUFS), 1 ms apart. */
const MAX_BUSY_RETRIES = 200;

export class PacedQueue {
  private items: Item[] = [];
  private timer: unknown;
  private lastSent = Number.NEGATIVE_INFINITY;
  private busyRetries = 0;
  private closed = false;

  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly pacingMs: number,
    private readonly clock: Clock = systemClock,
    private readonly label = "interface",
  ) {}

  get pending(): number {
    return this.items.length;
  }

  /** Queues frames (each with its due time, absolute on the clock); resolves when all are sent. */
  enqueue(frames: Array<{ frame: Uint8Array; due: number }>): Promise<AnnounceResult> {
    if (this.closed) {
      return Promise.reject(new NetconfError("NETCONF_CLOSED", `announcer for ${this.label} is closed`));
    }
    return new Promise<AnnounceResult>((resolve, reject) => {
      const job: Job = { remaining: frames.length, sent: 0, settled: false, resolve, reject };
      if (frames.length === 0) {
        job.settled = true;
        resolve({ sent: 0 });
        return;
      }
      for (const f of frames) this.insert({ frame: f.frame, due: f.due, job });
      this.schedule();
    });
  }

  /** Drops every queued frame; their calls resolve with what was sent and `cancelled: true`. */
  cancel(): void {
    const jobs = new Set(this.items.map((i) => i.job));
    this.items = [];
    this.stopTimer();
    for (const j of jobs) this.settle(j, { sent: j.sent, cancelled: true });
  }

  close(): void {
    this.cancel();
    this.closed = true;
  }

  /** Sorted by due time; equal due times keep their insertion order. */
  private insert(item: Item): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.items[mid] as Item).due <= item.due) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private schedule(delay?: number): void {
    if (this.items.length === 0 || this.closed) return;
    const head = this.items[0] as Item;
    const at = Math.max(head.due, this.lastSent + this.pacingMs);
    const wait = delay ?? Math.max(0, at - this.clock.now());
    this.stopTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, wait);
  }

  private pump(): void {
    for (let n = 0; n < BURST && this.items.length > 0; n++) {
      const head = this.items[0] as Item;
      const now = this.clock.now();
      if (now < Math.max(head.due, this.lastSent + this.pacingMs)) break;
      try {
        this.send(head.frame);
      } catch (err) {
        const name = (err as { context?: { errnoName?: string } })?.context?.errnoName;
        if ((name === "EAGAIN" || name === "ENOBUFS") && this.busyRetries < MAX_BUSY_RETRIES) {
          this.busyRetries++;
          this.schedule(1);
          return;
        }
        this.busyRetries = 0;
        this.fail(
          head.job,
          wrapError("NETCONF_PACKET", `cannot send on ${this.label}`, err, { object: this.label }),
        );
        continue;
      }
      this.busyRetries = 0;
      this.items.shift();
      this.lastSent = now;
      head.job.sent++;
      head.job.remaining--;
      if (head.job.remaining === 0) this.settle(head.job, { sent: head.job.sent });
    }
    this.schedule();
  }

  private fail(job: Job, err: NetconfError): void {
    this.items = this.items.filter((i) => i.job !== job);
    if (!job.settled) {
      job.settled = true;
      job.reject(err);
    }
  }

  private settle(job: Job, r: AnnounceResult): void {
    if (job.settled) return;
    job.settled = true;
    job.resolve(r);
  }
}
