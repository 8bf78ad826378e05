// The director's sysctls: which ones a plan needs (NAT → ip_forward / IPv6 forwarding; beside
// nf_conntrack → vs.conntrack; DR/TUN → none), and the shell's handling on a map standing for
// /proc/sys: warn without lvs_director_sysctl, set and restore with it, leave a value someone
// changed meanwhile. The real kernel is in parity.kernel.test.ts.
import { describe, expect, it } from "vitest";
import { compilePlan, createLogger, parseStateFile, STATE_FILE_VERSION } from "../src/index.js";
import { DirectorSysctls, type SysctlAccess } from "../src/sysctl-host.js";
import { directorSysctls } from "../src/sysctls.js";
import { conf, vsBlock } from "./helpers.js";

const plan = (text: string) => compilePlan(conf(text));
const NAT4 = vsBlock("10.0.0.1 80", "lb_kind NAT\n real_server 10.1.0.1 8080 { }");
const NAT6 = vsBlock("fd00::1 80", "lb_kind NAT\n real_server fd00::11 8080 { }");
const DR = vsBlock("10.0.0.2 80", "lb_kind DR\n real_server 10.1.0.2 80 { }");

function rig(values: Record<string, string>) {
  const sys = new Map(Object.entries(values));
  const writes: string[] = [];
  const access: SysctlAccess = {
    read: (k) => sys.get(k),
    write: (k, v) => {
      if (!sys.has(k)) throw new Error(`no ${k}`);
      sys.set(k, v);
      writes.push(`${k}=${v}`);
    },
  };
  const lines: Array<{ level: number; msg: string }> = [];
  const log = createLogger({
    destination: { write: (l: string) => lines.push(JSON.parse(l) as { level: number; msg: string }) },
  });
  return {
    sys,
    writes,
    sysctls: new DirectorSysctls(access, log),
    warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg),
    info: () => lines.filter((l) => l.level === 30).map((l) => l.msg),
  };
}

describe("the sysctls a plan needs", () => {
  it("NAT needs IP forwarding of its family; beside nf_conntrack also vs.conntrack; DR none", () => {
    expect(directorSysctls(plan(DR), { conntrack: true })).toEqual([]);
    expect(directorSysctls(plan(NAT4 + DR), { conntrack: false })).toEqual([
      { key: "net.ipv4.ip_forward", value: "1", why: "NAT virtual server [10.0.0.1]:tcp:80" },
    ]);
    expect(directorSysctls(plan(NAT4 + NAT6), { conntrack: true }).map((n) => n.key)).toEqual([
      "net.ipv4.ip_forward",
      "net.ipv4.vs.conntrack",
      "net.ipv6.conf.all.forwarding",
    ]);
  });

  it("a NAT sorry server counts too", () => {
    const p = plan(
      vsBlock(
        "10.0.0.3 80",
        "lb_kind DR\n sorry_server 10.1.0.9 8080\n sorry_server_lvs_method NAT\n real_server 10.1.0.2 80 { }",
      ),
    );
    expect(directorSysctls(p, { conntrack: false }).map((n) => n.key)).toEqual(["net.ipv4.ip_forward"]);
  });
});

describe("warning, setting and restoring them", () => {
  const host = {
    "net.ipv4.ip_forward": "0",
    "net.ipv4.vs.conntrack": "0",
    "net.netfilter.nf_conntrack_max": "65536",
  };

  it("without the switch: one warning per lacking sysctl naming the fix and the switch; nothing written", () => {
    const r = rig(host);
    r.sysctls.ensure(plan(NAT4), false);
    expect(r.writes).toEqual([]);
    expect(r.warnings()).toEqual([
      expect.stringMatching(
        /^net\.ipv4\.ip_forward is 0; NAT virtual server \[10\.0\.0\.1\]:tcp:80 needs 1: run `sysctl -w net\.ipv4\.ip_forward=1`, or add lvs_director_sysctl to global_defs/,
      ),
      expect.stringMatching(
        /^net\.ipv4\.vs\.conntrack is 0; NAT virtual server .* beside netfilter's connection tracking needs 1/,
      ),
    ]);
    r.sysctls.restore();
    expect(r.writes).toEqual([]);
  });

  it("with the switch: set at start, each once across reloads, restored at stop", () => {
    const r = rig(host);
    r.sysctls.ensure(plan(NAT4), true);
    expect(r.sys.get("net.ipv4.ip_forward")).toBe("1");
    expect(r.sys.get("net.ipv4.vs.conntrack")).toBe("1");
    expect(r.info()).toContain(
      "Set net.ipv4.ip_forward=1 (was 0) for NAT virtual server [10.0.0.1]:tcp:80; restored at stop",
    );
    r.sysctls.ensure(plan(NAT4), true); // a reload: nothing lacks, nothing written
    expect(r.writes).toEqual(["net.ipv4.ip_forward=1", "net.ipv4.vs.conntrack=1"]);
    r.sysctls.restore();
    expect(r.sys.get("net.ipv4.ip_forward")).toBe("0");
    expect(r.sys.get("net.ipv4.vs.conntrack")).toBe("0");
    expect(r.warnings()).toEqual([]);
  });

  it("a value changed by someone else meanwhile is left as it is, with a warning", () => {
    const r = rig(host);
    r.sysctls.ensure(plan(NAT4), true);
    r.sys.set("net.ipv4.ip_forward", "0");
    r.sysctls.restore();
    expect(r.sys.get("net.ipv4.ip_forward")).toBe("0");
    expect(r.sys.get("net.ipv4.vs.conntrack")).toBe("0");
    expect(r.warnings()).toEqual([
      "net.ipv4.ip_forward is 0 now, not the 1 we set: left as it is (it was 0)",
    ]);
  });

  it("kill -9: the values set are in the state file; the next daemon restores them at stop", () => {
    const first = rig(host);
    expect(first.sysctls.ensure(plan(NAT4), true)).toBe(true);
    const text = JSON.stringify({
      version: STATE_FILE_VERSION,
      overrides: {},
      owned: [],
      sysctls: first.sysctls.savedRecord(),
    });
    const saved = parseStateFile(text, "/x.state.json").sysctls ?? {};
    expect(saved).toEqual({
      "net.ipv4.ip_forward": { previous: "0", set: "1" },
      "net.ipv4.vs.conntrack": { previous: "0", set: "1" },
    });
    // The daemon died without restoring; the next one finds 1 and sets nothing…
    const second = rig(Object.fromEntries(first.sys));
    second.sysctls.restoreSaved(saved);
    expect(second.sysctls.ensure(plan(NAT4), true)).toBe(false);
    // …but still knows what to put back.
    second.sysctls.restore();
    expect(second.sys.get("net.ipv4.ip_forward")).toBe("0");
    expect(second.sys.get("net.ipv4.vs.conntrack")).toBe("0");
    expect(second.sysctls.savedRecord()).toEqual({});
    // Garbage in the file is skipped.
    const bad = {
      "kernel.panic": { previous: "0", set: "1" },
      "net.ipv4.ip_forward": { previous: "0\n1", set: "1" },
    };
    expect(
      parseStateFile(
        JSON.stringify({ version: STATE_FILE_VERSION, overrides: {}, owned: [], sysctls: bad }),
        "/x",
      ).sysctls,
    ).toBeUndefined();
  });

  it("a sysctl this host lacks (module not loaded) is named, never written", () => {
    const r = rig({ "net.ipv4.ip_forward": "1" });
    r.sysctls.ensure(plan(NAT6), true);
    expect(r.writes).toEqual([]);
    expect(r.warnings()).toEqual([
      "net.ipv6.conf.all.forwarding does not exist here (module not loaded?); NAT virtual server [fd00::1]:tcp:80 needs it",
    ]);
  });
});
