// keepalived's inheritance, applied after validation for both formats: "the virtual server
// setting is the default for real servers, and the real server setting is the default for
// checkers" (keepalived.conf(5), LVS CONFIGURATION), plus the per-checker defaults.
import type { z } from "zod";
import {
  CHECK_DELAY_BEFORE_RETRY_DEFAULT,
  CHECK_RETRY_DEFAULT,
  DNS_RETRY_DEFAULT,
  DNS_TYPE_DEFAULT,
  HTTP_DELAY_BEFORE_RETRY_DEFAULT,
  MISC_RETRY_DEFAULT,
} from "./constants.js";
import type { IssueSink, SourcePos } from "./errors.js";
import type {
  CheckDef,
  Checker,
  CheckerKind,
  CheckPolicy,
  LvsConfig,
  RealServer,
  VirtualServer,
} from "./model.js";
import type { Path, SourceMap } from "./positions.js";
import type { LvsConfigSchema } from "./schema.js";
import type { LookupUser } from "./users.js";

export type ParsedConfig = Omit<z.output<typeof LvsConfigSchema>, "$schema">;
type ParsedVs = ParsedConfig["virtualServers"][number];
type ParsedRs = ParsedVs["realServers"][number];
type ParsedChecker = ParsedRs["checkers"][number];

const KIND_OF: Record<CheckDef["type"], CheckerKind> = {
  tcp: "TCP_CHECK",
  http: "HTTP_GET",
  https: "SSL_GET",
  misc: "MISC_CHECK",
  udp: "UDP_CHECK",
  icmp: "PING_CHECK",
  dns: "DNS_CHECK",
  smtp: "SMTP_CHECK",
};

/** The checker kind a check type is written as in keepalived.conf. */
export function kindOf(type: CheckDef["type"]): CheckerKind {
  return KIND_OF[type];
}

/** Per-type defaults of retry / delay_before_retry (check_api.c, check_misc.c, check_dns.c, check_http.c). */
export function checkerDefaults(
  type: CheckDef["type"],
  delayLoop: number,
): { retry: number; delayBeforeRetry: number } {
  switch (type) {
    case "misc":
      return { retry: MISC_RETRY_DEFAULT, delayBeforeRetry: CHECK_DELAY_BEFORE_RETRY_DEFAULT };
    case "dns":
      return { retry: DNS_RETRY_DEFAULT, delayBeforeRetry: delayLoop };
    case "http":
    case "https":
      return { retry: CHECK_RETRY_DEFAULT, delayBeforeRetry: HTTP_DELAY_BEFORE_RETRY_DEFAULT };
    default:
      return { retry: CHECK_RETRY_DEFAULT, delayBeforeRetry: CHECK_DELAY_BEFORE_RETRY_DEFAULT };
  }
}

/** What a checker's policy resolves to without its own settings (for compact output). */
export function inheritedPolicy(
  vs: VirtualServer | ParsedVs,
  rs: RealServer | ParsedRs,
  type: CheckDef["type"],
): CheckPolicy {
  const delayLoop = rs.delayLoop ?? vs.delayLoop;
  const d = checkerDefaults(type, delayLoop);
  return {
    delayLoop,
    retry: rs.retry ?? vs.retry ?? d.retry,
    delayBeforeRetry: rs.delayBeforeRetry ?? vs.delayBeforeRetry ?? d.delayBeforeRetry,
    warmup: rs.warmup ?? vs.warmup ?? delayLoop,
    alpha: rs.alpha ?? vs.alpha,
    weight: rs.weight ?? vs.weight,
  };
}

/**
 * keepalived check_api.c check_conn_opts(): a checker whose connect address is IPv6 link-local
 * needs `bind_if` (the address means nothing without its link); keepalived reports it and drops
 * that checker, the rest of the file runs. Same here: warned at the checker, then dropped.
 */
function linkLocalWithoutDevice(
  checker: Checker,
  path: (string | number)[],
  sources: SourceMap,
  sink: IssueSink,
  fallback: SourcePos,
): boolean {
  const c = checker.check;
  if (c.type === "misc" || checker.bindIf !== undefined) return false;
  if (!/^fe[89ab][0-9a-f]:/i.test(c.connectIp)) return false;
  sink.warn(
    "CONFIG_MISSING_REQUIRED",
    sources.positionOf([...path, "check"]) ?? sources.positionOf(path) ?? fallback,
    `${checker.kind} to the link-local address ${c.connectIp} needs \`bind_if\` (the interface of that link); the checker is dropped, as keepalived does — write \`bind_if eth0\``,
    "bind_if",
  );
  return true;
}

function resolveChecker(
  vs: ParsedVs,
  rs: ParsedRs,
  ch: ParsedChecker,
  path: (string | number)[],
  sources: SourceMap,
  sink: IssueSink,
  fallback: SourcePos,
): Checker {
  const c = ch.check;
  const p = ch.policy ?? {};
  const base = inheritedPolicy(vs, rs, c.type);
  const delayLoop = p.delayLoop ?? base.delayLoop;
  // A checker-level delay_loop also moves the defaults that follow it (DNS retry delay, warmup).
  const d = checkerDefaults(c.type, delayLoop);
  const policy: CheckPolicy = {
    delayLoop,
    retry: p.retry ?? rs.retry ?? vs.retry ?? d.retry,
    delayBeforeRetry: p.delayBeforeRetry ?? rs.delayBeforeRetry ?? vs.delayBeforeRetry ?? d.delayBeforeRetry,
    warmup: p.warmup ?? rs.warmup ?? vs.warmup ?? delayLoop,
    alpha: p.alpha ?? base.alpha,
    weight: p.weight ?? base.weight,
    ...(p.rise !== undefined ? { rise: p.rise } : {}),
    ...(p.fall !== undefined ? { fall: p.fall } : {}),
    ...(p.slowStart !== undefined ? { slowStart: p.slowStart } : {}),
  };
  let check: CheckDef;
  if (c.type === "misc") {
    check = { ...c } as CheckDef; // user: resolved by resolveUsers() above
  } else {
    const connectIp = c.connectIp ?? rs.address;
    const connectTimeout = c.connectTimeout ?? rs.connectTimeout ?? vs.connectTimeout;
    if (c.type === "icmp") {
      check = { ...c, connectIp, ...(connectTimeout !== undefined ? { connectTimeout } : {}) };
    } else {
      const connectPort = c.connectPort ?? (rs.port || undefined);
      if (connectPort === undefined && (c.type === "tcp" || c.type === "udp")) {
        sink.error(
          "CONFIG_MISSING_REQUIRED",
          sources.positionOf([...path, "check"]) ?? fallback,
          `${ch.kind ?? kindOf(c.type)} of real_server ${rs.address} needs a port (the real server has none); write \`connect_port 80\``,
          "connect_port",
        );
      }
      const extra: Record<string, unknown> = {};
      if (c.type === "http" || c.type === "https") {
        const vh = c.virtualhost ?? rs.virtualhost ?? vs.virtualhost;
        if (vh !== undefined) extra.virtualhost = vh;
      }
      if (c.type === "dns" && c.queryType === undefined) extra.queryType = DNS_TYPE_DEFAULT;
      check = {
        ...c,
        connectIp,
        ...(connectPort !== undefined ? { connectPort } : {}),
        ...(connectTimeout !== undefined ? { connectTimeout } : {}),
        ...extra,
      } as CheckDef;
    }
  }
  const { kind: _k, check: _c, policy: _p, ...rest } = ch;
  return { kind: ch.kind ?? kindOf(c.type), check, policy, ...rest } as Checker;
}

/**
 * Every `user` / `scriptUser` value → a complete RunAs ({user, group?, uid, gid}). The YAML form
 * "nobody" / "nobody:nogroup" / {user: nobody} is looked up like keepalived's getpwnam().
 */
function resolveUsers(
  node: unknown,
  path: Path,
  lookup: LookupUser,
  sources: SourceMap,
  sink: IssueSink,
  fallback: SourcePos,
): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++)
      resolveUsers(node[i], [...path, i], lookup, sources, sink, fallback);
    return;
  }
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === "user" || k === "scriptUser") {
      // A RunAs (or its shorthand): resolve it if needed, never descend into it.
      if (v === undefined || (typeof v === "object" && v !== null && "uid" in v)) continue;
      const [user, group] =
        typeof v === "string"
          ? (v.split(":") as [string, string | undefined])
          : [(v as { user: string }).user, (v as { group?: string }).group];
      const ids = lookup(user, group);
      if (!ids) {
        const src = sources.nearest([...path, k]);
        sink.error(
          "CONFIG_UNKNOWN_USER",
          src?.src.valuePos ?? src?.src.pos ?? fallback,
          `${group !== undefined ? `user "${user}" or group "${group}"` : `user "${user}"`} does not exist on this host; create it or write \`${k}: root\``,
          k,
        );
        continue;
      }
      obj[k] = { user, ...(group !== undefined ? { group } : {}), uid: ids.uid, gid: ids.gid };
    } else if (typeof v === "object") {
      resolveUsers(v, [...path, k], lookup, sources, sink, fallback);
    }
  }
}

/** Fill inherited values and user ids; issues (a TCP check without any port) go to `sink`. */
export function resolveConfig(
  cfg: ParsedConfig,
  sources: SourceMap,
  sink: IssueSink,
  fallback: SourcePos,
  lookupUser: LookupUser,
): LvsConfig {
  resolveUsers(cfg, [], lookupUser, sources, sink, fallback);
  return {
    ...(cfg as unknown as LvsConfig),
    virtualServers: cfg.virtualServers.map(
      (vs, i): VirtualServer => ({
        ...(vs as unknown as VirtualServer),
        realServers: vs.realServers.map(
          (rs, j): RealServer => ({
            ...(rs as unknown as RealServer),
            weight: rs.weight ?? vs.weight,
            checkers: rs.checkers.flatMap((ch, k) => {
              const path = ["virtualServers", i, "realServers", j, "checkers", k];
              const checker = resolveChecker(vs, rs, ch, path, sources, sink, fallback);
              return linkLocalWithoutDevice(checker, path, sources, sink, fallback) ? [] : [checker];
            }),
          }),
        ),
      }),
    ),
  };
}
