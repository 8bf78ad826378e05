// The one error class of @lvs/config, and the issue records it carries.

/** Where something is in a config file: 1-based line and column (UTF-16 units, a tab counts 1). */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** Stable codes. Errors make a file unusable; warnings (`CONFIG_UNKNOWN_KEYWORD`…) never do. */
export type ConfigErrorCode =
  // lexical / structural
  | "CONFIG_UNMATCHED_QUOTE"
  | "CONFIG_UNEXPECTED_BOB"
  | "CONFIG_MISSING_BOB"
  | "CONFIG_UNEXPECTED_EOB"
  | "CONFIG_MISSING_EOB"
  | "CONFIG_BAD_DEFINITION"
  | "CONFIG_UNDEFINED_PARAMETER"
  | "CONFIG_UNSUPPORTED"
  | "CONFIG_BYTE_ORDER_MARK"
  // includes and files
  | "CONFIG_FILE_NOT_FOUND"
  | "CONFIG_NOT_A_FILE"
  | "CONFIG_NOT_CONFIG"
  | "CONFIG_INCLUDE_CYCLE"
  | "CONFIG_INCLUDE_NO_MATCH"
  | "CONFIG_INCLUDE_DEPTH"
  // reader limits (limits.ts)
  | "CONFIG_FILE_TOO_LARGE"
  | "CONFIG_LINE_TOO_LONG"
  | "CONFIG_NESTING_TOO_DEEP"
  | "CONFIG_TOO_MANY_FILES"
  // keywords and values
  | "CONFIG_UNKNOWN_KEYWORD"
  | "CONFIG_IGNORED_KEYWORD"
  | "CONFIG_DEPRECATED"
  | "CONFIG_MISSING_PARAMETER"
  | "CONFIG_EXTRA_PARAMETER"
  | "CONFIG_INVALID_VALUE"
  | "CONFIG_MISSING_REQUIRED"
  | "CONFIG_DUPLICATE"
  | "CONFIG_BAD_REFERENCE"
  | "CONFIG_UNKNOWN_USER"
  | "CONFIG_SHELL_SYNTAX"
  | "CONFIG_INSECURE_SCRIPT"
  // YAML / JSON
  | "CONFIG_YAML_SYNTAX"
  | "CONFIG_SCHEMA";

export type Severity = "error" | "warning";

/** One finding, with its position and (for most) what to write instead. */
export interface ConfigIssue extends SourcePos {
  code: ConfigErrorCode;
  severity: Severity;
  /** Complete sentence(s), including the "write `…`" hint when there is one. */
  message: string;
  /** The keyword (keepalived.conf) or key path (YAML) at fault. */
  keyword?: string;
}

/**
 * Make text that quotes a config file safe to print on a terminal: C0 controls (ESC included),
 * DEL, C1 controls and the bidirectional overrides become visible escapes (`\t`, `\x1b`,
 * `\u009b`, `\u202e`), so a file can neither drive the terminal nor hide text in a message.
 * Idempotent: escaped text has nothing left to escape.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    if (c === "\t") return "\\t";
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    return n < 0x80 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/** `file:line:column: message` (the format of `lvsctl config check` and of compilers). */
export function formatIssue(issue: ConfigIssue): string {
  const tag = issue.severity === "warning" ? "warning: " : "";
  return `${escapeControl(issue.file)}:${issue.line}:${issue.column}: ${tag}${escapeControl(issue.message)} (${issue.code})`;
}

/** Totals of a load: every issue found, including those beyond what was kept (`maxIssues`). */
export interface IssueCounts {
  errorCount: number;
  warningCount: number;
}

/**
 * At most `max` (default 50) formatted lines, errors before warnings when they don't all fit,
 * in file order, then one line counting the rest: `… and 9,950 more errors`. `counts` are the
 * totals (a ConfigError's or a LoadResult's), which may exceed what `issues` holds.
 */
export function formatIssueList(
  issues: ConfigIssue[],
  opts: { max?: number; counts?: IssueCounts } = {},
): string[] {
  const max = opts.max ?? 50;
  const errors = issues.filter((i) => i.severity === "error");
  const warnings = issues.filter((i) => i.severity !== "error");
  const shownErrors = errors.slice(0, max);
  const shownWarnings = warnings.slice(0, max - shownErrors.length);
  const shown = new Set([...shownErrors, ...shownWarnings]);
  const lines = issues.filter((i) => shown.has(i)).map(formatIssue);
  const moreErrors = (opts.counts?.errorCount ?? errors.length) - shownErrors.length;
  const moreWarnings = (opts.counts?.warningCount ?? warnings.length) - shownWarnings.length;
  const n = (k: number, what: string) => `${k.toLocaleString("en-US")} more ${what}${k === 1 ? "" : "s"}`;
  const rest = [
    ...(moreErrors > 0 ? [n(moreErrors, "error")] : []),
    ...(moreWarnings > 0 ? [n(moreWarnings, "warning")] : []),
  ];
  if (rest.length) lines.push(`… and ${rest.join(" and ")}`);
  return lines;
}

/**
 * Thrown when a configuration cannot be used. `code` and the position are those of the first
 * error; `issues` holds every error and warning found in the same pass, in file order (up to
 * `maxIssues` of each kind; `errorCount` / `warningCount` count them all).
 */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly issues: ConfigIssue[];
  /** Every error found, including any beyond those kept in `issues`. */
  readonly errorCount: number;
  /** Every warning found, including any beyond those kept in `issues`. */
  readonly warningCount: number;
  constructor(issues: ConfigIssue[], counts?: IssueCounts) {
    const errors = issues.filter((i) => i.severity === "error");
    const first = errors[0] ?? issues[0];
    if (!first) throw new TypeError("ConfigError needs at least one issue");
    const errorCount = Math.max(counts?.errorCount ?? 0, errors.length);
    super(errorCount > 1 ? `${formatIssue(first)} (+${errorCount - 1} more)` : formatIssue(first));
    this.name = "ConfigError";
    this.code = first.code;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.issues = issues;
    this.errorCount = errorCount;
    this.warningCount = Math.max(counts?.warningCount ?? 0, issues.length - errors.length);
  }

  /** Only the errors (not the warnings). */
  get errors(): ConfigIssue[] {
    return this.issues.filter((i) => i.severity === "error");
  }
}

/** How many issues of each severity a sink keeps by default (the rest are counted). */
export const DEFAULT_MAX_ISSUES = 1000;

/**
 * Collects issues during one load; throws a ConfigError at the end if any is an error.
 * Keeps the first `maxIssues` errors and the first `maxIssues` warnings (so hostile input can't
 * grow memory without bound, and a flood of warnings never hides the first error) and counts
 * the rest. Messages are stored with control characters escaped (escapeControl).
 */
export class IssueSink {
  readonly issues: ConfigIssue[] = [];
  private readonly seen = new Set<string>();
  /** code|file|line|column and code|file|line of kept issues, for `has`. */
  private readonly index = new Set<string>();
  private errors = 0;
  private warns = 0;
  private keptErrors = 0;
  private keptWarnings = 0;
  /** Issues counted but not kept, per file (so dropFile can take them back). */
  private readonly overflow = new Map<string, IssueCounts>();

  constructor(readonly maxIssues = DEFAULT_MAX_ISSUES) {}

  error(code: ConfigErrorCode, pos: SourcePos, message: string, keyword?: string): void {
    // The same value can be reported through two paths (a real server's delay_loop copied into
    // its checkers' policies): report it once.
    // Past the cap an error is only counted (a repeat of a kept one may then count twice).
    if (this.keptErrors >= this.maxIssues) {
      this.errors++;
      this.countOverflow(pos.file, "errorCount");
      return;
    }
    const k = `${pos.file}:${pos.line}:${pos.column}:${code}:${message}`;
    if (this.seen.has(k)) return;
    this.errors++;
    this.seen.add(k);
    this.keptErrors++;
    this.keep({ code, severity: "error", message, ...pick(pos), ...(keyword ? { keyword } : {}) });
  }

  warn(code: ConfigErrorCode, pos: SourcePos, message: string, keyword?: string): void {
    this.warns++;
    if (this.keptWarnings >= this.maxIssues) {
      this.countOverflow(pos.file, "warningCount");
      return;
    }
    this.keptWarnings++;
    this.keep({ code, severity: "warning", message, ...pick(pos), ...(keyword ? { keyword } : {}) });
  }

  private keep(issue: ConfigIssue): void {
    issue.message = escapeControl(issue.message);
    this.issues.push(issue);
    this.index.add(`${issue.code}|${issue.file}|${issue.line}|${issue.column}`);
    this.index.add(`${issue.code}|${issue.file}|${issue.line}`);
  }

  private countOverflow(file: string, kind: keyof IssueCounts): void {
    let c = this.overflow.get(file);
    if (!c) {
      c = { errorCount: 0, warningCount: 0 };
      this.overflow.set(file, c);
    }
    c[kind]++;
  }

  /** Whether an issue of this severity would still be kept (else costly detail can be skipped). */
  keeps(severity: Severity): boolean {
    return severity === "error" ? this.keptErrors < this.maxIssues : this.keptWarnings < this.maxIssues;
  }

  /** Whether a kept issue has this code at `pos` (or anywhere on its line when `column` is omitted). */
  has(code: ConfigErrorCode, pos: { file: string; line: number; column?: number }): boolean {
    const k = `${code}|${pos.file}|${pos.line}`;
    return this.index.has(pos.column === undefined ? k : `${k}|${pos.column}`);
  }

  /**
   * Take back every issue reported in `file` (kept or only counted), for a file that is reported
   * as a whole instead; returns how many of each there were.
   */
  dropFile(file: string): IssueCounts {
    const removed: IssueCounts = { ...(this.overflow.get(file) ?? { errorCount: 0, warningCount: 0 }) };
    this.overflow.delete(file);
    let w = 0;
    for (const i of this.issues) {
      if (i.file !== file) this.issues[w++] = i;
      else if (i.severity === "error") {
        removed.errorCount++;
        this.keptErrors--;
      } else {
        removed.warningCount++;
        this.keptWarnings--;
      }
    }
    this.issues.length = w;
    this.errors -= removed.errorCount;
    this.warns -= removed.warningCount;
    return removed;
  }

  get counts(): IssueCounts {
    return { errorCount: this.errors, warningCount: this.warns };
  }
  get hasErrors(): boolean {
    return this.errors > 0;
  }
  warnings(): ConfigIssue[] {
    return this.issues.filter((i) => i.severity === "warning");
  }
  throwIfErrors(): void {
    if (this.hasErrors) throw new ConfigError(sortIssues(this.issues), this.counts);
  }
}

function pick(p: SourcePos): SourcePos {
  return { file: p.file, line: p.line, column: p.column };
}

/** Stable order: by file (first appearance), then line, then column. */
export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const fileOrder = new Map<string, number>();
  for (const i of issues) if (!fileOrder.has(i.file)) fileOrder.set(i.file, fileOrder.size);
  return [...issues].sort(
    (a, b) =>
      (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line || a.column - b.column,
  );
}
