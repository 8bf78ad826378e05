// Model → native YAML. The output drops what loading puts back by itself (schema defaults,
// values inherited from the enclosing block, user ids), so it stays short; loading it gives a
// model equal to the input (round-trip tests over every fixture).
import { isDeepStrictEqual } from "node:util";
import { yamlModule } from "./lazy.js";
import type { Checker, LvsConfig, RealServer, RunAs, VirtualServer } from "./model.js";
import { inheritedPolicy, kindOf } from "./resolve.js";
import {
  GlobalDefsSchema,
  RealServerSchema,
  TrackInterfaceSchema,
  VirtualIpAddressSchema,
  VirtualServerSchema,
  VrrpInstanceSchema,
  VrrpScriptSchema,
  VrrpSyncGroupSchema,
} from "./schema.js";

type Obj = Record<string, unknown>;

let defaults: Record<string, Obj> | undefined;
function defs(): Record<string, Obj> {
  defaults ??= {
    globalDefs: GlobalDefsSchema.parse({}) as Obj,
    vrrpScript: VrrpScriptSchema.parse({ name: "x", script: ["x"] }) as Obj,
    syncGroup: VrrpSyncGroupSchema.parse({ name: "x", group: ["x"] }) as Obj,
    instance: VrrpInstanceSchema.parse({ name: "x", virtualRouterId: 1 }) as Obj,
    vip: VirtualIpAddressSchema.parse({ address: "10.0.0.1", prefix: 32 }) as Obj,
    trackInterface: TrackInterfaceSchema.parse({ name: "x" }) as Obj,
    vs: VirtualServerSchema.parse({ key: { fwmark: 1 } }) as Obj,
    rs: RealServerSchema.parse({ address: "10.0.0.1", port: 1 }) as Obj,
  };
  return defaults;
}

/** Copy of `o` without the fields equal to `d`'s (keys listed in `keep` always stay). */
function dropDefaults<T extends object>(o: T, d: Obj, keep: string[] = []): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (!keep.includes(k) && k in d && isDeepStrictEqual(v, d[k])) continue;
    out[k] = v;
  }
  return out;
}

/** RunAs → "user" / "user:group" (ids are looked up again on load). */
function users(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(users);
  if (node === null || typeof node !== "object") return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if ((k === "user" || k === "scriptUser") && v && typeof v === "object" && "uid" in v) {
      const r = v as RunAs;
      out[k] = r.group !== undefined ? `${r.user}:${r.group}` : r.user;
    } else out[k] = users(v);
  }
  return out;
}

function compactChecker(vs: VirtualServer, rs: RealServer, ch: Checker): Obj {
  const check = { ...ch.check } as Obj;
  if (check.type !== "misc") {
    if (check.connectIp === rs.address) delete check.connectIp;
    if (check.type !== "icmp" && check.connectPort === rs.port && rs.port !== 0) delete check.connectPort;
    const ct = rs.connectTimeout ?? vs.connectTimeout;
    if (ct !== undefined && check.connectTimeout === ct) delete check.connectTimeout;
    if (check.type === "http" || check.type === "https") {
      const vh = rs.virtualhost ?? vs.virtualhost;
      if (vh !== undefined && check.virtualhost === vh) delete check.virtualhost;
    }
    if (check.type === "dns" && check.queryType === "SOA") delete check.queryType;
  }
  // Policy: keep delayLoop first (the other defaults depend on it), then drop what resolves equal.
  const base = inheritedPolicy(vs, rs, ch.check.type);
  const policy: Obj = { ...ch.policy };
  if (policy.delayLoop === base.delayLoop) delete policy.delayLoop;
  const dl = ch.policy.delayLoop;
  const expect: Obj = {
    retry: base.retry,
    delayBeforeRetry:
      ch.check.type === "dns" && rs.delayBeforeRetry === undefined && vs.delayBeforeRetry === undefined
        ? dl
        : base.delayBeforeRetry,
    warmup: rs.warmup ?? vs.warmup ?? dl,
    alpha: base.alpha,
    weight: base.weight,
  };
  for (const k of Object.keys(expect)) if (policy[k] === expect[k]) delete policy[k];
  const out: Obj = {};
  if (ch.kind !== kindOf(ch.check.type)) out.kind = ch.kind;
  out.check = check;
  if (Object.keys(policy).length) out.policy = policy;
  for (const [k, v] of Object.entries(ch))
    if (!["kind", "check", "policy"].includes(k) && v !== undefined) out[k] = v;
  return out;
}

/** The model with everything loading re-derives taken out. */
export function compactConfig(cfg: LvsConfig): Obj {
  const d = defs();
  const out: Obj = {};
  const g = dropDefaults(cfg.globalDefs, d.globalDefs!);
  if (Object.keys(g).length) out.globalDefs = g;
  if (cfg.vrrpScripts.length)
    out.vrrpScripts = cfg.vrrpScripts.map((s) => dropDefaults(s, d.vrrpScript!, ["name", "script"]));
  if (cfg.vrrpSyncGroups.length) {
    out.vrrpSyncGroups = cfg.vrrpSyncGroups.map((s) => {
      const o = dropDefaults(s, d.syncGroup!, ["name", "group"]);
      if (o.trackInterface)
        o.trackInterface = s.trackInterface.map((t) => dropDefaults(t, d.trackInterface!, ["name"]));
      return o;
    });
  }
  if (cfg.vrrpInstances.length) {
    out.vrrpInstances = cfg.vrrpInstances.map((inst) => {
      const o = dropDefaults(inst, d.instance!, ["name", "virtualRouterId"]);
      for (const k of ["virtualIpaddress", "virtualIpaddressExcluded"] as const) {
        if (o[k]) o[k] = inst[k].map((v) => dropDefaults(v, d.vip!, ["address", "prefix"]));
      }
      if (o.trackInterface)
        o.trackInterface = inst.trackInterface.map((t) => dropDefaults(t, d.trackInterface!, ["name"]));
      return o;
    });
  }
  if (cfg.virtualServerGroups.length) out.virtualServerGroups = cfg.virtualServerGroups;
  if (cfg.virtualServers.length) {
    out.virtualServers = cfg.virtualServers.map((vs) => {
      const o = dropDefaults(vs, d.vs!, ["key"]);
      if (vs.realServers.length) {
        o.realServers = vs.realServers.map((rs) => {
          const r = dropDefaults(rs, d.rs!, ["address", "port"]);
          if (rs.weight === vs.weight) delete r.weight;
          if (rs.checkers.length) r.checkers = rs.checkers.map((ch) => compactChecker(vs, rs, ch));
          return r;
        });
      }
      return o;
    });
  }
  return users(out) as Obj;
}

export interface ConvertOptions {
  /** URL or path of the JSON Schema, written as a `# yaml-language-server: $schema=` comment. */
  schemaUrl?: string;
  /** A comment for the top of the file (e.g. "converted from /etc/keepalived/keepalived.conf"). */
  header?: string;
}

/** keepalived.conf model (or any model) → the native YAML; loading it gives an equal model. */
export function convertToYaml(cfg: LvsConfig, opts: ConvertOptions = {}): string {
  const lines: string[] = [];
  if (opts.schemaUrl) lines.push(`# yaml-language-server: $schema=${opts.schemaUrl}`);
  if (opts.header) for (const l of opts.header.split("\n")) lines.push(`# ${l}`);
  const body = yamlModule().stringify(compactConfig(cfg), { lineWidth: 0, aliasDuplicateObjects: false });
  return `${lines.length ? `${lines.join("\n")}\n` : ""}${body}`;
}
