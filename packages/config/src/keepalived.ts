// keepalived.conf → LvsConfig: lex (with includes) → statement tree → block readers → schema
// (defaults, ranges) → cross references. Every issue carries file:line:column.
import { hostname } from "node:os";
import { buildTree } from "./ast.js";
import {
  accountAs,
  type Ctx,
  frame,
  type KeywordTally,
  type Obj,
  runBlock,
  type Table,
} from "./conf/context.js";
import { readVirtualServer, readVirtualServerGroup } from "./conf/lvs.js";
import { readGlobalDefs, readSyncGroup, readVrrpInstance, readVrrpScript } from "./conf/vrrp.js";
import { type ConfigIssue, IssueSink, sortIssues } from "./errors.js";
import { type ConfigFs, completeFs, readConfigText } from "./fs.js";
import type { KeywordSummary } from "./keywords.js";
import { lexKeepalived } from "./lexer.js";
import { type ConfigLimits, resolveLimits } from "./limits.js";
import type { LvsConfig } from "./model.js";
import { SourceMap } from "./positions.js";
import { explainUnresolvedParameters, screenNonConfigFiles } from "./screen.js";
import { applyScriptSecurity, type ScriptSecurityFs } from "./script-security.js";
import { type LookupUser, systemLookupUser } from "./users.js";
import { crossCheck, validateModel } from "./validate.js";

export interface ParseOptions {
  /** Name of the file `text` came from; includes resolve relative to it (default "<input>" in cwd). */
  file?: string;
  /** Read an included file (default: node:fs). Shorthand for `fs: { readFile }`. */
  readFile?: (path: string) => string;
  /** Full file access for includes with globs (readdir/stat); see memoryFs(). */
  fs?: ConfigFs;
  /** `@ID` conditional lines (keepalived -i); default: the host name up to the first dot. */
  configId?: string;
  /** User/group lookup for script users (default: this host's /etc/passwd and /etc/group). */
  lookupUser?: LookupUser;
  /** Seed for `${_RANDOM}` (default 0, so loads are repeatable). */
  randomSeed?: number;
  /** Bounds on what a load reads (file size, line length, nesting, includes, issues kept). */
  limits?: Partial<ConfigLimits>;
  /** File access for enable_script_security's checks (default: the host's). */
  scriptSecurityFs?: ScriptSecurityFs;
  /** The uid scripts without a user run as (default: this process's effective uid). */
  runningUid?: number;
}

/** What a successful load returns. */
export interface LoadResult {
  config: LvsConfig;
  /** Warnings (unknown keywords, deprecated syntax, …) in file order (at most `limits.maxIssues`). */
  warnings: ConfigIssue[];
  /** How many warnings there were, including any beyond those kept in `warnings`. */
  warningCount: number;
  /** Every file read (the main file first, then includes in reading order). */
  files: string[];
  /** JSON path in `config` → file:line:column (e.g. `sources.positionOf(["vrrpInstances", 0])`). */
  sources: SourceMap;
  /** keepalived.conf only: keyword statements applied, and ignored (warned, with what lvs does instead). */
  keywordSummary?: KeywordSummary;
}

/** Top-level blocks lvs recognises but does not use (warned, skipped). */
export const ROOT_IGNORED = new Set([
  "static_ipaddress",
  "static_routes",
  "static_rules",
  "track_group",
  "garp_group",
  "linkbeat_interfaces",
  "vrrp_track_process",
  "track_file",
  "vrrp_track_file",
  "interface_up_down_delays",
  "bfd_instance",
  "SSL",
  "linkbeat_use_polling",
  "net_namespace",
  "net_namespace_ipvs",
  "namespace_with_ipsets",
  "use_pid_dir",
  "instance",
  "child_wait_time",
]);

const ROOT: Table = accountAs("(top)", {
  global_defs: (st, f, c) => readGlobalDefs(st, f.obj, c),
  vrrp_script: (st, f, c) => readVrrpScript(st, f.obj, c),
  vrrp_sync_group: (st, f, c) => readSyncGroup(st, f.obj, c),
  vrrp_instance: (st, f, c) => readVrrpInstance(st, f.obj, c),
  virtual_server_group: (st, f, c) => readVirtualServerGroup(st, f.obj, c),
  virtual_server: (st, f, c) => readVirtualServer(st, f.obj, c),
});

/** track_script entries naming a removed vrrp_script go, as keepalived removes the tracking. */
function dropTracking(raw: Obj, removed: ReadonlySet<string>): void {
  for (const key of ["vrrpInstances", "vrrpSyncGroups"]) {
    for (const o of raw[key] as Obj[]) {
      const t = o.trackScript as Array<{ name?: unknown }> | undefined;
      if (t) o.trackScript = t.filter((e) => !removed.has(String(e.name)));
    }
  }
}

export function defaultConfigId(): string {
  return hostname().split(".")[0] ?? "";
}

/**
 * Parse keepalived.conf text. Throws ConfigError (with every error and warning in `issues`)
 * when the file can't be used; unknown keywords are warnings, never errors.
 */
export function parseKeepalivedConf(text: string, opts: ParseOptions = {}): LoadResult {
  const limits = resolveLimits(opts.limits);
  const sink = new IssueSink(limits.maxIssues);
  const file = opts.file ?? "<input>";
  const fs = completeFs(opts.fs ?? (opts.readFile ? { readFile: opts.readFile } : undefined));
  const { lines, files, fileInfo, unresolved } = lexKeepalived(text, file, {
    fs,
    sink,
    configId: opts.configId ?? defaultConfigId(),
    randomSeed: opts.randomSeed ?? 0,
    limits,
  });
  const tree = buildTree(lines, sink, limits.maxNesting);
  const sources = new SourceMap();
  const keywords = new Map<string, KeywordTally>();
  const summary: KeywordSummary = { applied: 0, ignored: 0 };
  const removedScripts = new Set<string>();
  const ctx: Ctx = {
    sink,
    sources,
    lookupUser: opts.lookupUser ?? systemLookupUser,
    keywords,
    summary,
    removedScripts,
  };
  const raw: Obj = {
    vrrpScripts: [],
    vrrpSyncGroups: [],
    vrrpInstances: [],
    virtualServerGroups: [],
    virtualServers: [],
  };
  runBlock(tree, ROOT, frame(raw, [], "the top level"), ctx, ROOT_IGNORED);
  if (removedScripts.size) dropTracking(raw, removedScripts);
  const top = { file, line: 1, column: 1 };
  const config = validateModel(raw, sources, sink, "keepalived", top, ctx.lookupUser);
  if (config) crossCheck(config, sources, sink, "keepalived", top);
  if (config && !sink.counts.errorCount)
    applyScriptSecurity(config, sources, sink, top, {
      lookupUser: ctx.lookupUser,
      ...(opts.scriptSecurityFs ? { fs: opts.scriptSecurityFs } : {}),
      runningUid: opts.runningUid ?? process.geteuid?.() ?? 0,
    });
  explainUnresolvedParameters(sink, unresolved);
  screenNonConfigFiles(sink, files, fileInfo, keywords);
  sink.throwIfErrors();
  return {
    config: config!,
    warnings: sortIssues(sink.warnings()),
    warningCount: sink.counts.warningCount,
    files,
    sources,
    keywordSummary: summary,
  };
}

/** Read and parse a keepalived.conf file (includes resolved relative to it). */
export function loadKeepalivedConf(path: string, opts: Omit<ParseOptions, "file"> = {}): LoadResult {
  const fs = completeFs(opts.fs ?? (opts.readFile ? { readFile: opts.readFile } : undefined));
  const limits = resolveLimits(opts.limits);
  const sink = new IssueSink(limits.maxIssues);
  const text = readConfigText(fs, path, limits, sink, { file: path, line: 1, column: 1 });
  sink.throwIfErrors();
  return parseKeepalivedConf(text!, { ...opts, file: path, fs });
}
