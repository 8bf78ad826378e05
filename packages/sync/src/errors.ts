import { type IpAddress, tryParseAddress } from "@lvs/inet";

/** The one error class of @lvs/sync: a stable `code` plus the context that caused it. */
export type SyncErrorCode =
  | "SYNC_TRUNCATED_HEADER"
  | "SYNC_SIZE_MISMATCH"
  | "SYNC_TRUNCATED_CONN"
  | "SYNC_BAD_CONN_VERSION"
  | "SYNC_BAD_CONN_TYPE"
  | "SYNC_BAD_CONN_SIZE"
  | "SYNC_BAD_OPTION"
  | "SYNC_BAD_SEQ_OPTION"
  | "SYNC_BAD_PE_OPTION"
  | "SYNC_BAD_FIELD"
  | "SYNC_TOO_LARGE"
  | "SYNC_V0_IPV6"
  | "SYNC_BAD_LINE"
  | "SYNC_NO_INTERFACE"
  | "SYNC_SOCKET"
  | "SYNC_AUTH_SHORT"
  | "SYNC_AUTH_BAD_MAGIC"
  | "SYNC_AUTH_BAD_MAC"
  | "SYNC_AUTH_REPLAY"
  | "SYNC_AUTH_KEY";

export interface SyncErrorContext {
  /** Byte offset in the datagram where decoding failed. */
  offset?: number;
  /** Index of the connection entry (0-based) the failure belongs to. */
  entry?: number;
  /** The field or object concerned (e.g. "clientAddress", "eth0"). */
  object?: string;
  /** errno name of a failed socket call (EADDRINUSE, ENODEV...). */
  errno?: string;
  /** 1-based line of textual input. */
  line?: number;
}

export class SyncError extends Error {
  override readonly name = "SyncError";
  constructor(
    readonly code: SyncErrorCode,
    message: string,
    readonly context: SyncErrorContext = {},
  ) {
    super(message);
  }
}

/** An address the caller gave (a sync group, a relay endpoint); SYNC_BAD_FIELD names `object`. */
export function callerAddress(text: string, object: string = text): IpAddress {
  const a = tryParseAddress(text);
  if (!a) throw new SyncError("SYNC_BAD_FIELD", `not an IP address: ${JSON.stringify(text)}`, { object });
  return a;
}
