// Golden parse tests: each fixture .conf → the expected model and warnings (.json beside it).
// Regenerate after a reviewed change with UPDATE_GOLDEN=1.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue, loadKeepalivedConf } from "../src/index.js";
import { fixtures, users } from "./helpers.js";

const dir = join(fixtures, "golden");
const names = readdirSync(dir).filter((f) => f.endsWith(".conf"));

describe("golden keepalived.conf fixtures", () => {
  it("has fixtures", () => expect(names.length).toBeGreaterThanOrEqual(6));
  it.each(names)("%s", (name) => {
    const r = loadKeepalivedConf(join(dir, name), { lookupUser: users, configId: "lb1" });
    const got = {
      config: r.config,
      warnings: r.warnings.map((w) => formatIssue({ ...w, file: w.file.replace(dir, "") })),
    };
    const golden = join(dir, name.replace(/\.conf$/, ".json"));
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, `${JSON.stringify(got, null, 2)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(golden, "utf8")));
  });
});

describe("the seeds' keepalived.conf notes", () => {
  it("the verbatim fragment of seed 001 parses, with a warning for each of its mistakes", () => {
    const r = loadKeepalivedConf(join(fixtures, "seeds/seed-001-verbatim.conf"), { lookupUser: users });
    const w = r.warnings.map((i) => `${i.line}:${i.column} ${i.message}`);
    expect(w).toEqual([
      "2:1 unknown keyword `vrrp_svript` in the top level; did you mean `vrrp_script`?",
      expect.stringMatching(/^9:1 `\/\/` does not start a comment/),
      expect.stringMatching(/^10:1 `\/\/` does not start a comment/),
      "11:1 `track_script` is not valid in the top level; `track_script` belongs inside vrrp_sync_group or vrrp_instance",
      "13:2 unknown keyword `service` in the top level; it is ignored",
      "14:1 `notify-master` is not valid in the top level (did you mean `notify_master`?); `notify_master` belongs inside vrrp_sync_group or vrrp_instance",
      "15:1 `notify-backup` is not valid in the top level (did you mean `notify_backup`?); `notify_backup` belongs inside vrrp_sync_group or vrrp_instance",
      "16:1 `notify-fault` is not valid in the top level (did you mean `notify_fault`?); `notify_fault` belongs inside vrrp_sync_group or vrrp_instance",
    ]);
    expect(r.config.vrrpScripts).toEqual([]);
  });

  it("the corrected seed recipe gives the script, the track and the notify argv", () => {
    const r = loadKeepalivedConf(join(fixtures, "golden/seed-001-fixed.conf"), { lookupUser: users });
    expect(r.warnings).toEqual([]);
    const [s] = r.config.vrrpScripts;
    expect(s).toMatchObject({
      name: "chk_schedown",
      script: ["/usr/bin/test", "!", "-e", "/etc/keepalived/down"],
      interval: 3,
      weight: -2,
      fall: 2,
      rise: 1,
    });
    const [i] = r.config.vrrpInstances;
    expect(i?.trackScript).toEqual([{ name: "chk_schedown" }]);
    // script_user root is given to every script without its own user.
    expect(i?.notifyMaster).toEqual({
      argv: ["/etc/keepalived/new_notify.sh", "master", "172.16.100.1"],
      user: { user: "root", uid: 0, gid: 0 },
    });
    expect(r.config.virtualServers[0]?.sorryServer).toEqual({
      address: "127.0.0.1",
      port: 80,
      inhibit: false,
    });
  });

  it("the seed's shell one-liner as a script is flagged: scripts run without a shell", () => {
    const text = readFileSync(join(fixtures, "seeds/seed-001-verbatim.conf"), "utf8")
      .replace("vrrp_svript", "vrrp_script")
      .replaceAll("//", "#");
    const r = loadKeepalivedConf("/x.conf", { readFile: () => text, lookupUser: users });
    expect(r.config.vrrpScripts[0]?.script).toEqual([
      "[",
      "-e",
      "/etc/keepalived/down",
      "]",
      "&&",
      "exit",
      "1",
      "||",
      "exit",
      "0",
    ]);
    expect(r.warnings.map((w) => w.code)).toContain("CONFIG_SHELL_SYNTAX");
    expect(r.warnings.map((w) => w.message)).toContain(
      "unknown keyword `inerval` in vrrp_script chk_schedown; did you mean `interval`?",
    );
  });
});
