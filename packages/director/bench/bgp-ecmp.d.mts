// Types of bench/bgp-ecmp.mjs for the kernel-tier test that runs it.
export interface EcmpStart {
  director: number;
  /** The daemon's BGP session: Idle -> Connect to OpenConfirm -> Established, as it logs them. */
  sessionMs: number | undefined;
  /** Spawning the daemon to its log's "Runtime API on" (start-up done). */
  daemonStartMs: number | undefined;
  /** Spawning the daemon to R's route carrying its next hop. */
  spawnToNextHopMs: number;
}
export interface EcmpLostFlow {
  flow: number;
  port: number;
  end: string | null;
  echoes: number;
}
export interface EcmpLoss {
  director: number;
  /** kill -9 / link down → R's kernel route without the director (our polling). */
  routeChangeMs: number;
  /** kill -9 / link down → FRR logging the session Down (FRR's log, ms precision). */
  sessionDownMs: number | undefined;
  nextHops: string[];
  /** Flows the director carried (fresh connection entries) when it went. */
  victimFlows: number;
  lost: number;
  lostFlows: EcmpLostFlow[];
  maxStallMs: number;
}
export interface EcmpResult {
  directors: number;
  servers: number;
  flows: number;
  start: EcmpStart[];
  nextHops: string[];
  /** Flows per director (its IPVS connection table) before any loss. */
  spread: { director: number; flows: number }[];
  /** Connections per real server before any loss. */
  perServer: Record<string, number>;
  /** Client ports found in two directors' tables before any loss. */
  duplicated: number;
  /** Flows two directors sent to different real servers (any phase). */
  inconsistent: Record<string, unknown>[];
  loss: EcmpLoss & { moved: number; movedInconsistent: number; carried: Record<string, number> };
  join: EcmpStart & {
    nextHops: string[];
    rehashed: number;
    rehashMs: number;
    lost: number;
    lostFlows: EcmpLostFlow[];
    maxStallMs: number;
  };
  silent?: EcmpLoss & { holdTimerLogged: boolean };
  /** Flows that ended (close/error) by the end of the run. */
  ended: number;
  seconds: number;
}
export function runBgpEcmp(opts?: {
  directors?: number;
  servers?: number;
  flows?: number;
  intervalMs?: number;
  /** Also the silent loss (link down, no FIN: R's hold timer). Default true. */
  silent?: boolean;
  echoTimeoutMs?: number;
  log?: (line: string) => void;
}): Promise<EcmpResult>;
