/**
 * @lvs/ipvsadm — ipvsadm 1.31's command line on @lvs/ipvs: argv → a parsed command or ipvsadm's
 * exact refusal; a parsed command → the @lvs/ipvs operation it stands for; running it against an
 * IpvsClient; and ipvsadm's `-L`/`-S`/`-c` output byte for byte (what `lvsctl ipvs` prints).
 */

export { type IpvsadmExit, tryHelp, VERSION_TEXT } from "./exit.js";
export {
  compareDests,
  compareServices,
  Fmt,
  formatConnections,
  formatDaemons,
  formatListAll,
  formatListService,
  formatServiceEntry,
  formatTimeouts,
  glibcSort,
  largeNum,
  type NameLookup,
  numericOnly,
} from "./format.js";
export { parseHostsFile, parseServicesFile, systemNames, systemServiceByName } from "./names.js";
export type { IpvsadmCommand, OptionName } from "./options.js";
export {
  hasOption,
  isExit,
  type ParsedDest,
  type ParsedIpvsadm,
  type ParsedService,
  parseIpvsadm,
} from "./parse.js";
export {
  type IpvsadmEnv,
  type IpvsadmResult,
  ipvsStrerror,
  parsedToOperation,
  runIpvsadm,
} from "./run.js";
export { usageText } from "./usage.js";
export type { ServiceByName } from "./values.js";
