// A min-heap of timers driven by an injected clock: events run in (time, creation) order when the
// service next looks at the clock, as the kernel's timers would have fired in between.

export interface TimerHandle {
  at: number;
  seq: number;
  fn: (at: number) => void;
  cancelled: boolean;
}

export class TimerQueue {
  private heap: TimerHandle[] = [];
  private seq = 0;
  private running = false;

  add(at: number, fn: (at: number) => void): TimerHandle {
    const h: TimerHandle = { at, seq: this.seq++, fn, cancelled: false };
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
    h.cancelled = true;
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
        if (!top.cancelled) top.fn(top.at);
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
    let i = 0;
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
