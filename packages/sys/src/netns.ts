import { closeSync, openSync } from "node:fs";
import { fromNative, SysError } from "./errors.js";
import { native } from "./native.js";

/** `/run/netns/NAME` for a bare name (as `ip netns add` creates it); a path is used as is. */
export function netnsPath(nameOrPath: string): string {
  return nameOrPath.includes("/") ? nameOrPath : `/run/netns/${nameOrPath}`;
}

/**
 * Runs `fn` synchronously with the calling thread inside a network namespace, then switches back.
 *
 * Sockets (netlink, raw, packet, UDP) created inside `fn` stay in that namespace for their whole
 * life, which is how one process drives several namespaces. Only synchronous work belongs in
 * `fn`: libuv's thread pool (async fs, dns) keeps running in the original namespace, and `fn`
 * returning a promise is refused because its continuation would run after the switch back.
 * `undefined` runs `fn` in the current namespace.
 */
export function withNetns<T>(nameOrPath: string | undefined, fn: () => T): T {
  if (nameOrPath === undefined) return fn();
  const path = netnsPath(nameOrPath);
  const binding = native();
  let targetFd: number;
  try {
    targetFd = openSync(path, "r");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SysError("SYS_NETNS_OPEN", `cannot open network namespace ${path}: ${e.code}`, {
      object: path,
      ...(e.errno !== undefined ? { errno: -e.errno } : {}),
      ...(e.code !== undefined ? { errnoName: e.code } : {}),
      syscall: "open",
    });
  }
  // The thread's own namespace (not the process's: a thread may already have switched).
  const originalFd = openSync("/proc/thread-self/ns/net", "r");
  try {
    try {
      binding.setns(targetFd, binding.CLONE_NEWNET);
    } catch (err) {
      throw fromNative("SYS_SETNS", path, err);
    }
    let result: T;
    try {
      result = fn();
    } finally {
      try {
        binding.setns(originalFd, binding.CLONE_NEWNET);
      } catch (err) {
        // Staying in the wrong namespace would silently misdirect every later socket.
        // biome-ignore lint/correctness/noUnsafeFinally: failing to switch back must win over fn's own error
        throw fromNative("SYS_NETNS_RESTORE", "/proc/thread-self/ns/net", err);
      }
    }
    if (result && typeof (result as { then?: unknown }).then === "function") {
      throw new SysError(
        "SYS_ASYNC_IN_NETNS",
        "withNetns(fn): fn must be synchronous (it returned a promise)",
        {
          object: path,
        },
      );
    }
    return result;
  } finally {
    closeSync(originalFd);
    closeSync(targetFd);
  }
}

/** if_nametoindex(3) in the current (or given) network namespace. */
export function ifNameToIndex(name: string, netns?: string): number {
  return withNetns(netns, () => {
    try {
      return native().ifNameToIndex(name);
    } catch (err) {
      throw fromNative("SYS_NO_INTERFACE", `interface ${name}`, err);
    }
  });
}
