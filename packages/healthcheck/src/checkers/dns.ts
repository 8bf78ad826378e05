import { randomInt } from "node:crypto";
import { DNS_RCODE_NAMES, DNS_TYPES } from "../constants.js";
import { decodeDnsMessage, encodeDnsQuery, isResponse, rcode } from "../dns-codec.js";
import type { DnsCheck, ProbeOptions, ProbeResult } from "../types.js";
import { bindUdp } from "./sockets.js";
import { Attempt, errorReason } from "./util.js";

/**
 * DNS_CHECK: one query over UDP; up when a response with our id, QR set and RCODE NOERROR
 * arrives. Responses with another id are ignored (RFC 5452 §9.1 style matching).
 */
export function checkDns(def: DnsCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const attempt = new Attempt(def.connectTimeout, opts);
  const id = randomInt(0, 0x10000);
  const query = encodeDnsQuery(id, def.name ?? ".", DNS_TYPES[def.queryType ?? "A"]);
  const sock = bindUdp(def, attempt, () => go());
  if (!sock) return attempt.promise;
  attempt.onCleanup(() => sock.close());
  sock.once("error", (err) => attempt.down(errorReason(err)));
  sock.on("message", (msg) => {
    let reply: ReturnType<typeof decodeDnsMessage>;
    try {
      reply = decodeDnsMessage(msg);
    } catch (err) {
      return attempt.down(`bad reply: ${(err as Error).message}`);
    }
    if (reply.id !== id || !isResponse(reply)) return; // not ours
    const rc = rcode(reply);
    if (rc !== 0) return attempt.down(`rcode ${DNS_RCODE_NAMES[rc] ?? rc}`);
    attempt.up(`NOERROR, ${reply.answers.length} answer(s)`);
  });
  function go(): void {
    if (attempt.done || !sock) return;
    sock.connect(def.connectPort ?? 53, def.connectIp, () => {
      sock.send(query, (err) => {
        if (err) attempt.down(errorReason(err));
      });
    });
  }
  return attempt.promise;
}
