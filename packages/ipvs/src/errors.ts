import { ERRNO_NAMES } from "./constants.js";

/**
 * Stable error codes. Kernel refusals are `IPVS_<ERRNO>_<OBJECT>` (`IPVS_EEXIST_SERVICE`,
 * `IPVS_ESRCH_SERVICE`, `IPVS_ENOENT_DEST`...), built from the errno name and the kind of object
 * the request was about; the rest are fixed.
 */
export type IpvsErrorCode =
  | `IPVS_E${string}_${"SERVICE" | "DEST" | "DAEMON" | "CONFIG" | "INFO" | "TABLE"}`
  | "IPVS_TIMEOUT"
  | "IPVS_NO_FAMILY"
  | "IPVS_SOCKET"
  | "IPVS_CLOSED"
  | "IPVS_DUMP_INTERRUPTED"
  | "IPVS_BAD_MESSAGE"
  | "IPVS_BAD_ARGUMENT"
  | "IPVS_BAD_ADDRESS"
  | "IPVS_BAD_CONN_LINE"
  | "IPVS_USAGE";

export type IpvsObjectKind = "SERVICE" | "DEST" | "DAEMON" | "CONFIG" | "INFO" | "TABLE";

export interface IpvsErrorContext {
  /** What the request was about, e.g. `TCP 10.0.0.1:80` or `TCP 10.0.0.1:80 -> 10.1.0.2:80`. */
  object?: string;
  /** Positive errno the kernel returned (17 for EEXIST). */
  errno?: number;
  /** Its symbolic name (`EEXIST`). */
  errnoName?: string;
  /** The IPVS command (`NEW_SERVICE`). */
  command?: string;
  /** file:line (restore files, /proc lines). */
  source?: string;
  cause?: unknown;
}

/** The one error class of @lvs/ipvs. */
export class IpvsError extends Error {
  override readonly name = "IpvsError";
  readonly code: IpvsErrorCode;
  readonly object: string | undefined;
  readonly errno: number | undefined;
  readonly errnoName: string | undefined;
  readonly command: string | undefined;
  readonly source: string | undefined;

  constructor(code: IpvsErrorCode, message: string, context: IpvsErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.object = context.object;
    this.errno = context.errno;
    this.errnoName =
      context.errnoName ?? (context.errno !== undefined ? errnoName(context.errno) : undefined);
    this.command = context.command;
    this.source = context.source;
  }
}

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

/** A kernel NLMSG_ERROR for a request about `object` of kind `kind`. */
export function kernelError(
  errno: number,
  kind: IpvsObjectKind,
  command: string,
  object: string | undefined,
): IpvsError {
  const name = errnoName(errno);
  const what = object ? `${kind.toLowerCase()} ${object}` : kind.toLowerCase();
  return new IpvsError(
    `IPVS_${name}_${kind}` as IpvsErrorCode,
    `${command} ${what}: ${name} (${errnoMeaning(errno, command)})`,
    {
      errno,
      errnoName: name,
      command,
      ...(object !== undefined ? { object } : {}),
    },
  );
}

/** What the kernel means by an errno for an IPVS command (net/netfilter/ipvs/ip_vs_ctl.c). */
export function errnoMeaning(errno: number, command: string): string {
  switch (errno) {
    case 17:
      return command.endsWith("DEST")
        ? "destination already exists"
        : command.endsWith("DAEMON")
          ? "daemon already running"
          : "service already exists";
    case 3:
      return command.endsWith("DAEMON") ? "no daemon is running" : "no such service";
    case 2:
      return command.endsWith("SERVICE")
        ? "scheduler or persistence engine not found"
        : "no such destination";
    case 22:
      return "invalid argument (missing attribute, address not unicast, bad value)";
    case 1:
      return "permission denied (CAP_NET_ADMIN needed)";
    case 95:
      return "operation not supported";
    case 97:
      return "address family not supported";
    default:
      return "kernel refused the request";
  }
}
