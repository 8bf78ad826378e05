import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

// The library, and the module WorkerCheckRunner starts in each worker thread (dist/worker-entry.js).
export default defineConfig(packageBuild({ entry: ["src/index.ts", "src/worker-entry.ts"] }));
