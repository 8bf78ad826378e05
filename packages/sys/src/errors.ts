/** Stable codes for @lvs/sys failures; `errno` is the kernel's number, kept as is. */
export type SysErrorCode =
  | "SYS_NATIVE_MISSING"
  | "SYS_NETNS_OPEN"
  | "SYS_SETNS"
  | "SYS_NETNS_RESTORE"
  | "SYS_NO_INTERFACE"
  | "SYS_DEVICE_SOCKET"
  | "SYS_PACKET_OPEN"
  | "SYS_PACKET_SEND"
  | "SYS_PACKET_CLOSED"
  | "SYS_ASYNC_IN_NETNS"
  | "SYS_NETLINK"
  | "SYS_NETLINK_CLOSED"
  | "SYS_EXEC";

export class SysError extends Error {
  override readonly name = "SysError";
  constructor(
    readonly code: SysErrorCode,
    message: string,
    readonly context: { object?: string; errno?: number; errnoName?: string; syscall?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps a native error (which carries errno/code/syscall) into a SysError naming the object. */
export function fromNative(code: SysErrorCode, object: string, err: unknown): SysError {
  const e = err as { errno?: number; code?: string; syscall?: string; message?: string };
  return new SysError(
    code,
    `${object}: ${e.message ?? String(err)}`,
    {
      object,
      ...(e.errno !== undefined ? { errno: e.errno } : {}),
      ...(e.code !== undefined ? { errnoName: e.code } : {}),
      ...(e.syscall !== undefined ? { syscall: e.syscall } : {}),
    },
    { cause: err },
  );
}
