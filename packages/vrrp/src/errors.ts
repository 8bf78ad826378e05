/** The one error class of @lvs/vrrp: a stable `code` plus the context that caused it. */
export type VrrpErrorCode =
  // codec (decode): what the receive path drops and counts
  | "VRRP_TRUNCATED"
  | "VRRP_BAD_LENGTH"
  | "VRRP_BAD_VERSION"
  | "VRRP_BAD_IP_HEADER"
  // codec (encode) and configuration
  | "VRRP_BAD_FIELD"
  | "VRRP_AUTH_UNSUPPORTED"
  | "VRRP_BAD_CONFIG"
  // io
  | "VRRP_SOCKET"
  | "VRRP_NO_INTERFACE"
  | "VRRP_NETCONF"
  | "VRRP_FIFO"
  // lifecycle
  | "VRRP_STOPPED"
  // isolation (a router in a child process): the child cannot be started or failed unexpectedly,
  // or it exited (code / signal in the message, pid in `object`)
  | "VRRP_CHILD"
  | "VRRP_CHILD_EXIT";

export interface VrrpErrorContext {
  /** Byte offset in the packet where decoding failed. */
  offset?: number;
  /** The field, instance, interface or file concerned ("priority", "VI_1", "eth0"). */
  object?: string;
  /** Numeric errno of a failed system call. */
  errno?: number;
  /** errno name (EPERM, ENODEV…). */
  errnoName?: string;
  /** Network namespace the operation ran in. */
  netns?: string;
  /** Configuration position, "file:line:column". */
  position?: string;
}

export class VrrpError extends Error {
  override readonly name = "VrrpError";
  constructor(
    readonly code: VrrpErrorCode,
    message: string,
    readonly context: VrrpErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps an errno-carrying error (node, raw-socket, @lvs/sys) keeping its number and name. */
export function fromSystemError(
  code: VrrpErrorCode,
  what: string,
  err: unknown,
  ctx: VrrpErrorContext = {},
): VrrpError {
  const e = err as {
    errno?: number;
    code?: string;
    message?: string;
    context?: { errno?: number; errnoName?: string };
  };
  const errnoName =
    e.context?.errnoName ?? (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code) ? e.code : undefined);
  const errno = e.context?.errno ?? (typeof e.errno === "number" ? Math.abs(e.errno) : undefined);
  return new VrrpError(
    code,
    `${what}: ${e.message ?? String(err)}`,
    { ...ctx, ...(errno !== undefined ? { errno } : {}), ...(errnoName !== undefined ? { errnoName } : {}) },
    { cause: err },
  );
}
