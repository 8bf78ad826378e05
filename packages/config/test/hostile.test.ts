// Input that is not a friendly keepalived.conf: huge, deep, endless, binary, secret, or written
// to drive the terminal. Each case failed (hung, crashed, leaked or misled) before the reader's
// limits and guards; the time bounds are generous upper bounds, never the thing measured.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  type ConfigIssue,
  escapeControl,
  formatIssue,
  formatIssueList,
  loadConfig,
  loadKeepalivedConf,
  memoryFs,
  parseYamlConfig,
} from "../src/index.js";
import { issues, parse, users, where } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "lvs-config-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError a load throws (fails the test if it returns or throws something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

const instance = (body = "") =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n${body}}\n`;

describe("the reader is linear in its input", () => {
  it("100,000 brace pairs on one line are rejected at once by the line limit", () => {
    const { value: e, ms } = timed(() => configError(() => parse("{}".repeat(100_000))));
    expect(where(e.issues)).toEqual(["CONFIG_LINE_TOO_LONG@1:65537"]);
    expect(e.issues[0]!.message).toMatch(/^line is 200,000 characters long, more than the 65,536 allowed/);
    expect(ms).toBeLessThan(2000);
  });

  it("with the line limit lifted, 100,000 brace pairs on one line are lexed in well under a second", () => {
    // Slicing the rest of the line off per brace made this quadratic: it never finished.
    const { value: e, ms } = timed(() =>
      configError(() => parse("{}".repeat(100_000), { limits: { maxLineLength: Number.POSITIVE_INFINITY } })),
    );
    expect(e.errorCount).toBe(100_000);
    expect(e.code).toBe("CONFIG_UNEXPECTED_BOB");
    expect(e.issues[99]!.column).toBe(199);
    expect(ms).toBeLessThan(2000);
  });

  it("long runs of blanks before continuations are trimmed in linear time", () => {
    // `/[ \t]+$/` backtracked over every blank of a run: about 2 s per 60,000-blank line.
    const run = `a${" ".repeat(60_000)}b \\\n`;
    const text = `$A=${run}${run.repeat(4)}c\n${instance()}`;
    const { value: found, ms } = timed(() => issues(text));
    expect(found).toEqual([]);
    expect(ms).toBeLessThan(2000);
  });

  it("parameter substitution is bounded: 4 × the input, at least 16 Mi characters", () => {
    // 60 kB of `$X` lines stood for 120 M characters, all of them lexed.
    const text = `$X=${"y".repeat(6000)}\nglobal_defs {\n  router_id a\n}\n${"$X $X $X $X $X $X $X $X $X $X\n".repeat(2000)}`;
    const { value: found, ms } = timed(() => issues(text));
    const bad = found.filter((i) => i.code === "CONFIG_BAD_DEFINITION");
    expect(bad.map((i) => i.message)).toEqual([
      expect.stringMatching(/^parameter substitution produces more than 16,777,216 characters/),
    ]);
    expect(bad[0]!.line).toBeLessThan(400);
    expect(ms).toBeLessThan(20_000);
  });

  it("multi-line definitions doubling at each level stop at the expansion bound", () => {
    let text = "global_defs {\n  router_id a\n}\n";
    for (let i = 0; i < 30; i++) text += `$L${i}= \\\n  $L${i + 1}\\\n  $L${i + 1}\n`;
    text += "$L30=vrrp_garp_master_delay 1\nglobal_defs {\n$L0\n}\n";
    const { value: found, ms } = timed(() => issues(text));
    expect(found.filter((i) => i.code === "CONFIG_BAD_DEFINITION").map((i) => i.message)).toEqual([
      expect.stringMatching(/^multi-line parameters expand to more than 100,000 lines/),
    ]);
    expect(ms).toBeLessThan(20_000);
  });

  it("a multi-line definition that uses itself is an error, not a stack overflow", () => {
    // Before: RangeError (Maximum call stack size exceeded) out of parseKeepalivedConf.
    const text = "$A= \\\n  vrrp_garp_master_delay 1 \\\n  $A\nglobal_defs {\n  $A\n}\n";
    const e = configError(() => parse(text));
    expect(e.errors.map((i) => [i.code, i.line])).toEqual([["CONFIG_BAD_DEFINITION", 5]]);
    expect(e.errors[0]!.message).toMatch(/expand inside each other more than 32 levels deep/);
  });
});

describe("limits, each with file:line:column and what to do", () => {
  it("file size: the text handed in, and a file on disk (checked before it is read)", () => {
    const e = configError(() => parse(instance(), { limits: { maxFileBytes: 64 } }));
    expect(where(e.issues)).toEqual(["CONFIG_FILE_TOO_LARGE@1:1"]);
    expect(e.issues[0]!.message).toMatch(
      /^t\.conf is \d+ bytes, more than the 64 bytes a configuration file may have; .*limits\.maxFileBytes/,
    );
    const file = join(dir, "big.conf");
    writeFileSync(file, `# ${"x".repeat(3000)}\n${instance()}`);
    for (const load of [loadConfig, loadKeepalivedConf]) {
      const big = configError(() => load(file, { lookupUser: users, limits: { maxFileBytes: 2048 } }));
      expect(big.issues.map(formatIssue)).toEqual([
        `${file}:1:1: ${file} is 3.0 KiB, more than the 2 KiB a configuration file may have; check the path (or raise limits.maxFileBytes) (CONFIG_FILE_TOO_LARGE)`,
      ]);
    }
    expect(loadConfig(file, { lookupUser: users }).config.vrrpInstances).toHaveLength(1);
  });

  it("file size of an included file: reported at the include line", () => {
    const fs = memoryFs({ "/k/main.conf": "include big.conf\n", "/k/big.conf": `# ${"x".repeat(200)}\n` });
    const e = configError(() => loadKeepalivedConf("/k/main.conf", { fs, limits: { maxFileBytes: 100 } }));
    expect(e.issues.map(formatIssue)).toEqual([
      '/k/main.conf:1:1: included file "/k/big.conf" is 203 bytes, more than the 100 bytes a configuration file may have; check the path (or raise limits.maxFileBytes) (CONFIG_FILE_TOO_LARGE)',
    ]);
  });

  it("line length: the line is skipped with its position, the rest is read", () => {
    const second = instance().replace("VI_1", "VI_2").replace("priority 100", "priority 300");
    const text = `${instance()}# ${"x".repeat(70_000)}\n${second}`;
    const e = configError(() => parse(text));
    expect(where(e.errors)).toEqual(["CONFIG_LINE_TOO_LONG@6:65537", "CONFIG_SCHEMA@10:12"]);
    expect(e.errors[0]!.message).toMatch(/limits\.maxLineLength/);
    expect(where(issues(text, { limits: { maxLineLength: 100_000 } }))).toEqual(["CONFIG_SCHEMA@10:12"]);
  });

  it("nesting depth: 64 levels are read, the 65th block is skipped with an error", () => {
    const nest = (n: number) => `global_defs {\n}\n${"a {\n".repeat(n)}${"}\n".repeat(n)}`;
    expect(where(issues(nest(64))).filter((w) => !w.startsWith("w:"))).toEqual([]);
    const e = configError(() => parse(nest(65)));
    expect(where(e.errors)).toEqual(["CONFIG_NESTING_TOO_DEEP@67:3"]);
    expect(e.errors[0]!.message).toMatch(/^blocks nest deeper than 64 levels; .*limits\.maxNesting/);
    expect(
      where(issues(nest(65), { limits: { maxNesting: 100 } })).filter((w) => !w.startsWith("w:")),
    ).toEqual([]);
    // 20,000 levels on one line: bounded, no stack overflow in the block readers.
    const deep = `${"virtual_server 10.0.0.1 80 { ".repeat(20_000)}${"} ".repeat(20_000)}`;
    const d = configError(() => parse(deep, { limits: { maxLineLength: Number.POSITIVE_INFINITY } }));
    expect(d.errors.map((i) => i.code)).toContain("CONFIG_NESTING_TOO_DEEP");
  });

  it("include count: every read counts, so files including each other twice can't grow 2^depth reads", () => {
    const files: Record<string, string> = { "/k/main.conf": "include 0.conf\n" };
    for (let i = 0; i < 30; i++) files[`/k/${i}.conf`] = `include ${i + 1}.conf\ninclude ${i + 1}.conf\n`;
    files["/k/30.conf"] = "";
    const { value: e, ms } = timed(() =>
      configError(() => loadKeepalivedConf("/k/main.conf", { fs: memoryFs(files), lookupUser: users })),
    );
    expect(e.errors.map((i) => i.code)).toEqual(["CONFIG_TOO_MANY_FILES"]);
    expect(e.errors[0]!.message).toMatch(/^more than 1,000 included files read .*limits\.maxIncludeFiles/);
    expect(ms).toBeLessThan(5000);
    const small = configError(() =>
      loadKeepalivedConf("/k/main.conf", { fs: memoryFs(files), limits: { maxIncludeFiles: 3 } }),
    );
    expect(small.errors[0]!.message).toMatch(/^more than 3 included files/);
  });

  it("include depth is configurable", () => {
    const fs = memoryFs({
      "/k/m.conf": "include a.conf\n",
      "/k/a.conf": "include b.conf\n",
      "/k/b.conf": "",
    });
    expect(() => loadKeepalivedConf("/k/m.conf", { fs })).not.toThrow();
    const e = configError(() => loadKeepalivedConf("/k/m.conf", { fs, limits: { maxIncludeDepth: 1 } }));
    expect(e.issues.map((i) => [i.code, i.file, i.line])).toEqual([["CONFIG_INCLUDE_DEPTH", "/k/a.conf", 1]]);
    expect(e.issues[0]!.message).toMatch(/limits\.maxIncludeDepth/);
  });

  it("YAML: file size, and collections nested deeper than 64 (the yaml package recurses)", () => {
    const e = configError(() =>
      parseYamlConfig("globalDefs:\n  routerId: a\n", { limits: { maxFileBytes: 10 } }),
    );
    expect(where(e.issues)).toEqual(["CONFIG_FILE_TOO_LARGE@1:1"]);
    for (const text of [
      "[".repeat(100_000),
      `${"[".repeat(20_000)}${"]".repeat(20_000)}`,
      `${"- ".repeat(20_000)}x`,
    ]) {
      const { value: deep, ms } = timed(() => configError(() => parseYamlConfig(text)));
      expect(deep.issues.map((i) => i.code)).toEqual(["CONFIG_NESTING_TOO_DEEP"]);
      expect(deep.issues[0]!.message).toMatch(/^collections nest deeper than 64 levels/);
      expect(ms).toBeLessThan(5000);
    }
    // A stack overflow inside `yaml` used to leave V8 unable to compile regular expressions:
    // the next parse of anything nested aborted the whole process.
    expect(() => parseYamlConfig(`x: ${"[".repeat(2000)}${"]".repeat(2000)}`)).toThrow(ConfigError);
    expect(parseYamlConfig("globalDefs:\n  routerId: z\n").config.globalDefs.routerId).toBe("z");
  });
});

describe("only regular files are read", () => {
  const fifo = join(dir, "fifo.conf");
  spawnSync("mkfifo", [fifo]);
  const zeroYaml = join(dir, "zero.yaml");
  symlinkSync("/dev/zero", zeroYaml);

  it.each([
    ["/dev/zero", "keepalived"],
    ["/dev/zero", "yaml"],
    [zeroYaml, undefined],
    [fifo, undefined],
  ] as const)("%s (%s) is refused before it is opened", (path, format) => {
    const { value: e, ms } = timed(() => configError(() => loadConfig(path, format ? { format } : {})));
    expect(e.issues.map(formatIssue)).toEqual([
      `${path}:1:1: ${path} is not a regular file (a device, pipe or socket); give the path of a configuration file (CONFIG_NOT_A_FILE)`,
    ]);
    expect(ms).toBeLessThan(2000);
  });

  it("loadKeepalivedConf too, and a directory", () => {
    expect(configError(() => loadKeepalivedConf("/dev/zero")).code).toBe("CONFIG_NOT_A_FILE");
    expect(configError(() => loadConfig(dir)).issues[0]!.message).toBe(
      `${dir} is a directory; give the path of a configuration file (e.g. ${dir}/keepalived.conf)`,
    );
  });

  it("an include of /dev/zero is skipped with a warning (keepalived includes regular files only)", () => {
    const file = join(dir, "inc-zero.conf");
    writeFileSync(file, `include /dev/zero\n${instance()}`);
    const r = loadKeepalivedConf(file, { lookupUser: users });
    expect(where(r.warnings)).toEqual(["w:CONFIG_INCLUDE_NO_MATCH@1:1"]);
  });
});

describe("a UTF-8 byte order mark", () => {
  it("is skipped, so the first block is read (it was lost), with a warning for keepalived's sake", () => {
    const text = `\uFEFFglobal_defs {\n  router_id lb1\n}\n${instance()}`;
    const r = parse(text);
    expect(r.config.globalDefs.routerId).toBe("lb1");
    expect(r.warnings.map((w) => [w.code, w.line, w.column])).toEqual([["CONFIG_BYTE_ORDER_MARK", 1, 1]]);
    expect(r.config).toEqual(parse(text.slice(1)).config);
  });

  it("in an included file too", () => {
    const fs = memoryFs({
      "/k/m.conf": "include g.conf\n",
      "/k/g.conf": "\uFEFFglobal_defs {\n  router_id x\n}\n",
    });
    expect(loadKeepalivedConf("/k/m.conf", { fs }).config.globalDefs.routerId).toBe("x");
  });

  it("YAML and JSON: skipped, and the format is still told by the content", () => {
    const file = join(dir, "bom-config");
    writeFileSync(file, "\uFEFFglobalDefs:\n  routerId: y\n");
    expect(loadConfig(file).config.globalDefs.routerId).toBe("y");
    expect(parseYamlConfig('\uFEFF{"globalDefs": {"routerId": "j"}}').config.globalDefs.routerId).toBe("j");
  });
});

describe("issues are capped, not their count", () => {
  const bad = instance(`  virtual_ipaddress {\n${"    10.0.0.300/24\n".repeat(10_000)}  }\n`);

  it("10,000 bad lines: every one counted, the first 1,000 kept", () => {
    const e = configError(() => parse(bad));
    expect(e.errorCount).toBe(10_000);
    expect(e.errors).toHaveLength(1000);
    expect(e.message).toMatch(/\(\+9999 more\)$/);
  });

  it("formatIssueList: at most 50 lines, errors before warnings, then the count", () => {
    const e = configError(() => parse(`${bad}${"bogus_kw\n".repeat(10_000)}`));
    expect([e.errorCount, e.warningCount]).toEqual([10_000, 10_000]);
    const lines = formatIssueList(e.issues, { counts: e });
    expect(lines).toHaveLength(51);
    expect(lines.slice(0, 50).every((l) => l.includes("(CONFIG_SCHEMA)"))).toBe(true);
    expect(lines[50]).toBe("… and 9,950 more errors and 10,000 more warnings");
    const few: ConfigIssue[] = e.issues.slice(0, 3);
    expect(formatIssueList(few)).toHaveLength(3);
  });

  it("a library caller can keep more", () => {
    const e = configError(() => parse(bad, { limits: { maxIssues: 20_000 } }));
    expect(e.errors).toHaveLength(10_000);
  });
});

describe("control characters are escaped in every message that quotes input", () => {
  const nasty = "pri\u001b[2J\u0007\u007f\u009b31m\u202eority";

  it("C0 (ESC, BEL), DEL, C1 and bidi overrides become visible escapes", () => {
    const found = issues(instance(`  ${nasty} 100\n`));
    const line = formatIssue(found.find((i) => i.code === "CONFIG_UNKNOWN_KEYWORD")!);
    expect(line).toContain("pri\\x1b[2J\\x07\\x7f\\u009b31m\\u202eority");
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  });

  it("a file name with control characters is escaped when formatted", () => {
    const issue: ConfigIssue = {
      code: "CONFIG_SCHEMA",
      severity: "error",
      message: "m\tx",
      file: "a\u001bb",
      line: 1,
      column: 1,
    };
    expect(formatIssue(issue)).toBe("a\\x1bb:1:1: m\\tx (CONFIG_SCHEMA)");
    expect(escapeControl(escapeControl("\u001b"))).toBe("\\x1b");
  });
});

describe("files that are not configuration are never quoted", () => {
  const shadow =
    "root:$6$Zq1Wk9pS$Xy9secretHashOfRootsPasswordxxxxxxxxxxxxxxxxxxxxxxxx:19700:0:99999:7:::\n" +
    "daemon:*:19700:0:99999:7:::\nbob:$y$j9T$anotherSecret$hashhashhash:19701:0:99999:7:::\n";

  it("include /etc/shadow-like content: one warning at the include line, no line of it echoed", () => {
    const secret = join(dir, "shadow");
    writeFileSync(secret, shadow);
    const main = join(dir, "with-shadow.conf");
    writeFileSync(main, `${instance()}include ${secret}\n`);
    const r = loadKeepalivedConf(main, { lookupUser: users });
    expect(r.warnings.map(formatIssue)).toEqual([
      `${main}:6:1: warning: included file "${secret}" does not look like a keepalived configuration (3 unknown lines, none a keepalived keyword); its lines are not shown: include only configuration files (e.g. \`include conf.d/*.conf\`) (CONFIG_NOT_CONFIG)`,
    ]);
    expect(JSON.stringify(r.warnings)).not.toMatch(/secret|root:|daemon/);
  });

  it("as the main file it is an error", () => {
    const e = configError(() => parse(shadow));
    expect(e.issues.map(formatIssue)).toEqual([
      "t.conf:1:1: t.conf does not look like a keepalived configuration (3 unknown lines, none a keepalived keyword); its lines are not shown: give the path of a keepalived.conf or YAML file (CONFIG_NOT_CONFIG)",
    ]);
  });

  it("binary data (a NUL byte, or bytes that are not UTF-8) is not quoted even where a keyword appears", () => {
    const file = join(dir, "core");
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from("global_defs {\n}\nsecret\u0000stuff {\n"),
        Buffer.from([0xff, 0xfe, 0x0a]),
      ]),
    );
    const main = join(dir, "with-core.conf");
    writeFileSync(main, `${instance()}include ${file}\n`);
    const e = configError(() => loadKeepalivedConf(main, { lookupUser: users }));
    expect(e.issues.map((i) => [i.code, i.file, i.line, i.severity])).toEqual([
      ["CONFIG_NOT_CONFIG", main, 6, "error"],
    ]);
    expect(e.issues[0]!.message).toMatch(/\(binary data\)/);
    expect(JSON.stringify(e.issues)).not.toContain("secret");
  });

  it("a file of typos is still configuration: each keyword is shown with its 'did you mean'", () => {
    const fs = memoryFs({
      "/k/m.conf": "include t.conf\n",
      "/k/t.conf": "vrrp_instanse VI_1 {\n}\nglobal_def {\n}\n",
    });
    expect(loadKeepalivedConf("/k/m.conf", { fs }).warnings.map((w) => [w.file, w.line, w.code])).toEqual([
      ["/k/t.conf", 1, "CONFIG_UNKNOWN_KEYWORD"],
      ["/k/t.conf", 3, "CONFIG_UNKNOWN_KEYWORD"],
    ]);
  });
});

describe("an undefined parameter is named as such", () => {
  it("virtual_server $VIP 80: not 'not an IP address', but where $VIP is and how to define it", () => {
    const text = "virtual_server $VIP 80 {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n}\n";
    const e = configError(() => parse(text));
    expect(e.errors.map(formatIssue)).toEqual([
      "t.conf:1:16: $VIP is not defined; define it with `$VIP=...` on a line before its use (an undefined parameter is kept as written) (CONFIG_UNDEFINED_PARAMETER)",
    ]);
    expect(() => parse(`$VIP=10.0.0.1\n${text}`)).not.toThrow();
  });

  it("inside a word, in a list block, and when it is defined but followed by text", () => {
    const e = configError(() => parse(instance("  virtual_ipaddress {\n    10.0.0.$N\n    $NET/24\n  }\n")));
    expect(e.errors.map((i) => [i.code, i.line, i.column, i.message.split(";")[0]])).toEqual([
      ["CONFIG_UNDEFINED_PARAMETER", 6, 12, "$N is not defined"],
      ["CONFIG_UNDEFINED_PARAMETER", 7, 5, "$NET is not defined"],
    ]);
    const d = configError(() =>
      parse(`$NET=10.0.0.1\n${instance("  virtual_ipaddress {\n    $NET/24\n  }\n")}`),
    );
    expect(d.errors.map((i) => [i.code, i.line, i.column, i.message])).toEqual([
      [
        "CONFIG_UNDEFINED_PARAMETER",
        7,
        5,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
        "$NET is followed by other text, so it is not replaced (keepalived neither); write `${NET}`",
      ],
    ]);
  });
});
