// The state file next to the configuration: runtime changes (drains, weights, disabled servers)
// and the services the daemon manages, so a restart keeps the first and can clean up the second.
//
// The daemon runs as root and writes this file into a directory an operator chose, so every
// write is defensive:
// - a temporary file with an unpredictable name, created O_CREAT|O_EXCL|O_NOFOLLOW mode 0600 in
//   the same directory (a symlink planted there can't redirect the write), fsync, rename over the
//   old file, fsync of the directory (without the last step a crash can lose the rename itself);
// - the state path itself must not be a symlink or anything but a regular file, and its
//   directory must not be writable by everyone unless the sticky bit is set (otherwise any user
//   could swap the file under us); such a path is refused with DIRECTOR_UNSAFE_PATH.
// A file that is not a state file (empty, truncated, foreign) must not keep the daemon from
// starting: loadStateFile() moves it aside as `<path>.corrupt-<ISO time>` and starts empty.
import { randomBytes } from "node:crypto";
import { constants as fsc } from "node:fs";
import { lstat, open, rename, stat, unlink } from "node:fs/promises";
import { isIP } from "node:net";
import { basename, dirname, join } from "node:path";
import { RS_WEIGHT_MAX } from "@lvs/config";
import { STATE_FILE_SUFFIX, STATE_FILE_VERSION } from "./constants.js";
import type { DrainState, Override } from "./engine.js";
import { DirectorError } from "./errors.js";
import type { RuntimeServer } from "./runtime-servers.js";
import type { SavedSysctl } from "./sysctl-host.js";

export interface StateFile {
  version: number;
  /** `VSKEY RSKEY` → override. */
  overrides: Record<string, Override>;
  /** Service ids (@lvs/ipvs serviceId) the daemon manages. */
  owned: string[];
  /** Real servers added through the API (not in the configuration), by virtual server key. */
  runtimeServers?: Record<string, RuntimeServer[]>;
  /** Sysctls the daemon set (lvs_director_sysctl): their values before, restored at stop. */
  sysctls?: Record<string, SavedSysctl>;
  /** The whole director is drained (`lvsctl drain --director`): nothing announced over BGP. */
  director?: { drained: true; since: number };
  /** Epoch ms of the last write. */
  savedAt?: number;
}

/** `/etc/keepalived/keepalived.conf` → `/etc/keepalived/keepalived.conf.state.json`. */
export function defaultStatePath(configPath: string): string {
  return join(dirname(configPath), `${basename(configPath)}${STATE_FILE_SUFFIX}`);
}

export function emptyState(): StateFile {
  return { version: STATE_FILE_VERSION, overrides: {}, owned: [] };
}

function validDrain(d: unknown): d is DrainState {
  const x = d as DrainState;
  return (
    typeof x === "object" &&
    x !== null &&
    (x.phase === "draining" || x.phase === "drained") &&
    typeof x.since === "number" &&
    (x.deadline === undefined || x.deadline === null || typeof x.deadline === "number")
  );
}

/** include/uapi/linux/stat.h: S_ISVTX (sticky bit; Node's fs.constants lacks it). */
const S_ISVTX = 0o1000;

const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/**
 * Refuse a state path root must not write: a symlink, anything but a regular file, or a file in
 * a directory every user may write without the sticky bit (S_ISVTX: only a file's owner may then
 * rename or delete it). A missing file or directory is fine (nothing to hijack yet).
 */
export async function checkStatePath(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    const d = await stat(dir);
    if (d.mode & fsc.S_IWOTH && !(d.mode & S_ISVTX)) {
      throw new DirectorError(
        "DIRECTOR_UNSAFE_PATH",
        `state file directory ${dir} is writable by every user and has no sticky bit: anyone could replace ${basename(path)}; chmod o-w (or +t) ${dir}, or give --state a path in a root-owned directory`,
        { object: dir },
      );
    }
  } catch (err) {
    if (err instanceof DirectorError) throw err;
    if (errnoOf(err) !== "ENOENT") throw cannotRead(dir, err);
  }
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return;
    throw cannotRead(path, err);
  }
  if (st.isSymbolicLink()) {
    throw new DirectorError(
      "DIRECTOR_UNSAFE_PATH",
      `state file ${path} is a symbolic link; the daemon does not follow links it writes as root (give the real path with --state)`,
      { object: path },
    );
  }
  if (!st.isFile()) {
    throw new DirectorError("DIRECTOR_UNSAFE_PATH", `state file ${path} exists and is not a regular file`, {
      object: path,
    });
  }
}

function cannotRead(path: string, err: unknown): DirectorError {
  return new DirectorError(
    "DIRECTOR_BAD_STATE_FILE",
    `cannot read state file ${path}: ${(err as Error).message}`,
    { object: path, errnoName: errnoOf(err), cause: err },
  );
}

/** The file's text, undefined when there is none; never follows a symlink. */
async function readText(path: string): Promise<string | undefined> {
  await checkStatePath(path);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    if (errnoOf(err) === "ELOOP") {
      throw new DirectorError("DIRECTOR_UNSAFE_PATH", `state file ${path} became a symbolic link`, {
        object: path,
        errnoName: "ELOOP",
      });
    }
    throw cannotRead(path, err);
  }
  try {
    return await fh.readFile("utf8");
  } catch (err) {
    throw cannotRead(path, err);
  } finally {
    await fh.close();
  }
}

/** A state file's text → its content; anything else is a DirectorError DIRECTOR_BAD_STATE_FILE. */
export function parseStateFile(text: string, path: string): StateFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DirectorError(
      "DIRECTOR_BAD_STATE_FILE",
      text.trim() === ""
        ? `state file ${path} is empty`
        : `state file ${path} is not JSON (${(err as Error).message})`,
      { object: path, cause: err },
    );
  }
  const j = raw as Partial<StateFile>;
  if (typeof j !== "object" || j === null || Array.isArray(j) || j.version !== STATE_FILE_VERSION) {
    throw new DirectorError(
      "DIRECTOR_BAD_STATE_FILE",
      `state file ${path} has version ${String((j as { version?: unknown } | null)?.version)}, expected ${STATE_FILE_VERSION}`,
      { object: path },
    );
  }
  const overrides: Record<string, Override> = {};
  const entries = typeof j.overrides === "object" && j.overrides !== null ? Object.entries(j.overrides) : [];
  for (const [k, v] of entries) {
    if (!k.includes(" ") || typeof v !== "object" || v === null) continue;
    const o: Override = {};
    if (Number.isInteger(v.weight) && (v.weight as number) >= 0 && (v.weight as number) <= RS_WEIGHT_MAX)
      o.weight = v.weight as number;
    if (v.disabled === true) o.disabled = true;
    if (v.drain !== undefined && validDrain(v.drain)) {
      o.drain = { ...v.drain, deadline: v.drain.deadline ?? undefined };
    }
    if (o.weight !== undefined || o.disabled || o.drain) overrides[k] = o;
  }
  const owned = Array.isArray(j.owned) ? j.owned.filter((x): x is string => typeof x === "string") : [];
  const runtimeServers = runtimeServersOf(j.runtimeServers);
  const sysctls = sysctlsOf(j.sysctls);
  const d = j.director;
  const director =
    typeof d === "object" && d !== null && d.drained === true && typeof d.since === "number"
      ? { director: { drained: true as const, since: d.since } }
      : {};
  return {
    version: STATE_FILE_VERSION,
    overrides,
    owned,
    ...(runtimeServers ? { runtimeServers } : {}),
    ...(sysctls ? { sysctls } : {}),
    ...director,
  };
}

/** The state file's saved sysctls: a sysctl key → two short values without a newline. */
function sysctlsOf(raw: unknown): Record<string, SavedSysctl> | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const value = (v: unknown): v is string => typeof v === "string" && v.length < 256 && !v.includes("\n");
  const out: Record<string, SavedSysctl> = {};
  for (const [k, v] of Object.entries(raw as Record<string, Partial<SavedSysctl>>))
    if (/^net\.[A-Za-z0-9_.]+$/.test(k) && value(v?.previous) && value(v?.set))
      out[k] = { previous: v.previous, set: v.set };
  return Object.keys(out).length ? out : undefined;
}

/** The state file's runtime servers; entries that are not `{address, port, weight}` are skipped. */
function runtimeServersOf(raw: unknown): Record<string, RuntimeServer[]> | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const out: Record<string, RuntimeServer[]> = {};
  for (const [vsKey, list] of Object.entries(raw)) {
    if (!Array.isArray(list)) continue;
    const ok = list.filter(
      (x): x is RuntimeServer =>
        typeof x === "object" &&
        x !== null &&
        typeof x.address === "string" &&
        isIP(x.address) !== 0 &&
        Number.isInteger(x.port) &&
        x.port >= 0 &&
        x.port <= 65535 &&
        Number.isInteger(x.weight) &&
        x.weight >= 0 &&
        x.weight <= RS_WEIGHT_MAX,
    );
    if (ok.length) out[vsKey] = ok.map((x) => ({ address: x.address, port: x.port, weight: x.weight }));
  }
  return Object.keys(out).length ? out : undefined;
}

/** Read the state file; a missing file is an empty state, a corrupt or unsafe one a DirectorError. */
export async function readStateFile(path: string): Promise<StateFile> {
  const text = await readText(path);
  return text === undefined ? emptyState() : parseStateFile(text, path);
}

export interface LoadedState {
  state: StateFile;
  /** Set when the file held no valid state and was moved aside (the daemon starts empty). */
  corrupt?: { reason: string; movedTo: string };
}

/**
 * What the daemon reads at start: as readStateFile, except that a file with unusable content
 * (empty, not JSON, another version) is renamed to `<path>.corrupt-<ISO time>` and an empty
 * state returned, so a bad file can't keep the daemon in a restart loop; nothing is deleted.
 * An unsafe path or a read error still fails.
 */
export async function loadStateFile(path: string, now: () => number = Date.now): Promise<LoadedState> {
  const text = await readText(path);
  if (text === undefined) return { state: emptyState() };
  try {
    return { state: parseStateFile(text, path) };
  } catch (err) {
    const movedTo = `${path}.corrupt-${new Date(now()).toISOString()}`;
    try {
      await rename(path, movedTo);
    } catch (renameErr) {
      throw new DirectorError(
        "DIRECTOR_BAD_STATE_FILE",
        `${(err as Error).message}, and it could not be moved aside to ${movedTo}: ${(renameErr as Error).message}`,
        { object: path, errnoName: errnoOf(renameErr), cause: err },
      );
    }
    return { state: emptyState(), corrupt: { reason: (err as Error).message, movedTo } };
  }
}

/** Write the state file atomically (random O_EXCL|O_NOFOLLOW tmp + fsync + rename + fsync of the directory). */
export async function writeStateFile(path: string, state: StateFile): Promise<void> {
  await checkStatePath(path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString("hex")}.tmp`);
  const body = `${JSON.stringify({ ...state, savedAt: Date.now() }, null, 1)}\n`;
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(body, "utf8");
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  try {
    const d = await open(dir, fsc.O_RDONLY);
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  }
}

/**
 * Serialises writes: the newest state wins, at most one write in flight, none lost. Each
 * `save()` resolves once a write containing that state is on disk.
 */
export class StateWriter {
  private pending: StateFile | undefined;
  private running: Promise<void> | undefined;
  writes = 0;
  lastError: unknown;

  /** `onError`: a write that failed (the next save tries again). */
  constructor(
    private readonly path: string,
    private readonly onError?: (err: unknown) => void,
  ) {}

  save(state: StateFile): Promise<void> {
    this.pending = state;
    if (!this.running) this.running = this.loop();
    return this.running;
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending) {
        const s = this.pending;
        this.pending = undefined;
        try {
          await writeStateFile(this.path, s);
          this.writes++;
        } catch (err) {
          this.lastError = err;
          this.onError?.(err);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
