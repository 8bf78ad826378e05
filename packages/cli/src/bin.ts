import { runCli } from "./program.js";

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { message?: string; code?: string };
    process.stderr.write(`lvsctl: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ""}\n`);
    process.exitCode = 1;
  },
);
