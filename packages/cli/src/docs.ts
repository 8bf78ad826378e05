// Shell completions (bash, zsh) and the man page, generated from the same commander definitions
// that parse the command line, so they list exactly the commands and options lvsctl accepts.
import { usageText } from "@lvs/ipvsadm";
import type { Command, Option } from "commander";

interface CommandInfo {
  /** Words from the root, e.g. ["sync", "listen"]. */
  path: string[];
  description: string;
  usage: string;
  options: { flags: string; names: string[]; takesValue: boolean; description: string }[];
  subcommands: string[];
}

/** ipvsadm's own options, which `lvsctl ipvs` passes through (read from its usage text). */
export function ipvsadmOptions(): string[] {
  const text = usageText("ipvsadm");
  const names = new Set<string>();
  for (const m of text.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*|-[A-Za-z])(?![\w-])/g))
    names.add(m[1] as string);
  return [...names].sort();
}

function optionInfo(o: Option): CommandInfo["options"][number] {
  const names = [o.short, o.long].filter((n): n is string => typeof n === "string");
  return { flags: o.flags, names, takesValue: o.required || o.optional, description: o.description };
}

/** Every command of the tree, depth first (the root first). */
export function walkCommands(program: Command): CommandInfo[] {
  const out: CommandInfo[] = [];
  const visit = (cmd: Command, path: string[]): void => {
    const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    const options = cmd.options.filter((o) => !o.hidden).map(optionInfo);
    if (path.length === 0)
      options.push({
        flags: "-h, --help",
        names: ["-h", "--help"],
        takesValue: false,
        description: "display help",
      });
    out.push({
      path,
      description: cmd.description(),
      usage: cmd.usage(),
      options,
      subcommands: visible.map((c) => c.name()),
    });
    for (const c of visible) visit(c, [...path, c.name()]);
  };
  visit(program, []);
  return out;
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A bash completion script: `source <(lvsctl completion bash)`. */
export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}_complete`;
  const cases: string[] = [];
  for (const c of walkCommands(program)) {
    const words = [...c.subcommands, ...c.options.flatMap((o) => o.names)];
    if (c.path.length === 1 && c.path[0] === "ipvs") words.push(...ipvsadmOptions());
    cases.push(`    ${shQuote(c.path.join(" "))}) words=${shQuote(words.join(" "))} ;;`);
  }
  const valued = walkCommands(program)
    .flatMap((c) => c.options.filter((o) => o.takesValue).flatMap((o) => o.names))
    .filter((v, i, a) => a.indexOf(v) === i);
  return `# bash completion for ${name} (generated from its command definitions)
${fn}() {
  local cur prev cmdpath="" i w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # An option that takes a value: complete files.
  case " ${valued.join(" ")} " in *" $prev "*) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;; esac
  # The command path so far: the words that name subcommands.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case " $(${fn}_words "$cmdpath") " in *" $w "*) cmdpath="\${cmdpath:+$cmdpath }$w" ;; esac
  done
  COMPREPLY=( $(compgen -W "$(${fn}_words "$cmdpath")" -- "$cur") )
}
${fn}_words() {
  local words=""
  case "$1" in
${cases.join("\n")}
  esac
  printf '%s' "$words"
}
complete -F ${fn} ${name}
`;
}

/** A zsh completion function: put it on $fpath as `_lvsctl` (or `source <(lvsctl completion zsh)`). */
export function zshCompletion(program: Command): string {
  const name = program.name();
  const cases: string[] = [];
  for (const c of walkCommands(program)) {
    const subs = c.subcommands.map((s) => {
      const d = findCommand(program, [...c.path, s])?.description() ?? "";
      return `${s}:${d.replace(/[:\n]/g, " ")}`;
    });
    const opts = c.options.flatMap((o) =>
      o.names.map(
        (n) => `${n}[${o.description.replace(/[[\]:\n]/g, " ")}]${o.takesValue ? ":value:_files" : ""}`,
      ),
    );
    if (c.path.length === 1 && c.path[0] === "ipvs")
      opts.push(...ipvsadmOptions().map((n) => `${n}[ipvsadm option]`));
    cases.push(
      `    ${shQuote(c.path.join(" "))})\n      subs=(${subs.map(shQuote).join(" ")})\n      opts=(${opts.map(shQuote).join(" ")}) ;;`,
    );
  }
  return `#compdef ${name}
# zsh completion for ${name} (generated from its command definitions)
_${name}() {
  local cmdpath="" w i
  local -a subs opts
  for (( i = 2; i < CURRENT; i++ )); do
    w="\${words[i]}"
    [[ "$w" == -* ]] && continue
    _${name}_table "$cmdpath"
    if (( \${subs[(I)$w:*]} )); then cmdpath="\${cmdpath:+$cmdpath }$w"; fi
  done
  _${name}_table "$cmdpath"
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _arguments -s $opts
  else
    _describe -t commands '${name} command' subs || _arguments -s $opts
  fi
}
_${name}_table() {
  case "$1" in
${cases.join("\n")}
  esac
}
_${name} "$@"
`;
}

function findCommand(program: Command, path: string[]): Command | undefined {
  let cmd: Command | undefined = program;
  for (const p of path) cmd = cmd?.commands.find((c) => c.name() === p);
  return cmd;
}

const roff = (s: string): string =>
  s
    .replace(/\\/g, "\\e")
    .replace(/^([.'])/gm, "\\&$1")
    .replace(/-/g, "\\-")
    // groff reads ASCII: everything else as a Unicode escape.
    .replace(
      /[^\x00-\x7f]/gu,
      (c) => `\\[u${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}]`,
    );

/** The lvsctl(8) man page in roff. */
export function manPage(
  program: Command,
  opts: { version: string; date?: string } = { version: "" },
): string {
  const name = program.name();
  const date = opts.date ?? "";
  const lines = [
    `.TH ${name.toUpperCase()} 8 "${date}" "${name} ${opts.version}" "System Administration"`,
    ".SH NAME",
    `${name} \\- ${roff(program.description())}`,
    ".SH SYNOPSIS",
    `.B ${name}`,
    "\\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
    ".SH DESCRIPTION",
    `${roff(program.description())}.`,
    `The \\fBipvs\\fR command takes ipvsadm(8)'s arguments unchanged and prints its output.`,
    ".SH COMMANDS",
  ];
  for (const c of walkCommands(program).slice(1)) {
    if (c.path[c.path.length - 1] === "help") continue;
    lines.push(".TP", `.B ${name} ${c.path.join(" ")} ${roff(c.usage)}`, roff(c.description));
    for (const o of c.options) lines.push(".RS", ".TP", `.B ${roff(o.flags)}`, roff(o.description), ".RE");
  }
  lines.push(
    ".SH ENVIRONMENT",
    ".TP",
    ".B LVSCTL_NETNS",
    "Run \\fBipvs\\fR against the IPVS table of this network namespace (a name or a path).",
    ".TP",
    ".B LVSCTL_NATIVE_DIR",
    "Where the bundled or single-executable lvsctl finds its native addons (default: native/ beside it).",
    ".SH SEE ALSO",
    "ipvsadm(8), keepalived(8), keepalived.conf(5)",
    "",
  );
  return lines.join("\n");
}
