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
//
// Linear in the input: every pass walks a line once by index (no re-slicing per brace), and the
// limits (limits.ts) bound line length, included files and parameter expansion.
import { posix } from "node:path";
import type { IssueSink, SourcePos } from "./errors.js";
import { type ConfigFs, readConfigText } from "./fs.js";
import { glob, hasBrace, hasMagic } from "./glob.js";
import {
  type ConfigLimits,
  count,
  EXPANSION_FACTOR,
  MAX_EXPANSION_DEPTH,
  MIN_EXPANDED_LINES,
  MIN_EXPANSION,
  resolveLimits,
  sizeText,
} from "./limits.js";
import { parseSequence, SequenceError, type SequenceSpec } from "./sequence.js";

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
  /** Nested include limit (default 32); the same as `limits.maxIncludeDepth`. */
  maxIncludeDepth?: number;
  /** Line length, file size, include count and depth (limits.ts defaults). */
  limits?: Partial<ConfigLimits>;
}

/** What the lexer learnt about one file it read. */
export interface LexedFile {
  /** The `include` line that first brought it in (absent for the main file). */
  includedAt?: SourcePos;
  /** Holds a NUL byte or bytes that are not UTF-8: not a text file. */
  binary: boolean;
}

/** A `$NAME` left in a word because no definition applied (keepalived keeps it as written). */
export interface UnresolvedParameter {
  name: string;
  /** Where the `$` is. */
  pos: SourcePos;
  /** Defined, but written where keepalived does not substitute it (`$NAME` followed by text). */
  defined: boolean;
}

export interface LexResult {
  lines: Line[];
  /** Every file read, in the order first read. */
  files: string[];
  fileInfo: Map<string, LexedFile>;
  /** By the position of the word holding it (`file:line:column`, see positionKey). */
  unresolved: Map<string, UnresolvedParameter>;
}

/** `file:line:column`, the key of LexResult.unresolved. */
export function positionKey(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.column}`;
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
const BOM = 0xfeff;
// A NUL, or U+FFFD from bytes that were not UTF-8: what file(1) and git call binary.
const BINARY = /[\u0000\ufffd]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameChar = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** Lex `text` (the contents of `file`) and every file it includes. */
export function lexKeepalived(text: string, file: string, opts: LexOptions): LexResult {
  return new Lexer(opts).run(text, file);
}

class Lexer {
  private readonly out: Line[] = [];
  private readonly files: string[] = [];
  private readonly fileInfo = new Map<string, LexedFile>();
  private readonly unresolved = new Map<string, UnresolvedParameter>();
  private readonly defs = new Map<string, Definition>();
  private readonly limits: ConfigLimits;
  private collecting: { name: string; lines: string[] } | undefined;
  private currentFile = "";
  private rng: number;
  private includeReads = 0;
  private expandedLines = 0;
  /** Physical lines of all files read so far. */
  private inputLines = 0;
  /** Characters produced by parameter substitution so far, against expansionBudget(). */
  private expanded = 0;
  /** Characters of all files read so far. */
  private inputChars = 0;

  constructor(private readonly opts: LexOptions) {
    this.limits = resolveLimits({
      ...(opts.maxIncludeDepth !== undefined ? { maxIncludeDepth: opts.maxIncludeDepth } : {}),
      ...opts.limits,
    });
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
    const max = this.limits.maxFileBytes;
    if (text.length > max || (text.length * 3 > max && Buffer.byteLength(text) > max)) {
      // The loaders check before reading; this is for text handed to parseKeepalivedConf.
      this.opts.sink.error(
        "CONFIG_FILE_TOO_LARGE",
        { file, line: 1, column: 1 },
        `${file} is ${sizeText(Buffer.byteLength(text))}, more than the ${sizeText(max)} a configuration file may have; check the input (or raise limits.maxFileBytes)`,
      );
      this.files.push(file);
      this.fileInfo.set(file, { binary: false });
    } else {
      this.readFile(text, file, [], undefined);
    }
    return { lines: this.out, files: this.files, fileInfo: this.fileInfo, unresolved: this.unresolved };
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

  private readFile(text: string, file: string, stack: string[], includedAt: SourcePos | undefined): void {
    let info = this.fileInfo.get(file);
    if (!info) {
      info = { ...(includedAt ? { includedAt } : {}), binary: false };
      this.fileInfo.set(file, info);
      this.files.push(file);
    }
    if (text.charCodeAt(0) === BOM) {
      // keepalived 2.2.7 reads the mark as part of the first keyword and drops that block.
      text = text.slice(1);
      this.opts.sink.warn(
        "CONFIG_BYTE_ORDER_MARK",
        { file, line: 1, column: 1 },
        "the file starts with a UTF-8 byte order mark; lvs skips it, but keepalived reads it as part of the first keyword and ignores that block: save the file without the mark",
      );
    }
    if (BINARY.test(text)) info.binary = true;
    this.inputChars += text.length;
    const saved = this.currentFile;
    this.currentFile = file;
    const maxLine = this.limits.maxLineLength;
    for (let start = 0, line = 1; start <= text.length; line++) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      let stop = end;
      while (stop > start && text.charCodeAt(stop - 1) === 13) stop--; // CR of CRLF
      if (stop - start > maxLine) {
        this.opts.sink.error(
          "CONFIG_LINE_TOO_LONG",
          { file, line, column: maxLine + 1 },
          `line is ${count(stop - start)} characters long, more than the ${count(maxLine)} allowed; it is skipped: split it over several lines (braces may go on lines of their own), or raise limits.maxLineLength`,
        );
      } else {
        this.physical(text.slice(start, stop), { file, line, column: 1 }, stack);
      }
      start = end + 1;
      this.inputLines++;
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
        const t = trimEndBlanks(dc.text.slice(0, -1));
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

  /** A `~SEQ(…)` / `~LST(…)` line: the rest of it read once per value, with the variables set. */
  private sequence(text: string, cols: number[], loc: SourcePos, stack: string[], depth: number): void {
    const at = { ...loc, column: cols[0] ?? 1 };
    const maxLines = Math.max(MIN_EXPANDED_LINES, EXPANSION_FACTOR * this.inputLines);
    let spec: SequenceSpec;
    try {
      spec = parseSequence(text, Math.max(0, maxLines - this.expandedLines) + 1);
    } catch (err) {
      if (!(err instanceof SequenceError)) throw err;
      this.opts.sink.error(
        "CONFIG_BAD_DEFINITION",
        at,
        `${text.slice(0, 5).replace(/\(.*/, "")}: ${err.message}; write \`~SEQ(N, 1, 3) line with \${N}\` or \`~LST(N, a, b) line with \${N}\``,
      );
      return;
    }
    const rest = text.slice(spec.length);
    const restCols = cols.slice(spec.length);
    if (rest === "") return;
    const saved = spec.vars.map((v) => this.defs.get(v));
    for (const values of spec.bindings) {
      if (++this.expandedLines > maxLines) {
        this.opts.sink.error(
          "CONFIG_BAD_DEFINITION",
          at,
          `~SEQ/~LST blocks expand to more than ${count(maxLines)} lines (${EXPANSION_FACTOR} × the input, at least ${count(MIN_EXPANDED_LINES)}); the rest is dropped`,
        );
        break;
      }
      spec.vars.forEach((v, i) => {
        this.defs.set(v, { lines: [values[i]!] });
      });
      this.logical(rest, restCols, loc, stack, depth + 1);
    }
    // keepalived.conf(5): do not rely on the variable after the block.
    spec.vars.forEach((v, i) => {
      const before = saved[i];
      if (before) this.defs.set(v, before);
      else this.defs.delete(v);
    });
  }

  private logical(text: string, cols: number[], loc: SourcePos, stack: string[], depth: number): void {
    if (depth > MAX_EXPANSION_DEPTH) {
      // `$A` whose own last line is `$A` would otherwise recurse until the stack overflows.
      this.opts.sink.error(
        "CONFIG_BAD_DEFINITION",
        { ...loc, column: cols[0] ?? 1 },
        `multi-line parameters expand inside each other more than ${MAX_EXPANSION_DEPTH} levels deep (a definition that uses itself?); check the $NAME definitions used on this line`,
      );
      return;
    }
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
          const first = trimEndBlanks(value.slice(0, -1));
          this.collecting = { name, lines: first === "" ? [] : [first] };
        } else {
          this.defs.set(name, { lines: [value] });
        }
        return;
      }
      if (text.startsWith("~SEQ") || text.startsWith("~LST")) {
        this.sequence(text, cols, loc, stack, depth);
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
    const before = this.expandedLines;
    this.expandedLines += extra.length;
    const maxLines = Math.max(MIN_EXPANDED_LINES, EXPANSION_FACTOR * this.inputLines);
    if (this.expandedLines > maxLines) {
      if (before <= maxLines) {
        this.opts.sink.error(
          "CONFIG_BAD_DEFINITION",
          { ...loc, column: cols[0] ?? 1 },
          `multi-line parameters expand to more than ${count(maxLines)} lines (${EXPANSION_FACTOR} × the input, at least ${count(MIN_EXPANDED_LINES)}); the rest is dropped: check the $NAME definitions used here (one that uses another several times doubles at each level)`,
        );
      }
      return;
    }
    for (const line of extra) {
      this.expanded += line.length;
      if (this.expanded > this.expansionBudget()) {
        this.expansionExceeded(loc, cols[0] ?? 1);
        return;
      }
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

  /**
   * Replace `$NAME` / `${NAME}` in one pass that re-scans each inserted value (as keepalived
   * does, so a value may use other parameters). The text still to scan is a stack of pieces
   * (inserted values above the rest of the line) and the result is appended to, so each
   * substitution costs the length of its value, not of the line.
   */
  private substitute(
    text: string,
    cols: number[],
    loc: SourcePos,
  ): { text: string; cols: number[]; extra: string[] } | undefined {
    const input = new PieceStack(text, cols);
    const out: string[] = [];
    const outCols: number[] = [];
    let outLength = 0;
    let changed = false;
    let extra: string[] = [];
    let count = 0;
    let verbatim = false; // after a value starting with `~`: nothing more is replaced
    for (;;) {
      if (this.expanded + outLength > this.expansionBudget()) {
        this.expansionExceeded(loc, cols[0] ?? 1);
        return undefined;
      }
      const top = input.top();
      if (!top) break;
      const dollar = verbatim ? -1 : top.s.indexOf("$", top.i);
      const stop = dollar < 0 ? top.s.length : dollar;
      if (stop > top.i) {
        // Copy the run up to the next `$` (or the piece's end) unchanged.
        out.push(top.s.slice(top.i, stop));
        for (let k = top.i; k < stop; k++) outCols.push(top.cols ? (top.cols[k] ?? 1) : top.col);
        outLength += stop - top.i;
        input.skip(stop - top.i);
        continue;
      }
      const col = top.cols ? (top.cols[top.i] ?? 1) : top.col;
      const ref = input.charAt(1) === undefined ? undefined : this.findReference(input);
      if (!ref) {
        out.push("$");
        outCols.push(col);
        outLength++;
        input.skip(1);
        continue;
      }
      if (++count > MAX_SUBSTITUTIONS || outLength + input.remaining > MAX_LINE) {
        this.opts.sink.error(
          "CONFIG_BAD_DEFINITION",
          { ...loc, column: col },
          `parameter substitution does not terminate (a definition refers to itself); rename $${ref.name}`,
        );
        return undefined;
      }
      const { def, length, params } = ref;
      const value = def.fn ? [def.fn(params)] : def.lines;
      const atEnd = input.charAt(length) === undefined;
      if (value.length > 1 && !atEnd) {
        // multi-line definitions only replace a reference that ends the line
        out.push("$");
        outCols.push(col);
        outLength++;
        input.skip(1);
        continue;
      }
      input.skip(length);
      const first = value[0] ?? "";
      input.push(first, col);
      if (value.length > 1) extra = [...value.slice(1), ...extra];
      changed = true;
      if (first.trimStart().startsWith("~")) verbatim = true;
    }
    this.expanded += outLength;
    return changed ? { text: out.join(""), cols: outCols, extra } : undefined;
  }

  /**
   * A 3-byte `$X` line can stand for 64 KiB, and definitions using others double at each level:
   * substitution may produce EXPANSION_FACTOR times the input, or MIN_EXPANSION if that is more.
   */
  private expansionBudget(): number {
    return Math.max(MIN_EXPANSION, EXPANSION_FACTOR * this.inputChars);
  }

  private expansionExceeded(loc: SourcePos, column: number): void {
    if (this.expanded === Number.POSITIVE_INFINITY) return; // reported once
    this.expanded = Number.POSITIVE_INFINITY;
    this.opts.sink.error(
      "CONFIG_BAD_DEFINITION",
      { ...loc, column },
      `parameter substitution produces more than ${count(this.expansionBudget())} characters (${EXPANSION_FACTOR} × the input, at least ${count(MIN_EXPANSION)}); $NAME is no longer replaced from here on: check the definitions used here (one that uses another several times doubles at each level)`,
    );
  }

  /** The reference starting at the `$` the input is at, if it names a definition. */
  private findReference(
    input: PieceStack,
  ): { name: string; def: Definition; length: number; params: number[] } | undefined {
    const braces = input.charAt(1) === "{";
    let k = braces ? 2 : 1;
    let name = "";
    for (let c = input.charAt(k); c !== undefined && NAME_CHAR.test(c); c = input.charAt(++k)) {
      if (name === "" && c >= "0" && c <= "9") return undefined;
      name += c;
    }
    if (name === "") return undefined;
    const params: number[] = [];
    if (braces) {
      // `( +\d+)*}`: numbers after the name, then the closing brace
      for (;;) {
        const c = input.charAt(k);
        if (c === "}") break;
        if (c !== " ") return undefined;
        while (input.charAt(k) === " ") k++;
        let digits = "";
        for (let d = input.charAt(k); d !== undefined && d >= "0" && d <= "9"; d = input.charAt(++k))
          digits += d;
        if (digits === "") return undefined;
        params.push(Number(digits));
      }
      k++;
    } else {
      const next = input.charAt(k);
      if (next !== undefined && !" \t,)".includes(next)) return undefined;
    }
    const def = this.defs.get(name);
    if (!def || (params.length && !def.fn)) return undefined;
    return { name, def, length: k, params };
  }

  private include(kind: string, pattern: string, pos: SourcePos, stack: string[]): void {
    const { fs, sink } = this.opts;
    const from = this.currentFile;
    const depth = stack.length;
    const maxDepth = this.limits.maxIncludeDepth;
    if (depth >= maxDepth) {
      sink.error(
        "CONFIG_INCLUDE_DEPTH",
        pos,
        `includes nest deeper than ${maxDepth} files; flatten them (or raise limits.maxIncludeDepth)`,
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
      // Counted per read: a file included from many places is read (and counted) each time, and
      // without this bound a few files including each other twice grow 2^depth reads.
      if (++this.includeReads > this.limits.maxIncludeFiles) {
        if (this.includeReads === this.limits.maxIncludeFiles + 1) {
          sink.error(
            "CONFIG_TOO_MANY_FILES",
            pos,
            `more than ${count(this.limits.maxIncludeFiles)} included files read (each include of a file counts); the rest are not read: include fewer files (or raise limits.maxIncludeFiles)`,
            "include",
          );
        }
        return;
      }
      const text = readConfigText(fs, path, this.limits, sink, pos, true);
      if (text !== undefined) this.readFile(text, path, chain, pos);
    }
  }

  /**
   * Split at braces (outside double quotes) and tokenize each piece: one forward pass over the
   * line, pieces handed on as index ranges (slicing the rest off per brace was quadratic).
   */
  private emit(text: string, cols: number[], loc: SourcePos): void {
    let from = 0; // start of the piece not yet emitted
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34 /* " */) {
        const close = text.indexOf('"', i + 1);
        if (close < 0) break; // unterminated: the rest is one piece of words
        i = close;
        continue;
      }
      if (c !== 123 /* { */ && c !== 125 /* } */) continue;
      let end = i;
      while (end > from && (text[end - 1] === " " || text[end - 1] === "\t")) end--;
      if (end > from) this.words(text, cols, from, end, loc);
      this.out.push({ kind: text[i] as "{" | "}", pos: { ...loc, column: cols[i] ?? 1 } });
      from = i + 1;
      while (text[from] === " " || text[from] === "\t") from++;
      i = from - 1;
    }
    if (from < text.length) this.words(text, cols, from, text.length, loc);
  }

  /** The words of `text[from, to)`; cols[i] is the source column of text[i]. */
  private words(text: string, cols: number[], from: number, to: number, loc: SourcePos): void {
    const words: Word[] = [];
    let i = from;
    while (i < to) {
      while (i < to && WS.test(text[i]!)) i++;
      if (i >= to) break;
      const start = i;
      let w: string;
      let quoted = false;
      if (text[i] === '"') {
        const close = text.indexOf('"', i + 1);
        quoted = true;
        if (close < 0 || close >= to) {
          w = text.slice(i + 1, to);
          i = to;
        } else {
          w = text.slice(i + 1, close);
          i = close + 1;
        }
      } else {
        while (i < to && !WS.test(text[i]!) && text[i] !== '"') i++;
        w = text.slice(start, i);
      }
      const word: Word = { text: w, quoted, pos: { ...loc, column: cols[start] ?? 1 } };
      if (w.includes("$")) this.noteUnresolved(word, cols, start + (quoted ? 1 : 0));
      words.push(word);
    }
    if (words.length) this.out.push({ kind: "words", words, raw: text.slice(from, to) });
  }

  /** Remember the first `$NAME` a word still holds, for a clearer message if the value is rejected. */
  private noteUnresolved(word: Word, cols: number[], offset: number): void {
    // Only the first few thousand can end up in a kept issue (limits.maxIssues).
    if (this.unresolved.size >= 4 * this.limits.maxIssues) return;
    const t = word.text;
    for (let at = t.indexOf("$"); at >= 0; at = t.indexOf("$", at + 1)) {
      const braces = t[at + 1] === "{";
      const start = at + (braces ? 2 : 1);
      let end = start;
      while (end < t.length && isNameChar(t.charCodeAt(end))) end++;
      if (end === start || isDigit(t.charCodeAt(start))) continue;
      const name = t.slice(start, end);
      const defined = this.defs.has(name);
      // a defined `${NAME}` was substituted; one still here lacks its `}` or has bad numbers
      if (defined && braces && t[end] === "}") continue;
      this.unresolved.set(positionKey(word.pos), {
        name,
        defined,
        pos: { ...word.pos, column: cols[offset + at] ?? word.pos.column },
      });
      return;
    }
  }
}
/**
 * Text still to be scanned by substitute(): pieces on a stack, the top one read first. A piece
 * from the line maps each character to its column; an inserted value has one column for all
 * (where its `$NAME` stood).
 */
class PieceStack {
  private readonly pieces: { s: string; i: number; cols?: number[]; col: number }[];
  /** Characters left in all pieces. */
  remaining: number;

  constructor(text: string, cols: number[]) {
    this.pieces = [{ s: text, i: 0, cols, col: 1 }];
    this.remaining = text.length;
  }

  /** The piece being read, or undefined at the end (spent pieces are dropped). */
  top(): { s: string; i: number; cols?: number[]; col: number } | undefined {
    let t = this.pieces[this.pieces.length - 1];
    while (t && t.i >= t.s.length) {
      this.pieces.pop();
      t = this.pieces[this.pieces.length - 1];
    }
    return t;
  }

  /** The character `k` ahead of the read position, across pieces. */
  charAt(k: number): string | undefined {
    for (let d = this.pieces.length - 1; d >= 0; d--) {
      const p = this.pieces[d]!;
      const left = p.s.length - p.i;
      if (k < left) return p.s[p.i + k];
      k -= left;
    }
    return undefined;
  }

  skip(n: number): void {
    this.remaining -= n;
    while (n > 0) {
      const p = this.top()!;
      const take = Math.min(n, p.s.length - p.i);
      p.i += take;
      n -= take;
    }
  }

  push(s: string, col: number): void {
    if (s === "") return;
    this.pieces.push({ s, i: 0, col });
    this.remaining += s.length;
  }
}

/** Drop trailing blanks (a `[ \\t]+$` regex backtracks quadratically over a long blank run). */
function trimEndBlanks(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * keepalived's decomment(): drop leading blanks and the comment, keep `\#`/`\!` as `#`/`!`,
 * trim trailing blanks; `cols[i]` is the 1-based source column of `text[i]`. A `\` ending the
 * line (comment or not) marks a continuation and is kept as the last character.
 */
export function decomment(raw: string): {
  text: string;
  cols: number[];
  /** Column of an unterminated `"`, or 0. */
  unterminated: number;
} {
  const n = raw.length;
  let i = 0;
  while (i < n && (raw.charCodeAt(i) === 32 || raw.charCodeAt(i) === 9)) i++;
  const parts: string[] = [];
  const cols: number[] = [];
  const copy = (from: number, to: number) => {
    if (to <= from) return;
    parts.push(raw.slice(from, to));
    for (let k = from; k < to; k++) cols.push(k + 1);
  };
  let run = i; // start of the stretch copied as it is
  let end = n; // where the text stops (a comment or the continuation `\`)
  let quoteAt = 0;
  let cont = 0;
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 === n) {
        cont = i + 1;
        end = Math.min(end, i);
        break;
      }
      const next = raw.charCodeAt(i + 1);
      if (end === n && !quoteAt && (next === 35 || next === 33)) {
        copy(run, i); // `\#` → `#`
        parts.push(raw[i + 1]!);
        cols.push(i + 2);
        run = i + 2;
      }
      i++; // a pair: the second character never starts a quote or a comment
      continue;
    }
    if (end < n) continue; // in the comment: only a final `\` matters
    if (c === 34 /* " */) quoteAt = quoteAt ? 0 : i + 1;
    else if (!quoteAt && (c === 35 /* # */ || c === 33) /* ! */) end = i;
  }
  copy(run, end);
  let text = parts.join("");
  let last = text.length;
  while (last > 0 && (text[last - 1] === " " || text[last - 1] === "\t")) last--;
  if (last < text.length) {
    text = text.slice(0, last);
    cols.length = last;
  }
  if (cont) {
    text += "\\";
    cols.push(cont);
  }
  return { text, cols, unterminated: quoteAt };
}
