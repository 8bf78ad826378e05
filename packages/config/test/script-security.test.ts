// enable_script_security / script_user on the model, with an in-memory file tree (the host tier,
// director/test/script-security.netns.test.ts, proves the same with real files and users).
import { describe, expect, it } from "vitest";
import { type PathInfo, type ScriptSecurityFs, scriptPathUnsafe } from "../src/index.js";
import { parse } from "./helpers.js";

const dir = (uid = 0, gid = 0, mode = 0o755): PathInfo => ({
  uid,
  gid,
  mode: 0o040000 | mode,
  isDirectory: true,
});
const file = (uid = 0, gid = 0, mode = 0o755): PathInfo => ({
  uid,
  gid,
  mode: 0o100000 | mode,
  isDirectory: false,
});

function tree(entries: Record<string, PathInfo>, links: Record<string, string> = {}): ScriptSecurityFs {
  const all: Record<string, PathInfo> = { "/": dir(), ...entries };
  return {
    realpath: (p) => {
      const r = links[p] ?? p;
      return all[r] ? r : undefined;
    },
    stat: (p) => all[p],
  };
}

const fs = tree(
  {
    "/tmp": dir(0, 0, 0o1777),
    "/tmp/s.sh": file(),
    "/etc": dir(),
    "/etc/k": dir(),
    "/etc/k/ok.sh": file(),
    "/etc/k/ww": dir(0, 0, 0o777),
    "/etc/k/ww/n.sh": file(),
    "/etc/k/gw": dir(0, 65534, 0o775),
    "/etc/k/gw/n.sh": file(),
    "/etc/k/gwr": dir(0, 0, 0o775),
    "/etc/k/gwr/n.sh": file(),
    "/etc/k/own.sh": file(65534),
    "/etc/k/wf.sh": file(0, 0, 0o777),
    "/etc/k/gf.sh": file(0, 65534, 0o775),
    "/home": dir(),
    "/home/u": dir(1000, 1000, 0o755),
    "/home/u/x.sh": file(),
    "/usr": dir(),
    "/usr/bin": dir(),
    "/usr/bin/true": file(),
  },
  { "/etc/k/link.sh": "/etc/k/ww/n.sh" },
);

describe("scriptPathUnsafe: keepalived 2.2.7's rules (measured with keepalived -t)", () => {
  it.each([
    ["/etc/k/ok.sh", undefined],
    ["/etc/k/gwr/n.sh", undefined], // group-writable by root's group
    ["/tmp/s.sh", undefined], // world-writable but sticky
    ["true", undefined], // found through PATH
    ["/no/such", undefined], // not judged: running it fails
    ["/etc/k/ww/n.sh", "/etc/k/ww is world-writable"],
    ["/etc/k/gw/n.sh", "/etc/k/gw is writable by group 65534"],
    ["/etc/k/own.sh", "/etc/k/own.sh is owned by uid 65534, not root"],
    ["/etc/k/wf.sh", "/etc/k/wf.sh is world-writable"],
    ["/etc/k/gf.sh", "/etc/k/gf.sh is writable by group 65534"],
    ["/etc/k/link.sh", "/etc/k/ww is world-writable"], // the link is followed
    ["/home/u/x.sh", "/home/u is owned by uid 1000, not root"], // a directory above
  ])("%s → %s", (path, why) => {
    expect(scriptPathUnsafe(path, fs)).toBe(why);
  });
});

const conf = (globals: string, user = "") => `global_defs {
${globals}
}
vrrp_script chk_bad {
  script "/etc/k/ww/n.sh"
}
vrrp_script chk_ok {
  script "/etc/k/ok.sh"
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress { 10.0.0.100 }
  track_script {
    chk_bad
    chk_ok
  }
  notify_master "/etc/k/ww/n.sh master"${user}
  notify_backup "/etc/k/ok.sh backup"
}
virtual_server 10.0.0.100 80 {
  protocol TCP
  quorum_up /etc/k/own.sh
  real_server 10.0.0.2 80 {
    notify_up /etc/k/gw/n.sh
    notify_down /etc/k/ok.sh
    MISC_CHECK {
      misc_path /etc/k/link.sh
    }
    TCP_CHECK {
    }
  }
}
`;

describe("enable_script_security on a loaded file", () => {
  it("removes every script that would run as root from an unsafe path, each with a warning at its line", () => {
    const r = parse(conf("  enable_script_security\n  script_user root"), {
      scriptSecurityFs: fs,
      runningUid: 0,
    });
    const c = r.config;
    expect(c.vrrpScripts.map((s) => s.name)).toEqual(["chk_ok"]);
    const vi = c.vrrpInstances[0]!;
    expect(vi.trackScript.map((t) => t.name)).toEqual(["chk_ok"]);
    expect(vi.notifyMaster).toBeUndefined();
    expect(vi.notifyBackup?.argv).toEqual(["/etc/k/ok.sh", "backup"]);
    const vs = c.virtualServers[0]!;
    expect(vs.quorumUp).toBeUndefined();
    const rs = vs.realServers[0]!;
    expect(rs.notifyUp).toBeUndefined();
    expect(rs.notifyDown?.argv).toEqual(["/etc/k/ok.sh"]);
    expect(rs.checkers.map((k) => k.kind)).toEqual(["TCP_CHECK"]);
    const w = r.warnings.filter((i) => i.code === "CONFIG_INSECURE_SCRIPT");
    expect(w.map((i) => i.line)).toEqual([6, 19, 24, 26, 29]);
    expect(w[0]!.message).toMatch(/vrrp_script chk_bad .*\/etc\/k\/ww is world-writable/);
  });

  it("without enable_script_security every script stays (keepalived's default)", () => {
    const r = parse(conf("  script_user root"), { scriptSecurityFs: fs, runningUid: 0 });
    expect(r.config.vrrpScripts).toHaveLength(2);
    expect(r.config.vrrpInstances[0]!.notifyMaster).toBeDefined();
    expect(r.warnings.filter((i) => i.code === "CONFIG_INSECURE_SCRIPT")).toEqual([]);
  });

  it("scripts that run as a non-root user are not checked, and carry that user", () => {
    const r = parse(conf("  enable_script_security\n  script_user root", " nobody"), {
      scriptSecurityFs: fs,
      runningUid: 0,
    });
    expect(r.config.vrrpInstances[0]!.notifyMaster?.user).toEqual({ user: "nobody", uid: 65534, gid: 65534 });
    const all = parse(conf("  enable_script_security\n  script_user nobody"), {
      scriptSecurityFs: fs,
      runningUid: 0,
    });
    expect(all.warnings.filter((i) => i.code === "CONFIG_INSECURE_SCRIPT")).toEqual([]);
    expect(all.config.vrrpScripts.map((s) => s.user?.uid)).toEqual([65534, 65534]);
  });

  it("a script without a user runs as keepalived_script when it exists (keepalived.conf(5))", () => {
    const r = parse(conf("  enable_script_security"), { scriptSecurityFs: fs, runningUid: 0 });
    expect(r.config.vrrpInstances[0]!.notifyMaster?.user).toEqual({
      user: "keepalived_script",
      uid: 999,
      gid: 999,
    });
    expect(r.warnings.filter((i) => i.code === "CONFIG_INSECURE_SCRIPT")).toEqual([]);
  });
});

describe("a vrrp_script without a script line (keepalived warns and removes it with its tracking)", () => {
  it("the @ID-only script line of another host: warned, removed, its track_script entries too", () => {
    const r = parse(
      `vrrp_script chk_other {\n  @lb2 script /bin/true\n}\nvrrp_script chk {\n  script /bin/true\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress { 10.0.0.100 }\n  track_script {\n    chk_other\n    chk\n  }\n}\n`,
    );
    expect(r.config.vrrpScripts.map((s) => s.name)).toEqual(["chk"]);
    expect(r.config.vrrpInstances[0]!.trackScript.map((t) => t.name)).toEqual(["chk"]);
    const w = r.warnings.find((i) => i.code === "CONFIG_MISSING_REQUIRED");
    expect([w?.line, w?.severity]).toEqual([1, "warning"]);
    expect(w?.message).toMatch(/chk_other has no `script`; it is removed with its track_script entries/);
  });
});

describe("a vrrp_sync_group without members (keepalived: 'has no virtual router(s). removing')", () => {
  it("instances listed without a group {} block: each line warned, the group removed, the instances kept", () => {
    const r = parse(
      `vrrp_sync_group VG_1 {\n  VI_1\n}\nvrrp_sync_group VG_2 {\n  group {\n  }\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress { 10.0.0.100 }\n}\n`,
    );
    expect(r.config.vrrpSyncGroups).toEqual([]);
    expect(r.config.vrrpInstances.map((i) => i.name)).toEqual(["VI_1"]);
    const w = r.warnings.map((i) => `${i.code}@${i.line}`);
    expect(w).toEqual(["CONFIG_MISSING_REQUIRED@1", "CONFIG_UNKNOWN_KEYWORD@2", "CONFIG_MISSING_REQUIRED@4"]);
  });
});
