// Locality-based schedulers: lblc (ip_vs_lblc.c) and lblcr (ip_vs_lblcr.c), Linux 6.1. Both keep
// a cache from the packet's destination address (the VIP the client asked for) to a real server
// (lblc) or a set of them (lblcr), in 1024 hash buckets, garbage-collected by a 60 s timer.
import type { IpAddress } from "@lvs/inet";
import {
  IP_VS_LBLC_TAB_BITS,
  LBLC_CHECK_EXPIRE_INTERVAL_MS,
  LBLC_COUNT_FOR_FULL_EXPIRATION,
  LBLC_ENTRY_TIMEOUT_MS,
  LBLC_MAX_SIZE,
} from "../constants.js";
import { type Dest, mulGreater, mulLess } from "../dest.js";
import { foldAddress, hash32 } from "../hash.js";
import type { SchedHost, Scheduler } from "./types.js";

const TAB_SIZE = 1 << IP_VS_LBLC_TAB_BITS;
const TAB_MASK = TAB_SIZE - 1;

function bucketOf(af: number, a: IpAddress): number {
  return hash32(foldAddress(a, af), IP_VS_LBLC_TAB_BITS);
}

/**
 * The weighted least-connection pick both use (__ip_vs_lblc_schedule / __ip_vs_lblcr_schedule):
 * wlc's rule, but the first candidate is the first non-overloaded destination with weight > 0.
 */
function leastLoaded(dests: readonly Dest[]): Dest | undefined {
  const n = dests.length;
  let i = 0;
  let least: Dest | undefined;
  for (; i < n; i++) {
    const d = dests[i]!;
    if (d.overloaded) continue;
    if (d.weight > 0) {
      least = d;
      break;
    }
  }
  if (!least) return undefined;
  let loh = least.overhead();
  for (i++; i < n; i++) {
    const d = dests[i]!;
    if (d.overloaded) continue;
    const doh = d.overhead();
    if (mulGreater(loh, d.weight, doh, least.weight)) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/**
 * is_overloaded() of both files: more active connections than weight while some destination of
 * the service has activeconns * 2 < weight.
 */
function busy(d: Dest, dests: readonly Dest[]): boolean {
  if (d.activeConns > d.weight) {
    for (const x of dests) if (x.activeConns * 2 < x.weight) return true;
  }
  return false;
}

interface Entry {
  addr: IpAddress;
  bucket: number;
  lastuse: number;
}

/**
 * The table and its periodic GC, shared by lblc and lblcr (ip_vs_lblc(r)_check_expire): every
 * 60 s; each 30th run a full check drops entries unused for `expiration`; otherwise, when more
 * than max_size (16384) entries exist, buckets after the rover lose entries unused for 6 minutes
 * until (entries - max) * 4/3 (at most max/2) are gone.
 */
class Table<E extends Entry> {
  readonly map = new Map<string, E>();
  readonly buckets: Set<E>[] = Array.from({ length: TAB_SIZE }, () => new Set<E>());
  rover = 0;
  counter = 1;
  dead = false;
  private timer: object;

  constructor(
    private readonly host: SchedHost,
    private readonly expirationMs: () => number,
    private readonly drop: (e: E) => void,
  ) {
    const tick = (at: number) => {
      this.checkExpire(at);
      this.timer = host.addTimer(at + LBLC_CHECK_EXPIRE_INTERVAL_MS, tick);
    };
    this.timer = host.addTimer(host.now() + LBLC_CHECK_EXPIRE_INTERVAL_MS, tick);
  }

  get(a: IpAddress): E | undefined {
    return this.map.get(a.text);
  }

  insert(e: E): void {
    this.map.set(e.addr.text, e);
    this.buckets[e.bucket]!.add(e);
  }

  remove(e: E): void {
    this.map.delete(e.addr.text);
    this.buckets[e.bucket]!.delete(e);
    this.drop(e);
  }

  private checkExpire(now: number): void {
    if (this.counter % LBLC_COUNT_FOR_FULL_EXPIRATION === 0) {
      const exp = this.expirationMs();
      let j = this.rover;
      for (let i = 0; i < TAB_SIZE; i++) {
        j = (j + 1) & TAB_MASK;
        for (const e of [...this.buckets[j]!]) if (!(now < e.lastuse + exp)) this.remove(e);
      }
      this.rover = j;
      this.counter = 1;
      return;
    }
    if (this.map.size <= LBLC_MAX_SIZE) {
      this.counter++;
      return;
    }
    let goal = Math.trunc(((this.map.size - LBLC_MAX_SIZE) * 4) / 3);
    if (goal > LBLC_MAX_SIZE / 2) goal = LBLC_MAX_SIZE / 2;
    let j = this.rover;
    for (let i = 0; i < TAB_SIZE; i++) {
      j = (j + 1) & TAB_MASK;
      for (const e of [...this.buckets[j]!]) {
        if (now < e.lastuse + LBLC_ENTRY_TIMEOUT_MS) continue;
        this.remove(e);
        goal--;
      }
      if (goal <= 0) break;
    }
    this.rover = j;
  }

  /** done_service: stop the timer, flush every entry. */
  flush(): void {
    this.host.cancelTimer(this.timer);
    this.dead = true;
    for (const e of [...this.map.values()]) this.remove(e);
  }
}

interface LblcEntry extends Entry {
  dest: Dest;
}

/**
 * ip_vs_lblc.c: the cached server is used while it is available, has weight > 0 and is not busy
 * (see busy()); otherwise the least-loaded server is chosen and replaces the entry (a new entry,
 * at the head of its bucket).
 */
export function lblc(host: SchedHost): Scheduler {
  const table = new Table<LblcEntry>(
    host,
    () => host.options.lblcExpirationMs,
    (e) => host.put(e.dest),
  );
  return {
    name: "lblc",
    schedule(p) {
      const now = host.now();
      const en = table.get(p.vaddr);
      if (en) {
        en.lastuse = now;
        const d = en.dest;
        if (d.available && d.weight > 0 && !busy(d, host.dests)) return d;
      }
      const dest = leastLoaded(host.dests);
      if (!dest) return undefined;
      if (!table.dead) {
        const old = table.get(p.vaddr);
        if (old && old.dest === dest) return dest;
        if (old) table.remove(old);
        host.hold(dest);
        table.insert({ addr: p.vaddr, bucket: bucketOf(host.af, p.vaddr), lastuse: now, dest });
      }
      return dest;
    },
    done: () => table.flush(),
  };
}

interface LblcrEntry extends Entry {
  /** The destination set, head first (ip_vs_dest_set_insert adds at the head). */
  set: Dest[];
  lastmod: number;
}

/** ip_vs_dest_set_min(): weighted least-connection within the set, available members only. */
function setMin(set: readonly Dest[]): Dest | undefined {
  const n = set.length;
  let i = 0;
  let least: Dest | undefined;
  for (; i < n; i++) {
    const d = set[i]!;
    if (d.overloaded) continue;
    if (d.weight > 0 && d.available) {
      least = d;
      break;
    }
  }
  if (!least) return undefined;
  let loh = least.overhead();
  for (i++; i < n; i++) {
    const d = set[i]!;
    if (d.overloaded) continue;
    const doh = d.overhead();
    if (mulGreater(loh, d.weight, doh, least.weight) && d.available) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** ip_vs_dest_set_max(): weighted most-connection within the set (weight > 0). */
function setMax(set: readonly Dest[]): Dest | undefined {
  const n = set.length;
  let i = 0;
  let most: Dest | undefined;
  for (; i < n; i++) {
    if (set[i]!.weight > 0) {
      most = set[i]!;
      break;
    }
  }
  if (!most) return undefined;
  let moh = most.overhead();
  for (i++; i < n; i++) {
    const d = set[i]!;
    const doh = d.overhead();
    if (mulLess(moh, d.weight, doh, most.weight) && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

/**
 * ip_vs_lblcr.c: the cache maps an address to a set of servers; the set's least-loaded member is
 * used unless busy, in which case the service's least-loaded server joins the set. A set of more
 * than one member unmodified for `lblcr_expiration` loses its most-loaded member.
 */
export function lblcr(host: SchedHost): Scheduler {
  const table = new Table<LblcrEntry>(
    host,
    () => host.options.lblcrExpirationMs,
    (e) => {
      for (const d of e.set) host.put(d);
      e.set = [];
    },
  );
  const insert = (en: LblcrEntry, d: Dest, check: boolean, now: number) => {
    if (check && en.set.includes(d)) return;
    host.hold(d);
    en.set.unshift(d);
    en.lastmod = now;
  };
  return {
    name: "lblcr",
    schedule(p) {
      const now = host.now();
      const en = table.get(p.vaddr);
      if (en) {
        en.lastuse = now;
        let dest = setMin(en.set);
        if (en.set.length > 1 && now > en.lastmod + host.options.lblcrExpirationMs) {
          const m = setMax(en.set);
          if (m) {
            en.set.splice(en.set.indexOf(m), 1);
            en.lastmod = now;
            host.put(m);
          }
        }
        if (dest && !busy(dest, host.dests)) return dest;
        dest = leastLoaded(host.dests);
        if (!dest) return undefined;
        if (!table.dead) insert(en, dest, true, now);
        return dest;
      }
      const dest = leastLoaded(host.dests);
      if (!dest) return undefined;
      if (!table.dead) {
        const e: LblcrEntry = {
          addr: p.vaddr,
          bucket: bucketOf(host.af, p.vaddr),
          lastuse: now,
          set: [],
          lastmod: now,
        };
        insert(e, dest, false, now);
        table.insert(e);
      }
      return dest;
    },
    done: () => table.flush(),
  };
}
