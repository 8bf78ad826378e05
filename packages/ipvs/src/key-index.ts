/**
 * The reconcile plan's index from a kernel service's key to a desired service: what a
 * Map<number | string, number> did, without its garbage. A Map of 5,000 services grows by
 * doubling to a 224 KiB table, every reconcile: V8 puts an object that large straight into the
 * old generation, and each such allocation is a point where it starts a major collection. Numeric
 * keys (IPv4 and firewall-mark services: integers, |key| < 2^53) live here in typed arrays
 * (off the JS heap), open addressing with linear probing; IPv6 keys (strings) in a Map of
 * their own, made only when there are some. Pure.
 */

/** A slot that holds no key: values are desired indexes (>= 0) or -1 (a shared key). */
const EMPTY = -2;

/** 2^32, to split an integer key into two 32-bit words for hashing. */
const TWO_32 = 4294967296;

export class ServiceKeyIndex {
  private readonly mask: number;
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  private strings: Map<string, number> | undefined;
  private numericKeys = 0;

  /** Room for `expected` keys without growing (it never grows: the plan knows its count). */
  constructor(expected: number) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.keys = new Float64Array(capacity);
    this.vals = new Int32Array(capacity).fill(EMPTY);
  }

  /** Slot of `key`, or of the empty slot where it would go. */
  private slotOf(key: number): number {
    const lo = key >>> 0;
    const hi = Math.floor(key / TWO_32) | 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    let slot = h & this.mask;
    while (this.vals[slot] !== EMPTY && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
    return slot;
  }

  get(key: number | string): number | undefined {
    if (typeof key === "string") return this.strings?.get(key);
    const slot = this.slotOf(key);
    return this.vals[slot] === EMPTY ? undefined : (this.vals[slot] as number);
  }

  has(key: number | string): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets `key` to `value` (a desired index, or -1). At most `expected` distinct numeric keys. */
  set(key: number | string, value: number): void {
    if (typeof key === "string") {
      this.strings ??= new Map();
      this.strings.set(key, value);
      return;
    }
    if (!Number.isSafeInteger(key)) throw new RangeError(`ServiceKeyIndex: key ${key} is not a safe integer`);
    const slot = this.slotOf(key);
    if (this.vals[slot] === EMPTY) {
      // Half full at most (the constructor's sizing): probing always meets an empty slot.
      if (this.numericKeys * 2 >= this.mask + 1)
        throw new RangeError("ServiceKeyIndex: more keys than sized for");
      this.numericKeys++;
    }
    this.keys[slot] = key;
    this.vals[slot] = value;
  }

  /** Every value: numeric keys in slot order, then the string keys' in insertion order. */
  *values(): IterableIterator<number> {
    for (let slot = 0; slot <= this.mask; slot++)
      if (this.vals[slot] !== EMPTY) yield this.vals[slot] as number;
    if (this.strings) yield* this.strings.values();
  }
}
