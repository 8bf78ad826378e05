/** MAC (EUI-48) text ↔ 6 bytes. */
import { InetError } from "./errors.js";

const MAC = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/** "02:00:5e:00:01:01" (or with "-", either case) → 6 bytes. Throws INET_BAD_MAC. */
export function parseMac(text: string): Uint8Array {
  const m = typeof text === "string" ? MAC.exec(text) : null;
  if (!m) {
    throw new InetError(
      "INET_BAD_MAC",
      `${JSON.stringify(text)} is not a MAC address (write aa:bb:cc:dd:ee:ff)`,
      {
        object: String(text),
      },
    );
  }
  return Uint8Array.from([m[1], m[3], m[4], m[5], m[6], m[7]], (h) => Number.parseInt(h as string, 16));
}

/** Bytes → "aa:bb:cc:dd:ee:ff" (lower case, as `ip link` prints). */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}
