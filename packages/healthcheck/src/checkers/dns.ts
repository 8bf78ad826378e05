import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { DNS_RCODE_NAMES, DNS_TYPES } from "../constants.js";
import { decodeDnsMessage, encodeDnsQuery, isResponse, rcode } from "../dns-codec.js";
import type { DnsCheck, ProbeOptions, ProbeResult } from "../types.js";
import { Attempt, errorReason } from "./util.js";

/**
 * DNS_CHECK: one query over UDP; up when a response with our id, QR set and RCODE NOERROR
 * arrives. Responses with another id are ignored (RFC 5452 §9.1 style matching).
 */
export function checkDns(def: DnsCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const attempt = new Attempt(def.connectTimeout, opts.signal);
  const id = randomInt(0, 0x10000);
  const query = encodeDnsQuery(id, def.name ?? ".", DNS_TYPES[def.queryType ?? "A"]);
  const sock = createSocket(isIPv6(def.connectIp) ? "udp6" : "udp4");
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
  const go = () =>
    sock.connect(def.connectPort ?? 53, def.connectIp, () => {
      sock.send(query, (err) => {
        if (err) attempt.down(errorReason(err));
      });
    });
  if (def.bindto !== undefined || def.bindPort !== undefined) {
    sock.bind({ ...(def.bindto ? { address: def.bindto } : {}), port: def.bindPort ?? 0 }, go);
  } else go();
  return attempt.promise;
}
