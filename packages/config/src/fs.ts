// The file access the keepalived.conf reader needs (for `include`), injectable for tests, and the
// guarded read every configuration file goes through (regular files only, bounded size).
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { posix } from "node:path";
import type { IssueSink, SourcePos } from "./errors.js";
import { type ConfigLimits, sizeText } from "./limits.js";

export interface ConfigFs {
  /**
   * Whole file as UTF-8 text; throws (ENOENT…) when it can't. `maxBytes`: a file larger than this
   * may be refused with an error whose `code` is "EFBIG" (the caller checks the size again).
   */
  readFile(path: string, maxBytes?: number): string;
  /** Names in a directory; undefined when `path` is not a readable directory. */
  readdir?(path: string): string[] | undefined;
  /** "file", "dir", "other" or undefined when nothing is there. */
  stat?(path: string): "file" | "dir" | "other" | undefined;
  /** Canonical path for cycle detection (symlinks resolved); identity when absent. */
  realpath?(path: string): string;
}

function fsError(code: string, message: string, extra: object = {}): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code }, extra);
}

/**
 * Read a regular file, at most `maxBytes` (+1 to notice more). Anything else is refused before it
 * is opened (a FIFO would block, /dev/zero never ends, opening some devices has side effects) and
 * again on the open descriptor (the path may have changed in between): code "ENOTREG"/"EISDIR".
 * The size is not trusted (files in /proc say 0), the read itself stops after maxBytes + 1.
 */
export function readRegularFile(path: string, maxBytes = Number.POSITIVE_INFINITY): string {
  const notRegular = (dir: boolean) =>
    fsError(
      dir ? "EISDIR" : "ENOTREG",
      `${dir ? "EISDIR: is a directory" : "ENOTREG: not a regular file"}, open '${path}'`,
    );
  const before = statSync(path);
  if (!before.isFile()) throw notRegular(before.isDirectory());
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(st.isDirectory());
    const tooBig = (size: number) => fsError("EFBIG", `EFBIG: file too large, read '${path}'`, { size });
    if (st.size > maxBytes) throw tooBig(st.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(Math.max(st.size + 1 - total, 65536), maxBytes + 1 - total, 1 << 24);
      const buf = Buffer.allocUnsafe(Math.max(want, 1));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooBig(total);
    }
    // Invalid UTF-8 becomes U+FFFD, which the lexer takes as a sign of binary data.
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The real file system (node:fs). */
export const nodeFs: Required<ConfigFs> = {
  readFile: (p, maxBytes) => readRegularFile(p, maxBytes),
  readdir: (p) => {
    try {
      return readdirSync(p);
    } catch {
      return undefined;
    }
  },
  stat: (p) => {
    try {
      const s = statSync(p);
      return s.isFile() ? "file" : s.isDirectory() ? "dir" : "other";
    } catch {
      return undefined;
    }
  },
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  },
};

/**
 * An in-memory file system: `{ "/etc/keepalived/keepalived.conf": "…", … }` (absolute POSIX
 * paths). Directories are implied by the paths. For tests and for callers holding configs in memory.
 */
export function memoryFs(files: Record<string, string>): Required<ConfigFs> {
  const norm = (p: string) => posix.normalize(p).replace(/\/+$/, "") || "/";
  const map = new Map(Object.entries(files).map(([k, v]) => [norm(k), v]));
  const dirs = new Map<string, Set<string>>();
  for (const p of map.keys()) {
    let cur = p;
    while (cur !== "/") {
      const parent = posix.dirname(cur);
      let set = dirs.get(parent);
      if (!set) {
        set = new Set();
        dirs.set(parent, set);
      }
      set.add(posix.basename(cur));
      cur = parent;
    }
  }
  return {
    readFile: (p) => {
      const v = map.get(norm(p));
      if (v === undefined) {
        const err = new Error(`ENOENT: no such file or directory, open '${p}'`) as NodeJS.ErrnoException;
        err.code = dirs.has(norm(p)) ? "EISDIR" : "ENOENT";
        throw err;
      }
      return v;
    },
    readdir: (p) => {
      const s = dirs.get(norm(p));
      return s ? [...s] : undefined;
    },
    stat: (p) => (map.has(norm(p)) ? "file" : dirs.has(norm(p)) ? "dir" : undefined),
    realpath: (p) => norm(p),
  };
}

/** Fill in what a partial ConfigFs lacks from `readFile` (stat) or the real file system. */
export function completeFs(fs: ConfigFs | undefined): Required<ConfigFs> {
  if (!fs) return nodeFs;
  return {
    readFile: fs.readFile.bind(fs),
    readdir: fs.readdir?.bind(fs) ?? nodeFs.readdir,
    stat:
      fs.stat?.bind(fs) ??
      ((p: string) => {
        // Ask the disk first: reading a device or FIFO to find out what it is would hang.
        const onDisk = nodeFs.stat(p);
        if (onDisk !== undefined) return onDisk;
        try {
          fs.readFile(p);
          return "file";
        } catch {
          return undefined;
        }
      }),
    realpath: fs.realpath?.bind(fs) ?? ((p: string) => p),
  };
}

/**
 * Read one configuration file through `fs` with the load's limits: only a regular file, at most
 * `limits.maxFileBytes`. Problems go to `sink` at `at` (the main file's 1:1, or the include line)
 * and give undefined.
 */
export function readConfigText(
  fs: Required<ConfigFs>,
  path: string,
  limits: ConfigLimits,
  sink: IssueSink,
  at: SourcePos,
  included = false,
): string | undefined {
  const name = included ? `included file "${path}"` : path;
  const tooLarge = (size: number | undefined) =>
    sink.error(
      "CONFIG_FILE_TOO_LARGE",
      at,
      `${name} is ${size === undefined ? "larger than" : `${sizeText(size)}, more than`} the ${sizeText(limits.maxFileBytes)} a configuration file may have; check the path (or raise limits.maxFileBytes)`,
      included ? "include" : undefined,
    );
  const notRegular = (dir: boolean) =>
    sink.error(
      "CONFIG_NOT_A_FILE",
      at,
      dir
        ? `${name} is a directory; give the path of a configuration file (e.g. ${posix.join(path, "keepalived.conf")})`
        : `${name} is not a regular file (a device, pipe or socket); give the path of a configuration file`,
      included ? "include" : undefined,
    );
  const kind = fs.stat(path);
  if (kind === "dir" || kind === "other") {
    notRegular(kind === "dir");
    return undefined;
  }
  let text: string;
  try {
    text = fs.readFile(path, limits.maxFileBytes);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { size?: number };
    const code = e.code ?? "EIO";
    if (code === "EFBIG") tooLarge(e.size);
    else if (code === "ENOTREG" || code === "EISDIR") notRegular(code === "EISDIR");
    else
      sink.error(
        "CONFIG_FILE_NOT_FOUND",
        at,
        `cannot read ${name} (${code})`,
        included ? "include" : undefined,
      );
    return undefined;
  }
  // A ConfigFs of our callers' may ignore maxBytes: check what it returned (UTF-16 units ≤ bytes).
  if (
    text.length > limits.maxFileBytes ||
    (text.length * 3 > limits.maxFileBytes && Buffer.byteLength(text) > limits.maxFileBytes)
  ) {
    tooLarge(Buffer.byteLength(text));
    return undefined;
  }
  return text;
}
