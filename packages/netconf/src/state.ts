/**
 * The record of what a profile changed, kept in a JSON file so that a later `down` — also after a
 * crash and restart — restores the exact previous values. Written before the changes are made
 * (write-ahead: undoing a change that never happened is harmless) and again after, atomically
 * (temporary file, fsync, rename).
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { IpVersion as Family } from "@lvs/inet";
import { DEFAULT_STATE_DIR } from "./constants.js";
import { NetconfError, wrapError } from "./errors.js";

export type StateRecord =
  | { kind: "sysctl"; key: string; previous: string; applied: string }
  | { kind: "address"; dev: string; address: string; prefixLength: number; family: Family; label?: string }
  | { kind: "link-up"; dev: string };

export interface NetconfState {
  version: 1;
  /** "realserver", "director" or a caller's own name. */
  role: string;
  /** Profiles applied (e.g. ["dr"]). */
  modes: string[];
  netns: string | null;
  /** In the order applied; reverted in reverse. */
  records: StateRecord[];
  updated: string;
}

export const STATE_VERSION = 1;

/** /var/lib/lvs/netconf/<role>[-<netns>].json */
export function defaultStateFile(role: string, netns?: string): string {
  const ns = netns === undefined ? "" : `-${basename(netns).replace(/[^A-Za-z0-9_.-]/g, "_")}`;
  return join(DEFAULT_STATE_DIR, `${role}${ns}.json`);
}

export function emptyState(role: string, netns: string | undefined): NetconfState {
  return { version: STATE_VERSION, role, modes: [], netns: netns ?? null, records: [], updated: "" };
}

/** The state in `file`, or undefined when there is none. A damaged file is an error, never ignored. */
export function readState(file: string): NetconfState | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw wrapError("NETCONF_STATE_FILE", `cannot read state file ${file}`, err, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new NetconfError(
      "NETCONF_STATE_FILE",
      `state file ${file} is not valid JSON (${(err as Error).message}); fix or remove it after checking the values it lists`,
      { file },
    );
  }
  return validateState(parsed, file);
}

function validateState(v: unknown, file: string): NetconfState {
  const bad = (why: string): never => {
    throw new NetconfError("NETCONF_STATE_FILE", `state file ${file}: ${why}`, { file });
  };
  if (!v || typeof v !== "object") bad("not an object");
  const s = v as Partial<NetconfState>;
  if (s.version !== STATE_VERSION) bad(`version ${String(s.version)} (this library reads ${STATE_VERSION})`);
  if (typeof s.role !== "string") bad("no role");
  if (!Array.isArray(s.records)) bad("no records");
  for (const [i, r] of (s.records as unknown[]).entries()) {
    const rec = r as Partial<StateRecord> & Record<string, unknown>;
    const ok =
      (rec.kind === "sysctl" &&
        typeof rec.key === "string" &&
        typeof rec.previous === "string" &&
        typeof rec.applied === "string") ||
      (rec.kind === "address" &&
        typeof rec.dev === "string" &&
        typeof rec.address === "string" &&
        typeof rec.prefixLength === "number" &&
        (rec.family === 4 || rec.family === 6)) ||
      (rec.kind === "link-up" && typeof rec.dev === "string");
    if (!ok) bad(`record ${i} is not a sysctl, address or link-up record: ${JSON.stringify(r)}`);
  }
  return {
    version: STATE_VERSION,
    role: s.role as string,
    modes: Array.isArray(s.modes) ? s.modes.map(String) : [],
    netns: typeof s.netns === "string" ? s.netns : null,
    records: s.records as StateRecord[],
    updated: typeof s.updated === "string" ? s.updated : "",
  };
}

/** Writes atomically; an empty record list removes the file. */
export function writeState(file: string, state: NetconfState): void {
  try {
    if (state.records.length === 0) {
      rmSync(file, { force: true });
      return;
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeSync(fd, `${JSON.stringify({ ...state, updated: new Date().toISOString() }, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    throw wrapError("NETCONF_STATE_FILE", `cannot write state file ${file}`, err, { file });
  }
}
