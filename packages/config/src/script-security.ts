// keepalived's `enable_script_security` and `script_user`, applied to the loaded model.
//
// keepalived.conf(5) (2.2.7): scripts run as `script_user`, else as keepalived_script when that
// user exists, else as the daemon's own user; with enable_script_security, a script that would run
// as root is not run when any part of its path is writable by a non-root user. The exact rules,
// measured on keepalived 2.2.7 (`keepalived -t` with enable_script_security, one script per case):
// - the script is found through PATH when it has no `/`, and symbolic links are followed (a link
//   in a safe directory to a file in an unsafe one is unsafe);
// - the file and every directory above it must be owned by root;
// - nor group-writable, unless the group is root;
// - nor world-writable, unless it is a directory with the sticky bit (/tmp itself is fine);
// - scripts that run as a non-root user are not checked.
// A script found unsafe is removed with a warning at its position: a notify script is not run, a
// vrrp_script is removed with its tracking, a MISC_CHECK is removed from its real server.
import { realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { IssueSink, SourcePos } from "./errors.js";
import type { LvsConfig, RunAs, Script } from "./model.js";
import type { SourceMap } from "./positions.js";
import type { LookupUser } from "./users.js";

/** What the checks need of a file: owner, group, mode bits (st_mode), directory or not. */
export interface PathInfo {
  uid: number;
  gid: number;
  mode: number;
  isDirectory: boolean;
}

/** File access for the checks (default: the host's, through node:fs). */
export interface ScriptSecurityFs {
  /** Resolve symbolic links; undefined when the path does not exist. */
  realpath(path: string): string | undefined;
  stat(path: string): PathInfo | undefined;
}

export const nodeScriptSecurityFs: ScriptSecurityFs = {
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  },
  stat: (p) => {
    try {
      const s = statSync(p);
      return { uid: s.uid, gid: s.gid, mode: s.mode, isDirectory: s.isDirectory() };
    } catch {
      return undefined;
    }
  },
};

/** PATH used to find a script named without a `/` (keepalived execs with the default PATH). */
export const SCRIPT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_ISVTX = 0o1000;

/** Why `info` at `path` is writable by a non-root user, or undefined when it is not. */
function unsafeBecause(path: string, info: PathInfo): string | undefined {
  if (info.uid !== 0) return `${path} is owned by uid ${info.uid}, not root`;
  if (info.mode & S_IWGRP && info.gid !== 0) return `${path} is writable by group ${info.gid}`;
  if (info.mode & S_IWOTH && !(info.isDirectory && info.mode & S_ISVTX)) return `${path} is world-writable`;
  return undefined;
}

/**
 * Why the program `argv0` is unsafe to run as root (the first part of its path a non-root user
 * can write), or undefined when it is safe. A program that cannot be found is not judged here
 * (running it fails with ENOENT, as in keepalived).
 */
export function scriptPathUnsafe(
  argv0: string,
  fs: ScriptSecurityFs = nodeScriptSecurityFs,
): string | undefined {
  let file: string | undefined;
  if (argv0.includes("/")) file = fs.realpath(argv0);
  else {
    for (const dir of SCRIPT_PATH.split(":")) {
      const p = fs.realpath(join(dir, argv0));
      if (p && fs.stat(p)) {
        file = p;
        break;
      }
    }
  }
  if (!file || !isAbsolute(file)) return undefined;
  for (let p = file; ; p = dirname(p)) {
    const info = fs.stat(p);
    if (!info) return undefined;
    const why = unsafeBecause(p, info);
    if (why) return why;
    if (p === "/") return undefined;
  }
}

/** keepalived's default script user: keepalived_script when it exists (else the daemon's own user). */
export function defaultScriptUser(lookupUser: LookupUser): RunAs | undefined {
  const ids = lookupUser("keepalived_script");
  return ids ? { user: "keepalived_script", uid: ids.uid, gid: ids.gid } : undefined;
}

type Path = Array<string | number>;

/**
 * Give every script its user (its own, else `script_user`, else keepalived_script when it exists)
 * and, with enable_script_security, remove those that would run as root from an unsafe path.
 * `runningUid` is the uid scripts without a user run as (the daemon's: root for a director).
 */
export function applyScriptSecurity(
  config: LvsConfig,
  sources: SourceMap,
  sink: IssueSink,
  top: SourcePos,
  opts: { lookupUser: LookupUser; fs?: ScriptSecurityFs; runningUid?: number },
): void {
  const g = config.globalDefs;
  const dflt = g.scriptUser ?? defaultScriptUser(opts.lookupUser);
  const fs = opts.fs ?? nodeScriptSecurityFs;
  const runningUid = opts.runningUid ?? 0;
  const cache = new Map<string, string | undefined>();
  const unsafe = (argv0: string) => {
    if (!cache.has(argv0)) cache.set(argv0, scriptPathUnsafe(argv0, fs));
    return cache.get(argv0);
  };
  /** The run-as user of a script, and whether it may run (false: warned, caller removes it). */
  const judge = (argv: string[], user: RunAs | undefined, path: Path, what: string): boolean => {
    if (!g.enableScriptSecurity) return true;
    const uid = user ? user.uid : runningUid;
    if (uid !== 0 || !argv[0]) return true;
    const why = unsafe(argv[0]);
    if (!why) return true;
    const src = sources.get(path);
    sink.warn(
      "CONFIG_INSECURE_SCRIPT",
      src?.valuePos ?? src?.pos ?? top,
      `${what} \`${argv.join(" ")}\` would run as root but ${why}; with enable_script_security it is not run (keepalived does the same): make the file and its directories root's and not group/world-writable, or run it as another user`,
      src?.keyword,
    );
    return false;
  };
  const script = (s: Script | undefined, path: Path, what: string): Script | undefined => {
    if (!s) return undefined;
    const withUser = s.user || !dflt ? s : { ...s, user: dflt };
    return judge(withUser.argv, withUser.user, path, what) ? withUser : undefined;
  };
  const NOTIFY = [
    "notifyMaster",
    "notifyBackup",
    "notifyFault",
    "notifyStop",
    "notify",
    "notifyMasterRxLowerPri",
  ] as const;
  const notifyFields = (obj: Record<string, unknown>, path: Path, label: string) => {
    for (const k of NOTIFY) {
      if (!(k in obj)) continue;
      const s = script(obj[k] as Script | undefined, [...path, k], `${label} ${k}`);
      if (s) obj[k] = s;
      else delete obj[k];
    }
  };

  for (const k of ["startupScript", "shutdownScript"] as const) {
    const s = script(g[k], ["globalDefs", k], k === "startupScript" ? "startup_script" : "shutdown_script");
    if (s) g[k] = s;
    else delete g[k];
  }

  // vrrp_script: an unsafe one goes, and with it every track_script naming it.
  const removed = new Set<string>();
  config.vrrpScripts = config.vrrpScripts.filter((s, i) => {
    const user = s.user ?? dflt;
    if (user && !s.user) s.user = user;
    const ok = judge(s.script, user, ["vrrpScripts", i, "script"], `vrrp_script ${s.name}`);
    if (!ok) removed.add(s.name);
    return ok;
  });
  config.vrrpInstances.forEach((vi, i) => {
    notifyFields(vi as unknown as Record<string, unknown>, ["vrrpInstances", i], `vrrp_instance ${vi.name}`);
    vi.trackScript = vi.trackScript.filter((t) => !removed.has(t.name));
  });
  config.vrrpSyncGroups.forEach((sg, i) => {
    notifyFields(
      sg as unknown as Record<string, unknown>,
      ["vrrpSyncGroups", i],
      `vrrp_sync_group ${sg.name}`,
    );
    sg.trackScript = sg.trackScript.filter((t) => !removed.has(t.name));
  });
  config.virtualServers.forEach((vs, i) => {
    const at: Path = ["virtualServers", i];
    for (const k of ["quorumUp", "quorumDown"] as const) {
      const s = script(vs[k], [...at, k], `virtual_server ${k === "quorumUp" ? "quorum_up" : "quorum_down"}`);
      if (s) vs[k] = s;
      else delete vs[k];
    }
    vs.realServers.forEach((rs, j) => {
      const rat: Path = [...at, "realServers", j];
      for (const k of ["notifyUp", "notifyDown"] as const) {
        const s = script(
          rs[k],
          [...rat, k],
          `real_server ${rs.address} ${k === "notifyUp" ? "notify_up" : "notify_down"}`,
        );
        if (s) rs[k] = s;
        else delete rs[k];
      }
      rs.checkers = rs.checkers.filter((c, k) => {
        if (c.check.type !== "misc") return true;
        const user = c.check.user ?? dflt;
        if (user && !c.check.user) c.check.user = user;
        return judge(
          c.check.miscPath,
          user,
          [...rat, "checkers", k, "check", "miscPath"],
          `MISC_CHECK of ${rs.address}`,
        );
      });
    });
  });
}
