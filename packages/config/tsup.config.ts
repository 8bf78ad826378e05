import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

// Two entries: the whole package, and core (no zod, no yaml). Code splitting puts what they share
// in one chunk, so each class exists once (instanceof ConfigError holds across the entries), in
// the CommonJS output too.
export default defineConfig(packageBuild({ entry: ["src/index.ts", "src/core.ts"], splitting: true }));
