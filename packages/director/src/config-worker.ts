// The worker side of config-load.ts: parse and compile the file in a short-lived isolate, so the
// parse's peak heap (tokens, tree, positions: ~200 MiB for 5,000 services) dies with the worker
// instead of staying in the daemon's RSS. Built as its own entry (dist/config-worker.js).
import { parentPort, workerData } from "node:worker_threads";
import { ConfigError } from "@lvs/config";
import { compilePlan } from "./compile.js";
import type { ParseReply, ParseRequest } from "./config-load.js";
import { DirectorError } from "./errors.js";
import { loadConfigFile } from "./options.js";

async function parse(req: ParseRequest): Promise<ParseReply> {
  try {
    const loaded = await loadConfigFile(
      req.path,
      req.configId !== undefined ? { configId: req.configId } : {},
    );
    const plan = compilePlan(loaded.config);
    const { sources, ...rest } = loaded;
    return { ok: true, loaded: req.sources && sources ? { ...rest, sources } : rest, plan };
  } catch (err) {
    const cause = err instanceof DirectorError ? err.cause : undefined;
    if (err instanceof DirectorError && err.code === "DIRECTOR_CONFIG" && cause instanceof ConfigError)
      return {
        ok: false,
        error: {
          message: err.message,
          object: err.object,
          issues: cause.issues,
          counts: { errorCount: cause.errorCount, warningCount: cause.warningCount },
        },
      };
    // Anything else is re-raised by the main thread parsing the file itself (the same error).
    return { ok: false };
  }
}

parentPort?.postMessage(await parse(workerData as ParseRequest));
