// lvsctl up: argument and configuration errors, through the built binary (no sockets opened).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "lvsctl-up-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lvsctl(args: string[]) {
  const r = spawnSync(process.execPath, [bin, "up", ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function conf(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe("lvsctl up", () => {
  it("--vrrp and --check together: refused (exit 2)", () => {
    const r = lvsctl(["--vrrp", "--check", "-f", conf("a.conf", "global_defs {\n}\n")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--vrrp and --check exclude each other/);
  });

  it("--heap-reduce-interval: an integer of seconds (0 = off); anything else refused before the start", () => {
    for (const bad of ["x", "-1", "1.5", "86401"]) {
      const r = lvsctl(["--heap-reduce-interval", bad, "-f", conf("h.conf", "global_defs {\n}\n")]);
      expect(r.status, bad).not.toBe(0);
      expect(r.stderr).toMatch(/--heap-reduce-interval must be an integer 0\.\.86400 \(seconds; 0 = off\)/);
    }
  });

  it("--strict: refuses to start a file with an ignored keyword, naming it; the same file without it starts", () => {
    const body =
      "virtual_server 10.0.0.1 80 {\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.1.1 8080 {\n    weight 3\n  }\n}\n";
    const f = conf("strict.conf", `global_defs {\n  enable_snmp_vrrp\n}\n${body}`);
    const state = ["--no-socket", "--state", join(dir, "strict.state.json")];
    const r = lvsctl(["-f", f, "--strict", "--dry-run", ...state]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /strict\.conf:2:3: warning: `enable_snmp_vrrp` \(in global_defs\) .*lvs has no SNMP agent/,
    );
    expect(r.stderr).toMatch(/lvsctl up --strict: 1 ignored/);
    expect(r.stdout).not.toContain("-A -t 10.0.0.1:80");
    const ok = lvsctl(["-f", conf("strict-ok.conf", body), "--strict", "--dry-run", ...state]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("-A -t 10.0.0.1:80 -s wrr");
  });

  it("the whole file runs the director: --dry-run prints the table it would program, as ipvsadm -R lines", () => {
    const f = conf(
      "lvs.conf",
      "virtual_server 10.0.0.1 80 {\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.1.1 8080 {\n    weight 3\n  }\n  real_server 10.0.1.2 8080 {\n    weight 1\n  }\n}\n",
    );
    const r = lvsctl(["-f", f, "--dry-run", "--no-socket", "--state", join(dir, "lvs.state.json")]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("-A -t 10.0.0.1:80 -s wrr");
    expect(r.stdout).toContain("-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3");
    expect(r.stdout).toContain("-a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 1");
  });

  it("the whole file: a configuration error is printed as file:line:column (exit 1)", () => {
    const f = conf("badvs.conf", "virtual_server 10.0.0.1 80 {\n  lb_algo nope\n  protocol TCP\n}\n");
    const r = lvsctl(["-f", f, "--dry-run", "--no-socket"]);
    expect(r.status).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(new RegExp(`${f.replace(/[.]/g, "\\.")}:2:\\d+: .*lb_algo`));
  });

  it("a configuration error is printed as file:line:column and nothing starts (exit 1)", () => {
    const f = conf(
      "bad.conf",
      "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n",
    );
    const r = lvsctl(["--vrrp", "-f", f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${f.replace(/[.]/g, "\\.")}:3:\\d+: .*virtual_router_id`));
  });

  it("auth_type AH: refused with its position and what to write instead", () => {
    const f = conf(
      "ah.conf",
      "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  authentication {\n    auth_type AH\n    auth_pass x\n  }\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n",
    );
    const r = lvsctl(["--vrrp", "-f", f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /ah\.conf:4:\d+: .*auth_type AH is not supported.*auth_type PASS.*VRRP_AUTH_UNSUPPORTED/,
    );
  });

  it("a file without vrrp_instance: nothing to run (exit 1)", () => {
    const r = lvsctl(["--vrrp", "-f", conf("empty.conf", "global_defs {\n  router_id x\n}\n")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no vrrp_instance/);
  });

  it("a missing file (exit 1)", () => {
    const r = lvsctl(["--vrrp", "-f", join(dir, "nope.conf")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nope\.conf/);
  });

  const vrrpConf = () =>
    conf(
      "vrrp.conf",
      "vrrp_instance VI_1 {\n  interface lvsnone0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n",
    );

  it("--vrrp serves the API too: a --socket that is a regular file is refused and kept, before VRRP starts", () => {
    const notASocket = conf("keepalived.conf.bak", "precious\n");
    const r = lvsctl(["--vrrp", "-f", vrrpConf(), "--socket", notASocket]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`--socket ${notASocket} is a regular file, not a socket`);
    expect(r.stdout).not.toContain("VRRP started");
    expect(readFileSync(notASocket, "utf8")).toBe("precious\n");
  });

  it("--vrrp --listen without a token: refused (was silently ignored)", () => {
    const r = lvsctl(["--vrrp", "-f", vrrpConf(), "--no-socket", "--listen", "127.0.0.1:0"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/TCP listen address needs a token \(--api-token-file/);
  });

  it("token sources: --api-token and --api-token-file exclude each other; a missing or empty file is an error", () => {
    const f = vrrpConf();
    const both = lvsctl(["-f", f, "--api-token", "a", "--api-token-file", join(dir, "t")]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--api-token and --api-token-file exclude each other");
    const missing = lvsctl(["-f", f, "--api-token-file", join(dir, "no-token")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`--api-token-file ${join(dir, "no-token")}: ENOENT`);
    const empty = conf("empty-token", "\n");
    expect(lvsctl(["-f", f, "--api-token-file", empty]).stderr).toContain("the first line is empty");
  });

  it("--api-token on the command line works but warns that /proc/PID/cmdline shows it", () => {
    const r = lvsctl(["--vrrp", "-f", conf("novrrp.conf", "global_defs {\n}\n"), "--api-token", "s3cret"]);
    expect(r.stderr).toMatch(/warning: --api-token puts the token in \/proc\/PID\/cmdline/);
  });
});
