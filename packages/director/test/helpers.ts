import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LvsConfig, parseKeepalivedConf } from "@lvs/config";

/** keepalived.conf text → the model (through @lvs/config, as the daemon loads it). */
export function conf(text: string): LvsConfig {
  return parseKeepalivedConf(text, { lookupUser: () => ({ uid: 0, gid: 0 }), configId: "test" }).config;
}

/** A virtual server block with sensible defaults for tests. */
export function vsBlock(head: string, body: string): string {
  return `virtual_server ${head} {\n  protocol TCP\n  delay_loop 1\n${body}\n}\n`;
}

/** The built lvsctl (kernel and netns tiers run the daemon as a user would). */
export const LVSCTL_BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));

/**
 * argv for Netns.spawn: `lvsctl director run` in check mode (LVS only) on `config`, its socket in
 * `dir`, keepalived-style text logs; `extra` adds options (`--reconcile-interval 1`, …).
 */
export function directorCheckArgv(config: string, dir: string, extra: string[] = []): string[] {
  return [
    "node",
    LVSCTL_BIN,
    "director",
    "run",
    "-f",
    config,
    "--mode",
    "check",
    "--socket",
    join(dir, "d.sock"),
    ...extra,
    "--log-format",
    "text",
  ];
}
