// The state file next to the configuration: runtime changes (drains, weights, disabled servers)
// and the services the daemon manages, so a restart keeps the first and can clean up the second.
// Written atomically: a temporary file in the same directory, fsync, rename over the old one,
// fsync of the directory (without the last step a crash can lose the rename itself).
import { constants as fsc } from "node:fs";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { STATE_FILE_SUFFIX, STATE_FILE_VERSION } from "./constants.js";
import type { DrainState, Override } from "./engine.js";
import { DirectorError } from "./errors.js";

export interface StateFile {
  version: number;
  /** `VSKEY RSKEY` → override. */
  overrides: Record<string, Override>;
  /** Service ids (@lvs/ipvs serviceId) the daemon manages. */
  owned: string[];
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

/** Read the state file; a missing file is an empty state, a corrupt one a DirectorError. */
export async function readStateFile(path: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
    throw new DirectorError(
      "DIRECTOR_BAD_STATE_FILE",
      `cannot read state file ${path}: ${(err as Error).message}`,
      {
        object: path,
        errnoName: (err as NodeJS.ErrnoException).code,
        cause: err,
      },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DirectorError(
      "DIRECTOR_BAD_STATE_FILE",
      `state file ${path} is not JSON (${(err as Error).message}); move it away to start without runtime changes`,
      { object: path, cause: err },
    );
  }
  const j = raw as Partial<StateFile>;
  if (typeof j !== "object" || j === null || j.version !== STATE_FILE_VERSION) {
    throw new DirectorError(
      "DIRECTOR_BAD_STATE_FILE",
      `state file ${path} has version ${String((j as { version?: unknown })?.version)}, expected ${STATE_FILE_VERSION}`,
      { object: path },
    );
  }
  const overrides: Record<string, Override> = {};
  for (const [k, v] of Object.entries(j.overrides ?? {})) {
    if (!k.includes(" ") || typeof v !== "object" || v === null) continue;
    const o: Override = {};
    if (typeof v.weight === "number" && v.weight >= 0) o.weight = v.weight;
    if (v.disabled === true) o.disabled = true;
    if (v.drain !== undefined && validDrain(v.drain)) {
      o.drain = { ...v.drain, deadline: v.drain.deadline ?? undefined };
    }
    if (o.weight !== undefined || o.disabled || o.drain) overrides[k] = o;
  }
  const owned = Array.isArray(j.owned) ? j.owned.filter((x): x is string => typeof x === "string") : [];
  return { version: STATE_FILE_VERSION, overrides, owned };
}

/** Write the state file atomically (tmp + fsync + rename + fsync of the directory). */
export async function writeStateFile(path: string, state: StateFile): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const body = `${JSON.stringify({ ...state, savedAt: Date.now() }, null, 1)}\n`;
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, 0o600);
  try {
    await fh.writeFile(body, "utf8");
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
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

  constructor(private readonly path: string) {}

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
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
