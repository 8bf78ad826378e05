// Types of bench/kill9.mjs for the kernel-tier test that runs it.
export interface Kill9Record {
  iteration: number;
  startMs?: number;
  delayMs?: number;
  opsInKernelAtKill?: number;
  converged: boolean;
  convergeMs?: number;
  secondExit?: number;
  reset: boolean;
  /** Set when the first daemon never reached its apply. */
  error?: string;
}
export interface Kill9Result {
  iterations: number;
  converged: number;
  resets: number;
  reconnects: number;
  midApply: number;
  convergeMsMedian: number | undefined;
  convergeMsMax: number | undefined;
  seconds: number;
  records: Kill9Record[];
}
export function runKill9(opts?: {
  iterations?: number;
  services?: number;
  seed?: number;
  maxSeconds?: number;
  /** Kills evenly through the batch instead of at random points. */
  spread?: boolean;
  log?: (line: string) => void;
}): Promise<Kill9Result>;
