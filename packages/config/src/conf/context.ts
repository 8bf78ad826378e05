// Machinery shared by the keepalived.conf block readers: a frame per block being filled, value
// readers that keep what they can't convert (so the schema reports it with a hint), and the
// unknown-keyword warning with a "did you mean".
import { type Statement, statementText } from "../ast.js";
import { BOOL_FALSE, BOOL_TRUE } from "../constants.js";
import type { IssueSink, SourcePos } from "../errors.js";
import { type KeywordSummary, keywordDisposition } from "../keywords.js";
import type { Word } from "../lexer.js";
import type { Path, SourceMap } from "../positions.js";
import { parseScriptLine, QuoteError, shellSyntax } from "../script.js";
import type { LookupUser } from "../users.js";

export type Obj = Record<string, unknown>;

export interface Ctx {
  sink: IssueSink;
  sources: SourceMap;
  lookupUser: LookupUser;
  /** Per file: how its statements' keywords fared (to tell a config from some other file). */
  keywords?: Map<string, KeywordTally>;
  /** Keyword statements applied / ignored (the `lvsctl config check` summary and `--strict`). */
  summary?: KeywordSummary;
  /** vrrp_scripts dropped for having no `script` (their track_script entries go too). */
  removedScripts?: Set<string>;
}

export interface KeywordTally {
  /** Keywords lvs reads or knows to ignore. */
  known: number;
  /** Unknown, but close to a known keyword (a "did you mean"), or a `//` comment. */
  nearMiss: number;
  /** Unknown and like no keyword at all. */
  unknown: number;
}

function tally(c: Ctx, st: Statement, kind: keyof KeywordTally): void {
  if (!c.keywords) return;
  const file = st.keyword.pos.file;
  let t = c.keywords.get(file);
  if (!t) {
    t = { known: 0, nearMiss: 0, unknown: 0 };
    c.keywords.set(file, t);
  }
  t[kind]++;
}

export interface Frame {
  obj: Obj;
  path: Path;
  /** For messages: `vrrp_instance VI_1`. */
  label: string;
  /** Position where each field was first set in this block (duplicate detection). */
  seen: Map<string, SourcePos>;
}

export type Handler = (st: Statement, f: Frame, c: Ctx) => void;
export type Table = Record<string, Handler>;

export function frame(obj: Obj, path: Path, label: string): Frame {
  return { obj, path, label, seen: new Map() };
}

/** snake_case keyword for a camelCase field (for "write `…`" hints of missing fields). */
export function snake(field: string): string {
  return field.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}

export function camel(kw: string): string {
  return kw.replace(/[_-]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Record a field value with its source and warn when the block already set it. */
export function put(f: Frame, c: Ctx, field: string, value: unknown, st: Statement, valueWord?: Word): void {
  const prev = f.seen.get(field);
  if (prev) {
    c.sink.warn(
      "CONFIG_DUPLICATE",
      st.keyword.pos,
      `\`${st.keyword.text}\` is set twice in ${f.label} (first at line ${prev.line}); the last one applies`,
      st.keyword.text,
    );
  } else {
    f.seen.set(field, st.keyword.pos);
  }
  f.obj[field] = value;
  c.sources.set([...f.path, field], {
    pos: st.keyword.pos,
    keyword: st.keyword.text,
    ...(valueWord ? { valuePos: valueWord.pos } : {}),
  });
}

/** Arguments with arity checks: missing → error, extra → warning (keepalived ignores them). */
export function args(st: Statement, c: Ctx, min: number, max: number, example: string): Word[] | undefined {
  if (st.args.length < min) {
    c.sink.error(
      "CONFIG_MISSING_PARAMETER",
      st.keyword.pos,
      `\`${st.keyword.text}\` needs ${min === 1 ? "a value" : `${min} values`}; write \`${st.keyword.text} ${example}\``,
      st.keyword.text,
    );
    return undefined;
  }
  if (st.args.length > max) {
    const extra = st.args[max]!;
    c.sink.warn(
      "CONFIG_EXTRA_PARAMETER",
      extra.pos,
      `extra ${st.args.length - max === 1 ? "word" : "words"} after \`${[st.keyword, ...st.args.slice(0, max)].map((w) => w.text).join(" ")}\` ignored: ${st.args
        .slice(max)
        .map((w) => w.text)
        .join(" ")}`,
      st.keyword.text,
    );
  }
  return st.args;
}

/** Integer (keepalived strtol, base 10); a non-number is kept as text for the schema to reject. */
export function toInt(w: Word): number | string {
  return /^[+-]?\d+$/.test(w.text) ? Number(w.text) : w.text;
}

/** <TIMER>: seconds with up to 6 decimals (read_decimal_unsigned_long_func). */
export function toSeconds(w: Word): number | string {
  return /^(\d+\.?\d*|\.\d+)$/.test(w.text) ? Number(w.text) : w.text;
}

/** <BOOL>: on|off|true|false|yes|no; absent = true (the bare keyword). */
export function toBool(w: Word | undefined): boolean | string {
  if (!w) return true;
  if ((BOOL_TRUE as readonly string[]).includes(w.text)) return true;
  if ((BOOL_FALSE as readonly string[]).includes(w.text)) return false;
  return w.text;
}

type Kind = "int" | "seconds" | "string" | "bool" | "flag";

/** A handler for `keyword VALUE` into `field` (default: camelCase of the keyword). */
export function scalar(kind: Kind, field?: string, example = "…"): Handler {
  return (st, f, c) => {
    const name = field ?? camel(st.keyword.text);
    noBlock(st, c);
    if (kind === "flag") {
      if (st.args.length) args(st, c, 0, 0, "");
      put(f, c, name, true, st);
      return;
    }
    if (kind === "bool") {
      const a = args(st, c, 0, 1, "on");
      if (!a) return;
      put(f, c, name, toBool(a[0]), st, a[0]);
      return;
    }
    const a = args(st, c, 1, 1, example);
    if (!a) return;
    const w = a[0]!;
    const v = kind === "int" ? toInt(w) : kind === "seconds" ? toSeconds(w) : w.text;
    put(f, c, name, v, st, w);
  };
}

/** Warn when a keyword that takes no block has one (keepalived skips it too). */
export function noBlock(st: Statement, c: Ctx): void {
  if (st.block) {
    c.sink.warn(
      "CONFIG_UNEXPECTED_BOB",
      st.block.open,
      `\`${st.keyword.text}\` takes no block; the block is ignored`,
      st.keyword.text,
    );
  }
}

/** The block of a statement that needs one; error (and undefined) when it has none. */
export function needBlock(st: Statement, c: Ctx): Statement[] | undefined {
  if (!st.block) {
    c.sink.error(
      "CONFIG_MISSING_BOB",
      st.keyword.pos,
      `\`${statementText(st)}\` needs a block; write \`${statementText(st)} { … }\``,
      st.keyword.text,
    );
    return undefined;
  }
  return st.block.body;
}

/** The keyword-accounting block (keywords.ts) of each table. */
const ACCOUNTED_AS = new WeakMap<Table, string>();

/** Name the block of `table` in the keyword accounting (keywords.ts) without registering hints. */
export function accountAs(block: string, table: Table): Table {
  ACCOUNTED_AS.set(table, block);
  return table;
}

/** Dispatch each statement of a block through `table`; unknown keywords warn. */
export function runBlock(
  body: Statement[],
  table: Table,
  f: Frame,
  c: Ctx,
  ignored: ReadonlySet<string> = EMPTY,
): void {
  const block = ACCOUNTED_AS.get(table);
  for (const st of body) {
    const kw = st.keyword.text;
    const h = Object.hasOwn(table, kw) ? table[kw] : undefined;
    if (h || ignored.has(kw)) tally(c, st, "known");
    if (h) {
      h(st, f, c);
      const d = block === undefined ? undefined : keywordDisposition(block, kw);
      if (d?.status === "ignored") {
        count(c, "ignored");
        notApplied(st, f, c, d.instead);
      } else count(c, "applied");
    } else if (ignored.has(kw)) {
      count(c, "ignored");
      ignoredKeyword(st, f, c, block);
    } else {
      count(c, "ignored");
      unknownKeyword(st, f, c, tableCandidates(table, ignored));
    }
  }
}

function count(c: Ctx, what: keyof KeywordSummary): void {
  if (c.summary) c.summary[what]++;
}

/** A keyword lvs reads but does not act on: say so at its position, with what lvs does instead. */
function notApplied(st: Statement, f: Frame, c: Ctx, instead: string | undefined): void {
  const at = st.keyword.pos;
  // The keyword's reader may have said so already (with more detail).
  if (c.sink.has("CONFIG_IGNORED_KEYWORD", at) || c.sink.has("CONFIG_UNSUPPORTED", at)) return;
  c.sink.warn(
    "CONFIG_IGNORED_KEYWORD",
    at,
    `\`${st.keyword.text}\` (in ${f.label}) is not applied by lvs${instead ? `: ${instead}` : ""}`,
    st.keyword.text,
  );
}

/** The keywords of each (table, ignored) pair, prepared once for suggest(). */
const TABLE_CANDIDATES = new WeakMap<Table, WeakMap<ReadonlySet<string>, Candidates>>();

function tableCandidates(table: Table, ignored: ReadonlySet<string>): Candidates {
  let byIgnored = TABLE_CANDIDATES.get(table);
  if (!byIgnored) {
    byIgnored = new WeakMap();
    TABLE_CANDIDATES.set(table, byIgnored);
  }
  let c = byIgnored.get(ignored);
  if (!c) {
    c = candidates([...Object.keys(table), ...ignored]);
    byIgnored.set(ignored, c);
  }
  return c;
}

const EMPTY: ReadonlySet<string> = new Set();

export function ignoredKeyword(st: Statement, f: Frame, c: Ctx, block?: string): void {
  const instead = block === undefined ? undefined : keywordDisposition(block, st.keyword.text)?.instead;
  c.sink.warn(
    "CONFIG_IGNORED_KEYWORD",
    st.keyword.pos,
    `\`${st.keyword.text}\` (in ${f.label}) is a keepalived keyword lvs does not use; it is ignored${instead ? ` (${instead})` : ""}`,
    st.keyword.text,
  );
}

/** Which blocks each keyword is valid in (for "belongs in vrrp_instance" hints). */
const KNOWN_IN = new Map<string, Set<string>>();

/** Register a block's keyword table under its keepalived block name. */
export function registerTable(block: string, table: Table): Table {
  knownAnywhere = undefined;
  ACCOUNTED_AS.set(table, block);
  for (const k of Object.keys(table)) {
    let s = KNOWN_IN.get(k);
    if (!s) {
      s = new Set();
      KNOWN_IN.set(k, s);
    }
    s.add(block);
  }
  return table;
}

let knownAnywhere: Candidates | undefined;

/** Input quoted in a message, cut short (a "keyword" may be a 64 KiB line of something else). */
export function shorten(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function unknownKeyword(st: Statement, f: Frame, c: Ctx, known: string[] | Candidates): void {
  const kw = shorten(st.keyword.text);
  let msg: string;
  const guess = suggest(kw, known);
  knownAnywhere ??= candidates([...KNOWN_IN.keys()]);
  const elsewhere = guess ? undefined : suggest(kw, knownAnywhere);
  if (kw.startsWith("//")) {
    msg = `\`//\` does not start a comment in keepalived.conf (this line is read as keyword \`${kw.slice(0, 20)}${kw.length > 20 ? "…" : ""}\`); start comments with # or !`;
  } else if (guess) {
    msg = `unknown keyword \`${kw}\` in ${f.label}; did you mean \`${guess}\`?`;
  } else if (elsewhere) {
    const blocks = [...KNOWN_IN.get(elsewhere)!].join(" or ");
    msg = `\`${kw}\` is not valid in ${f.label}${elsewhere === kw ? "" : ` (did you mean \`${elsewhere}\`?)`}; \`${elsewhere}\` belongs inside ${blocks}`;
  } else {
    msg = `unknown keyword \`${kw}\` in ${f.label}; it is ignored`;
  }
  // `//` (a comment meant) and `$NAME` (a parameter not defined) are config too.
  tally(c, st, guess || elsewhere || kw.startsWith("//") || kw.startsWith("$") ? "nearMiss" : "unknown");
  c.sink.warn("CONFIG_UNKNOWN_KEYWORD", st.keyword.pos, msg, kw);
}

/** Names prepared for suggest(): normalised once, not once per lookup. */
export interface Candidates {
  names: string[];
  norms: string[];
  /** Normalised name → the first name with it. */
  byNorm: Map<string, string>;
}

const norm = (s: string) => s.toLowerCase().replace(/-/g, "_");

export function candidates(names: string[]): Candidates {
  const norms = names.map(norm);
  const byNorm = new Map<string, string>();
  norms.forEach((n, i) => {
    if (!byNorm.has(n)) byNorm.set(n, names[i]!);
  });
  return { names, norms, byNorm };
}

/**
 * Beyond this many names only an exact (case and `-`/`_` insensitive) match is suggested: edit
 * distances to every name of a huge config, for every bad reference, would be quadratic.
 */
const MAX_FUZZY_CANDIDATES = 2000;

/** Closest known keyword (edit distance ≤ 2, or equal once `-`/`_` and case are ignored). */
export function suggest(word: string, known: string[] | Candidates): string | undefined {
  const c = Array.isArray(known) ? candidates(known) : known;
  const w = norm(word);
  const exact = c.byNorm.get(w);
  if (exact !== undefined) return exact;
  if (c.names.length > MAX_FUZZY_CANDIDATES) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (let i = 0; i < c.norms.length; i++) {
    const d = distance(w, c.norms[i]!);
    if (d < bestD) {
      bestD = d;
      best = c.names[i];
    }
  }
  if (bestD <= Math.min(2, Math.floor(word.length / 3))) return best;
  // A prefix typed short (`chk_hap` for `chk_haproxy`), when only one name fits.
  if (word.length < 3) return undefined;
  let only: string | undefined;
  for (let i = 0; i < c.norms.length; i++) {
    if (!c.norms[i]!.startsWith(w)) continue;
    if (only !== undefined) return undefined;
    only = c.names[i];
  }
  return only;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev[j - 2]! + 1);
      cur.push(v);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Resolve `user [group]` words to a RunAs, or report CONFIG_UNKNOWN_USER. */
export function runAs(
  c: Ctx,
  user: Word | string,
  group: Word | string | undefined,
  at: SourcePos,
  kw: string,
): { user: string; group?: string; uid: number; gid: number } | undefined {
  const u = typeof user === "string" ? user : user.text;
  const g = group === undefined ? undefined : typeof group === "string" ? group : group.text;
  const ids = c.lookupUser(u, g);
  if (!ids) {
    c.sink.error(
      "CONFIG_UNKNOWN_USER",
      at,
      `${g !== undefined ? `user "${u}" or group "${g}"` : `user "${u}"`} does not exist on this host; create it or write \`${kw} root\``,
      kw,
    );
    return undefined;
  }
  return { user: u, ...(g !== undefined ? { group: g } : {}), uid: ids.uid, gid: ids.gid };
}

/**
 * A script line (`notify_master "/x.sh a b" [user [group]]`) → { argv, user? }.
 * `withUser` false: words after the script are extra (vrrp_script `script`, misc_path).
 */
export function scriptValue(
  st: Statement,
  c: Ctx,
  withUser: boolean,
): { argv: string[]; user?: { user: string; group?: string; uid: number; gid: number } } | undefined {
  const kw = st.keyword.text;
  if (st.args.length === 0) {
    c.sink.error(
      "CONFIG_MISSING_PARAMETER",
      st.keyword.pos,
      `\`${kw}\` needs a script; write \`${kw} "/etc/keepalived/notify.sh arg"\``,
      kw,
    );
    return undefined;
  }
  let parsed: { argv: string[]; rest: string[] };
  try {
    parsed = parseScriptLine(st.raw);
  } catch (err) {
    const msg = err instanceof QuoteError ? err.message : String(err);
    const line = st.keyword.pos;
    // The lexer already reported an unterminated double quote on this line.
    if (c.sink.has("CONFIG_UNMATCHED_QUOTE", { file: line.file, line: line.line })) return undefined;
    c.sink.error(
      "CONFIG_UNMATCHED_QUOTE",
      st.args[0]!.pos,
      `script of \`${kw}\`: ${msg}; quote the whole command line: \`${kw} "/path/prog 'arg with space'"\``,
      kw,
    );
    return undefined;
  }
  if (parsed.argv.length === 0) {
    c.sink.error(
      "CONFIG_MISSING_PARAMETER",
      st.args[0]!.pos,
      `\`${kw}\` has an empty script; write \`${kw} /path/prog\``,
      kw,
    );
    return undefined;
  }
  const sh = shellSyntax(parsed.argv);
  if (sh) {
    c.sink.warn(
      "CONFIG_SHELL_SYNTAX",
      st.args[0]!.pos,
      `the script of \`${kw}\` contains \`${sh}\`, but scripts run without a shell (keepalived ≥ 1.3 too); write \`${kw} "/bin/sh -c '…'"\` or put the command in a script file`,
      kw,
    );
  }
  let user: ReturnType<typeof runAs>;
  if (parsed.rest.length) {
    if (!withUser) {
      c.sink.warn(
        "CONFIG_EXTRA_PARAMETER",
        st.args[1]?.pos ?? st.args[0]!.pos,
        `words after the script of \`${kw}\` are ignored (${parsed.rest.join(" ")}); put the arguments inside the quotes: \`${kw} "${[...parsed.argv, ...parsed.rest].join(" ")}"\``,
        kw,
      );
    } else {
      user = runAs(c, parsed.rest[0]!, parsed.rest[1], st.args[1]?.pos ?? st.keyword.pos, kw);
      if (!user) return undefined;
      if (parsed.rest.length > 2) {
        c.sink.warn(
          "CONFIG_EXTRA_PARAMETER",
          st.args[3]?.pos ?? st.keyword.pos,
          `words after \`${kw} SCRIPT USER GROUP\` are ignored (${parsed.rest.slice(2).join(" ")}); quote the whole command line`,
          kw,
        );
      }
    }
  }
  return { argv: parsed.argv, ...(user ? { user } : {}) };
}

/** Handler storing a Script ({argv, user?}) into `field`. */
export function script(field?: string): Handler {
  return (st, f, c) => {
    noBlock(st, c);
    const v = scriptValue(st, c, true);
    if (v) put(f, c, field ?? camel(st.keyword.text), v, st, st.args[0]);
  };
}

/** Items of a value block (`notification_email { a b }`): every word of every line. */
export function blockWords(st: Statement, c: Ctx): Word[] | undefined {
  const body = needBlock(st, c);
  if (!body) return undefined;
  if (st.args.length) args(st, c, 0, 0, "");
  const out: Word[] = [];
  for (const line of body) {
    out.push(line.keyword, ...line.args);
    if (line.block) noBlock(line, c);
  }
  return out;
}

// ─── value handlers shared by the vrrp and lvs keyword tables ───
export const int = (example: string): Handler => scalar("int", undefined, example);
export const secs = (example: string): Handler => scalar("seconds", undefined, example);
export const str = (example: string): Handler => scalar("string", undefined, example);
export const bool: Handler = scalar("bool");
export const flag: Handler = scalar("flag");

/** A keyword keepalived still reads but names a successor for: warn, then handle it. */
export function deprecated(use: string, h: Handler): Handler {
  return (st, f, c) => {
    c.sink.warn(
      "CONFIG_DEPRECATED",
      st.keyword.pos,
      `\`${st.keyword.text}\` is deprecated; write \`${use}\``,
      st.keyword.text,
    );
    h(st, f, c);
  };
}
