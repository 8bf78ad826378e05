// The file access the keepalived.conf reader needs (for `include`), injectable for tests.
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { posix } from "node:path";

export interface ConfigFs {
  /** Whole file as UTF-8 text; throws (ENOENT…) when it can't. */
  readFile(path: string): string;
  /** Names in a directory; undefined when `path` is not a readable directory. */
  readdir?(path: string): string[] | undefined;
  /** "file", "dir", "other" or undefined when nothing is there. */
  stat?(path: string): "file" | "dir" | "other" | undefined;
  /** Canonical path for cycle detection (symlinks resolved); identity when absent. */
  realpath?(path: string): string;
}

/** The real file system (node:fs). */
export const nodeFs: Required<ConfigFs> = {
  readFile: (p) => readFileSync(p, "utf8"),
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
        try {
          fs.readFile(p);
          return "file";
        } catch {
          return nodeFs.stat(p);
        }
      }),
    realpath: fs.realpath?.bind(fs) ?? ((p: string) => p),
  };
}
