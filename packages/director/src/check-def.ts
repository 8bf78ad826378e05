// One keepalived checker → the @lvs/healthcheck check definition it runs (compile.ts's helper).
import { createHash } from "node:crypto";
import type { Checker } from "@lvs/config";
import { type CheckDefinition, stableKey } from "@lvs/healthcheck";

/** 12 hex digits naming a check's settings (its runner id's stable part). */
export function shortHash(value: unknown): string {
  return createHash("sha1").update(stableKey(value)).digest("hex").slice(0, 12);
}

/**
 * The checker's definition with what keepalived reads elsewhere folded in: min/max_reply_length
 * (read on the checker) for UDP, `bind_if` (read on the checker) for every checker with a socket,
 * the real server's / virtual server's `virtualhost` for HTTP(S).
 */
export function checkDefinitionOf(c: Checker, virtualhost: string | undefined): CheckDefinition {
  let check = c.check as unknown as CheckDefinition;
  if (check.type === "udp" && (c.minReplyLength !== undefined || c.maxReplyLength !== undefined))
    check = {
      ...check,
      ...(c.minReplyLength !== undefined ? { minReplyLength: c.minReplyLength } : {}),
      ...(c.maxReplyLength !== undefined ? { maxReplyLength: c.maxReplyLength } : {}),
    };
  if (c.bindIf !== undefined && check.type !== "misc") check = { ...check, bindIf: c.bindIf };
  if ((check.type === "http" || check.type === "https") && !check.virtualhost && virtualhost)
    check = { ...check, virtualhost };
  return check;
}
