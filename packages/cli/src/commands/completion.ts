// lvsctl completion bash|zsh, lvsctl man: generated from the command definitions themselves.
import { type Command, InvalidArgumentError } from "commander";
import { bashCompletion, manPage, zshCompletion } from "../docs.js";
import { VERSION } from "../version.js";

function root(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

export function register(program: Command): void {
  program
    .command("completion")
    .description("print a shell completion script: source <(lvsctl completion bash)")
    .argument("<shell>", "bash or zsh", (v: string) => {
      if (v !== "bash" && v !== "zsh") throw new InvalidArgumentError("the shell is bash or zsh");
      return v;
    })
    .action((shell: "bash" | "zsh", _opts: unknown, cmd: Command) => {
      const top = root(cmd);
      process.stdout.write(shell === "bash" ? bashCompletion(top) : zshCompletion(top));
    });
  program
    .command("man")
    .description("print the lvsctl(8) man page (roff): lvsctl man | man -l -")
    .action((_opts: unknown, cmd: Command) => {
      process.stdout.write(manPage(root(cmd), { version: VERSION }));
    });
}
