// keepalived.conf lexer: physical lines → logical lines of words, with keepalived 2.2.7's rules
// (lib/parser.c: decomment, read_line, alloc_strvec_r, check_include, check_definition,
// replace_param), every word keeping file:line:column.
//
// - `#` and `!` start a comment anywhere outside "double quotes"; `\#` and `\!` are literal.
// - `{` and `}` outside double quotes always stand alone: `a { b }` is the lines `a`, `{`, `b`, `}`.
// - A word starting with `"` runs to the next `"` (no escapes here); other words end at
//   whitespace or at a `"`.
// - `@ID line` / `@^ID line` keep or drop a line by config id; `$NAME=VALUE` defines a parameter
//   (a trailing `\` continues it over lines); `$NAME` / `${NAME}` substitute; predefined `_PWD`,
//   `_INSTANCE`, `_HASH`, `_BANG`, `_RANDOM`.
// - `include[rmwba] PATTERN` splices files in, relative to the including file, glob + braces.
import { posix } from "node:path";
import type { IssueSink, SourcePos } from "./errors.js";
import type { ConfigFs } from "./fs.js";
import { glob, hasBrace, hasMagic } from "./glob.js";

export interface Word {
  text: string;
  pos: SourcePos;
  /** Written between double quotes. */
  quoted: boolean;
}

export type Line =
  | { kind: "words"; words: Word[] /** the line as written (decommented), for script argv */; raw: string }
  | { kind: "{" | "}"; pos: SourcePos };

export interface LexOptions {
  fs: Required<ConfigFs>;
  sink: IssueSink;
  /** For `@ID` lines (keepalived -i): default is the host name up to the first dot. */
  configId?: string;
  /** Seed for `${_RANDOM}` so that loads are repeatable (default 0). */
  randomSeed?: number;
  /** Nested include limit (default 32). */
  maxIncludeDepth?: number;
}

export interface LexResult {
  lines: Line[];
  /** Every file read, in the order first read. */
  files: string[];
}

interface Definition {
  /** Lines of the value (one for a plain definition). */
  lines: string[];
  fn?: (params: number[]) => string;
}

const WS = /[ \t\f\v\r\n]/;
const MAX_SUBSTITUTIONS = 1000;
/** keepalived's MAXBUF-like bound on a line after substitution. */
const MAX_LINE = 65536;

/** Lex `text` (the contents of `file`) and every file it includes. */
export function lexKeepalived(text: string, file: string, opts: LexOptions): LexResult {
  return new Lexer(opts).run(text, file);
}

class Lexer {
  private readonly out: Line[] = [];
  private readonly files: string[] = [];
  private readonly defs = new Map<string, Definition>();
  private collecting: { name: string; lines: string[] } | undefined;
  private currentFile = "";
  private rng: number;

  constructor(private readonly opts: LexOptions) {
    this.rng = (opts.randomSeed ?? 0) >>> 0 || 0x9e3779b9;
    this.defs.set("_PWD", { lines: [""], fn: () => posix.dirname(this.currentFile) });
    this.defs.set("_INSTANCE", { lines: [""], fn: () => opts.configId ?? "" });
    // Escaped, so the decomment pass after substitution keeps them as text (keepalived.conf(5)).
    this.defs.set("_HASH", { lines: ["\\#"] });
    this.defs.set("_BANG", { lines: ["\\!"] });
    this.defs.set("_RANDOM", {
      lines: [""],
      fn: ([min = 0, max = 32767]) => String(min + (this.nextRandom() % (Math.max(max, min) - min + 1))),
    });
  }

  run(text: string, file: string): LexResult {
    this.readFile(text, file, []);
    return { lines: this.out, files: this.files };
  }

  private nextRandom(): number {
    // xorshift32: deterministic per seed, so the same file always gives the same model.
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  private readFile(text: string, file: string, stack: string[]): void {
    if (!this.files.includes(file)) this.files.push(file);
    const saved = this.currentFile;
    this.currentFile = file;
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      this.physical(lines[i]!.replace(/\r+$/, ""), { file, line: i + 1, column: 1 }, stack);
    }
    this.currentFile = saved;
  }

  private physical(raw: string, loc: SourcePos, stack: string[]): void {
    const dc = decomment(raw);
    if (dc.unterminated) {
      this.opts.sink.error(
        "CONFIG_UNMATCHED_QUOTE",
        { ...loc, column: dc.unterminated },
        'unterminated double quote; close the string with `"` on the same line',
      );
    }
    if (this.collecting) {
      // A multi-line `$NAME= \` definition: lines ending with `\` continue it.
      const c = this.collecting;
      if (dc.text === "") {
        this.finishDefinition();
        return;
      }
      if (dc.text.endsWith("\\")) {
        const t = dc.text.slice(0, -1).replace(/[ \t]+$/, "");
        if (t !== "") c.lines.push(t);
        return;
      }
      c.lines.push(dc.text);
      this.finishDefinition();
      return;
    }
    if (dc.text === "") return;
    this.logical(dc.text, dc.cols, loc, stack, 0);
  }

  private finishDefinition(): void {
    const c = this.collecting!;
    this.defs.set(c.name, { lines: c.lines.length ? c.lines : [""] });
    this.collecting = undefined;
  }

  private logical(text: string, cols: number[], loc: SourcePos, stack: string[], depth: number): void {
    let extra: string[] = [];
    for (let rounds = 0; ; rounds++) {
      if (text.startsWith("@")) {
        const neg = text[1] === "^";
        const m = /^@\^?(\S*)[ \t]+/.exec(text);
        if (!m) return; // nothing after the id: keepalived drops the line
        const match = m[1] === (this.opts.configId ?? "");
        if (match === neg) return;
        cols = cols.slice(m[0].length);
        text = text.slice(m[0].length);
        if (neg && m[1] === undefined) return;
      }
      const def = /^\$([A-Za-z_][A-Za-z0-9_]*)=[ \t]*(.*)$/.exec(text);
      if (def) {
        const name = def[1]!;
        const value = def[2]!;
        if (value.endsWith("\\")) {
          const first = value.slice(0, -1).replace(/[ \t]+$/, "");
          this.collecting = { name, lines: first === "" ? [] : [first] };
        } else {
          this.defs.set(name, { lines: [value] });
        }
        return;
      }
      if (text.startsWith("~SEQ") || text.startsWith("~LST")) {
        this.opts.sink.error(
          "CONFIG_UNSUPPORTED",
          { ...loc, column: cols[0] ?? 1 },
          `${text.slice(0, 4)} blocks are not supported by lvs; write the lines out (or generate them with a script)`,
        );
        return;
      }
      if (text.includes("$") && rounds < 100) {
        const sub = this.substitute(text, cols, loc);
        if (sub) {
          extra = [...sub.extra, ...extra];
          const dc = decomment(sub.text);
          text = dc.text;
          cols = dc.cols.map((c) => sub.cols[c - 1] ?? sub.cols[sub.cols.length - 1] ?? 1);
          if (text.startsWith("@") || text.includes("$")) continue;
        }
      }
      break;
    }
    if (text !== "") {
      const inc = /^include([rmwba]?)[ \t]+(.*)$/.exec(text);
      if (inc) this.include(inc[1]!, inc[2]!, { ...loc, column: cols[0] ?? 1 }, stack);
      else this.emit(text, cols, loc);
    }
    for (const line of extra) {
      const dc = decomment(line);
      if (dc.text !== "") {
        this.logical(
          dc.text,
          dc.cols.map(() => cols[0] ?? 1),
          loc,
          stack,
          depth + 1,
        );
      }
    }
  }

  /** Replace `$NAME` / `${NAME}` once pass (re-scanning replaced text, as keepalived does). */
  private substitute(
    text: string,
    cols: number[],
    loc: SourcePos,
  ): { text: string; cols: number[]; extra: string[] } | undefined {
    let changed = false;
    let extra: string[] = [];
    let count = 0;
    let i = 0;
    for (;;) {
      i = text.indexOf("$", i);
      if (i < 0 || i + 1 >= text.length) break;
      const ref = this.findReference(text, i);
      if (!ref) {
        i++;
        continue;
      }
      if (++count > MAX_SUBSTITUTIONS || text.length > MAX_LINE) {
        this.opts.sink.error(
          "CONFIG_BAD_DEFINITION",
          { ...loc, column: cols[i] ?? 1 },
          `parameter substitution does not terminate (a definition refers to itself); rename $${ref.name}`,
        );
        return undefined;
      }
      const { def, end, params } = ref;
      const value = def.fn ? [def.fn(params)] : def.lines;
      const atEnd = end === text.length;
      if (value.length > 1 && !atEnd) {
        i++;
        continue; // multi-line definitions only replace a reference that ends the line
      }
      const first = value[0] ?? "";
      text = text.slice(0, i) + first + text.slice(end);
      cols = [...cols.slice(0, i), ...Array.from(first, () => cols[i] ?? 1), ...cols.slice(end)];
      if (value.length > 1) extra = [...value.slice(1), ...extra];
      changed = true;
      if (first.trimStart().startsWith("~")) break;
    }
    return changed ? { text, cols, extra } : undefined;
  }

  private findReference(
    text: string,
    at: number,
  ): { name: string; def: Definition; end: number; params: number[] } | undefined {
    const braces = text[at + 1] === "{";
    const start = at + (braces ? 2 : 1);
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(start));
    if (!m) return undefined;
    const name = m[0];
    let end = start + name.length;
    const params: number[] = [];
    if (braces) {
      const p = /^((?: +\d+)*)\}/.exec(text.slice(end));
      if (!p) return undefined;
      if (p[1]) params.push(...p[1].trim().split(/ +/).map(Number));
      end += p[0].length;
    } else if (end < text.length && !/[ \t,)]/.test(text[end]!)) {
      return undefined;
    }
    const def = this.defs.get(name);
    if (!def || (params.length && !def.fn)) return undefined;
    return { name, def, end, params };
  }

  private include(kind: string, pattern: string, pos: SourcePos, stack: string[]): void {
    const { fs, sink } = this.opts;
    const from = this.currentFile;
    const depth = stack.length;
    if (depth >= (this.opts.maxIncludeDepth ?? 32)) {
      sink.error(
        "CONFIG_INCLUDE_DEPTH",
        pos,
        `includes nest deeper than ${this.opts.maxIncludeDepth ?? 32} files; flatten them`,
        "include",
      );
      return;
    }
    const cwd = posix.dirname(from.startsWith("/") ? from : posix.resolve(from));
    const matches = glob(pattern, cwd, fs);
    const wild = hasMagic(pattern);
    if (matches.length === 0) {
      // keepalived: plain `include` never fails; includem/w/b/a do (see keepalived.conf(5)).
      const strict = wild ? "wa".includes(kind) && kind !== "" : "mwba".includes(kind) && kind !== "";
      const braceStrict = hasBrace(pattern) && "ba".includes(kind) && kind !== "";
      const msg = wild
        ? `no file matches include pattern "${pattern}"`
        : `included file "${pattern}" not found (looked in ${cwd})`;
      if (strict || braceStrict) sink.error("CONFIG_FILE_NOT_FOUND", pos, `${msg}; fix the path`, "include");
      else sink.warn("CONFIG_INCLUDE_NO_MATCH", pos, `${msg}; nothing was included`, "include");
      return;
    }
    for (const path of matches) {
      const kindOf = fs.stat(path);
      if (kindOf !== "file") {
        sink.warn(
          "CONFIG_INCLUDE_NO_MATCH",
          pos,
          `"${path}" is ${kindOf === "dir" ? "a directory" : "not a regular file"}; skipped (include "${posix.join(path, "*.conf")}" for a directory)`,
          "include",
        );
        continue;
      }
      const real = fs.realpath(path);
      const chain = [...stack, fs.realpath(from.startsWith("/") ? from : posix.resolve(from))];
      if (chain.includes(real)) {
        const shown = [...chain.slice(chain.indexOf(real)), real].map((p) => posix.basename(p)).join(" → ");
        sink.error("CONFIG_INCLUDE_CYCLE", pos, `include cycle ${shown}; remove this include`, "include");
        continue;
      }
      let text: string;
      try {
        text = fs.readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? "EIO";
        sink.error("CONFIG_FILE_NOT_FOUND", pos, `cannot read included file "${path}" (${code})`, "include");
        continue;
      }
      this.readFile(text, path, chain);
    }
  }

  /** Split at braces (outside double quotes) and tokenize each piece. */
  private emit(text: string, cols: number[], loc: SourcePos): void {
    while (text !== "") {
      let p = -1;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "{" || c === "}") {
          p = i;
          break;
        }
        if (c === '"') {
          const close = text.indexOf('"', i + 1);
          if (close < 0) break;
          i = close;
        }
      }
      if (p < 0) {
        this.words(text, cols, loc);
        return;
      }
      if (p === 0) {
        this.out.push({ kind: text[0] as "{" | "}", pos: { ...loc, column: cols[0] ?? 1 } });
        let skip = 1;
        while (text[skip] === " " || text[skip] === "\t") skip++;
        text = text.slice(skip);
        cols = cols.slice(skip);
      } else {
        const head = text.slice(0, p).replace(/[ \t]+$/, "");
        this.words(head, cols.slice(0, head.length), loc);
        text = text.slice(p);
        cols = cols.slice(p);
      }
    }
  }

  private words(text: string, cols: number[], loc: SourcePos): void {
    const words: Word[] = [];
    let i = 0;
    while (i < text.length) {
      while (i < text.length && WS.test(text[i]!)) i++;
      if (i >= text.length) break;
      const start = i;
      let w: string;
      let quoted = false;
      if (text[i] === '"') {
        const close = text.indexOf('"', i + 1);
        quoted = true;
        if (close < 0) {
          w = text.slice(i + 1);
          i = text.length;
        } else {
          w = text.slice(i + 1, close);
          i = close + 1;
        }
      } else {
        while (i < text.length && !WS.test(text[i]!) && text[i] !== '"') i++;
        w = text.slice(start, i);
      }
      words.push({ text: w, quoted, pos: { ...loc, column: cols[start] ?? 1 } });
    }
    if (words.length) this.out.push({ kind: "words", words, raw: text });
  }
}

/**
 * keepalived's decomment(): drop leading blanks and the comment, keep `\#`/`\!` as `#`/`!`,
 * trim trailing blanks; `cols[i]` is the 1-based source column of `text[i]`.
 */
export function decomment(raw: string): {
  text: string;
  cols: number[];
  /** Column of an unterminated `"`, or 0. */
  unterminated: number;
} {
  let i = 0;
  while (raw[i] === " " || raw[i] === "\t") i++;
  let text = "";
  const cols: number[] = [];
  let quoteAt = 0;
  let comment = false;
  let cont = 0;
  for (; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "\\") {
      if (i + 1 < raw.length) {
        const n = raw[i + 1]!;
        if (!comment) {
          if (!quoteAt && (n === "#" || n === "!")) {
            text += n;
            cols.push(i + 2);
          } else {
            text += c + n;
            cols.push(i + 1, i + 2);
          }
        }
        i++;
        continue;
      }
      cont = i + 1;
      break;
    }
    if (comment) continue;
    if (c === '"') quoteAt = quoteAt ? 0 : i + 1;
    else if (!quoteAt && (c === "#" || c === "!")) {
      comment = true;
      continue;
    }
    text += c;
    cols.push(i + 1);
  }
  while (text.endsWith(" ") || text.endsWith("\t")) {
    text = text.slice(0, -1);
    cols.pop();
  }
  if (cont) {
    text += "\\";
    cols.push(cont);
  }
  return { text, cols, unterminated: quoteAt };
}
