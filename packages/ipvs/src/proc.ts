import { readFileSync } from "node:fs";
import { withNetns } from "@lvs/sys";
import { IP_VS_CONN_PROC } from "./conn.js";

/**
 * The text of /proc/net/ip_vs_conn as seen from a network namespace (the calling thread is
 * switched into it for the read: /proc/thread-self/net follows the thread's namespace).
 */
export function readConnectionsFile(netns?: string): string {
  return withNetns(netns, () =>
    readFileSync(netns ? "/proc/thread-self/net/ip_vs_conn" : IP_VS_CONN_PROC, "utf8"),
  );
}
