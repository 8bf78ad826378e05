// Long loops on the one JavaScript thread (a pass over 5,000 services × 4 real servers) give the
// event loop back once they have run for a time budget, not after a fixed count: what a count
// costs varies with the host (5–10× under emulation), the item and the garbage collector, and
// every millisecond the thread is held delays a check's completion and the targeted edit that
// follows it. Checking the clock is cheap next to an item (a service and its destinations).

/** Time held before giving the event loop a turn: a failed check waits at most about this long. */
export const TURN_BUDGET_MS = 5;

export interface TurnBudgetOptions {
  /** Default TURN_BUDGET_MS. */
  budgetMs?: number;
  /** Monotonic ms; default performance.now. */
  clock?: () => number;
  /** Gives the event loop a turn; default setImmediate (timers and I/O run before it resolves). */
  yieldTurn?: () => Promise<void>;
}

const setImmediateTurn = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

export class TurnBudget {
  private readonly budgetMs: number;
  private readonly clock: () => number;
  private readonly yieldTurn: () => Promise<void>;
  private since: number;
  /** Turns given back so far (tests, benches). */
  yields = 0;

  constructor(opts: TurnBudgetOptions = {}) {
    this.budgetMs = opts.budgetMs ?? TURN_BUDGET_MS;
    this.clock = opts.clock ?? (() => performance.now());
    this.yieldTurn = opts.yieldTurn ?? setImmediateTurn;
    this.since = this.clock();
  }

  /** Whether the budget is spent (then `await pause()`); cheap enough to ask per item. */
  due(): boolean {
    return this.clock() - this.since >= this.budgetMs;
  }

  /** Give the event loop a turn; the budget starts again after it. */
  async pause(): Promise<void> {
    this.yields++;
    await this.yieldTurn();
    this.since = this.clock();
  }

  /** A turn for the event loop if the budget is spent. */
  async check(): Promise<void> {
    if (this.due()) await this.pause();
  }

  /** `fn` over `items`, the event loop getting a turn whenever the budget is spent. */
  async each<T>(items: Iterable<T>, fn: (item: T) => void): Promise<void> {
    for (const item of items) {
      if (this.due()) await this.pause();
      fn(item);
    }
  }

  /** `items` mapped, as `each`. */
  async map<T, U>(items: Iterable<T>, fn: (item: T) => U): Promise<U[]> {
    const out: U[] = [];
    await this.each(items, (x) => {
      out.push(fn(x));
    });
    return out;
  }
}
