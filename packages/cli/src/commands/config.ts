// lvsctl config check|convert|show|schema: the configuration front end (@lvs/config).
import { writeFileSync } from "node:fs";
import {
  ConfigError,
  type ConfigFormat,
  configJsonSchema,
  convertToYaml,
  escapeControl,
  formatIssueList,
  ignoredCount,
  type LoadResult,
  loadConfig,
} from "@lvs/config";
import { type Command, InvalidArgumentError, Option } from "commander";

interface LoadOpts {
  format?: ConfigFormat;
  configId?: string;
}

function addLoadOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--format <format>", "input format (default: by extension, then content)").choices([
        "keepalived",
        "yaml",
      ]),
    )
    .option(
      "-i, --config-id <id>",
      "config id for keepalived's @ID lines (keepalived -i; default: host name)",
    );
}

/** Issues printed per run; the rest are counted (`… and 9,950 more errors`). */
const MAX_PRINTED_ISSUES = 50;

/**
 * Load, printing the issues as `file:line:column: message` (at most MAX_PRINTED_ISSUES, errors
 * first, then a count of the rest); undefined when there were errors.
 */
function load(file: string, o: LoadOpts, out: (s: string) => void): LoadResult | undefined {
  try {
    const r = loadConfig(file, {
      ...(o.format ? { format: o.format } : {}),
      ...(o.configId !== undefined ? { configId: o.configId } : {}),
    });
    const counts = { errorCount: 0, warningCount: r.warningCount };
    for (const line of formatIssueList(r.warnings, { max: MAX_PRINTED_ISSUES, counts })) out(line);
    return r;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of formatIssueList(err.issues, { max: MAX_PRINTED_ISSUES, counts: err })) out(line);
    process.exitCode = 1;
    return undefined;
  }
}

export function register(program: Command): void {
  const config = program
    .command("config")
    .description("keepalived.conf and the native YAML: check, convert, show, JSON Schema");

  addLoadOptions(
    config
      .command("check")
      .description("check a keepalived.conf or YAML config; print file:line:column: message for each issue")
      .argument("<file>", "configuration file")
      .option("-q, --quiet", "print only errors and warnings, no summary")
      .option("--strict", "exit non-zero when anything in the file would be ignored"),
  ).action((file: string, o: LoadOpts & { quiet?: boolean; strict?: boolean }) => {
    const r = load(file, o, (s) => process.stdout.write(`${s}\n`));
    if (!r) return;
    const ignored = ignoredCount(r);
    if (!o.quiet && r.keywordSummary)
      process.stdout.write(
        `${r.keywordSummary.applied} keywords applied, ${ignored} ignored (listed above)\n`,
      );
    if (o.strict && ignored > 0) {
      process.stdout.write(
        `${escapeControl(file)}: --strict: ${ignored} ignored; the file would not run as written\n`,
      );
      process.exitCode = 1;
      return;
    }
    if (!o.quiet) {
      const c = r.config;
      const rs = c.virtualServers.reduce((n, v) => n + v.realServers.length, 0);
      process.stdout.write(
        `${escapeControl(file)}: OK (${c.vrrpInstances.length} vrrp_instance, ${c.virtualServers.length} virtual_server, ${rs} real_server` +
          `${r.files.length > 1 ? `, ${r.files.length} files` : ""}${r.warningCount ? `, ${r.warningCount} warnings` : ""})\n`,
      );
    }
    process.exitCode = 0;
  });

  addLoadOptions(
    config
      .command("convert")
      .description("convert a keepalived.conf to the native YAML (loading it gives the same model)")
      .argument("<file>", "keepalived.conf (or YAML, to normalise it)")
      .option("-o, --output <file>", "write here instead of stdout")
      .option("--schema-url <url>", "add a yaml-language-server $schema comment for editors"),
  ).action((file: string, o: LoadOpts & { output?: string; schemaUrl?: string }) => {
    const r = load(file, o, (s) => process.stderr.write(`${s}\n`));
    if (!r) return;
    const yaml = convertToYaml(r.config, {
      header: `converted by lvsctl config convert from ${escapeControl(file)}`,
      ...(o.schemaUrl ? { schemaUrl: o.schemaUrl } : {}),
    });
    if (o.output) writeFileSync(o.output, yaml);
    else process.stdout.write(yaml);
  });

  addLoadOptions(
    config
      .command("show")
      .description("print the loaded model as JSON (defaults and inherited values filled in)")
      .argument("<file>", "configuration file"),
  ).action((file: string, o: LoadOpts) => {
    const r = load(file, o, (s) => process.stderr.write(`${s}\n`));
    if (r) process.stdout.write(`${JSON.stringify(r.config, null, 2)}\n`);
  });

  config
    .command("schema")
    .description("print the JSON Schema of the native YAML/JSON format (for editors)")
    .option("--indent <n>", "indentation", (v) => {
      if (!/^\d$/.test(v)) throw new InvalidArgumentError("--indent must be 0..9");
      return Number(v);
    })
    .action((o: { indent?: number }) => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, o.indent ?? 2)}\n`);
    });
}
