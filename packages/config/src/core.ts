// @lvs/config/core: the part of @lvs/config that needs neither zod nor yaml (constants, errors,
// source positions, the keyword table, script and user helpers). Loading zod and yaml costs a
// process ~23 MiB of RSS (their code, the compiled schema); a daemon that has its configuration
// parsed in a worker thread only needs these values, and imports the parsers on demand.
// The main entry (index.ts) re-exports all of this: both share one build chunk, so a
// ConfigError or SourceMap from either entry is the same class.
export { type Block, buildTree, type Statement } from "./ast.js";
export * from "./constants.js";
export {
  ConfigError,
  type ConfigErrorCode,
  type ConfigIssue,
  escapeControl,
  formatIssue,
  formatIssueList,
  type IssueCounts,
  type Severity,
  type SourcePos,
} from "./errors.js";
export { type ConfigFs, memoryFs, nodeFs } from "./fs.js";
export {
  IGNORED_CODES,
  ignoredCount,
  KEYWORDS,
  KEYWORDS_INSIDE_IGNORED_BLOCKS,
  type KeywordBlock,
  type KeywordDisposition,
  type KeywordStatus,
  type KeywordSummary,
  keywordDisposition,
} from "./keywords.js";
export { type Line, lexKeepalived, type Word } from "./lexer.js";
export { type ConfigLimits, DEFAULT_LIMITS } from "./limits.js";
export type * from "./model.js";
export { type Path, type PathSource, SourceMap } from "./positions.js";
export { checkerDefaults, inheritedPolicy, kindOf } from "./resolve.js";
export { parseScriptLine, quoteArgv, splitQuoted } from "./script.js";
export {
  defaultScriptUser,
  nodeScriptSecurityFs,
  type PathInfo,
  SCRIPT_PATH,
  type ScriptSecurityFs,
  scriptPathUnsafe,
} from "./script-security.js";
export { type LookupUser, lookupFromFiles, systemLookupUser, type UserIds } from "./users.js";
