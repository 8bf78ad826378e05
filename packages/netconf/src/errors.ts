import { constants as osConstants } from "node:os";

/** Stable codes for every @lvs/netconf failure. */
export type NetconfErrorCode =
  | "NETCONF_BAD_ADDRESS"
  | "NETCONF_BAD_PREFIX"
  | "NETCONF_BAD_LABEL"
  | "NETCONF_BAD_OPTION"
  | "NETCONF_NO_INTERFACE"
  | "NETCONF_NO_MAC"
  | "NETCONF_NETNS"
  | "NETCONF_SOCKET"
  | "NETCONF_NETLINK"
  | "NETCONF_TIMEOUT"
  | "NETCONF_WATCH_OVERFLOW"
  | "NETCONF_PACKET"
  | "NETCONF_CLOSED"
  | "NETCONF_BAD_FRAME"
  | "NETCONF_BAD_SYSCTL_KEY"
  | "NETCONF_SYSCTL_MISSING"
  | "NETCONF_SYSCTL_READ"
  | "NETCONF_SYSCTL_WRITE"
  | "NETCONF_STATE_FILE"
  | "NETCONF_NO_TUNL0";

export interface NetconfErrorContext {
  /** What the failure is about: "10.0.0.1/32 on lo", "net.ipv4.conf.all.arp_ignore", "eth0". */
  object?: string;
  /** The kernel's errno number (positive), kept as is. */
  errno?: number;
  /** Its name (EEXIST, ENODEV…). */
  errnoName?: string;
  /** The network namespace the call worked in. */
  netns?: string;
  /** A file involved (state file, /proc/sys path). */
  file?: string;
}

/** The one error class of @lvs/netconf: a stable `code` and the context that caused it. */
export class NetconfError extends Error {
  override readonly name = "NetconfError";
  constructor(
    readonly code: NetconfErrorCode,
    message: string,
    readonly context: NetconfErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** "EEXIST" for 17; undefined for a number Node does not know. */
export function errnoName(errno: number): string | undefined {
  return errnoNames.get(Math.abs(errno));
}

/** The numeric errno of a Node system error ("EACCES" → 13), positive. */
export function errnoOf(err: unknown): { errno?: number; errnoName?: string } {
  const e = err as { errno?: number; code?: string };
  const out: { errno?: number; errnoName?: string } = {};
  if (typeof e?.errno === "number") out.errno = Math.abs(e.errno);
  if (typeof e?.code === "string" && e.code.startsWith("E")) out.errnoName = e.code;
  else if (out.errno !== undefined) {
    const name = errnoName(out.errno);
    if (name) out.errnoName = name;
  }
  return out;
}

/** Wraps an error from @lvs/sys (SysError) or Node into a NetconfError, keeping errno and cause. */
export function wrapError(
  code: NetconfErrorCode,
  message: string,
  err: unknown,
  context: NetconfErrorContext = {},
): NetconfError {
  if (err instanceof NetconfError) return err;
  const sys = err as { context?: { errno?: number; errnoName?: string } };
  const errno = sys?.context?.errno !== undefined ? Math.abs(sys.context.errno) : errnoOf(err).errno;
  const name = sys?.context?.errnoName ?? errnoOf(err).errnoName ?? (errno ? errnoName(errno) : undefined);
  const detail = (err as { message?: string })?.message ?? String(err);
  return new NetconfError(
    code,
    `${message}: ${detail}`,
    {
      ...context,
      ...(errno !== undefined ? { errno } : {}),
      ...(name !== undefined ? { errnoName: name } : {}),
    },
    { cause: err },
  );
}
