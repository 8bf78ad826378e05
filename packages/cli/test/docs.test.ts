// Completions and the man page are generated from the command definitions: run them in the real
// shells (bash, zsh) and through groff, against the built files that `pnpm build` writes.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createProgram, walkCommands } from "../src/index.js";

const dist = (p: string) => fileURLToPath(new URL(`../dist/${p}`, import.meta.url));
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const commands = walkCommands(createProgram());

/** What bash offers after the words typed so far (the last one being completed). */
function bashComplete(words: string[]): string[] {
  const script = `source ${JSON.stringify(dist("completions/lvsctl.bash"))}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_lvsctl_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["--norc", "-c", script], { encoding: "utf8" }).split("\n").filter(Boolean);
}

describe("bash completion", () => {
  it("offers the top-level commands", () => {
    const top = commands[0]?.subcommands ?? [];
    expect(top).toEqual(expect.arrayContaining(["ipvs", "sync", "check", "completion", "man"]));
    expect(bashComplete(["lvsctl", ""]).sort()).toEqual(expect.arrayContaining([...top].sort()));
    expect(bashComplete(["lvsctl", "sy"])).toEqual(["sync"]);
  });

  it("follows subcommands and their options", () => {
    expect(bashComplete(["lvsctl", "sync", "l"])).toEqual(["listen"]);
    expect(bashComplete(["lvsctl", "sync", "listen", "--mcast-i"])).toEqual(["--mcast-interface"]);
    expect(bashComplete(["lvsctl", "check", "tcp", "--connect-p"])).toEqual(["--connect-port"]);
  });

  it("offers ipvsadm's options after `ipvs`", () => {
    expect(bashComplete(["lvsctl", "ipvs", "--add-s"]).sort()).toEqual(["--add-server", "--add-service"]);
    expect(bashComplete(["lvsctl", "ipvs", "--start-d"])).toEqual(["--start-daemon"]);
  });

  it("lists every command of the tree", () => {
    const text = readFileSync(dist("completions/lvsctl.bash"), "utf8");
    for (const c of commands) expect(text).toContain(`'${c.path.join(" ")}')`);
  });
});

describe.skipIf(!has("zsh"))("zsh completion", () => {
  /** Runs the completion function with _arguments/_describe stubbed to print what they get. */
  function zshComplete(words: string[]): string {
    const script = `_arguments() { print -l -- "ARGS" "$@" }
_describe() { print -l -- "DESCRIBE" "\${(@P)4}"; return 0 }
words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}
source ${JSON.stringify(dist("completions/_lvsctl"))}`;
    return execFileSync("zsh", ["-f", "-c", script], { encoding: "utf8" });
  }

  it("parses", () => {
    execFileSync("zsh", ["-n", dist("completions/_lvsctl")]);
  });

  it("describes subcommands, then options of the command typed", () => {
    const top = zshComplete(["lvsctl", ""]);
    expect(top).toContain("DESCRIBE");
    expect(top).toMatch(/^sync:/m);
    const sub = zshComplete(["lvsctl", "sync", "listen", "--"]);
    expect(sub).toContain("ARGS");
    expect(sub).toContain("--mcast-interface[");
  });
});

describe.skipIf(!has("groff"))("man page", () => {
  it("renders without groff warnings and documents every command", () => {
    const r = spawnSync("groff", ["-man", "-Tutf8", "-ww"], {
      input: readFileSync(dist("man/lvsctl.8")),
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const text = r.stdout.replace(/.\x08/g, "");
    for (const c of commands.slice(1)) {
      if (c.path.at(-1) === "help") continue;
      expect(text).toContain(`lvsctl ${c.path.join(" ")}`);
    }
  });
});
