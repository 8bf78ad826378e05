import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

// The library, and the worker that parses and compiles the configuration (config-load.ts).
export default defineConfig([
  packageBuild(),
  packageBuild({ entry: ["src/config-worker.ts"], format: ["esm"], dts: false, clean: false }),
]);
