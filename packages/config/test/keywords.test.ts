// The keyword accounting: every keyword the parser reads and every keyword of keepalived 2.2.7's
// keepalived.conf(5) has a disposition, and every ignored one is named at load with its position.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RS_IGNORED, SMTP_IGNORED, URL_IGNORED, VS_IGNORED } from "../src/conf/lvs.js";
import { GLOBAL_IGNORED, IGNORED_TRACKS, INSTANCE_IGNORED } from "../src/conf/vrrp.js";
import { ignoredCount, KEYWORDS, KEYWORDS_INSIDE_IGNORED_BLOCKS, keywordDisposition } from "../src/index.js";
import { ROOT_IGNORED } from "../src/keepalived.js";
import { fixtures, parse } from "./helpers.js";

const manKeywords = readFileSync(join(fixtures, "keepalived-2.2.7-keywords.txt"), "utf8")
  .split("\n")
  .filter((l) => l && !l.startsWith("#"));

const everyBlock = new Set(Object.values(KEYWORDS).flatMap((t) => Object.keys(t)));

describe("keyword accounting table", () => {
  it("covers every keyword of keepalived 2.2.7's keepalived.conf(5)", () => {
    expect(manKeywords.length).toBeGreaterThan(300);
    const missing = manKeywords.filter((k) => !everyBlock.has(k) && !KEYWORDS_INSIDE_IGNORED_BLOCKS.has(k));
    expect(missing).toEqual([]);
  });

  it("covers every keyword the parser knows to ignore, as ignored", () => {
    const sets: Array<[string, ReadonlySet<string>]> = [
      ["(top)", ROOT_IGNORED],
      ["global_defs", GLOBAL_IGNORED],
      ["vrrp_sync_group", IGNORED_TRACKS],
      ["vrrp_instance", INSTANCE_IGNORED],
      ["url", URL_IGNORED],
      ["checker", SMTP_IGNORED],
      ["real_server", RS_IGNORED],
      ["virtual_server", VS_IGNORED],
    ];
    for (const [block, set] of sets)
      for (const k of set)
        expect([block, k, keywordDisposition(block, k)?.status]).toEqual([block, k, "ignored"]);
  });

  it("gives every ignored keyword a sentence saying what lvs does instead", () => {
    for (const [block, t] of Object.entries(KEYWORDS))
      for (const [k, d] of Object.entries(t))
        if (d.status !== "applied")
          expect([block, k, (d.instead ?? "").length > 10]).toEqual([block, k, true]);
  });
});

// The keywords issue 18 found parsed and then dropped with no word at load.
const DROPPED: Array<[string, string]> = [
  ["global_defs", "notification_email { root@localhost }"],
  ["global_defs", "notification_email_from lvs@localhost"],
  ["global_defs", "smtp_server 127.0.0.1 25"],
  ["global_defs", "smtp_connect_timeout 30"],
  ["global_defs", "smtp_alert"],
  ["global_defs", "smtp_alert_vrrp"],
  ["global_defs", "smtp_alert_checker"],
  ["global_defs", "lvs_notify_fifo /run/lvs.fifo"],
  ["global_defs", "startup_script /bin/true"],
  ["global_defs", "shutdown_script /bin/true"],
  ["global_defs", "enable_script_security"],
  ["global_defs", "script_user nobody"],
  ["global_defs", "rs_init_notifies"],
  ["global_defs", "default_interface eth0"],
  ["global_defs", "dynamic_interfaces"],
  ["vrrp_instance", "promote_secondaries"],
  ["vrrp_instance", "native_ipv6"],
  ["vrrp_instance", "unicast_fault_no_peer"],
  ["vrrp_instance", "unicast_ttl 10"],
  ["vrrp_instance", "track_src_ip"],
  ["vrrp_instance", "vmac_xmit_base"],
  ["checker", "fast_recovery"],
  ["checker", "min_reply_length 2"],
  ["checker", "max_reply_length 20"],
  ["checker", "log_all_failures"],
  ["checker", "bind_if eth0"],
];

function confWith(block: string, line: string): { text: string; line: number } {
  const g = block === "global_defs" ? `  ${line}\n` : "";
  const vi = block === "vrrp_instance" ? `  ${line}\n` : "";
  const ck = block === "checker" ? `      ${line}\n` : "";
  const kind = /reply_length/.test(line)
    ? "UDP_CHECK"
    : /fast_recovery/.test(line)
      ? "HTTP_GET"
      : "TCP_CHECK";
  const text =
    `global_defs {\n  router_id lb1\n${g}}\n` +
    `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress { 10.0.0.100 }\n${vi}}\n` +
    `virtual_server 10.0.0.100 80 {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n    ${kind} {\n${ck}${kind === "HTTP_GET" ? "      url { path / }\n" : ""}    }\n  }\n}\n`;
  const at = text.split("\n").findIndex((l) => l.trim() === line) + 1;
  return { text, line: at };
}

describe("the keywords issue 18 found dropped in silence", () => {
  it.each(DROPPED)("%s: %s is applied, or named at load with its position", (block, line) => {
    const kw = line.split(" ")[0]!;
    const d = keywordDisposition(block, kw);
    expect(d).toBeDefined();
    const { text, line: at } = confWith(block, line);
    expect(at).toBeGreaterThan(0);
    const r = parse(text);
    const named = r.warnings.filter((w) => w.code === "CONFIG_IGNORED_KEYWORD" && w.line === at);
    if (d!.status === "applied") expect(named).toEqual([]);
    else {
      expect(named).toHaveLength(1);
      expect(named[0]!.column).toBeGreaterThan(1);
      expect(named[0]!.message).toContain(d!.instead!);
      expect(r.keywordSummary!.ignored).toBe(1);
    }
  });

  it("counts applied and ignored keyword statements for the summary line and --strict", () => {
    const clean = parse(confWith("global_defs", "router_id x").text.replace("  router_id x\n", ""));
    expect(clean.keywordSummary!.ignored).toBe(0);
    expect(clean.keywordSummary!.applied).toBeGreaterThan(8);
    expect(ignoredCount(clean)).toBe(0);
    const withUnknown = parse(`${confWith("global_defs", "x").text}\nno_such_block { }\n`);
    expect(ignoredCount(withUnknown)).toBeGreaterThanOrEqual(1);
    const r = parse(confWith("vrrp_instance", "vmac_xmit_base").text);
    expect(ignoredCount(r)).toBe(1);
    expect(r.keywordSummary!.applied).toBe(clean.keywordSummary!.applied + 0);
  });
});

describe("DNS_CHECK `type`, as keepalived 2.2.7's check_dns.c reads it", () => {
  const conf = (type: string) =>
    `virtual_server 10.0.0.1 53 {\n  protocol UDP\n  lvs_sched rr\n  lvs_method NAT\n  real_server 10.0.0.2 53 {\n    DNS_CHECK {\n      type ${type}\n      name example.com\n    }\n  }\n}\n`;
  const checkOf = (r: ReturnType<typeof parse>) =>
    r.config.virtualServers[0]!.realServers[0]!.checkers[0]!.check;

  it.each([
    "A",
    "NS",
    "CNAME",
    "SOA",
    "MX",
    "TXT",
    "AAAA",
    "RRSIG",
    "DNSKEY",
    "rrsig",
    "Aaaa",
  ])("type %s is asked for (names match without regard to case)", (t) => {
    const r = parse(conf(t));
    expect(checkOf(r)).toMatchObject({ type: "dns", queryType: t.toUpperCase() });
    expect(r.warnings).toEqual([]);
  });

  it("an unknown type is warned about at its position and the default (SOA) is asked for, not refused", () => {
    const r = parse(conf("BOGUS"));
    expect(checkOf(r)).toMatchObject({ type: "dns", queryType: "SOA" });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ code: "CONFIG_INVALID_VALUE", line: 7 });
    expect(r.warnings[0]!.message).toContain("unknown DNS_CHECK type BOGUS");
  });
});

describe("a checker to an IPv6 link-local address, as keepalived's check_conn_opts() judges it", () => {
  const conf = (checker: string) =>
    `virtual_server fd00::1 80 {\n  protocol TCP\n  lvs_sched rr\n  lvs_method DR\n  real_server fe80::2 80 {\n    ${checker}\n    TCP_CHECK {\n      connect_ip fd00::2\n    }\n  }\n}\n`;
  const checkers = (r: ReturnType<typeof parse>) => r.config.virtualServers[0]!.realServers[0]!.checkers;

  it("with bind_if: kept, the device named in its check", () => {
    const r = parse(conf("TCP_CHECK {\n      bind_if eth1\n    }"));
    expect(checkers(r).map((c) => [(c.check as { connectIp?: string }).connectIp, c.bindIf])).toEqual([
      ["fe80::2", "eth1"],
      ["fd00::2", undefined],
    ]);
    expect(r.warnings).toEqual([]);
  });

  it("without bind_if: warned at the checker and dropped; the other checker and the file stay", () => {
    const r = parse(conf("TCP_CHECK {\n      connect_timeout 2\n    }"));
    expect(checkers(r).map((c) => (c.check as { connectIp?: string }).connectIp)).toEqual(["fd00::2"]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ code: "CONFIG_MISSING_REQUIRED", keyword: "bind_if" });
    expect(r.warnings[0]!.message).toContain("link-local address fe80::2 needs `bind_if`");
    expect(r.warnings[0]!.line).toBeGreaterThanOrEqual(6);
  });
});
