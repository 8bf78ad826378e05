// Where a daemon that is not root keeps its runtime files. Root uses /run/lvs (keepalived's
// /run); any other user can't create that, so the API socket (and a state file that can't live
// next to the configuration) go to a per-user directory: $XDG_RUNTIME_DIR/lvs when the session
// has one (systemd-logind's private tmpfs), else `<tmpdir>/lvs-<uid>`, created 0700 and refused
// when someone else owns it (a shared /tmp lets anyone create that name first).
import { createHash } from "node:crypto";
import { accessSync, constants as fsc, lstatSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { DEFAULT_SOCKET_PATH, STATE_FILE_SUFFIX } from "./constants.js";
import { DirectorError } from "./errors.js";

export interface RuntimeDir {
  /** The directory. */
  dir: string;
  /** Why this one, for the log. */
  why: string;
}

function euid(): number | undefined {
  return typeof process.geteuid === "function" ? process.geteuid() : undefined;
}

/** The runtime directory for this user (see the file's comment). */
export function runtimeDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = euid(),
): RuntimeDir {
  if (uid === undefined || uid === 0) return { dir: dirname(DEFAULT_SOCKET_PATH), why: "root" };
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && isAbsolute(xdg)) return { dir: join(xdg, "lvs"), why: "not root: under $XDG_RUNTIME_DIR" };
  return {
    dir: join(tmpdir(), `lvs-${uid}`),
    why: "not root and no $XDG_RUNTIME_DIR: a private directory under the temporary directory",
  };
}

/** The API socket `lvsctl up` serves and `lvsctl status` asks by default, for this user. */
export function defaultSocketPath(
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = euid(),
): string {
  return join(runtimeDir(env, uid).dir, "director.sock");
}

/**
 * Create `dir` (0700) when it is a per-user runtime directory, and make sure it is ours and
 * private: a directory someone else made (or a symlink to one) would let them swap our socket.
 */
export function ensurePrivateDir(dir: string, uid: number | undefined = euid()): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (uid === undefined || uid === 0) return;
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new DirectorError(
      "DIRECTOR_UNSAFE_PATH",
      `${dir} is ${st.isDirectory() ? `owned by uid ${st.uid} with mode ${(st.mode & 0o777).toString(8)}` : "not a directory"}: the runtime directory must be a directory of uid ${uid} with mode 700 (remove it, or give --socket/--state)`,
      { object: dir },
    );
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, fsc.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the state file goes by default: `<config>.state.json` next to the configuration, as
 * always; when that directory isn't ours to write (a user running a shipped example), in the
 * runtime directory, named after the configuration's absolute path so two configurations with
 * the same name don't share one.
 */
export function defaultStatePathFor(
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = euid(),
): { path: string; why?: string } {
  const beside = join(dirname(configPath), `${basename(configPath)}${STATE_FILE_SUFFIX}`);
  if (uid === undefined || uid === 0 || writable(dirname(configPath))) return { path: beside };
  const rt = runtimeDir(env, uid);
  const tag = createHash("sha256").update(resolve(configPath)).digest("hex").slice(0, 8);
  return {
    path: join(rt.dir, `${basename(configPath)}-${tag}${STATE_FILE_SUFFIX}`),
    why: `${dirname(configPath)} is not writable by this user`,
  };
}
