// keepalived's two-level script quoting → argv, and its inverse.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseKeepalivedConf, parseScriptLine, quoteArgv, splitQuoted } from "../src/index.js";

describe("script argv", () => {
  it.each([
    ['notify_master "/etc/keepalived/notify.sh master"', ["/etc/keepalived/notify.sh", "master"], []],
    ["notify /bin/x.sh root root", ["/bin/x.sh"], ["root", "root"]],
    [`notify "/bin/x.sh 'a b' c" nobody`, ["/bin/x.sh", "a b", "c"], ["nobody"]],
    // escapes are processed by the first split, so `\ ` no longer protects a space in the second
    [String.raw`script "/bin/echo a\ b \x41\101 \t"`, ["/bin/echo", "a", "b", "AA"], []],
    [`misc_path "/bin/sh -c 'exit 0'"`, ["/bin/sh", "-c", "exit 0"], []],
    [`script a"b c"d`, ["ab", "cd"], []],
  ])("%s", (line, argv, rest) => {
    expect(parseScriptLine(line)).toEqual({ argv, rest });
  });

  it("unterminated quotes throw with the offset", () => {
    expect(() => splitQuoted("a 'b")).toThrow(/missing terminating '/);
  });

  it("quoteArgv is the inverse of the second split (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme-ascii" }), { minLength: 1, maxLength: 6 }), (argv) => {
        expect(splitQuoted(quoteArgv(argv))).toEqual(argv);
      }),
    );
  });
});

describe("vrrp_script timers", () => {
  it("interval and timeout read to the millisecond, as keepalived 2.3.2 does (2.2.7: whole seconds)", () => {
    const { config } = parseKeepalivedConf(
      'vrrp_script chk {\n  script "/bin/true"\n  interval 0.25\n  timeout 0.1\n}\n',
      { lookupUser: () => ({ uid: 0, gid: 0 }) },
    );
    expect(config.vrrpScripts[0]).toMatchObject({ interval: 0.25, timeout: 0.1 });
  });

  it("an interval below a millisecond is an error that says what to write", () => {
    expect(() =>
      parseKeepalivedConf('vrrp_script chk {\n  script "/bin/true"\n  interval 0.0001\n}\n', {
        lookupUser: () => ({ uid: 0, gid: 0 }),
      }),
    ).toThrow(/interval.*0\.001/s);
  });
});
