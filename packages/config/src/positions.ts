// Where each value of a loaded model came from: JSON path → file:line:column (+ the keyword or
// key written there). Used to put schema and cross-reference errors at the right place, and
// kept on the result so that later stages (the director) can point at the config too.
import type { SourcePos } from "./errors.js";

export type Path = ReadonlyArray<string | number>;

export interface PathSource {
  pos: SourcePos;
  /** keepalived keyword (e.g. `priority`) or YAML key at that place. */
  keyword: string;
  /** Position of the value itself when it differs from the keyword's. */
  valuePos?: SourcePos;
  /** What precedes the example in a "write `…`" hint (default: keyword; "" = the value alone). */
  hintKeyword?: string;
}

interface Node {
  s?: PathSource;
  k?: Record<string, Node>;
}

/** A trie over path segments (cheaper than joined-string keys for 10⁵–10⁶ entries). */
export class SourceMap {
  private readonly root: Node = {};
  private count = 0;

  set(path: Path, src: PathSource): void {
    let n = this.root;
    for (const seg of path) {
      n.k ??= Object.create(null) as Record<string, Node>;
      const key = String(seg);
      n = n.k[key] ??= {};
    }
    if (!n.s) this.count++;
    n.s = src;
  }

  get(path: Path): PathSource | undefined {
    let n: Node | undefined = this.root;
    for (const seg of path) {
      n = n.k?.[String(seg)];
      if (!n) return undefined;
    }
    return n.s;
  }

  has(path: Path): boolean {
    return this.get(path) !== undefined;
  }

  /** The entry for `path`, or for its nearest ancestor that has one. */
  nearest(path: Path): { path: Path; src: PathSource } | undefined {
    let n: Node | undefined = this.root;
    let best: { path: Path; src: PathSource } | undefined = n.s ? { path: [], src: n.s } : undefined;
    for (let i = 0; i < path.length; i++) {
      n = n.k?.[String(path[i])];
      if (!n) break;
      if (n.s) best = { path: path.slice(0, i + 1), src: n.s };
    }
    return best;
  }

  /** Position of a model object or value by path (e.g. ["vrrpInstances", 0]). */
  positionOf(path: Path): SourcePos | undefined {
    return this.nearest(path)?.src.pos;
  }

  /** Number of recorded paths. */
  get size(): number {
    return this.count;
  }
}
