import { isIsolatedRouterChild, runIsolatedRouterChild, setDefaultIsolatedRouterEntry } from "@lvs/vrrp";
import { missingNativeAddon } from "./native-addon.js";
import { runCli } from "./program.js";

if (isIsolatedRouterChild()) {
  // forked by `lvsctl up`'s IsolatedRouter: this process is the VRRP router
  runIsolatedRouterChild();
} else {
  // The VRRP child process is lvsctl itself (as keepalived's VRRP process is keepalived): that
  // works the same from dist, from the one-file bundle and from the single executable.
  setDefaultIsolatedRouterEntry({ modulePath: process.argv[1] ?? process.execPath });
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // A missing native addon (bundle without native/) is said in its own words, whatever wrapped it.
      const native = missingNativeAddon(err);
      const e = (native ?? err) as { message?: string; code?: string };
      process.stderr.write(`lvsctl: ${e.message ?? String(err)}${e.code && !native ? ` (${e.code})` : ""}\n`);
      process.exitCode = 1;
    },
  );
}
