// Counters and the rate estimator, as IPVS keeps them per service, per real server and in total
// (struct ip_vs_stats, net/netfilter/ipvs/ip_vs_est.c of Linux 6.1). Pure: the caller ticks it.
import {
  ESTIMATOR_READ_SHIFT_BYTES,
  ESTIMATOR_READ_SHIFT_COUNT,
  ESTIMATOR_SHIFT_BYTES,
  ESTIMATOR_SHIFT_COUNT,
} from "./constants.js";
import type { Stats } from "./model.js";

// Plain numbers: exact to 2^53 bytes (8 PiB), far beyond what one process moves.
const U32 = 2n ** 32n;

/** avg += (rate - avg) >> 2, with the arithmetic shift of a signed 64-bit value. */
function ewma(avg: number, rate: number): number {
  return avg + Math.floor((rate - avg) / 4);
}

export class Counters {
  conns = 0;
  inPkts = 0;
  outPkts = 0;
  inBytes = 0;
  outBytes = 0;
  // Estimator state (struct ip_vs_estimator): last totals and the scaled averages.
  private lastConns = 0;
  private lastInPkts = 0;
  private lastOutPkts = 0;
  private lastInBytes = 0;
  private lastOutBytes = 0;
  private cps = 0;
  private inPps = 0;
  private outPps = 0;
  private inBps = 0;
  private outBps = 0;
  // ip_vs_zero_stats() keeps a snapshot (kstats0) and reports the difference.
  private zero = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };

  /**
   * One estimator tick, every 2 s (estimation_timer): the 2 s delta scaled (<< 9 for counts,
   * << 4 for bytes, i.e. per-second rates ×2^10 and ×2^5), then averaged with weight 1/4.
   */
  tick(): void {
    const d = (n: number, last: number, shift: number) => (n - last) * 2 ** shift;
    this.cps = ewma(this.cps, d(this.conns, this.lastConns, ESTIMATOR_SHIFT_COUNT));
    this.inPps = ewma(this.inPps, d(this.inPkts, this.lastInPkts, ESTIMATOR_SHIFT_COUNT));
    this.outPps = ewma(this.outPps, d(this.outPkts, this.lastOutPkts, ESTIMATOR_SHIFT_COUNT));
    this.inBps = ewma(this.inBps, d(this.inBytes, this.lastInBytes, ESTIMATOR_SHIFT_BYTES));
    this.outBps = ewma(this.outBps, d(this.outBytes, this.lastOutBytes, ESTIMATOR_SHIFT_BYTES));
    this.lastConns = this.conns;
    this.lastInPkts = this.inPkts;
    this.lastOutPkts = this.outPkts;
    this.lastInBytes = this.inBytes;
    this.lastOutBytes = this.outBytes;
  }

  /** ip_vs_zero_stats(): counters read from zero again, rates restart (ip_vs_zero_estimator). */
  reset(): void {
    this.zero = {
      conns: this.conns,
      inPkts: this.inPkts,
      outPkts: this.outPkts,
      inBytes: this.inBytes,
      outBytes: this.outBytes,
    };
    this.lastConns = this.conns;
    this.lastInPkts = this.inPkts;
    this.lastOutPkts = this.outPkts;
    this.lastInBytes = this.inBytes;
    this.lastOutBytes = this.outBytes;
    this.cps = this.inPps = this.outPps = this.inBps = this.outBps = 0;
  }

  /**
   * The 64-bit counters and rates as IPVS reports them (ip_vs_copy_stats + ip_vs_read_estimator:
   * rounded, `(x + 0x1FF) >> 10` and `(x + 0xF) >> 5`).
   */
  read(): Stats {
    const rc = (x: number) => BigInt(Math.floor((x + 0x1ff) / 2 ** ESTIMATOR_READ_SHIFT_COUNT));
    const rb = (x: number) => BigInt(Math.floor((x + 0xf) / 2 ** ESTIMATOR_READ_SHIFT_BYTES));
    return {
      conns: BigInt(this.conns - this.zero.conns),
      inPkts: BigInt(this.inPkts - this.zero.inPkts),
      outPkts: BigInt(this.outPkts - this.zero.outPkts),
      inBytes: BigInt(this.inBytes - this.zero.inBytes),
      outBytes: BigInt(this.outBytes - this.zero.outBytes),
      cps: rc(this.cps),
      inPps: rc(this.inPps),
      outPps: rc(this.outPps),
      inBps: rb(this.inBps),
      outBps: rb(this.outBps),
    };
  }
}

/** The 32-bit view of the counters (IPVS_*_ATTR_STATS: each field truncated to u32). */
export function stats32(s: Stats): Stats {
  const t = (x: bigint) => x % U32;
  return {
    conns: t(s.conns),
    inPkts: t(s.inPkts),
    outPkts: t(s.outPkts),
    inBytes: t(s.inBytes),
    outBytes: t(s.outBytes),
    cps: t(s.cps),
    inPps: t(s.inPps),
    outPps: t(s.outPps),
    inBps: t(s.inBps),
    outBps: t(s.outBps),
  };
}
