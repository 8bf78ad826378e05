// Passes over a keepalived.conf load's issues once every file is read, for input that is not
// what it seems: a `$NAME` nobody defined, and files that are not configuration at all.
import type { KeywordTally } from "./conf/context.js";
import type { IssueSink } from "./errors.js";
import { type LexedFile, positionKey, type UnresolvedParameter } from "./lexer.js";
import { count } from "./limits.js";

/** Issues about a value that an unreplaced `$NAME` in it explains better. */
const VALUE_CODES = new Set([
  "CONFIG_SCHEMA",
  "CONFIG_INVALID_VALUE",
  "CONFIG_UNKNOWN_KEYWORD",
  "CONFIG_BAD_REFERENCE",
  "CONFIG_UNKNOWN_USER",
]);

/**
 * keepalived keeps an undefined `$VIP` as written, so `virtual_server $VIP 80` fails as "not an
 * IP address". Where an issue is about a word that still holds a `$NAME`, say that instead, at
 * the `$`.
 */
export function explainUnresolvedParameters(
  sink: IssueSink,
  unresolved: Map<string, UnresolvedParameter>,
): void {
  if (unresolved.size === 0) return;
  for (const issue of sink.issues) {
    if (!VALUE_CODES.has(issue.code)) continue;
    const u = unresolved.get(positionKey(issue));
    if (!u) continue;
    issue.code = "CONFIG_UNDEFINED_PARAMETER";
    issue.column = u.pos.column;
    issue.message = u.defined
      ? `$${u.name} is followed by other text, so it is not replaced (keepalived neither); write \`\${${u.name}}\``
      : `$${u.name} is not defined; define it with \`$${u.name}=...\` on a line before its use (an undefined parameter is kept as written)`;
  }
}

/**
 * The rule for files that are not configuration (an `include` of /etc/shadow, a log, a core
 * dump): a file holding binary data (a NUL byte or bytes that are not UTF-8), or whose
 * statements include not one keyword lvs knows or a near miss of one (what gets a "did you
 * mean"), is reported as a whole: its lines are never quoted, since they may be secrets. The
 * main file's report is an error; an included file's is a warning like any unknown keyword in
 * keepalived (an error if the file also produced errors, which are then hidden with it).
 */
export function screenNonConfigFiles(
  sink: IssueSink,
  files: string[],
  fileInfo: Map<string, LexedFile>,
  keywords: Map<string, KeywordTally>,
): void {
  // In reading order: an including file is screened before what it includes, so the report
  // about an included file (placed at its include line) is not dropped with its includer.
  for (const file of files) {
    const info = fileInfo.get(file);
    const t = keywords.get(file) ?? { known: 0, nearMiss: 0, unknown: 0 };
    const noKeyword = t.unknown > 0 && t.known === 0 && t.nearMiss === 0;
    if (!info || !(info.binary || noKeyword)) continue;
    const hidden = sink.dropFile(file);
    const main = info.includedAt === undefined;
    const at = info.includedAt ?? { file, line: 1, column: 1 };
    const why = info.binary
      ? "binary data"
      : `${count(t.unknown)} unknown ${t.unknown === 1 ? "line" : "lines"}, none a keepalived keyword`;
    const what = main
      ? "give the path of a keepalived.conf or YAML file"
      : "include only configuration files (e.g. `include conf.d/*.conf`)";
    const message = `${main ? file : `included file "${file}"`} does not look like a keepalived configuration (${why}); its lines are not shown: ${what}`;
    if (main || hidden.errorCount > 0)
      sink.error("CONFIG_NOT_CONFIG", at, message, main ? undefined : "include");
    else sink.warn("CONFIG_NOT_CONFIG", at, message, "include");
  }
}
