import type { ProbeOptions, ProbeResult, TcpCheck } from "../types.js";
import { connectTcp } from "./sockets.js";
import { Attempt, errorReason } from "./util.js";

/** TCP_CHECK: connect, then close at once. */
export function checkTcp(def: TcpCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const attempt = new Attempt(def.connectTimeout, opts);
  const sock = connectTcp(def, def.connectPort, attempt);
  if (!sock) return attempt.promise;
  attempt.onCleanup(sock);
  // `on`, not `once`: the socket is destroyed when the attempt settles, and `once` wraps each listener.
  sock.on("connect", () => attempt.up("connected"));
  sock.on("error", (err) => attempt.down(errorReason(err)));
  return attempt.promise;
}
