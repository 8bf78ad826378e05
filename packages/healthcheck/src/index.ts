// The Clock is @lvs/inet's; re-exported for users of these names.
export { type Clock, FakeClock, systemClock } from "@lvs/inet";
export { checkDns } from "./checkers/dns.js";
export {
  checkHttp,
  type HttpResponse,
  judgeResponse,
  parseHttpResponse,
  statusMatches,
} from "./checkers/http.js";
export { checkIcmp, encodeEcho, inetChecksum } from "./checkers/icmp.js";
export { describeCheck, probe, type RunProbeOptions } from "./checkers/index.js";
export { checkMisc } from "./checkers/misc.js";
export { checkSmtp } from "./checkers/smtp.js";
export { checkTcp } from "./checkers/tcp.js";
export { checkUdp, parseHexPattern, replyMatches } from "./checkers/udp.js";
export * from "./constants.js";
export {
  type DnsMessage,
  type DnsQuestion,
  type DnsRecord,
  decodeDnsMessage,
  encodeDnsMessage,
  encodeDnsQuery,
  isResponse,
  rcode,
} from "./dns-codec.js";
export {
  type CheckProgress,
  type EngineStep,
  type NormalizedPolicy,
  normalizePolicy,
  type StateEvent,
  TargetEngine,
  type TargetPolicy,
  type TransitionKind,
} from "./engine.js";
export { HealthcheckError, type HealthcheckErrorCode } from "./errors.js";
export { parseStatusCodes } from "./parse.js";
export { signalProcessGroup, stopProcessGroup } from "./process-group.js";
export {
  type CheckRunner,
  HealthCheckRunner,
  type ProbeFn,
  type RunnerOptions,
  type RunnerStats,
  stableKey,
  type TargetConfig,
  type TargetEvent,
  type TargetStatus,
} from "./runner.js";
export type * from "./types.js";
export { WorkerCheckRunner, type WorkerRunnerOptions } from "./worker-runner.js";
