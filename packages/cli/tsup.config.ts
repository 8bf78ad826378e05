import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

// The library entry (command definitions) and the lvsctl binary, which gets a shebang.
export default defineConfig([
  packageBuild(),
  packageBuild({
    entry: ["src/bin.ts"],
    format: ["cjs"],
    dts: false,
    clean: false,
    banner: { js: "#!/usr/bin/env node" },
  }),
]);
