// keepalived 2.2.7 as the peer: `keepalived -t -f FILE` (config test) inside a fresh network
// namespace holding eth0..eth3, so interface checks pass. What keepalived accepts we accept;
// the broken corpus is rejected by both. Deliberate differences are asserted (and documented in
// the README) so they can't change unnoticed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, defaultConfigId, loadKeepalivedConf } from "../src/index.js";
import { fixtures } from "./helpers.js";

const KEEPALIVED = "/usr/sbin/keepalived";
const canRun =
  process.platform === "linux" &&
  process.getuid?.() === 0 &&
  existsSync(KEEPALIVED) &&
  spawnSync("unshare", ["-n", "true"]).status === 0;

/** keepalived's config-test exit status: 0 ok, 4 fatal, 5 config error, 6 security (lib/scheduler.h). */
function keepalivedTest(file: string): { status: number | null; output: string } {
  const setup =
    "ip link add eth0 type veth peer name eth1 && ip link add eth2 type veth peer name eth3 && ip link set eth0 up && ip link set eth1 up";
  const r = spawnSync("unshare", ["-n", "sh", "-c", `${setup} && exec ${KEEPALIVED} -t -f "$0"`, file], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Ours, with keepalived's default config id (the host name) and the host's users, like keepalived. */
function ours(file: string): "accept" | "reject" {
  try {
    loadKeepalivedConf(file, { configId: defaultConfigId() });
    return "accept";
  } catch (err) {
    if (err instanceof ConfigError) return "reject";
    throw err;
  }
}

const dir = (d: string) =>
  readdirSync(join(fixtures, d))
    .filter((f) => f.endsWith(".conf"))
    .map((f) => join(fixtures, d, f));
const SAMPLES = "/usr/share/doc/keepalived/samples";

describe.skipIf(!canRun)("keepalived 2.2.7 -t as the peer", () => {
  it.each(dir("golden"))("keepalived and we accept %s", (file) => {
    const k = keepalivedTest(file);
    expect(k.output.trim()).toBe("");
    expect(k.status).toBe(0);
    expect(ours(file)).toBe("accept");
  });

  it("every keepalived sample that keepalived accepts, we accept", () => {
    const files = existsSync(SAMPLES)
      ? readdirSync(SAMPLES).filter((f) => f.startsWith("keepalived.conf"))
      : [];
    const accepted = files.filter((f) => keepalivedTest(join(SAMPLES, f)).status === 0);
    expect(accepted.length).toBeGreaterThanOrEqual(15);
    expect(accepted.filter((f) => ours(join(SAMPLES, f)) !== "accept")).toEqual([]);
  });

  it.each(dir("broken").filter((f) => !f.includes("/diff-")))("both reject %s", (file) => {
    const k = keepalivedTest(file);
    expect(k.status).not.toBe(0);
    expect(k.status).not.toBeNull();
    expect(ours(file)).toBe("reject");
  });

  it("a vrrp_sync_group listing instances without group {}: both warn, remove the group and go on", () => {
    const path = join(SAMPLES, "keepalived.conf.vrrp.lvs_syncd");
    if (!existsSync(path)) return;
    const k = keepalivedTest(path);
    expect(k.output).toContain("Sync group VG1 has no virtual router(s). removing");
    const r = loadKeepalivedConf(path, { configId: defaultConfigId() });
    expect(r.config.vrrpSyncGroups).toEqual([]);
    expect(r.config.vrrpInstances.length).toBeGreaterThan(0);
    expect(r.warnings.map((w) => `${w.code}@${w.line}`)).toContain("CONFIG_MISSING_REQUIRED@3");
  });

  it("a vrrp_script whose only script line is for another @ID: both remove it and its tracking, and go on", () => {
    const path = join(SAMPLES, "keepalived.conf.conditional_conf");
    if (!existsSync(path)) return;
    // (keepalived -t still exits non-zero on this sample, for its other warnings.)
    const k = keepalivedTest(path);
    expect(k.output).toContain("No script set for vrrp_script check_VI_0 - removing");
    expect(k.output).toContain("track script check_VI_0 not found, ignoring");
    const r = loadKeepalivedConf(path, { configId: defaultConfigId() });
    expect(r.config.vrrpScripts.map((s) => s.name)).not.toContain("check_VI_0");
    expect(r.warnings.map((w) => w.code)).toContain("CONFIG_MISSING_REQUIRED");
  });

  describe("deliberate differences", () => {
    it("an unknown keyword: keepalived -t exits 5 (it still runs), we warn and accept", () => {
      const file = join(fixtures, "broken/diff-unknown-keyword.conf");
      expect(keepalivedTest(file).status).toBe(5);
      expect(ours(file)).toBe("accept");
    });
    it("a UTF-8 byte order mark: keepalived drops the first block (-t exits 5), we skip the mark and warn", () => {
      const plain =
        "global_defs {\n  router_id bom_test\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n" +
        "  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n";
      const dir = mkdtempSync(join(tmpdir(), "lvs-config-bom-"));
      try {
        const file = join(dir, "bom.conf");
        writeFileSync(file, `\uFEFF${plain}`);
        const k = keepalivedTest(file);
        expect(k.status).toBe(5);
        expect(k.output).toContain("Unknown keyword '\uFEFFglobal_defs'");
        const r = loadKeepalivedConf(file, { configId: defaultConfigId() });
        expect(r.warnings.map((w) => w.code)).toEqual(["CONFIG_BYTE_ORDER_MARK"]);
        expect(r.config.globalDefs.routerId).toBe("bom_test");
        writeFileSync(file, plain);
        expect(keepalivedTest(file).status).toBe(0);
        expect(loadKeepalivedConf(file, { configId: defaultConfigId() }).config).toEqual(r.config);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it("virtual_server group NAME without that group: keepalived -t passes (the service never appears), we reject", () => {
      const file = join(fixtures, "broken/diff-vsgroup-missing.conf");
      expect(keepalivedTest(file).status).toBe(0);
      expect(ours(file)).toBe("reject");
    });
  });
});
