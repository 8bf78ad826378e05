// Bounds on what one load may read, so that a wrong path (/dev/zero, a log file, a core dump) or
// hostile input ends in a clear error instead of a hang or an exhausted heap. Each bound is far
// above any real keepalived.conf (the largest we know of are a few MB with a few thousand
// virtual servers) and can be raised through the parse options' `limits`.
import { DEFAULT_MAX_ISSUES } from "./errors.js";

export interface ConfigLimits {
  /** Bytes in one file, the main file and each included one (default 64 MiB). */
  maxFileBytes: number;
  /** Characters on one physical line of keepalived.conf (default 65,536). */
  maxLineLength: number;
  /** Blocks inside blocks in keepalived.conf, and collections inside collections in YAML (default 64). */
  maxNesting: number;
  /** Included files read in one load, repeats included (default 1,000). */
  maxIncludeFiles: number;
  /** Includes inside includes (default 32). */
  maxIncludeDepth: number;
  /** Errors kept, and warnings kept, per load; the rest are only counted (default 1,000 each). */
  maxIssues: number;
}

export const DEFAULT_LIMITS: Readonly<ConfigLimits> = Object.freeze({
  maxFileBytes: 64 * 1024 * 1024,
  maxLineLength: 65536,
  maxNesting: 64,
  maxIncludeFiles: 1000,
  maxIncludeDepth: 32,
  maxIssues: DEFAULT_MAX_ISSUES,
});

/**
 * Lines a load may add through multi-line `$NAME` definitions (which can double at each level):
 * EXPANSION_FACTOR times the lines read, or this many if that is more.
 */
export const MIN_EXPANDED_LINES = 100_000;
/** Parameter substitution may produce this many times the input's characters per load, in all… */
export const EXPANSION_FACTOR = 4;
/** …or this many characters if that is more (templates of real servers used a few thousand times). */
export const MIN_EXPANSION = 16 * 1024 * 1024;
/** Multi-line definitions expanding inside each other (each level is a nested call). */
export const MAX_EXPANSION_DEPTH = 32;

/** The defaults with `partial` applied (unset or non-numeric entries keep the default). */
export function resolveLimits(partial: Partial<ConfigLimits> | undefined): ConfigLimits {
  const out = { ...DEFAULT_LIMITS };
  if (partial) {
    for (const k of Object.keys(out) as (keyof ConfigLimits)[]) {
      const v = partial[k];
      if (typeof v === "number" && !Number.isNaN(v) && v >= 0) out[k] = v;
    }
  }
  return out;
}

/** `64 MiB`, `1.5 MiB`, `812 bytes`: sizes as messages show them. */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

export const count = (n: number): string => n.toLocaleString("en-US");
