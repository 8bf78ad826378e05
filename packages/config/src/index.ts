// @lvs/config: keepalived.conf and YAML/JSON → one typed model, with file:line:column errors.
// What needs neither zod nor yaml is in core.ts (also its own entry, @lvs/config/core).

export { type ConvertOptions, compactConfig, convertToYaml } from "./convert.js";
export * from "./core.js";
export { CONFIG_SCHEMA_ID, configJsonSchema } from "./jsonschema.js";
export {
  defaultConfigId,
  type LoadResult,
  loadKeepalivedConf,
  type ParseOptions,
  parseKeepalivedConf,
} from "./keepalived.js";
export { type ConfigFormat, detectFormat, type LoadOptions, loadConfig } from "./load.js";
export { LvsConfigSchema } from "./schema.js";
export { parseYamlConfig, type YamlOptions } from "./yaml.js";
