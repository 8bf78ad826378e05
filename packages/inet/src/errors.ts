/** Stable codes of @lvs/inet: each names the kind of text that was refused. */
export type InetErrorCode =
  /** Neither a dotted-quad IPv4 nor an RFC 4291 §2.2 IPv6 address (or bytes of the wrong length). */
  | "INET_BAD_ADDRESS"
  /** A prefix length outside 0..32 / 0..128, or a `/` without digits. */
  | "INET_BAD_PREFIX"
  /** A netmask whose one bits are not contiguous, or one the family does not take. */
  | "INET_BAD_NETMASK"
  /** A port outside 0..65535, or none where one is needed. */
  | "INET_BAD_PORT"
  /** A MAC address that is not six hex pairs. */
  | "INET_BAD_MAC";

export interface InetErrorContext {
  /** The text (or value) that was refused, verbatim. */
  object?: string;
}

/**
 * The one error class of @lvs/inet. Packages that take addresses from their users re-throw it as
 * their own error (same message, `object`, and this as `cause`), so a caller sees one class per
 * package it calls.
 */
export class InetError extends Error {
  override readonly name = "InetError";
  readonly code: InetErrorCode;
  readonly object: string | undefined;
  constructor(code: InetErrorCode, message: string, context: InetErrorContext = {}) {
    super(message);
    this.code = code;
    this.object = context.object;
  }
}
