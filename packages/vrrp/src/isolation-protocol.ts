/**
 * The messages between an IsolatedRouter (parent) and its VRRP child process, over the fork IPC
 * channel with `serialization: "advanced"` (structured clone: Uint8Array, Map and nested objects
 * cross as they are). Errors cross as plain objects and become VrrpErrors again.
 */
import { VrrpError, type VrrpErrorCode, type VrrpErrorContext } from "./errors.js";
import type { VrrpRouterOptions } from "./options.js";
import type { ReloadSummary } from "./reload-plan.js";
import type { AdvertSeen, StateChange } from "./router-core.js";
import type { RouterStatus } from "./router-status.js";

/** Set in the child's environment by the parent: the process is an isolated VRRP router. */
export const ISOLATED_CHILD_ENV = "LVS_VRRP_ISOLATED_CHILD";

export type ParentMessage =
  | { type: "start"; options: VrrpRouterOptions; statusIntervalMs: number; adverts: boolean }
  | { type: "reload"; id: number; options: VrrpRouterOptions }
  | { type: "status"; id: number }
  | { type: "stop"; id: number }
  /** Forward received adverts (only while the parent listens to "advert"). */
  | { type: "adverts"; on: boolean };

export type ChildMessage =
  | { type: "started"; status: RouterStatus }
  | { type: "start-failed"; error: WireError }
  | { type: "state"; change: StateChange }
  | { type: "warning"; message: string }
  | { type: "error"; error: WireError }
  | { type: "advert"; advert: AdvertSeen }
  | { type: "status"; status: RouterStatus }
  | { type: "reply"; id: number; ok: true; summary?: ReloadSummary; status: RouterStatus }
  | { type: "reply"; id: number; ok: false; error: WireError };

export interface WireError {
  name: string;
  message: string;
  code?: string;
  context?: VrrpErrorContext;
  stack?: string;
}

export function toWire(err: unknown): WireError {
  const e = err as Partial<VrrpError> & { stack?: string };
  return {
    name: typeof e?.name === "string" ? e.name : "Error",
    message: typeof e?.message === "string" ? e.message : String(err),
    ...(typeof e?.code === "string" ? { code: e.code } : {}),
    ...(e?.context && typeof e.context === "object" ? { context: { ...e.context } } : {}),
    ...(typeof e?.stack === "string" ? { stack: e.stack } : {}),
  };
}

/** A VrrpError as the child raised it; anything else becomes VRRP_CHILD with its message. */
export function fromWire(w: WireError): VrrpError {
  const isVrrp = w.name === "VrrpError" && typeof w.code === "string";
  const err = isVrrp
    ? new VrrpError(w.code as VrrpErrorCode, w.message, w.context ?? {})
    : new VrrpError("VRRP_CHILD", `VRRP child process: ${w.name}: ${w.message}`, w.context ?? {});
  if (w.stack) err.stack = w.stack;
  return err;
}
