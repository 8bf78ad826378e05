// The runtime API's request bodies, checked: what each route reads from its JSON, with keepalived's
// ranges, and a DIRECTOR_BAD_ARGUMENT that says what to send instead.
import { LVS_MAX_TIMEOUT, RS_WEIGHT_MAX } from "@lvs/config";
import type { Timeouts } from "@lvs/ipvs";
import { DirectorError } from "./errors.js";

/** A real server of a virtual server, as the operator names them (`10.0.0.1:80`, `10.0.0.2:80`). */
export interface RealServerRequest {
  virtualServer: string;
  realServer: string;
}

export function realServerRequest(o: Record<string, unknown>): RealServerRequest {
  if (typeof o.virtualServer !== "string" || typeof o.realServer !== "string") {
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      'body needs {"virtualServer": "10.0.0.1:80", "realServer": "10.0.0.2:80"}',
    );
  }
  return { virtualServer: o.virtualServer, realServer: o.realServer };
}

/** keepalived's real server `weight` range (check_parser.c weight_handler: 0..65535). */
export function weightOf(o: Record<string, unknown>): number | null {
  const w = o.weight;
  if (w === null) return null;
  if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > RS_WEIGHT_MAX) {
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      `weight must be an integer 0..${RS_WEIGHT_MAX} (keepalived's range), or null for the configured weight; got ${JSON.stringify(w) ?? "nothing"}`,
    );
  }
  return w;
}

/** POST /timeouts: `{ tcp, tcpFin, udp }` seconds (0 or absent: unchanged), as ipvsadm --set. */
export function timeoutsOf(o: Record<string, unknown>): Timeouts {
  const one = (k: "tcp" | "tcpFin" | "udp"): number => {
    const v = o[k] ?? 0;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > LVS_MAX_TIMEOUT)
      throw new DirectorError(
        "DIRECTOR_BAD_ARGUMENT",
        `${k} must be an integer number of seconds 0..${LVS_MAX_TIMEOUT} (0: unchanged); got ${JSON.stringify(v)}`,
      );
    return v;
  };
  return { tcp: one("tcp"), tcpFin: one("tcpFin"), udp: one("udp") };
}

/** Drain timeout in seconds, bounded as keepalived bounds its timeouts (LVS_MAX_TIMEOUT, 31 days). */
export function drainTimeoutOf(o: Record<string, unknown>): number | undefined {
  const t = o.timeout;
  if (t === undefined || t === null) return undefined;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > LVS_MAX_TIMEOUT) {
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      `timeout must be a number of seconds 0..${LVS_MAX_TIMEOUT}; got ${JSON.stringify(t)}`,
    );
  }
  return t;
}
