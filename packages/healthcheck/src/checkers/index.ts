import type { CheckDefinition, ProbeOptions, ProbeResult } from "../types.js";
import { checkDns } from "./dns.js";
import { checkHttp } from "./http.js";
import { checkIcmp } from "./icmp.js";
import { checkMisc } from "./misc.js";
import { checkSmtp } from "./smtp.js";
import { checkTcp } from "./tcp.js";
import { checkUdp } from "./udp.js";

export interface RunProbeOptions extends ProbeOptions {
  /** MISC default timeout (keepalived: the delay_loop), seconds. */
  miscDefaultTimeout?: number;
}

/** Run one probe of any checker type. Never throws for a down target: it resolves `up: false`. */
export function probe(def: CheckDefinition, opts: RunProbeOptions = {}): Promise<ProbeResult> {
  try {
    // TCP_CHECK, the common case, without an async frame around it (its promise never rejects).
    if (def.type === "tcp") return checkTcp(def, opts);
    return run(def, opts).catch(failed);
  } catch (err) {
    return Promise.resolve(failed(err));
  }
}

function failed(err: unknown): ProbeResult {
  return { up: false, reason: (err as Error).message, latencyMs: 0 };
}

function run(def: Exclude<CheckDefinition, { type: "tcp" }>, opts: RunProbeOptions): Promise<ProbeResult> {
  switch (def.type) {
    case "http":
    case "https":
      return checkHttp(def, opts);
    case "misc":
      return checkMisc(def, opts, opts.miscDefaultTimeout);
    case "udp":
      return checkUdp(def, opts);
    case "icmp":
      return checkIcmp(def, opts);
    case "dns":
      return checkDns(def, opts);
    case "smtp":
      return checkSmtp(def, opts);
  }
}

/** Human label of a check's target: "tcp 127.0.0.1:8080". */
export function describeCheck(def: CheckDefinition): string {
  if (def.type === "misc") return `misc ${def.miscPath.join(" ")}`;
  const host = def.connectIp.includes(":") ? `[${def.connectIp}]` : def.connectIp;
  if (def.type === "icmp") return `icmp ${def.connectIp}`;
  const port =
    def.connectPort ??
    ({ http: 80, https: 443, dns: 53, smtp: 25 } as Record<string, number | undefined>)[def.type];
  const path = def.type === "http" || def.type === "https" ? (def.url[0]?.path ?? "") : "";
  return `${def.type} ${host}${port !== undefined ? `:${port}` : ""}${path}`;
}
