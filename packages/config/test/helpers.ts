// Shared by the tests: fixed users (the host's /etc/passwd must not change results), paths.
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  type ConfigIssue,
  type LoadResult,
  lookupFromFiles,
  type ParseOptions,
  parseKeepalivedConf,
} from "../src/index.js";

export const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

export const users = lookupFromFiles(
  "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nkeepalived_script:x:999:999::/:/usr/sbin/nologin\n",
  "root:x:0:\nnogroup:x:65534:\nkeepalived_script:x:999:\n",
);

/** Parse with fixed users and config id; returns the result or the ConfigError's issues. */
export function parse(text: string, opts: ParseOptions = {}): LoadResult {
  return parseKeepalivedConf(text, { file: "t.conf", lookupUser: users, configId: "lb1", ...opts });
}

export function issues(text: string, opts: ParseOptions = {}): ConfigIssue[] {
  try {
    return parse(text, opts).warnings;
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

/** `code@line:column` of each issue, the compact form the tables compare. */
export function where(list: ConfigIssue[]): string[] {
  return list.map((i) => `${i.severity === "warning" ? "w:" : ""}${i.code}@${i.line}:${i.column}`);
}
