import { type LvsConfig, parseKeepalivedConf } from "@lvs/config";

/** keepalived.conf text → the model (through @lvs/config, as the daemon loads it). */
export function conf(text: string): LvsConfig {
  return parseKeepalivedConf(text, { lookupUser: () => ({ uid: 0, gid: 0 }), configId: "test" }).config;
}

/** A virtual server block with sensible defaults for tests. */
export function vsBlock(head: string, body: string): string {
  return `virtual_server ${head} {\n  protocol TCP\n  delay_loop 1\n${body}\n}\n`;
}
