// The schedulers that keep no state or one list position: rr, wrr, lc, wlc, sed, nq, fo, ovf,
// twos. Each follows its net/netfilter/ipvs/ip_vs_<name>.c (Linux 6.1; twos from 6.6).
import { type Dest, mulGreater } from "../dest.js";
import type { SchedHost, Scheduler } from "./types.js";

const usable = (d: Dest) => !d.overloaded && d.weight > 0;

/**
 * ip_vs_rr.c. sched_data points at the last chosen list node or the head; the search starts after
 * it and wraps. ip_vs_rr_del_dest(): if the removed node was the position, the position moves to
 * its predecessor (p->next->prev after unlinking). No add/upd callbacks: an added destination
 * (at the head) is reached when the search wraps.
 */
export function rr(host: SchedHost): Scheduler {
  let pos = -1; // index into host.dests of the node sched_data points at; -1 = the list head
  return {
    name: "rr",
    schedule() {
      const ds = host.dests;
      const n = ds.length;
      // From pos+1 to the tail, then (unless we started at the head) from the first to pos.
      for (let i = pos + 1; i < n; i++) {
        const d = ds[i]!;
        if (usable(d)) {
          pos = i;
          return d;
        }
      }
      if (pos >= 0) {
        for (let i = 0; i <= pos && i < n; i++) {
          const d = ds[i]!;
          if (usable(d)) {
            pos = i;
            return d;
          }
        }
      }
      return undefined;
    },
    // Index bookkeeping only (the kernel's pointer does not move when a node joins at the head).
    addDest() {
      if (pos >= 0) pos++;
    },
    delDest(_d, index) {
      if (pos === index) pos = index - 1;
      else if (pos > index) pos--;
    },
  };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * ip_vs_wrr.c. mark = { cl: current node or head, cw: current weight, mw: max weight - (di - 1),
 * di: gcd of the positive weights }. Every add/del/upd (ip_vs_wrr_dest_changed) resets cl to the
 * head and recomputes di/mw, keeping cw unless it is above mw or 0 (then mw), else rounding it to
 * (cw / di) * di + 1 when di > 1.
 */
export function wrr(host: SchedHost): Scheduler {
  const gcdWeight = () => {
    let g = 0;
    for (const d of host.dests) {
      if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
    }
    return g || 1;
  };
  const maxWeight = () => {
    let w = 0;
    for (const d of host.dests) if (d.weight > w) w = d.weight;
    return w;
  };
  let cl = -1;
  let di = gcdWeight();
  let mw = maxWeight() - (di - 1);
  let cw = mw;
  const changed = () => {
    cl = -1;
    di = gcdWeight();
    mw = maxWeight() - (di - 1);
    if (cw > mw || cw === 0) cw = mw;
    else if (di > 1) cw = Math.trunc(cw / di) * di + 1;
  };
  return {
    name: "wrr",
    schedule() {
      const ds = host.dests;
      const n = ds.length;
      let dest = cl;
      if (mw === 0) return undefined; // err_noavail: cl stays
      const last = dest;
      let stop: number | null = null;
      let lastPass = false;
      let restarted = false;
      for (;;) {
        for (let i = dest + 1; i < n; i++) {
          const d = ds[i]!;
          if (!d.overloaded && d.weight >= cw) {
            cl = i;
            return d;
          }
          if (i === stop) {
            cl = i; // err_over
            return undefined;
          }
        }
        dest = -1; // the walk ended on the head
        cw -= di;
        if (cw <= 0) {
          cw = mw;
          if (lastPass || last === -1) {
            cl = -1; // err_over
            return undefined;
          }
          restarted = true;
        }
        lastPass = cw <= di;
        if (lastPass && restarted && last !== -1) stop = last;
      }
    },
    addDest: changed,
    delDest: changed,
    updDest: changed,
  };
}

/** ip_vs_lc.c: least activeconns*256 + inactconns; first wins ties; skips overloaded and weight 0. */
export function lc(host: SchedHost): Scheduler {
  return {
    name: "lc",
    schedule() {
      let least: Dest | undefined;
      let loh = 0;
      for (const d of host.dests) {
        if (d.overloaded || d.weight === 0) continue;
        const doh = d.overhead();
        if (!least || doh < loh) {
          least = d;
          loh = doh;
        }
      }
      return least;
    },
  };
}

/**
 * ip_vs_wlc.c / ip_vs_sed.c: the first usable destination, then any later non-overloaded one whose
 * overhead/weight is strictly lower (loh * dw > doh * lw in 64-bit). wlc's overhead is
 * ip_vs_dest_conn_overhead(); sed's is activeconns + 1.
 */
function weightedLeast(host: SchedHost, name: string, sedCost: boolean): Scheduler {
  return {
    name,
    schedule() {
      const ds = host.dests;
      const n = ds.length;
      let i = 0;
      let least: Dest | undefined;
      for (; i < n; i++) {
        const d = ds[i]!;
        if (usable(d)) {
          least = d;
          break;
        }
      }
      if (!least) return undefined;
      let loh = sedCost ? least.activeConns + 1 : least.overhead();
      let lw = least.weight;
      for (i++; i < n; i++) {
        const d = ds[i]!;
        if (d.overloaded) continue;
        const doh = sedCost ? d.activeConns + 1 : (d.activeConns << 8) + d.inactConns;
        const x = loh * d.weight;
        const y = doh * lw;
        // Exact while both products stay below 2^53 (always, for sane counts); BigInt beyond.
        if (
          x <= Number.MAX_SAFE_INTEGER && y <= Number.MAX_SAFE_INTEGER
            ? x > y
            : mulGreater(loh, d.weight, doh, lw)
        ) {
          least = d;
          loh = doh;
          lw = d.weight;
        }
      }
      return least;
    },
  };
}

export const wlc = (host: SchedHost) => weightedLeast(host, "wlc", false);
export const sed = (host: SchedHost) => weightedLeast(host, "sed", true);

/**
 * ip_vs_nq.c: an idle (activeconns == 0) usable destination at once, in list order; otherwise
 * sed's choice ((activeconns + 1) / weight, strictly lower wins).
 */
export function nq(host: SchedHost): Scheduler {
  return {
    name: "nq",
    schedule() {
      let least: Dest | undefined;
      let loh = 0;
      for (const d of host.dests) {
        if (d.overloaded || d.weight === 0) continue;
        const doh = d.activeConns + 1;
        if (d.activeConns === 0) return d;
        if (!least || mulGreater(loh, d.weight, doh, least.weight)) {
          least = d;
          loh = doh;
        }
      }
      return least;
    },
  };
}

/** ip_vs_fo.c: the first non-overloaded destination with the highest weight (> 0). */
export function fo(host: SchedHost): Scheduler {
  return {
    name: "fo",
    schedule() {
      let best: Dest | undefined;
      let hw = 0;
      for (const d of host.dests) {
        if (!d.overloaded && d.weight > hw) {
          best = d;
          hw = d.weight;
        }
      }
      return best;
    },
  };
}

/**
 * ip_vs_ovf.c: the first highest-weight destination among those not overloaded, with weight > 0
 * and activeconns <= weight.
 */
export function ovf(host: SchedHost): Scheduler {
  return {
    name: "ovf",
    schedule() {
      let h: Dest | undefined;
      let hw = 0;
      for (const d of host.dests) {
        const w = d.weight;
        if (d.overloaded || d.activeConns > w || w === 0) continue;
        if (!h || w > hw) {
          h = d;
          hw = w;
        }
      }
      return h;
    },
  };
}

/**
 * ip_vs_twos.c (Linux 6.6; not in 6.1): two weighted random picks r1, r2 in [0, total weight]
 * (the random source gets bound total+1); walking the usable destinations, each subtracts its
 * weight and the first to reach <= 0 is the choice; the second wins when weight2 * overhead1 >
 * weight1 * overhead2 (int arithmetic, as the kernel's).
 */
export function twos(host: SchedHost): Scheduler {
  return {
    name: "twos",
    schedule() {
      let total = 0;
      let choice1: Dest | undefined;
      let choice2: Dest | undefined;
      for (const d of host.dests) {
        if (!d.overloaded && d.weight > 0) {
          total += d.weight;
          choice1 = d;
        }
      }
      if (!choice1) return undefined;
      total += 1;
      let r1 = host.random(total) | 0;
      let r2 = host.random(total) | 0;
      let w1 = -1;
      let w2 = -1;
      let oh1 = 0;
      let oh2 = 0;
      for (const d of host.dests) {
        if (d.overloaded) continue;
        const w = d.weight;
        if (w <= 0) continue;
        r1 = (r1 - w) | 0;
        r2 = (r2 - w) | 0;
        if (r1 <= 0 && w1 === -1) {
          choice1 = d;
          w1 = w;
          oh1 = d.overhead();
        }
        if (r2 <= 0 && w2 === -1) {
          choice2 = d;
          w2 = w;
          oh2 = d.overhead();
        }
        if (w1 !== -1 && w2 !== -1) break;
      }
      if (choice2 && Math.imul(w2, oh1) > Math.imul(w1, oh2)) choice1 = choice2;
      return choice1;
    },
  };
}
