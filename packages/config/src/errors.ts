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
  | "CONFIG_UNSUPPORTED"
  // includes and files
  | "CONFIG_FILE_NOT_FOUND"
  | "CONFIG_INCLUDE_CYCLE"
  | "CONFIG_INCLUDE_NO_MATCH"
  | "CONFIG_INCLUDE_DEPTH"
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

/** `file:line:column: message` (the format of `lvsctl config check` and of compilers). */
export function formatIssue(issue: ConfigIssue): string {
  const tag = issue.severity === "warning" ? "warning: " : "";
  return `${issue.file}:${issue.line}:${issue.column}: ${tag}${issue.message} (${issue.code})`;
}

/**
 * Thrown when a configuration cannot be used. `code` and the position are those of the first
 * error; `issues` holds every error and warning found in the same pass, in file order.
 */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const errors = issues.filter((i) => i.severity === "error");
    const first = errors[0] ?? issues[0];
    if (!first) throw new TypeError("ConfigError needs at least one issue");
    super(errors.length > 1 ? `${formatIssue(first)} (+${errors.length - 1} more)` : formatIssue(first));
    this.name = "ConfigError";
    this.code = first.code;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.issues = issues;
  }

  /** Only the errors (not the warnings). */
  get errors(): ConfigIssue[] {
    return this.issues.filter((i) => i.severity === "error");
  }
}

/** Collects issues during one load; throws a ConfigError at the end if any is an error. */
export class IssueSink {
  readonly issues: ConfigIssue[] = [];
  private readonly seen = new Set<string>();
  error(code: ConfigErrorCode, pos: SourcePos, message: string, keyword?: string): void {
    // The same value can be reported through two paths (a real server's delay_loop copied into
    // its checkers' policies): report it once.
    const k = `${pos.file}:${pos.line}:${pos.column}:${code}:${message}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.issues.push({ code, severity: "error", message, ...pick(pos), ...(keyword ? { keyword } : {}) });
  }
  warn(code: ConfigErrorCode, pos: SourcePos, message: string, keyword?: string): void {
    this.issues.push({ code, severity: "warning", message, ...pick(pos), ...(keyword ? { keyword } : {}) });
  }
  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === "error");
  }
  warnings(): ConfigIssue[] {
    return this.issues.filter((i) => i.severity === "warning");
  }
  throwIfErrors(): void {
    if (this.hasErrors) throw new ConfigError(sortIssues(this.issues));
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
