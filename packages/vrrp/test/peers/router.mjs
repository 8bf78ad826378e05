#!/usr/bin/env node
// A VRRP router process for the netns tests (what `lvsctl up --vrrp -f FILE` does, without the
// CLI package): node router.mjs FILE [--isolated]. Logs one JSON line per event on stdout;
// SIGTERM = clean stop, SIGHUP = reload the file in place (router.reload), SIGUSR1 = status.
// --isolated: the router runs in a child process (IsolatedRouter); this one parses and relays.
import { loadKeepalivedConf } from "@lvs/config";
import { routerOptionsFromConfig, spawnIsolatedRouter, VrrpRouter } from "@lvs/vrrp";

const file = process.argv[2];
const isolated = process.argv.includes("--isolated");
const { config, sources } = loadKeepalivedConf(file);
const { options, warnings } = routerOptionsFromConfig(config, { sources });
const log = (o) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
for (const w of warnings) log({ warning: w.message, position: w.position });
const router = isolated ? spawnIsolatedRouter(options) : new VrrpRouter(options);
if (isolated) router.on("child", (c) => log({ child: c }));
router.on("state", (s) =>
  log({ state: s.to, from: s.from, kind: s.kind, name: s.name, priority: s.priority, reason: s.reason }),
);
router.on("warning", (m) => log({ warning: m }));
router.on("error", (e) => log({ error: e.message, code: e.code }));
await router.start();
log({ started: true, ...(isolated ? { pid: router.pid } : {}) });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await router.stop();
  log({ stopped: true, status: router.status() });
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("SIGUSR1", () => log({ status: router.status() }));
process.on("SIGHUP", async () => {
  try {
    const next = loadKeepalivedConf(file);
    const mapped = routerOptionsFromConfig(next.config, { sources: next.sources });
    for (const w of mapped.warnings) log({ warning: w.message, position: w.position });
    log({ reloaded: await router.reload(mapped.options) });
  } catch (err) {
    log({ reloadError: err.message, code: err.code });
  }
});
