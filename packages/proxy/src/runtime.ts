// What the I/O layer (tcp.ts, udp.ts) shares with the proxy that owns it.
import type { Clock } from "@lvs/inet";
import type { ConnectionEntry, Timeouts } from "./model.js";
import type { Counters } from "./stats.js";

/** A pino-compatible logger (an object of fields, then the message); every method optional. */
export interface ProxyLogger {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
}

export interface RuntimeOptions {
  connectTimeoutMs: number;
  redispatch: boolean;
  highWaterMark: number;
  proxyHeaderTimeoutMs: number;
  maxProxyHeaderLength: number;
  maxConnections: number;
  /** A random integer in [0, bound) for the twos scheduler. */
  random: ((bound: number) => number) | undefined;
}

/** One proxied connection or UDP flow, as the proxy lists and closes them. */
export interface Session {
  /** Its `ipvsadm -Lcn` line, or undefined while it has no real server yet. */
  entry(now: number): ConnectionEntry | undefined;
  /** Closes both sides now. */
  destroy(): void;
  /** Bytes held in this process for it (queued to write, read but not yet taken). */
  buffered(): number;
}

export interface Runtime {
  readonly clock: Clock;
  readonly log: ProxyLogger;
  readonly options: RuntimeOptions;
  /** Seconds; read at every (re)arm, so `setTimeouts` reaches live connections at their next check. */
  readonly timeouts: Timeouts;
  readonly total: Counters;
  readonly sessions: Set<Session>;
}

/** Lets a real timer not hold the process open (a fake clock's handles have no unref). */
export function unref(handle: unknown): unknown {
  (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}
