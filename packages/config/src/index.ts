// @lvs/config: keepalived.conf and YAML/JSON → one typed model, with file:line:column errors.
export { type Block, buildTree, type Statement } from "./ast.js";
export * from "./constants.js";
export { type ConvertOptions, compactConfig, convertToYaml } from "./convert.js";
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
export { CONFIG_SCHEMA_ID, configJsonSchema } from "./jsonschema.js";
export {
  defaultConfigId,
  type LoadResult,
  loadKeepalivedConf,
  type ParseOptions,
  parseKeepalivedConf,
} from "./keepalived.js";
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
export { type ConfigFormat, detectFormat, type LoadOptions, loadConfig } from "./load.js";
export type * from "./model.js";
export { type Path, type PathSource, SourceMap } from "./positions.js";
export { checkerDefaults, inheritedPolicy, kindOf } from "./resolve.js";
export { LvsConfigSchema } from "./schema.js";
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
export { parseYamlConfig, type YamlOptions } from "./yaml.js";
