import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The bundled lvsctl (scripts/bundle.mjs) defines this at bundle time; the package reads its own
// package.json at run time, so the binary always reports the published version.
declare const __LVSCTL_VERSION__: string | undefined;

function packageVersion(): string {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    return (JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "0.0.0-unknown";
  }
}

export const VERSION: string = typeof __LVSCTL_VERSION__ === "string" ? __LVSCTL_VERSION__ : packageVersion();
