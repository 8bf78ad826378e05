// A bundled lvsctl (scripts/bundle.mjs) opens its native addons from native/ the first time a
// command needs one; a missing or unloadable addon throws an error with this code, which may
// arrive wrapped in a package's own error (IpvsError, VrrpError…) as its `cause`.
export const NATIVE_MISSING_CODE = "LVSCTL_NATIVE_MISSING";

/** The bundle's missing-addon error, wherever it sits in err's cause chain. */
export function missingNativeAddon(err: unknown): Error | undefined {
  const seen = new Set<unknown>();
  for (let e = err; e && typeof e === "object" && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    if ((e as { code?: unknown }).code === NATIVE_MISSING_CODE) return e as Error;
  }
  return undefined;
}

/** The loader a bundled lvsctl installs (absent when lvsctl runs from its installed package). */
const BUNDLE_NATIVE_HOOK = Symbol.for("lvs.loadNative");

/**
 * In a bundled lvsctl, open these addons now: a daemon should refuse to start with one clear
 * line, not fail at its first raw socket with VIPs half configured. A no-op elsewhere (the
 * installed packages load their addons through node-gyp-build).
 */
export function preloadNativeAddons(names: readonly string[]): void {
  const hook = (globalThis as Record<symbol, unknown>)[BUNDLE_NATIVE_HOOK];
  if (typeof hook !== "function") return;
  for (const name of names) (hook as (n: string) => unknown)(name);
}

/** Every addon the daemon (`lvsctl up`, `lvsctl director run`) may need. */
export const DAEMON_NATIVE_ADDONS = ["netlink", "lvs-sys", "raw-socket"] as const;
