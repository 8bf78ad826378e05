/** Stable error codes of @lvs/director. */
export type DirectorErrorCode =
  /** A `VIP:PORT` / `RIP:PORT` reference is malformed. */
  | "DIRECTOR_BAD_REFERENCE"
  /** No virtual server (or real server) matches the reference. */
  | "DIRECTOR_NOT_FOUND"
  /** A real server added at runtime is there already (configured or added before). */
  | "DIRECTOR_EXISTS"
  /** The change is for a real server added at runtime, and this one is configured. */
  | "DIRECTOR_CONFIGURED"
  /** The reference matches several virtual servers; the message lists them. */
  | "DIRECTOR_AMBIGUOUS"
  /** A request argument is out of range (weight, timeout…). */
  | "DIRECTOR_BAD_ARGUMENT"
  /** The state file exists but can't be read as one. */
  | "DIRECTOR_BAD_STATE_FILE"
  /** Another daemon answers on the socket. */
  | "DIRECTOR_ALREADY_RUNNING"
  /** The daemon's socket can't be reached (lvsctl side). */
  | "DIRECTOR_UNREACHABLE"
  /** The daemon answered with an error (lvsctl side); `status` holds the HTTP status. */
  | "DIRECTOR_API_ERROR"
  /** Configuration could not be loaded (the ConfigError is the cause). */
  | "DIRECTOR_CONFIG"
  /** The API token is missing or wrong. */
  | "DIRECTOR_UNAUTHORIZED"
  /** A request body over the API's size limit. */
  | "DIRECTOR_BODY_TOO_LARGE"
  /** An LVS request (drain, weight…) to a node that runs VRRP only. */
  | "DIRECTOR_LVS_NOT_RUNNING"
  /**
   * A path the daemon would write is not safe to write as root: a symlink, something other than
   * the expected kind of file, or in a world-writable directory without the sticky bit.
   */
  | "DIRECTOR_UNSAFE_PATH"
  /** A fwmark service in a configuration run on the proxy dataplane (file:line in the message). */
  | "DIRECTOR_PROXY_FWMARK"
  /** Without root (no VIP handling), a virtual address this host doesn't have (file:line). */
  | "DIRECTOR_VIP_NOT_LOCAL"
  /** An SMTP alert could not be delivered (connect, timeout, a refusing reply). */
  | "DIRECTOR_SMTP";

export interface DirectorErrorContext {
  /** What the error is about, e.g. `TCP 10.0.0.1:80 -> 10.0.0.2:80` or a file path. */
  object?: string;
  /** HTTP status of an API answer. */
  status?: number;
  /** errno name when a system call failed (ENOENT, EACCES…). */
  errnoName?: string;
  cause?: unknown;
}

/** The one error class of @lvs/director. */
export class DirectorError extends Error {
  override readonly name = "DirectorError";
  readonly code: DirectorErrorCode;
  readonly object: string | undefined;
  readonly status: number | undefined;
  readonly errnoName: string | undefined;

  constructor(code: DirectorErrorCode, message: string, context: DirectorErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.object = context.object;
    this.status = context.status;
    this.errnoName = context.errnoName;
  }
}

/** HTTP status the API answers for an error code. */
export function httpStatusOf(code: DirectorErrorCode): number {
  switch (code) {
    case "DIRECTOR_NOT_FOUND":
      return 404;
    case "DIRECTOR_AMBIGUOUS":
    case "DIRECTOR_EXISTS":
    case "DIRECTOR_CONFIGURED":
      return 409;
    case "DIRECTOR_UNAUTHORIZED":
      return 401;
    case "DIRECTOR_BAD_REFERENCE":
    case "DIRECTOR_BAD_ARGUMENT":
      return 400;
    case "DIRECTOR_CONFIG":
    case "DIRECTOR_PROXY_FWMARK":
    case "DIRECTOR_VIP_NOT_LOCAL":
      return 422;
    case "DIRECTOR_BODY_TOO_LARGE":
      return 413;
    case "DIRECTOR_LVS_NOT_RUNNING":
      return 409;
    default:
      return 500;
  }
}
