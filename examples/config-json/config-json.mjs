// @lvs/config alone: load a keepalived.conf (includes and all) and print the typed model as JSON.
//   node config-json.mjs [/etc/keepalived/keepalived.conf]
// Problems print as file:line:column with what to write instead; warnings go to stderr.
import { ConfigError, formatIssue, loadConfig } from "@lvs/config";

const file = process.argv[2] ?? new URL("./keepalived.conf", import.meta.url).pathname;
try {
  const { config, warnings } = loadConfig(file);
  for (const w of warnings) console.error(`warning: ${formatIssue(w)}`);
  console.log(JSON.stringify(config, null, 2));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  for (const issue of err.issues) console.error(formatIssue(issue));
  process.exitCode = 1;
}
