// Shared tsup settings: every package builds src/index.ts to ESM + CJS + .d.ts for Node 20.
import type { Options } from "tsup";

export function packageBuild(overrides: Options = {}): Options {
  return {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "node20",
    platform: "node",
    splitting: false,
    // import.meta.url and __dirname work in both the ESM and the CJS output.
    shims: true,
    ...overrides,
  };
}
