// loadConfig(path): keepalived.conf or the native YAML/JSON, told apart by extension, then content.
import { extname } from "node:path";
import { IssueSink } from "./errors.js";
import { completeFs, readConfigText } from "./fs.js";
import { type LoadResult, type ParseOptions, parseKeepalivedConf } from "./keepalived.js";
import { resolveLimits } from "./limits.js";
import { parseYamlConfig } from "./yaml.js";

export type ConfigFormat = "keepalived" | "yaml";

/** Guess the format: `.yaml`/`.yml`/`.json` → yaml, `.conf` → keepalived, else by the first line. */
export function detectFormat(path: string, text: string): ConfigFormat {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark
  const ext = extname(path).toLowerCase();
  if (ext === ".yaml" || ext === ".yml" || ext === ".json") return "yaml";
  if (ext === ".conf" || /keepalived/.test(path)) return "keepalived";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    // YAML starts with `---`, `key:`, `{` (JSON) or `- `; keepalived with `keyword` / `keyword {`.
    return /^(---|\{|\[|- |[A-Za-z_$][\w$]*\s*:(\s|$))/.test(line) ? "yaml" : "keepalived";
  }
  return "keepalived";
}

export interface LoadOptions extends Omit<ParseOptions, "file"> {
  /** Force a format instead of detecting it. */
  format?: ConfigFormat;
}

/**
 * Read a configuration file in either format → { config, warnings, files, sources }. Either way
 * only a regular file is read, at most `limits.maxFileBytes`, and a byte order mark is skipped.
 */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadResult {
  const fs = completeFs(opts.fs ?? (opts.readFile ? { readFile: opts.readFile } : undefined));
  const limits = resolveLimits(opts.limits);
  const sink = new IssueSink(limits.maxIssues);
  const text = readConfigText(fs, path, limits, sink, { file: path, line: 1, column: 1 });
  sink.throwIfErrors();
  const format = opts.format ?? detectFormat(path, text!);
  if (format === "yaml") {
    return parseYamlConfig(text!, {
      file: path,
      limits,
      ...(opts.lookupUser ? { lookupUser: opts.lookupUser } : {}),
    });
  }
  return parseKeepalivedConf(text!, { ...opts, file: path, fs });
}
