/**
 * @lvs/scheduler — every IPVS scheduler (rr, wrr, lc, wlc, sed, nq, lblc, lblcr, dh, sh, fo, ovf,
 * mh, twos) making the Linux kernel's own decisions, with its destination list order, connection
 * counters, overload thresholds and persistence templates. Pure: no I/O, no native code; time and
 * randomness are injected.
 */
// Addresses come from @lvs/inet; the parsers here refuse bad input with SchedulerError.
export { formatEndpoint, type IpAddress as Address, maskAddress } from "@lvs/inet";
export { Connection, type TcpFlags } from "./conn.js";
export * from "./constants.js";
export type { Destination, ForwardMethod } from "./dest.js";
export { SchedulerError, type SchedulerErrorCode, type SchedulerErrorContext } from "./errors.js";
export { foldAddress, hash32, hsiphashU32, type SipKey, sipKey } from "./hash.js";
export { type Endpoint, parseAddress, parseEndpoint, parseNetmask } from "./input.js";
export { type MaglevInput, mhHashKey, populateMaglev } from "./schedulers/hashing.js";
export {
  type DestOptions,
  type PacketInput,
  type PersistenceOptions,
  type Protocol,
  parseSchedFlags,
  Service,
  type ServiceOptions,
  type TemplateInfo,
} from "./service.js";
