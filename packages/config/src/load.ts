// loadConfig(path): keepalived.conf or the native YAML/JSON, told apart by extension, then content.
import { extname } from "node:path";
import { IssueSink } from "./errors.js";
import { completeFs } from "./fs.js";
import { type LoadResult, type ParseOptions, parseKeepalivedConf } from "./keepalived.js";
import { parseYamlConfig } from "./yaml.js";

export type ConfigFormat = "keepalived" | "yaml";

/** Guess the format: `.yaml`/`.yml`/`.json` → yaml, `.conf` → keepalived, else by the first line. */
export function detectFormat(path: string, text: string): ConfigFormat {
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

/** Read a configuration file in either format → { config, warnings, files, sources }. */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadResult {
  const fs = completeFs(opts.fs ?? (opts.readFile ? { readFile: opts.readFile } : undefined));
  let text: string;
  try {
    text = fs.readFile(path);
  } catch (err) {
    const sink = new IssueSink();
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    sink.error("CONFIG_FILE_NOT_FOUND", { file: path, line: 1, column: 1 }, `cannot read ${path} (${code})`);
    sink.throwIfErrors();
    throw err;
  }
  const format = opts.format ?? detectFormat(path, text);
  if (format === "yaml") {
    return parseYamlConfig(text, { file: path, ...(opts.lookupUser ? { lookupUser: opts.lookupUser } : {}) });
  }
  return parseKeepalivedConf(text, { ...opts, file: path, fs });
}
