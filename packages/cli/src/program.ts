import { Command } from "commander";
import { commandGroups } from "./commands/index.js";
import { VERSION } from "./version.js";

/** Builds the whole lvsctl command tree (used by the binary, completions and docs). */
export function createProgram(): Command {
  const program = new Command("lvsctl")
    .description("Linux Virtual Server director: ipvsadm-compatible verbs and the lvs daemon's commands")
    .version(VERSION)
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  for (const register of commandGroups) register(program);
  return program;
}

/** Runs lvsctl with argv (without node and script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = createProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.exitCode === "number" && typeof e.code === "string" && e.code.startsWith("commander.")) {
      return e.exitCode;
    }
    throw err;
  }
}
