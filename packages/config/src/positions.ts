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
  /** Entry index into the packed columns (see SourceMap), when this path has an entry. */
  i?: number;
  k?: Record<string, Node>;
}

// One entry = these Int32 columns. Positions are 2.2 × 10⁵ entries for a 5,000-service file:
// packed, an entry costs 32 bytes instead of three objects (~120 bytes); objects are built on read.
const FILE = 0;
const LINE = 1;
const COLUMN = 2;
const VALUE_FILE = 3; // -1: no valuePos
const VALUE_LINE = 4;
const VALUE_COLUMN = 5;
const KEYWORD = 6;
const HINT = 7; // -1: no hintKeyword
const WIDTH = 8;

/** A trie over path segments (cheaper than joined-string keys for 10⁵–10⁶ entries). */
export class SourceMap {
  private readonly root: Node = {};
  private count = 0;
  private cols = new Int32Array(WIDTH * 256);
  /** Interned file names and keywords (a few dozen distinct values in any file). */
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();

  /**
   * The map again after a structured clone (a worker's postMessage keeps the fields, not the
   * class, and gives the trie's records back their prototype).
   */
  static revive(cloned: object): SourceMap {
    const map = Object.setPrototypeOf(cloned, SourceMap.prototype) as SourceMap;
    const stack: Node[] = [map.root];
    for (let n = stack.pop(); n; n = stack.pop()) {
      if (!n.k) continue;
      Object.setPrototypeOf(n.k, null);
      for (const child of Object.values(n.k)) stack.push(child);
    }
    return map;
  }

  set(path: Path, src: PathSource): void {
    let n = this.root;
    for (const seg of path) {
      n.k ??= Object.create(null) as Record<string, Node>;
      const key = String(seg);
      n = n.k[key] ??= {};
    }
    if (n.i === undefined) {
      n.i = this.count++;
      if (n.i * WIDTH >= this.cols.length) {
        const grown = new Int32Array(this.cols.length * 2);
        grown.set(this.cols);
        this.cols = grown;
      }
    }
    const at = n.i * WIDTH;
    const c = this.cols;
    c[at + FILE] = this.intern(src.pos.file);
    c[at + LINE] = src.pos.line;
    c[at + COLUMN] = src.pos.column;
    c[at + VALUE_FILE] = src.valuePos ? this.intern(src.valuePos.file) : -1;
    c[at + VALUE_LINE] = src.valuePos?.line ?? 0;
    c[at + VALUE_COLUMN] = src.valuePos?.column ?? 0;
    c[at + KEYWORD] = this.intern(src.keyword);
    c[at + HINT] = src.hintKeyword === undefined ? -1 : this.intern(src.hintKeyword);
  }

  get(path: Path): PathSource | undefined {
    let n: Node | undefined = this.root;
    for (const seg of path) {
      n = n.k?.[String(seg)];
      if (!n) return undefined;
    }
    return n.i === undefined ? undefined : this.entry(n.i);
  }

  has(path: Path): boolean {
    return this.get(path) !== undefined;
  }

  /** The entry for `path`, or for its nearest ancestor that has one. */
  nearest(path: Path): { path: Path; src: PathSource } | undefined {
    let n: Node | undefined = this.root;
    let bestAt = n.i === undefined ? -1 : 0;
    let best = n.i;
    for (let i = 0; i < path.length; i++) {
      n = n.k?.[String(path[i])];
      if (!n) break;
      if (n.i !== undefined) {
        best = n.i;
        bestAt = i + 1;
      }
    }
    return best === undefined || bestAt < 0
      ? undefined
      : { path: path.slice(0, bestAt), src: this.entry(best) };
  }

  /** Position of a model object or value by path (e.g. ["vrrpInstances", 0]). */
  positionOf(path: Path): SourcePos | undefined {
    return this.nearest(path)?.src.pos;
  }

  /** Number of recorded paths. */
  get size(): number {
    return this.count;
  }

  private intern(text: string): number {
    let id = this.stringIds.get(text);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(text);
      this.stringIds.set(text, id);
    }
    return id;
  }

  private entry(i: number): PathSource {
    const c = this.cols;
    const at = i * WIDTH;
    const src: PathSource = {
      pos: {
        file: this.strings[c[at + FILE] as number] as string,
        line: c[at + LINE] as number,
        column: c[at + COLUMN] as number,
      },
      keyword: this.strings[c[at + KEYWORD] as number] as string,
    };
    if ((c[at + VALUE_FILE] as number) >= 0)
      src.valuePos = {
        file: this.strings[c[at + VALUE_FILE] as number] as string,
        line: c[at + VALUE_LINE] as number,
        column: c[at + VALUE_COLUMN] as number,
      };
    if ((c[at + HINT] as number) >= 0) src.hintKeyword = this.strings[c[at + HINT] as number] as string;
    return src;
  }
}
