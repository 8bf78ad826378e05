// A min-heap of timers driven by an injected clock: events run in (time, creation) order when the
// service next looks at the clock, as the kernel's timers would have fired in between.
// A cancelled timer is left in the heap (removing it from the middle costs a search) but lets go
// of its callback at once, and once cancelled entries are the majority the heap is rebuilt
// without them in one O(n) sweep: a closed connection's timer holds no memory until its time
// comes, and the heap stays within twice the live timers (a proxy closing thousands of
// connections a second would otherwise keep each closure for the whole timeout).

/** Below this many cancelled entries a sweep isn't worth it. */
const SWEEP_MIN = 64;
const NOOP = (): void => {};

export interface TimerHandle {
  at: number;
  seq: number;
  fn: (at: number) => void;
  cancelled: boolean;
  /** Still in the heap (not yet run or swept). */
  queued: boolean;
}

export class TimerQueue {
  private heap: TimerHandle[] = [];
  private seq = 0;
  private running = false;
  /** Cancelled entries still in the heap. */
  private cancelledQueued = 0;

  add(at: number, fn: (at: number) => void): TimerHandle {
    const h: TimerHandle = { at, seq: this.seq++, fn, cancelled: false, queued: true };
    const a = this.heap;
    a.push(h);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
    return h;
  }

  cancel(h: TimerHandle): void {
    if (h.cancelled) return;
    h.cancelled = true;
    h.fn = NOOP;
    if (!h.queued) return;
    this.cancelledQueued++;
    if (this.cancelledQueued >= SWEEP_MIN && this.cancelledQueued * 2 > this.heap.length) this.sweep();
  }

  /** Drop every cancelled entry and restore the heap order bottom-up (Floyd's heapify, O(n)). */
  private sweep(): void {
    const kept = this.heap.filter((h) => {
      if (h.cancelled) h.queued = false;
      return !h.cancelled;
    });
    this.heap = kept;
    this.cancelledQueued = 0;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Runs every timer due at or before `now`, earliest first (timers added meanwhile included). */
  run(now: number): void {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const top = this.heap[0];
        if (!top || top.at > now) break;
        this.pop();
        top.queued = false;
        if (top.cancelled) this.cancelledQueued--;
        else top.fn(top.at);
      }
    } finally {
      this.running = false;
    }
  }

  private pop(): void {
    const a = this.heap;
    const last = a.pop()!;
    if (a.length === 0) return;
    a[0] = last;
    this.siftDown(0);
  }

  private siftDown(from: number): void {
    const a = this.heap;
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && less(a[l]!, a[m]!)) m = l;
      if (r < a.length && less(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

function less(x: TimerHandle, y: TimerHandle): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
