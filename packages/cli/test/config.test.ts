// lvsctl config check|convert|show|schema through the built binary.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
// The timeout turns a hang (reading /dev/zero) into a failure instead of a stuck run.
const lvsctl = (...args: string[]) =>
  spawnSync(process.execPath, [bin, "config", ...args], { encoding: "utf8", timeout: 60_000 });
const dir = mkdtempSync(join(tmpdir(), "lvsctl-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = `global_defs {
  router_id lb1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  prority 90
  virtual_ipaddress { 10.0.0.1/24 }
}
virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.0.0.2 80 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
`;
const bad =
  "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 300\n  advert_int x\n}\n";

describe("lvsctl config", () => {
  const goodFile = join(dir, "keepalived.conf");
  const badFile = join(dir, "bad.conf");
  writeFileSync(goodFile, good);
  writeFileSync(badFile, bad);

  it("check: warnings printed, exit 0, summary line", () => {
    const r = lvsctl("check", goodFile);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `${goodFile}:8:3: warning: unknown keyword \`prority\` in vrrp_instance VI_1; did you mean \`priority\`? (CONFIG_UNKNOWN_KEYWORD)\n` +
        "14 keywords applied, 1 ignored (listed above)\n" +
        `${goodFile}: OK (1 vrrp_instance, 1 virtual_server, 1 real_server, 1 warnings)\n`,
    );
  });

  it("check --strict: exit 1 when anything would be ignored, 0 when nothing is", () => {
    const r = lvsctl("check", "--strict", goodFile);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("1 ignored (listed above)");
    expect(r.stdout).toContain("--strict: 1 ignored");
    const ttl = join(dir, "ttl.conf");
    writeFileSync(ttl, good.replace("  prority 90\n", "  vmac_xmit_base\n"));
    const t = lvsctl("check", "--strict", ttl);
    expect(t.status).toBe(1);
    expect(t.stdout).toMatch(
      /ttl\.conf:8:3: warning: `vmac_xmit_base` \(in vrrp_instance VI_1\) is not applied by lvs: /,
    );
    const clean = join(dir, "clean.conf");
    writeFileSync(clean, good.replace("  prority 90\n", ""));
    const c = lvsctl("check", "--strict", clean);
    expect(c.stdout).toContain("14 keywords applied, 0 ignored (listed above)");
    expect(c.status).toBe(0);
  });

  it("check: every error as file:line:column: message, exit 1", () => {
    const r = lvsctl("check", badFile);
    expect(r.status).toBe(1);
    expect(r.stdout.split("\n").filter(Boolean)).toEqual([
      `${badFile}:4:12: priority must be an integer 1..255 (255 = address owner); write \`priority 100\` (CONFIG_SCHEMA)`,
      `${badFile}:5:14: advert_int must be a number of seconds 0.01..255; write \`advert_int 1\` (CONFIG_SCHEMA)`,
    ]);
  });

  it("check: a missing file is an error with exit 1", () => {
    const r = lvsctl("check", join(dir, "nope.conf"));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/nope\.conf:1:1: cannot read .* \(ENOENT\) \(CONFIG_FILE_NOT_FOUND\)/);
  });

  it("check /dev/zero: refused at once, not read forever", () => {
    const r = lvsctl("check", "/dev/zero");
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(
      "/dev/zero:1:1: /dev/zero is not a regular file (a device, pipe or socket); give the path of a configuration file (CONFIG_NOT_A_FILE)\n",
    );
  });

  it("check: at most 50 issues printed, then how many more", () => {
    const many = join(dir, "many.conf");
    writeFileSync(
      many,
      `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n${"    10.0.0.300/24\n".repeat(10_000)}  }\n}\n`,
    );
    const r = lvsctl("check", many);
    expect(r.status).toBe(1);
    const lines = r.stdout.split("\n").filter(Boolean);
    expect(lines).toHaveLength(51);
    expect(lines[0]).toMatch(/many\.conf:5:5: virtual_ipaddress must be an IPv4 or IPv6 address/);
    expect(lines[50]).toBe("… and 9,950 more errors");
    expect(r.stdout.length).toBeLessThan(20_000);
  });

  it("check: control characters from the file are escaped, never sent to the terminal", () => {
    const ctl = join(dir, "ctl.conf");
    writeFileSync(ctl, good.replace("prority 90", "pri\u001b]0;owned\u0007\u001b[2Jority 90"));
    const r = lvsctl("check", ctl);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("unknown keyword `pri\\x1b]0;owned\\x07\\x1b[2Jority`");
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it("convert → YAML that checks clean and shows the same model", () => {
    const out = join(dir, "lvs.yaml");
    const c = lvsctl("convert", goodFile, "-o", out, "--schema-url", "./lvs.schema.json");
    expect(c.status).toBe(0);
    const yaml = readFileSync(out, "utf8");
    expect(yaml.split("\n")[0]).toBe("# yaml-language-server: $schema=./lvs.schema.json");
    expect(yaml).toContain("virtualRouterId: 51");
    expect(lvsctl("check", "-q", out)).toMatchObject({ status: 0, stdout: "" });
    const a = JSON.parse(lvsctl("show", goodFile).stdout);
    const b = JSON.parse(lvsctl("show", out).stdout);
    expect(b).toEqual(a);
    expect(a.virtualServers[0].realServers[0].checkers[0].check).toEqual({
      type: "tcp",
      connectIp: "10.0.0.2",
      connectPort: 80,
      connectTimeout: 2,
    });
  });

  it("convert of a broken file prints the errors on stderr and exits 1", () => {
    const r = lvsctl("convert", badFile);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(":4:12: priority must be");
  });

  it("schema prints the JSON Schema", () => {
    const r = lvsctl("schema");
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(Object.keys(s.properties)).toContain("vrrpInstances");
  });
});
