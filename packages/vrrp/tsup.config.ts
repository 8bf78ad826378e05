import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

// The library, and the entry module IsolatedRouter forks (dist/isolated-entry.js).
export default defineConfig(packageBuild({ entry: ["src/index.ts", "src/isolated-entry.ts"] }));
