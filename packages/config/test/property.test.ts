// Properties: generated keepalived.conf files parse and survive keepalived.conf → YAML → model;
// random bytes and keyword soup never throw anything but ConfigError.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigIssue, convertToYaml, formatIssue, parseYamlConfig } from "../src/index.js";
import { quoteArgv } from "../src/script.js";
import { parse, users } from "./helpers.js";

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,7}$/);
const ipv4 = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
  .map((a) => a.join("."));
const word = fc.stringMatching(/^[A-Za-z0-9_./:=-]{1,10}$/);
const argv = fc
  .array(fc.oneof(word, fc.constant("a b"), fc.constant("it's")), { minLength: 1, maxLength: 4 })
  .map((a) => ["/bin/true", ...a]);
const secs = fc.constantFrom("0.05", "1", "2.5", "3");

/** A keepalived.conf line for a script (argv quoted for keepalived's two-level split). */
const scriptLine = (kw: string, a: string[]) => `${kw} "${quoteArgv(a).replace(/\\/g, "\\\\")}"`;

const vrrpConf = fc
  .record({
    scripts: fc.uniqueArray(
      fc.record({
        name,
        argv,
        weight: fc.integer({ min: -253, max: 253 }),
        fall: fc.integer({ min: 1, max: 5 }),
      }),
      {
        selector: (s) => s.name,
        maxLength: 3,
      },
    ),
    instances: fc.uniqueArray(
      fc.record({
        name,
        vrid: fc.integer({ min: 1, max: 255 }),
        priority: fc.integer({ min: 1, max: 254 }),
        advert: secs,
        state: fc.constantFrom("MASTER", "BACKUP"),
        vips: fc.uniqueArray(ipv4, { minLength: 1, maxLength: 3 }),
        prefix: fc.integer({ min: 8, max: 32 }),
        notify: fc.option(argv, { nil: undefined }),
        peers: fc.uniqueArray(ipv4, { maxLength: 2 }),
      }),
      { selector: (i) => `${i.name}`, maxLength: 3 },
    ),
  })
  .map(({ scripts, instances }) => {
    // VRIDs must differ per interface: spread them over eth0/eth1/… by index
    const lines: string[] = ["global_defs {", "  enable_script_security", "  script_user root", "}"];
    for (const s of scripts) {
      lines.push(
        `vrrp_script ${s.name} {`,
        `  ${scriptLine("script", s.argv)}`,
        `  weight ${s.weight}`,
        `  fall ${s.fall}`,
        "}",
      );
    }
    instances.forEach((i, n) => {
      lines.push(
        `vrrp_instance ${i.name} {`,
        `  state ${i.state}`,
        `  interface eth${n}`,
        `  virtual_router_id ${i.vrid}`,
      );
      lines.push(`  priority ${i.priority}`, `  advert_int ${i.advert}`, "  virtual_ipaddress {");
      for (const v of i.vips) lines.push(`    ${v}/${i.prefix} dev eth${n}`);
      lines.push("  }");
      if (scripts.length) lines.push("  track_script {", ...scripts.map((s) => `    ${s.name}`), "  }");
      if (i.peers.length) lines.push("  unicast_peer {", ...i.peers.map((p) => `    ${p}`), "  }");
      if (i.notify) lines.push(`  ${scriptLine("notify_master", i.notify)} root`);
      lines.push("}");
    });
    return lines.join("\n");
  });

const lvsConf = fc
  .uniqueArray(
    fc.record({
      ip: ipv4,
      port: fc.integer({ min: 1, max: 65535 }),
      sched: fc.constantFrom("rr", "wrr", "lc", "wlc", "sh", "mh"),
      method: fc.constantFrom("NAT", "DR", "TUN"),
      proto: fc.constantFrom("TCP", "UDP"),
      delay: fc.option(secs, { nil: undefined }),
      rs: fc.uniqueArray(
        fc.record({
          ip: ipv4,
          weight: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
          check: fc.constantFrom("TCP_CHECK", "HTTP_GET", "MISC_CHECK", "PING_CHECK", "none"),
          timeout: fc.option(secs, { nil: undefined }),
          retry: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
        }),
        { selector: (r) => r.ip, minLength: 1, maxLength: 3 },
      ),
    }),
    { selector: (v) => `${v.ip}:${v.port}:${v.proto}`, maxLength: 3 },
  )
  .map((vss) => {
    const lines: string[] = ["global_defs {", "  enable_script_security", "  script_user root", "}"];
    for (const v of vss) {
      lines.push(
        `virtual_server ${v.ip} ${v.port} {`,
        `  lb_algo ${v.sched}`,
        `  lb_kind ${v.method}`,
        `  protocol ${v.proto}`,
      );
      if (v.delay) lines.push(`  delay_loop ${v.delay}`);
      for (const r of v.rs) {
        lines.push(`  real_server ${r.ip} ${v.port} {`);
        if (r.weight !== undefined) lines.push(`    weight ${r.weight}`);
        if (r.check !== "none") {
          lines.push(`    ${r.check} {`);
          if (r.check === "HTTP_GET")
            lines.push("      url {", "        path /health", "        status_code 200-299", "      }");
          if (r.check === "MISC_CHECK") lines.push('      misc_path "/bin/true a"');
          if (r.timeout && r.check !== "MISC_CHECK") lines.push(`      connect_timeout ${r.timeout}`);
          if (r.retry !== undefined) lines.push(`      retry ${r.retry}`);
          lines.push("    }");
        }
        lines.push("  }");
      }
      lines.push("}");
    }
    return lines.join("\n");
  });

describe("properties", () => {
  it("generated keepalived.conf files parse without errors and round-trip through YAML", () => {
    fc.assert(
      fc.property(vrrpConf, lvsConf, (a, b) => {
        const model = parse(`${a}\n${b}\n`).config;
        const back = parseYamlConfig(convertToYaml(model), { lookupUser: users }).config;
        expect(back).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });

  it("script argv survive keepalived's quoting exactly", () => {
    fc.assert(
      fc.property(argv, (a) => {
        const m = parse(`vrrp_script s {\n  ${scriptLine("script", a)}\n}\n`).config;
        expect(m.vrrpScripts[0]!.script).toEqual(a);
      }),
    );
  });
});

/** What a terminal would act on: C0 (ESC), DEL, C1, bidi overrides. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const throwsOnlyConfigError = (text: string) => {
  let found: ConfigIssue[];
  try {
    found = parse(text).warnings;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    found = err.issues;
    for (const i of err.issues) {
      expect(i.line).toBeGreaterThanOrEqual(1);
      expect(i.column).toBeGreaterThanOrEqual(1);
    }
  }
  for (const i of found) expect(formatIssue(i)).not.toMatch(CONTROL);
};

describe("fuzz: nothing but ConfigError ever comes out", () => {
  it("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) =>
        throwsOnlyConfigError(Buffer.from(b).toString("latin1")),
      ),
      { numRuns: 500 },
    );
  });
  it("random bytes inside known blocks (quoted in messages, escaped)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const junk = Buffer.from(b).toString("latin1");
        throwsOnlyConfigError(`global_defs {\n${junk}\n}\nvrrp_instance VI_1 {\n  ${junk}\n}\n`);
      }),
      { numRuns: 300 },
    );
  });
  it("random text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 300, unit: "binary" }), throwsOnlyConfigError), {
      numRuns: 500,
    });
  });
  it("keyword soup", () => {
    const tok = fc.constantFrom(
      "vrrp_instance",
      "virtual_server",
      "real_server",
      "TCP_CHECK",
      "HTTP_GET",
      "url",
      "vrrp_script",
      "global_defs",
      "include",
      "includea x",
      "track_script",
      "virtual_ipaddress",
      "priority",
      "weight",
      "10.0.0.1",
      "80",
      "-1",
      "300",
      "{",
      "}",
      '"',
      "'",
      "#",
      "!",
      "\\",
      "$X=1",
      "$X",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
      "${X}",
      "@lb1",
      "~SEQ(a,1,2)",
      "\n",
      "\n",
      " ",
      "fwmark",
      "group",
      "unicast_peer",
      "authentication",
      "lvs_sync_daemon",
      "sorry_server",
      "misc_path",
      "status_code",
      "lb_kind",
      "TUN",
    );
    fc.assert(
      fc.property(
        fc.array(tok, { maxLength: 80 }).map((t) => t.join(" ")),
        throwsOnlyConfigError,
      ),
      { numRuns: 1000 },
    );
  });
});
