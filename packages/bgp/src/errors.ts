/** The one error class of @lvs/bgp: a stable `code` plus the context that caused it. */
export type BgpErrorCode =
  // codec (decode): each carries the NOTIFICATION (RFC 4271 §6) the speaker answers with
  | "BGP_BAD_HEADER"
  | "BGP_BAD_OPEN"
  | "BGP_BAD_UPDATE"
  | "BGP_BAD_NOTIFICATION"
  | "BGP_BAD_ROUTE_REFRESH"
  // codec (encode) and configuration
  | "BGP_BAD_FIELD"
  | "BGP_BAD_CONFIG"
  | "BGP_NO_NEXT_HOP"
  // io
  | "BGP_SOCKET"
  // lifecycle
  | "BGP_STOPPED";

/** The NOTIFICATION a decode error maps to (RFC 4271 §6). */
export interface NotificationCause {
  code: number;
  subcode: number;
  /** The Data field RFC 4271 §6 prescribes (the offending length, type, attribute…). */
  data: Uint8Array;
}

export interface BgpErrorContext {
  /** Byte offset in the message where decoding failed. */
  offset?: number;
  /** The field, attribute, option or peer concerned ("hold-time", "AS_PATH", "10.0.0.1"). */
  object?: string;
  /** What to send the peer for a decode error. */
  notification?: NotificationCause;
  /**
   * RFC 7606 §2 "treat-as-withdraw": an attribute error that does not require resetting the
   * session. An announce-only speaker keeps no RIB, so it counts and ignores such an UPDATE.
   */
  treatAsWithdraw?: boolean;
  /** Numeric errno of a failed system call. */
  errno?: number;
  /** errno name (ECONNREFUSED…). */
  errnoName?: string;
  /** Network namespace the operation ran in. */
  netns?: string;
}

export class BgpError extends Error {
  override readonly name = "BgpError";
  constructor(
    readonly code: BgpErrorCode,
    message: string,
    readonly context: BgpErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps a node/@lvs/sys error keeping its errno number and name. */
export function fromSystemError(
  code: BgpErrorCode,
  what: string,
  err: unknown,
  ctx: BgpErrorContext = {},
): BgpError {
  const e = err as {
    errno?: number;
    code?: string;
    message?: string;
    context?: { errno?: number; errnoName?: string };
  };
  const errnoName =
    e.context?.errnoName ?? (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code) ? e.code : undefined);
  const errno = e.context?.errno ?? (typeof e.errno === "number" ? Math.abs(e.errno) : undefined);
  return new BgpError(
    code,
    `${what}: ${e.message ?? String(err)}`,
    { ...ctx, ...(errno !== undefined ? { errno } : {}), ...(errnoName !== undefined ? { errnoName } : {}) },
    { cause: err },
  );
}
