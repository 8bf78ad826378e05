/** Stable error codes of @lvs/scheduler. */
export type SchedulerErrorCode =
  /** An address that is neither dotted-quad IPv4 nor RFC 4291 IPv6 text. */
  | "SCHED_BAD_ADDRESS"
  /** A port outside 0..65535, a weight or threshold outside 0..2^31-1, and the like. */
  | "SCHED_BAD_VALUE"
  /** A scheduler name the kernel does not know. */
  | "SCHED_UNKNOWN_SCHEDULER"
  /** An `-b` flag name ipvsadm does not know, or one meant for another scheduler. */
  | "SCHED_BAD_FLAG"
  /** Adding a destination that exists (the kernel's EEXIST). */
  | "SCHED_DEST_EXISTS"
  /** Editing or deleting a destination that does not exist (the kernel's ENOENT). */
  | "SCHED_NO_DEST"
  /** Lower threshold above the upper one (the kernel's ERANGE). */
  | "SCHED_BAD_THRESHOLD"
  /** A packet that does not fit the service (family, protocol). */
  | "SCHED_BAD_PACKET"
  /** An operation on a connection that has already expired. */
  | "SCHED_CONN_GONE";

export interface SchedulerErrorContext {
  /** The object at fault: an address, `ip:port`, a scheduler or flag name. */
  object?: string;
  /** The errno the kernel returns in the same situation (e.g. "EEXIST"), when there is one. */
  errno?: string;
}

/** The one error class of @lvs/scheduler. */
export class SchedulerError extends Error {
  readonly code: SchedulerErrorCode;
  readonly object: string | undefined;
  readonly errno: string | undefined;
  constructor(code: SchedulerErrorCode, message: string, context: SchedulerErrorContext = {}) {
    super(message);
    this.name = "SchedulerError";
    this.code = code;
    this.object = context.object;
    this.errno = context.errno;
  }
}
