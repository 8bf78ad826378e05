import { UDP_MAX_REPLY_LENGTH_DEFAULT } from "../constants.js";
import { HealthcheckError } from "../errors.js";
import type { ProbeOptions, ProbeResult, UdpCheck } from "../types.js";
import { bindUdp } from "./sockets.js";
import { Attempt, errorReason } from "./util.js";

/** Parse hex ("0a0b", spaces allowed); "??" is a per-byte wildcard (null) when `wildcards`. */
export function parseHexPattern(hex: string, wildcards: boolean, option: string): Array<number | null> {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0) {
    throw new HealthcheckError("HC_BAD_HEX", `${option}: odd number of hex digits in "${hex}"`, { option });
  }
  const out: Array<number | null> = [];
  for (let i = 0; i < clean.length; i += 2) {
    const pair = clean.slice(i, i + 2);
    if (wildcards && pair === "??") out.push(null);
    else if (/^[0-9a-fA-F]{2}$/.test(pair)) out.push(Number.parseInt(pair, 16));
    else
      throw new HealthcheckError(
        "HC_BAD_HEX",
        `${option}: "${pair}" is not a hex byte${wildcards ? " or ??" : ""}`,
        { option },
      );
  }
  return out;
}

/**
 * Does `reply` match `pattern` (null = any byte)? As keepalived's check_udp_reply(): only the
 * first min(reply length, pattern length) bytes are compared, so a shorter reply whose bytes all
 * match passes (min_reply_length is what demands a length).
 */
export function replyMatches(reply: Uint8Array, pattern: Array<number | null>): boolean {
  const n = Math.min(reply.length, pattern.length);
  for (let i = 0; i < n; i++) if (pattern[i] !== null && reply[i] !== pattern[i]) return false;
  return true;
}

/**
 * UDP_CHECK: send `payload` on a connected socket. An ICMP port unreachable surfaces as
 * ECONNREFUSED on the connected socket → down. Without `requireReply`, no error within the
 * timeout = up (keepalived's semantics); with it, a reply is needed. As keepalived 2.2.7's
 * check_udp.c, the reply is judged only when `require_reply` gives bytes: then its length must be
 * within min_reply_length (default 0) .. max_reply_length (default 255) and it must match.
 */
export function checkUdp(def: UdpCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const payload = Buffer.from(
    (def.payload !== undefined ? parseHexPattern(def.payload, false, "payload") : [0]) as number[],
  );
  const pattern =
    typeof def.requireReply === "string"
      ? parseHexPattern(def.requireReply, true, "require_reply")
      : undefined;
  const needReply = def.requireReply !== undefined && def.requireReply !== false;
  const attempt = new Attempt(def.connectTimeout, opts);
  const sock = bindUdp(def, attempt, () => go());
  if (!sock) return attempt.promise;
  attempt.onCleanup(() => sock.close());
  sock.once("error", (err) => attempt.down(errorReason(err)));
  sock.on("message", (msg) => {
    if (!pattern) return attempt.up(`reply ${msg.length} bytes`);
    const min = def.minReplyLength ?? 0;
    const max = def.maxReplyLength ?? UDP_MAX_REPLY_LENGTH_DEFAULT;
    if (msg.length < min || msg.length > max)
      attempt.down(`reply ${msg.length} bytes, outside min_reply_length ${min} / max_reply_length ${max}`);
    else if (replyMatches(msg, pattern)) attempt.up(`reply ${msg.length} bytes`);
    else attempt.down(`reply ${msg.toString("hex").slice(0, 32)} does not match require_reply`);
  });
  function go(): void {
    if (attempt.done || !sock) return;
    sock.connect(def.connectPort, def.connectIp, () => {
      sock.send(payload, (err) => {
        if (err) return attempt.down(errorReason(err));
        if (!needReply) {
          // Give an ICMP unreachable a moment to arrive before calling it up.
          const t = setTimeout(
            () => attempt.up("sent, no ICMP error"),
            Math.min(200, (def.connectTimeout ?? 5) * 500),
          );
          attempt.onCleanup(() => clearTimeout(t));
        }
      });
    });
  }
  return attempt.promise;
}
