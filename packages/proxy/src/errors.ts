import { constants } from "node:os";

const errnoNumbers = constants.errno;

/** Stable error codes of @lvs/proxy. */
export type ProxyErrorCode =
  /** A field out of range or of the wrong type (a port of 70000, a weight of -1, a bad address). */
  | "PROXY_BAD_VALUE"
  /** A firewall-mark service: the proxy listens on address:port, it cannot see marks. */
  | "PROXY_FWMARK_UNSUPPORTED"
  /** Something IPVS has that a listening socket cannot do (port 0 services, SCTP, PROXY over UDP). */
  | "PROXY_UNSUPPORTED"
  /** Adding a service that exists (the kernel's EEXIST). */
  | "PROXY_SERVICE_EXISTS"
  /** Editing or deleting a service that does not exist (the kernel's ESRCH). */
  | "PROXY_NO_SERVICE"
  /** Adding a real server that exists in the service (EEXIST). */
  | "PROXY_DEST_EXISTS"
  /** Editing or deleting a real server that is not in the service (ENOENT). */
  | "PROXY_NO_DEST"
  /** A scheduler name IPVS does not know (the kernel's ENOENT). */
  | "PROXY_UNKNOWN_SCHEDULER"
  /** A scheduler flag that does not exist or belongs to another scheduler. */
  | "PROXY_BAD_FLAG"
  /** Lower threshold above the upper one (the kernel's ERANGE). */
  | "PROXY_BAD_THRESHOLD"
  /** The listening socket could not be opened (EADDRINUSE, EADDRNOTAVAIL, EACCES...). */
  | "PROXY_BIND_FAILED"
  /** The proxy was closed. */
  | "PROXY_CLOSED";

export interface ProxyErrorContext {
  /** The object at fault: `TCP 127.0.0.1:8080`, `TCP 127.0.0.1:8080 -> 127.0.0.2:80`, a field name. */
  object?: string;
  /** The errno name the kernel (or the socket call) gives for the same failure, e.g. `EEXIST`. */
  errnoName?: string;
  cause?: unknown;
}

/** The one error class of @lvs/proxy. */
export class ProxyError extends Error {
  override readonly name = "ProxyError";
  readonly code: ProxyErrorCode;
  readonly object: string | undefined;
  /** Positive errno (17 for EEXIST), as @lvs/ipvs's IpvsError carries it. */
  readonly errno: number | undefined;
  /** Its name (`EEXIST`). */
  readonly errnoName: string | undefined;

  constructor(code: ProxyErrorCode, message: string, context: ProxyErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.object = context.object;
    this.errnoName = context.errnoName;
    const n = context.errnoName
      ? (errnoNumbers as Record<string, number | undefined>)[context.errnoName]
      : undefined;
    this.errno = n;
  }
}
