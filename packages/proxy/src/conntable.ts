// The connection table as `ipvsadm -Lcn` prints it (ipvsadm 1.31 print_conn, numeric).
import type { ConnectionEntry } from "./model.js";

function endpoint(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `mm:ss` as ipvsadm shows an entry's remaining time. */
function mmss(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** The text of `ipvsadm -Lcn` for these entries: a header line, a column line, one line each. */
export function formatConnectionTable(entries: readonly ConnectionEntry[]): string {
  let out = "IPVS connection entries\n";
  out += `pro expire ${"state".padEnd(11)} ${"source".padEnd(18)} ${"virtual".padEnd(18)} destination\n`;
  for (const c of entries) {
    out += `${c.protocol.padEnd(3)} ${mmss(c.expires).padEnd(6)} ${c.state.padEnd(11)} ${endpoint(c.clientAddress, c.clientPort).padEnd(18)} ${endpoint(c.virtualAddress, c.virtualPort).padEnd(18)} ${endpoint(c.destAddress, c.destPort)}\n`;
  }
  return out;
}
