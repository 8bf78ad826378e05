// The `netlink` package, loaded on first use rather than with @lvs/netconf: its index brings
// every generated family (nl80211, WireGuard, rtnetlink) and its addon, ~13 MiB of a process's
// memory, which a director that never touches an address (check mode, the proxy dataplane)
// does not need. Synchronous, through require(): a bundled lvsctl hands its inlined copy out
// through the Symbol.for("lvs.require") hook (packages/cli/scripts/bundle.mjs).
import { createRequire } from "node:module";

type Netlink = typeof import("netlink");

let loaded: Netlink | undefined;

export function netlinkModule(): Netlink {
  if (loaded) return loaded;
  const hook = (globalThis as Record<symbol, unknown>)[Symbol.for("lvs.require")];
  if (typeof hook === "function") {
    try {
      loaded = (hook as (name: string) => Netlink)("netlink");
      return loaded;
    } catch {
      // A bundle that does not carry it: resolve it the usual way.
    }
  }
  loaded = createRequire(import.meta.url)("netlink") as Netlink;
  return loaded;
}
