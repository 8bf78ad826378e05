// Every error and warning kind, with the exact position and the "write `…`" hint.
import { describe, expect, it } from "vitest";
import { ConfigError, formatIssue, memoryFs } from "../src/index.js";
import { issues, parse, where } from "./helpers.js";

const inst = (body: string, name = "VI_1") =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id 51\n${body}\n}\n`;

describe("errors carry code, file:line:column and what to write instead", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    [
      "priority out of range",
      inst("  priority 300"),
      "CONFIG_SCHEMA@4:12",
      /^priority must be an integer 1\.\.255 \(255 = address owner\); write `priority 100`$/,
    ],
    [
      "not a number",
      inst("  advert_int fast"),
      "CONFIG_SCHEMA@4:14",
      /^advert_int must be a number of seconds 0\.01\.\.255; write `advert_int 1`$/,
    ],
    [
      "bad enum",
      inst("  state master"),
      "CONFIG_SCHEMA@4:9",
      /^state must be one of MASTER, BACKUP; write `state BACKUP`$/,
    ],
    ["bad bool", inst("  smtp_alert maybe"), "CONFIG_SCHEMA@4:14", /must be on, off, true, false, yes or no/],
    [
      "bad address in a list block",
      inst("  virtual_ipaddress {\n    10.0.0.300/24\n  }"),
      "CONFIG_SCHEMA@5:5",
      /write `10\.0\.0\.100`$/,
    ],
    [
      "missing required field",
      "vrrp_instance VI_1 {\n  interface eth0\n}\n",
      "CONFIG_SCHEMA@1:1",
      /^vrrp_instance VI_1: virtual_router_id is required: an integer 1\.\.255; write `virtual_router_id 51`$/,
    ],
    ["missing value", inst("  priority"), "CONFIG_MISSING_PARAMETER@4:3", /write `priority 100`/],
    [
      "unterminated quote",
      inst('  notify_master "/bin/true'),
      "CONFIG_UNMATCHED_QUOTE@4:17",
      /close the string/,
    ],
    [
      "unterminated single quote in a script",
      inst(`  notify_master "/bin/x 'a b"`),
      "CONFIG_UNMATCHED_QUOTE@4:17",
      /missing terminating '/,
    ],
    ["block without a keyword", "{\n}\n", "CONFIG_UNEXPECTED_BOB@1:1", /a block must follow its keyword/],
    [
      "missing block",
      "vrrp_instance VI_1\ninterface eth0\n",
      "CONFIG_MISSING_BOB@1:1",
      /write `vrrp_instance VI_1 \{ … \}`/,
    ],
    ["extra }", `${inst("  priority 100")}}\n`, "CONFIG_UNEXPECTED_EOB@6:1", /extra '\}'/],
    ["unclosed block", "global_defs {\n  router_id x\n", "CONFIG_MISSING_EOB@1:1", /never closed; add `\}`/],
    ["~SEQ", "~SEQ(X, 1, 0, 3) x\n", "CONFIG_BAD_DEFINITION@1:1", /~SEQ: the step is 0/],
    [
      "self-referencing parameter",
      "$A=x $A\nvrrp_script s {\n  script $A\n}\n",
      "CONFIG_BAD_DEFINITION@3:10",
      /does not terminate/,
    ],
    [
      "unknown track_script",
      `${inst("  track_script {\n    chk_hap\n  }")}vrrp_script chk_haproxy {\n  script "/bin/true"\n}\n`,
      "CONFIG_BAD_REFERENCE@5:5",
      /names no vrrp_script; did you mean `chk_haproxy`\?/,
    ],
    [
      "sync group member",
      `${inst("")}vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n`,
      "CONFIG_BAD_REFERENCE@9:5",
      /member `VI_2` is no vrrp_instance/,
    ],
    [
      "duplicate VRID on an interface",
      inst("") + inst("", "VI_2"),
      "CONFIG_DUPLICATE@8:21",
      /virtual_router_id 51 is already used by vrrp_instance VI_1 on eth0 \(IPv4\)/,
    ],
    [
      "duplicate instance name",
      inst("") + inst("", "VI_1").replace("51", "52"),
      "CONFIG_DUPLICATE@6:15",
      /vrrp_instance VI_1 is defined twice \(first at t\.conf:1\)/,
    ],
    [
      "unknown user",
      inst('  notify_master "/bin/true" ghost'),
      "CONFIG_UNKNOWN_USER@4:29",
      /user "ghost" does not exist on this host; create it or write `notify_master root`/,
    ],
    // A vrrp_script without `script` is a warning now (keepalived removes it): script-security.test.ts.
    [
      "weight option",
      "vrrp_script s {\n  script /bin/true\n  weight 2 backwards\n}\n",
      "CONFIG_INVALID_VALUE@3:12",
      /unknown weight option `backwards`/,
    ],
    [
      "missing virtual_server_group",
      "virtual_server group NOPE {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n}\n",
      "CONFIG_BAD_REFERENCE@1:1",
      /names no virtual_server_group/,
    ],
    [
      "sh flag without sh",
      "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  sh-port\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n}\n",
      "CONFIG_INVALID_VALUE@3:3",
      /`sh-port` only applies to lvs_sched sh/,
    ],
    [
      "TCP check with no port",
      "virtual_server fwmark 1 {\n  lb_algo rr\n  lb_kind DR\n  real_server 10.0.0.2 0 {\n    TCP_CHECK {\n    }\n  }\n}\n",
      "CONFIG_MISSING_REQUIRED@5:5",
      /needs a port .*write `connect_port 80`/,
    ],
    [
      "HTTP_GET without url",
      "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.0.2 80 {\n    HTTP_GET {\n    }\n  }\n}\n",
      "CONFIG_MISSING_REQUIRED@6:5",
      /has no url; write `url \{ path \/ \}`/,
    ],
    [
      "bad virtual server address",
      "virtual_server 10.0.0.300 80 {\n}\n",
      "CONFIG_INVALID_VALUE@1:16",
      /is not an IP address/,
    ],
    [
      "bad lvs_method option",
      "virtual_server 10.0.0.1 80 {\n  lb_kind DR type gue\n}\n",
      "CONFIG_INVALID_VALUE@2:14",
      /tunnel options only apply to TUN|unexpected/,
    ],
    [
      "status_code reversed",
      "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.0.2 80 {\n    HTTP_GET {\n      url {\n        path /\n        status_code 299-200\n      }\n    }\n  }\n}\n",
      "CONFIG_INVALID_VALUE@9:21",
      /reversed; write `200-299`/,
    ],
  ];
  it.each(cases)("%s", (_name, text, expected, message) => {
    const found = issues(text).filter((i) => i.severity === "error");
    expect(where(found)).toContain(expected);
    const hit = found.find((i) => `${i.code}@${i.line}:${i.column}` === expected)!;
    expect(hit.message).toMatch(message);
    expect(hit.file).toBe("t.conf");
  });

  it("throws one ConfigError with every error, first one in the message", () => {
    let err: unknown;
    try {
      parse(inst("  priority 0\n  advert_int 0"));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe("CONFIG_SCHEMA");
    expect([e.file, e.line, e.column]).toEqual(["t.conf", 4, 12]);
    expect(e.errors).toHaveLength(2);
    expect(e.message).toBe(`${formatIssue(e.errors[0]!)} (+1 more)`);
  });
});

describe("warnings never stop a load", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    [
      "unknown keyword with a guess",
      inst("  prority 100"),
      "w:CONFIG_UNKNOWN_KEYWORD@4:3",
      /did you mean `priority`\?/,
    ],
    [
      "keyword of another block",
      "notify_master /bin/true\n",
      "w:CONFIG_UNKNOWN_KEYWORD@1:1",
      /belongs inside vrrp_sync_group or vrrp_instance/,
    ],
    ["// is no comment", "// hello\n", "w:CONFIG_UNKNOWN_KEYWORD@1:1", /start comments with # or !/],
    [
      "known but unused keyword",
      "global_defs {\n  checker_rt_priority 50\n}\n",
      "w:CONFIG_IGNORED_KEYWORD@2:3",
      /lvs does not use/,
    ],
    [
      "deprecated keyword",
      inst("  lvs_sync_daemon_interface eth1"),
      "w:CONFIG_DEPRECATED@4:3",
      /write `lvs_sync_daemon IF inst NAME in global_defs`/,
    ],
    ["extra words", inst("  priority 100 200"), "w:CONFIG_EXTRA_PARAMETER@4:16", /ignored: 200/],
    [
      "shell syntax in a script",
      'vrrp_script s {\n  script "pidof x || exit 1"\n}\n',
      "w:CONFIG_SHELL_SYNTAX@2:10",
      /run without a shell/,
    ],
    [
      "set twice",
      inst("  priority 100\n  priority 90"),
      "w:CONFIG_DUPLICATE@5:3",
      /set twice .* the last one applies/,
    ],
    [
      "block on a keyword without one",
      inst("  priority 100 {\n  }"),
      "w:CONFIG_UNEXPECTED_BOB@4:16",
      /takes no block/,
    ],
    [
      "missing include (plain include)",
      "include /nope/x.conf\n",
      "w:CONFIG_INCLUDE_NO_MATCH@1:1",
      /nothing was included/,
    ],
    [
      "long auth_pass",
      inst("  authentication {\n    auth_type PASS\n    auth_pass 123456789\n  }"),
      "w:CONFIG_INVALID_VALUE@6:15",
      /only "12345678" is used/,
    ],
    [
      "virtual server without protocol: UDP, as keepalived",
      "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  real_server 10.0.0.2 80 {\n  }\n}\n",
      "w:CONFIG_MISSING_REQUIRED@1:1",
      /no protocol: UDP is used, as keepalived does; write `protocol TCP` if you meant TCP/,
    ],
    [
      "sync group ignores weights",
      inst("  track_interface {\n    eth1 weight 10\n  }") +
        "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n}\n",
      "w:CONFIG_INVALID_VALUE@5:5",
      /add `sync_group_tracking_weight`/,
    ],
  ];
  it.each(cases)("%s", (_name, text, expected, message) => {
    const r = parse(text, { fs: memoryFs({}) });
    expect(where(r.warnings)).toContain(expected);
    expect(r.warnings.find((i) => `w:${i.code}@${i.line}:${i.column}` === expected)!.message).toMatch(
      message,
    );
  });

  it("unknown blocks are skipped whole, their contents never read", () => {
    const r = parse(`bogus_block {\n  vrrp_instance X {\n  }\n}\n${inst("  priority 120")}`);
    expect(r.config.vrrpInstances.map((i) => i.name)).toEqual(["VI_1"]);
    expect(where(r.warnings)).toEqual(["w:CONFIG_UNKNOWN_KEYWORD@1:1"]);
  });
});
