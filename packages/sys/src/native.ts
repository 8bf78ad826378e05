import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SysError } from "./errors.js";

export interface NativeBinding {
  setns(fd: number, nstype: number): void;
  ifNameToIndex(name: string): number;
  deviceSocket(
    family: 4 | 6,
    type: "tcp" | "udp",
    ifname: string,
    localAddress?: string,
    localPort?: number,
  ): number;
  packetOpen(ifindex: number, ethertype: number): number;
  packetSend(fd: number, ifindex: number, frame: Uint8Array): number;
  packetWatch(fd: number, cb: (frame: Buffer, meta: { ifindex: number; pktType: number }) => void): void;
  packetClose(fd: number): void;
  /** Absent from an addon built before it was added (a stale build or an old bundle). */
  mallocTrim?: () => boolean;
  /** V8's memory-pressure notification; absent from an addon built before it was added. */
  memoryPressure?: (level: "none" | "moderate" | "critical") => boolean;
  /** Returns only by throwing (errno); absent from an addon built before it was added. */
  execve?: (path: string, argv: string[], env: string[]) => never;
  CLONE_NEWNET: number;
}

let cached: NativeBinding | undefined;

/**
 * The hook a bundled lvsctl installs (see packages/cli/scripts/bundle.mjs): it loads an addon
 * shipped beside the bundle instead of from a package directory that does not exist there.
 */
const BUNDLE_NATIVE_HOOK = Symbol.for("lvs.loadNative");

/** Loads the addon built at install time (node-gyp-build finds build/Release or prebuilds/). */
export function native(): NativeBinding {
  if (cached) return cached;
  const hook = (globalThis as Record<symbol, unknown>)[BUNDLE_NATIVE_HOOK];
  if (typeof hook === "function") {
    cached = (hook as (name: string) => NativeBinding)("lvs-sys");
    return cached;
  }
  const require = createRequire(import.meta.url);
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
  try {
    const load = require("node-gyp-build") as (dir: string) => NativeBinding;
    cached = load(packageRoot);
  } catch (err) {
    throw new SysError(
      "SYS_NATIVE_MISSING",
      `@lvs/sys native addon not built in ${packageRoot}: run \`npm rebuild @lvs/sys\` (needs a C++ compiler and Node headers)`,
      { object: packageRoot },
      { cause: err },
    );
  }
  return cached;
}
