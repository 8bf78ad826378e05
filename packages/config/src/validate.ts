// Shared by both formats: schema validation with positioned, "write `…` instead" messages, then
// the cross-reference checks (names that must exist, VRIDs that must not clash, …).
import { isIP } from "node:net";
import type { z } from "zod";
import { snake, suggest } from "./conf/context.js";
import type { IssueSink, SourcePos } from "./errors.js";
import type { LvsConfig, VirtualServer, VirtualServerKey, VrrpInstance } from "./model.js";
import type { Path, SourceMap } from "./positions.js";
import { resolveConfig } from "./resolve.js";
import { HINT, schemas } from "./schema.js";
import type { LookupUser } from "./users.js";

export type Format = "keepalived" | "yaml";

/** Render an example value in the syntax of the file being read. */
export function exampleText(format: Format, name: string, example: unknown): string | undefined {
  if (format === "yaml") return `${name}: ${JSON.stringify(example)}`;
  let s: string;
  if (example === null || typeof example === "object") {
    if (!Array.isArray(example) || example.some((e) => typeof e === "object")) return undefined;
    s = example.join(" ");
  } else {
    s = String(example);
  }
  if (!Array.isArray(example) && /\s/.test(s)) s = `"${s}"`;
  return name ? `${name} ${s}` : s;
}

/** Split a schema message into text + "write `…`" hint (`hintName` "" shows the value alone). */
export function withHint(format: Format, name: string, message: string, hintName = name): string {
  let [text, ex] = message.split(HINT) as [string, string | undefined];
  if (format === "keepalived")
    text = text.replace("must be true or false", "must be on, off, true, false, yes or no");
  if (ex === undefined) return `${name} ${text}`;
  const shown = exampleText(format, hintName, JSON.parse(ex));
  return shown ? `${name} ${text}; write \`${shown}\`` : `${name} ${text}`;
}

function get(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function label(raw: unknown, path: Path, keyword: string): string {
  const o = get(raw, path) as Record<string, unknown> | undefined;
  const name = o && typeof o === "object" && typeof o.name === "string" ? ` ${o.name}` : "";
  return `${keyword}${name}`;
}

/** Name a field the way the user wrote (or would write) it. */
function fieldName(format: Format, path: Path, sources: SourceMap): string {
  const exact = sources.get(path);
  if (exact) return exact.keyword;
  const last = path[path.length - 1];
  if (format === "yaml") return path.join(".");
  return typeof last === "string" ? snake(last) : String(last);
}

/** Validate the raw object; report every issue with its position. Returns the model or undefined. */
export function validateModel(
  raw: unknown,
  sources: SourceMap,
  sink: IssueSink,
  format: Format,
  fallback: SourcePos,
  lookupUser: LookupUser,
): LvsConfig | undefined {
  const r = schemas().LvsConfigSchema.safeParse(raw);
  if (r.success) {
    const { $schema: _, ...config } = r.data;
    return resolveConfig(config, sources, sink, fallback, lookupUser);
  }
  for (const iss of r.error.issues) report(iss, raw, sources, sink, format, fallback);
  return undefined;
}

function report(
  iss: z.core.$ZodIssue,
  raw: unknown,
  sources: SourceMap,
  sink: IssueSink,
  format: Format,
  fallback: SourcePos,
): void {
  const path = iss.path as Path;
  if (iss.code === "unrecognized_keys") {
    for (const k of iss.keys) {
      const at = sources.get([...path, k]);
      const parent = LvsConfigSchemaShapeAt(path);
      const guess = parent ? suggest(k, parent) : undefined;
      sink.error(
        "CONFIG_SCHEMA",
        at?.pos ?? sources.positionOf(path) ?? fallback,
        `unknown key \`${[...path, k].join(".")}\`${guess ? `; did you mean \`${guess}\`?` : "; remove it"}`,
        k,
      );
    }
    return;
  }
  const exact = sources.get(path);
  if (exact) {
    const name = format === "yaml" ? path.join(".") : exact.keyword;
    const hintName = format === "yaml" ? String(path[path.length - 1]) : (exact.hintKeyword ?? name);
    sink.error(
      "CONFIG_SCHEMA",
      exact.valuePos ?? exact.pos,
      withHint(format, name, iss.message, hintName),
      exact.keyword,
    );
    return;
  }
  // Missing (or not recorded) field: report at the enclosing block, unless the reader already
  // said what is missing there.
  const near = sources.nearest(path);
  const nearPos = near?.src.pos;
  if (nearPos && sink.has("CONFIG_MISSING_REQUIRED", nearPos)) return;
  const name = fieldName(format, path, sources);
  const where = near
    ? format === "yaml"
      ? near.path.join(".") || "(top level)"
      : label(raw, near.path, near.src.keyword)
    : "";
  const text = withHint(format, format === "yaml" ? String(path[path.length - 1] ?? "") : name, iss.message);
  sink.error("CONFIG_SCHEMA", near?.src.pos ?? fallback, where ? `${where}: ${text}` : text, name);
}

/** Key names allowed at an object path of the model (for "did you mean" on unknown YAML keys). */
function LvsConfigSchemaShapeAt(path: Path): string[] | undefined {
  let s: unknown = schemas().LvsConfigSchema;
  for (const k of path) {
    s = unwrap(s);
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (!def) return undefined;
    if (def.type === "object" && typeof k === "string") s = def.shape?.[k];
    else if (def.type === "array" && typeof k === "number") s = def.element;
    else return undefined;
  }
  s = unwrap(s);
  const def = (s as { def?: { type?: string; shape?: Record<string, unknown> } }).def;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : undefined;
}

function unwrap(s: unknown): unknown {
  for (;;) {
    const def = (s as { def?: { type?: string; innerType?: unknown } }).def;
    if (def && (def.type === "optional" || def.type === "default") && def.innerType) s = def.innerType;
    else return s;
  }
}

// ───────────────────────────── cross references ─────────────────────────────

function vsKeyText(k: VirtualServerKey): string {
  if ("group" in k) return `group ${k.group}`;
  if ("fwmark" in k) return `fwmark ${k.fwmark}`;
  return `${k.address} ${k.port}`;
}

/** What every cross-reference step needs: the model, where to report, and how to name things. */
interface CheckContext {
  cfg: LvsConfig;
  sink: IssueSink;
  format: Format;
  /** Position of the value (else the key) at `path`, or the nearest known one. */
  at(path: Path): SourcePos;
  /** The keepalived keyword or the YAML key, by the format being read. */
  kw(keepalived: string, yaml: string): string;
  scripts: Set<string>;
  instances: Set<string>;
  groups: Set<string>;
}

/** Names that must exist, things that must be unique. Issues go to `sink`. */
export function crossCheck(
  cfg: LvsConfig,
  sources: SourceMap,
  sink: IssueSink,
  format: Format,
  fallback: SourcePos,
): void {
  const x: CheckContext = {
    cfg,
    sink,
    format,
    at: (path) => {
      const s = sources.get(path);
      return s?.valuePos ?? s?.pos ?? sources.positionOf(path) ?? fallback;
    },
    kw: (k, yaml) => (format === "yaml" ? yaml : k),
    scripts: new Set(cfg.vrrpScripts.map((s) => s.name)),
    instances: new Set(cfg.vrrpInstances.map((s) => s.name)),
    groups: new Set(cfg.virtualServerGroups.map((g) => g.name)),
  };
  checkUniqueNames(x);
  checkSyncGroups(x);
  const vridKeys = new Map<string, number>();
  cfg.vrrpInstances.forEach((inst, i) => {
    checkInstance(x, inst, i);
    checkVridClash(x, inst, i, vridKeys);
  });
  checkLvsSyncDaemon(x);
  checkBgp(x);
  const vsSeen = new Map<string, number>();
  cfg.virtualServers.forEach((vs, i) => {
    checkVirtualServerIdentity(x, vs, i, vsSeen);
    checkVirtualServerProtocol(x, vs, i);
    checkVirtualServerSettings(x, vs, i);
    checkProxyProtocol(x, vs, i);
  });
}

/**
 * `proxy_protocol v1|v2` (our extension, for the userspace proxy dataplane) writes haproxy's PROXY
 * header at the start of a TCP stream to the real server: a UDP or SCTP service has none.
 */
function checkProxyProtocol(x: CheckContext, vs: VirtualServer, i: number): void {
  if (vs.protocol === undefined || vs.protocol === "TCP") return;
  vs.realServers.forEach((rs, j) => {
    if (rs.proxyProtocol === undefined) return;
    x.sink.error(
      "CONFIG_INVALID_VALUE",
      x.at(["virtualServers", i, "realServers", j, "proxyProtocol"]),
      `${x.kw("proxy_protocol", "proxyProtocol")} ${rs.proxyProtocol} on real_server ${rs.address} ${rs.port}: the PROXY header opens a TCP stream, and virtual_server ${vsKeyText(vs.key)} is ${vs.protocol}; remove it or write \`${x.kw("protocol TCP", "protocol: TCP")}\``,
      x.kw("proxy_protocol", "proxyProtocol"),
    );
  });
}

/** "did you mean" among `names`, unless the sink no longer keeps errors (then nobody reads it). */
function guessName(x: CheckContext, word: string, names: Set<string>): string | undefined {
  return x.sink.keeps("error") ? suggest(word, [...names]) : undefined;
}

/** Scripts, instances, sync groups and virtual server groups each have unique names. */
function checkUniqueNames(x: CheckContext): void {
  const { cfg, kw } = x;
  const unique = <T extends { name: string }>(list: T[], base: string, keyword: string) => {
    const seen = new Map<string, number>();
    list.forEach((item, i) => {
      const first = seen.get(item.name);
      if (first !== undefined) {
        const p = x.at([base, first]);
        x.sink.error(
          "CONFIG_DUPLICATE",
          x.at([base, i, "name"]),
          `${keyword} ${item.name} is defined twice (first at ${p.file}:${p.line}); rename or remove one`,
        );
      } else seen.set(item.name, i);
    });
  };
  unique(cfg.vrrpScripts, "vrrpScripts", kw("vrrp_script", "vrrpScripts"));
  unique(cfg.vrrpInstances, "vrrpInstances", kw("vrrp_instance", "vrrpInstances"));
  unique(cfg.vrrpSyncGroups, "vrrpSyncGroups", kw("vrrp_sync_group", "vrrpSyncGroups"));
  unique(cfg.virtualServerGroups, "virtualServerGroups", kw("virtual_server_group", "virtualServerGroups"));
}

/** Every track_script names a vrrp_script. */
function checkTrackScripts(x: CheckContext, list: { name: string }[], base: Path): void {
  list.forEach((t, j) => {
    if (x.scripts.has(t.name)) return;
    const guess = guessName(x, t.name, x.scripts);
    x.sink.error(
      "CONFIG_BAD_REFERENCE",
      x.at([...base, j, "name"]),
      `track_script \`${t.name}\` names no vrrp_script${guess ? `; did you mean \`${guess}\`?` : `; define \`vrrp_script ${t.name} { script "…" }\``}`,
      "track_script",
    );
  });
}

/** Sync groups: tracked scripts exist, members are instances, each instance in one group only. */
function checkSyncGroups(x: CheckContext): void {
  const memberOf = new Map<string, string>();
  x.cfg.vrrpSyncGroups.forEach((g, i) => {
    checkTrackScripts(x, g.trackScript, ["vrrpSyncGroups", i, "trackScript"]);
    g.group.forEach((m, j) => {
      if (!x.instances.has(m)) {
        const guess = guessName(x, m, x.instances);
        x.sink.error(
          "CONFIG_BAD_REFERENCE",
          x.at(["vrrpSyncGroups", i, "group", j]),
          `sync group ${g.name}: member \`${m}\` is no vrrp_instance${guess ? `; did you mean \`${guess}\`?` : ""}`,
          "group",
        );
      } else if (memberOf.has(m) && memberOf.get(m) !== g.name) {
        x.sink.error(
          "CONFIG_DUPLICATE",
          x.at(["vrrpSyncGroups", i, "group", j]),
          `vrrp_instance ${m} is already in sync group ${memberOf.get(m)}; an instance can be in one sync group only`,
          "group",
        );
      } else memberOf.set(m, g.name);
    });
  });
}

/** Whether an instance speaks VRRP over IPv6 (its addresses, or native_ipv6). */
function isV6(inst: VrrpInstance): boolean {
  return inst.virtualIpaddress.some((v) => isIP(v.address) === 6) || inst.nativeIpv6;
}

/** One vrrp_instance's own settings, then the weights a sync group ignores. */
function checkInstance(x: CheckContext, inst: VrrpInstance, i: number): void {
  const { sink, kw } = x;
  const base = ["vrrpInstances", i];
  checkTrackScripts(x, inst.trackScript, [...base, "trackScript"]);
  // keepalived: without `interface`, a unicast instance takes the one routing to its peer and any
  // instance global_defs `default_interface`.
  if (!inst.interface && inst.unicastPeer.length === 0 && !x.cfg.globalDefs.defaultInterface) {
    sink.error(
      "CONFIG_MISSING_REQUIRED",
      x.at(base),
      `vrrp_instance ${inst.name} has no interface; write \`${kw("interface eth0", "interface: eth0")}\` (only unicast instances, or a file with \`default_interface\`, may omit it)`,
      "interface",
    );
  }
  const fams = new Set(inst.virtualIpaddress.map((v) => isIP(v.address)));
  if (fams.size > 1) {
    sink.error(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "virtualIpaddress"]),
      `vrrp_instance ${inst.name}: virtual_ipaddress mixes IPv4 and IPv6; put the other family in virtual_ipaddress_excluded`,
      "virtual_ipaddress",
    );
  }
  if (isV6(inst) && inst.version === 2) {
    sink.error(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "version"]),
      `vrrp_instance ${inst.name}: IPv6 needs VRRP version 3; write \`${kw("version 3", "version: 3")}\``,
      "version",
    );
  }
  if (inst.authentication?.authType === "PASS" && !inst.authentication.authPass) {
    sink.error(
      "CONFIG_MISSING_REQUIRED",
      x.at([...base, "authentication"]),
      `vrrp_instance ${inst.name}: auth_type PASS needs a password; write \`${kw("auth_pass 1111", 'authPass: "1111"')}\``,
      "auth_pass",
    );
  }
  checkInstanceStateWarnings(x, inst, base);
  checkSyncGroupWeights(x, inst, base);
}

/** Settings keepalived quietly changes: say so. */
function checkInstanceStateWarnings(x: CheckContext, inst: VrrpInstance, base: Path): void {
  const { sink, kw } = x;
  if (inst.state === "MASTER" && inst.authentication?.authType === "AH") {
    sink.warn(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "state"]),
      `vrrp_instance ${inst.name}: initial state MASTER does not work with AH authentication (keepalived clears it); write \`${kw("state BACKUP", "state: BACKUP")}\``,
      "state",
    );
  }
  if (inst.nopreempt && inst.preemptDelay > 0) {
    sink.warn(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "preemptDelay"]),
      `vrrp_instance ${inst.name}: preempt_delay does nothing with nopreempt (keepalived resets it); remove one`,
      "preempt_delay",
    );
  }
  if (inst.nopreempt && inst.state === "MASTER") {
    sink.warn(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "nopreempt"]),
      `vrrp_instance ${inst.name}: nopreempt needs the initial state BACKUP; write \`${kw("state BACKUP", "state: BACKUP")}\``,
      "nopreempt",
    );
  }
  inst.trackInterface.forEach((t, j) => {
    if (t.name === inst.interface) {
      sink.warn(
        "CONFIG_INVALID_VALUE",
        x.at([...base, "trackInterface", j]),
        `vrrp_instance ${inst.name} already tracks its own interface ${t.name}; remove it from track_interface`,
        "track_interface",
      );
    }
  });
}

/** In a sync group without sync_group_tracking_weight, tracking weights are ignored. */
function checkSyncGroupWeights(x: CheckContext, inst: VrrpInstance, base: Path): void {
  const { cfg } = x;
  const group = cfg.vrrpSyncGroups.find((g) => g.group.includes(inst.name));
  if (!group || group.syncGroupTrackingWeight) return;
  const weighted = [
    ...inst.trackInterface.map((t, j) => ({
      w: t.weight,
      p: [...base, "trackInterface", j],
      k: "track_interface",
    })),
    ...inst.trackScript.map((t, j) => ({
      w: t.weight ?? cfg.vrrpScripts.find((s) => s.name === t.name)?.weight ?? 0,
      p: [...base, "trackScript", j],
      k: "track_script",
    })),
  ].filter((w) => w.w !== 0);
  for (const w of weighted) {
    x.sink.warn(
      "CONFIG_INVALID_VALUE",
      x.at(w.p),
      `vrrp_instance ${inst.name} is in sync group ${group.name}: tracking weights are ignored (a failure means FAULT); add \`sync_group_tracking_weight\` to the group to use them`,
      w.k,
    );
  }
}

/** Two instances may not share a VRID on the same interface, family and peers. */
function checkVridClash(x: CheckContext, inst: VrrpInstance, i: number, vridKeys: Map<string, number>): void {
  const fam = isV6(inst) ? 6 : 4;
  const path = inst.unicastPeer.length
    ? `unicast:${inst.unicastPeer
        .map((p) => p.address)
        .sort()
        .join(",")}`
    : `mcast:${inst.mcastDstIp ?? ""}`;
  const key = `${inst.interface ?? ""}|${fam}|${inst.virtualRouterId}|${path}`;
  const prev = vridKeys.get(key);
  if (prev === undefined) {
    vridKeys.set(key, i);
    return;
  }
  const other = x.cfg.vrrpInstances[prev]!;
  x.sink.error(
    "CONFIG_DUPLICATE",
    x.at(["vrrpInstances", i, "virtualRouterId"]),
    `virtual_router_id ${inst.virtualRouterId} is already used by vrrp_instance ${other.name} on ${inst.interface ?? "(no interface)"} (IPv${fam}); pick another VRID (1..255)`,
    "virtual_router_id",
  );
}

/** global_defs lvs_sync_daemon names an instance. */
function checkLvsSyncDaemon(x: CheckContext): void {
  const sync = x.cfg.globalDefs.lvsSyncDaemon;
  if (!sync?.instance || x.instances.has(sync.instance)) return;
  const guess = guessName(x, sync.instance, x.instances);
  x.sink.error(
    "CONFIG_BAD_REFERENCE",
    x.at(["globalDefs", "lvsSyncDaemon", "instance"]),
    `lvs_sync_daemon: \`${sync.instance}\` is no vrrp_instance${guess ? `; did you mean \`${guess}\`?` : ""}`,
    "lvs_sync_daemon",
  );
}

/** bgp: one session per peer address and port; announceWhenMaster names instances. */
function checkBgp(x: CheckContext): void {
  const seen = new Map<string, number>();
  x.cfg.bgp?.peers.forEach((p, i) => {
    const key = `${p.address} ${p.port ?? 179}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else
      x.sink.error(
        "CONFIG_DUPLICATE",
        x.at(["bgp", "peers", i, "address"]),
        `bgp.peers: ${p.address} port ${p.port ?? 179} is already peer ${first + 1}; one session per router address and port`,
        "peers",
      );
  });
  const gate = x.cfg.bgp?.announceWhenMaster;
  if (gate === undefined) return;
  const names = typeof gate === "string" ? [gate] : gate;
  names.forEach((name, j) => {
    if (x.instances.has(name)) return;
    const guess = guessName(x, name, x.instances);
    x.sink.error(
      "CONFIG_BAD_REFERENCE",
      x.at(typeof gate === "string" ? ["bgp", "announceWhenMaster"] : ["bgp", "announceWhenMaster", j]),
      `bgp.announceWhenMaster: \`${name}\` is no vrrp_instance${guess ? `; did you mean \`${guess}\`?` : x.instances.size ? "" : " (this file has no vrrpInstances)"}`,
      "announceWhenMaster",
    );
  });
}

/** The group it names exists; the service and its real servers appear once. */
function checkVirtualServerIdentity(
  x: CheckContext,
  vs: VirtualServer,
  i: number,
  vsSeen: Map<string, number>,
): void {
  const { sink } = x;
  const base = ["virtualServers", i];
  if ("group" in vs.key && !x.groups.has(vs.key.group)) {
    const guess = guessName(x, vs.key.group, x.groups);
    sink.error(
      "CONFIG_BAD_REFERENCE",
      x.at([...base, "key"]),
      `virtual_server group \`${vs.key.group}\` names no virtual_server_group${guess ? `; did you mean \`${guess}\`?` : `; define \`virtual_server_group ${vs.key.group} { 10.0.0.1 80 }\``}`,
      "virtual_server",
    );
  }
  const k = `${vsKeyText(vs.key)}|${"fwmark" in vs.key ? "" : vs.protocol}`;
  const first = vsSeen.get(k);
  if (first !== undefined) {
    const p = x.at(["virtualServers", first]);
    sink.error(
      "CONFIG_DUPLICATE",
      x.at(base),
      `virtual_server ${vsKeyText(vs.key)}${"fwmark" in vs.key ? "" : ` (${vs.protocol})`} is defined twice (first at ${p.file}:${p.line}); merge them`,
      "virtual_server",
    );
  } else vsSeen.set(k, i);
  const rsSeen = new Map<string, number>();
  vs.realServers.forEach((rs, j) => {
    const rk = `${rs.address}|${rs.port}`;
    if (rsSeen.has(rk)) {
      sink.error(
        "CONFIG_DUPLICATE",
        x.at([...base, "realServers", j]),
        `real_server ${rs.address} ${rs.port} appears twice in virtual_server ${vsKeyText(vs.key)}; remove one`,
        "real_server",
      );
    } else rsSeen.set(rk, j);
  });
}

/** A service of fwmarks only (itself, or a group of fwmark entries) has no protocol. */
function isFwmarkOnly(x: CheckContext, vs: VirtualServer): boolean {
  if ("fwmark" in vs.key) return true;
  if (!("group" in vs.key)) return false;
  const name = vs.key.group;
  return x.cfg.virtualServerGroups.find((g) => g.name === name)?.entries.every((e) => "fwmark" in e) ?? false;
}

/** protocol: required (YAML) or UDP as keepalived defaults; ignored for fwmarks; ops needs UDP. */
function checkVirtualServerProtocol(x: CheckContext, vs: VirtualServer, i: number): void {
  const { sink, kw } = x;
  const base = ["virtualServers", i];
  const fwmarkOnly = isFwmarkOnly(x, vs);
  if (!fwmarkOnly && vs.protocol === undefined) {
    if (x.format === "yaml") {
      sink.error(
        "CONFIG_MISSING_REQUIRED",
        x.at(base),
        `virtual_server ${vsKeyText(vs.key)} has no protocol; write \`${kw("protocol TCP", "protocol: TCP")}\``,
        "protocol",
      );
    } else {
      // keepalived 2.2.7 accepts this, says "no protocol set - defaulting to UDP" and installs
      // a UDP service; a file that runs under keepalived must build the same table here.
      vs.protocol = "UDP";
      sink.warn(
        "CONFIG_MISSING_REQUIRED",
        x.at(base),
        `virtual_server ${vsKeyText(vs.key)} has no protocol: UDP is used, as keepalived does; write \`protocol TCP\` if you meant TCP`,
        "protocol",
      );
    }
  }
  if ("fwmark" in vs.key && vs.protocol !== undefined) {
    sink.warn(
      "CONFIG_IGNORED_KEYWORD",
      x.at([...base, "protocol"]),
      `protocol is ignored for fwmark services; remove it`,
      "protocol",
    );
  }
  if (vs.ops && vs.protocol !== "UDP" && !fwmarkOnly) {
    sink.error(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "ops"]),
      `ops (one-packet scheduling) needs protocol UDP; remove it or write \`${kw("protocol UDP", "protocol: UDP")}\``,
      "ops",
    );
  }
}

/** Settings that can't work together, or that keepalived adjusts. */
function checkVirtualServerSettings(x: CheckContext, vs: VirtualServer, i: number): void {
  const { sink, kw } = x;
  const base = ["virtualServers", i];
  if (vs.haSuspend && "fwmark" in vs.key) {
    sink.warn(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "haSuspend"]),
      "ha_suspend does not work with fwmark services; it is ignored",
      "ha_suspend",
    );
  }
  if (vs.realServers.length === 0 && !vs.sorryServer) {
    sink.warn(
      "CONFIG_MISSING_REQUIRED",
      x.at(base),
      `virtual_server ${vsKeyText(vs.key)} has no real_server; keepalived ignores it`,
      "real_server",
    );
  }
  const total = vs.realServers.reduce((n, r) => n + r.weight, 0);
  if (vs.realServers.length && vs.quorum > total) {
    sink.warn(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "quorum"]),
      `quorum ${vs.quorum} exceeds the total weight of the real servers (${total}); the service can never reach quorum`,
      "quorum",
    );
  }
  if (vs.hysteresis >= vs.quorum && vs.hysteresis > 0) {
    sink.warn(
      "CONFIG_INVALID_VALUE",
      x.at([...base, "hysteresis"]),
      `hysteresis ${vs.hysteresis} >= quorum ${vs.quorum}; keepalived lowers it to ${vs.quorum - 1}`,
      "hysteresis",
    );
  }
  if ("fwmark" in vs.key) {
    vs.realServers.forEach((rs, j) => {
      if (rs.port !== 0)
        sink.warn(
          "CONFIG_IGNORED_KEYWORD",
          x.at([...base, "realServers", j, "port"]),
          `fwmark services ignore real server ports (${rs.address} ${rs.port})`,
          "real_server",
        );
    });
  }
  if ("address" in vs.key && vs.key.port === 0 && vs.persistenceTimeout === undefined) {
    sink.error(
      "CONFIG_INVALID_VALUE",
      x.at(base),
      `virtual_server ${vs.key.address} without a port must be persistent; write \`${kw("persistence_timeout 360", "persistenceTimeout: 360")}\` or give a port`,
      "virtual_server",
    );
  }
}
