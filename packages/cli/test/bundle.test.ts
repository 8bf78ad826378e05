// The bundled lvsctl (scripts/bundle.mjs) and the single executable (scripts/sea.mjs), run from a
// temporary directory that holds nothing but them: no node_modules, no workspace.
import { execFile, execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const hasSea = (() => {
  try {
    execFileSync(process.execPath, ["-e", "require('node:sea')"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let dir = "";
function run(
  file: string,
  args: string[],
  input = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // cwd is the empty directory; PATH keeps only node's own directory out of the search.
    const child = execFile(
      file,
      args,
      { cwd: dir, env: { PATH: "/usr/bin:/bin" }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}
const lvsctl = (args: string[], input?: string) =>
  run(process.execPath, [join(dir, "lvsctl.cjs"), ...args], input);

const listener = createServer((c) => c.destroy());
let openPort = 0;
let closedPort = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "lvsctl-bundle-"));
  execFileSync(process.execPath, [join(pkgDir, "scripts", "bundle.mjs"), "--out", dir], { stdio: "pipe" });
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", () => r()));
  openPort = (listener.address() as AddressInfo).port;
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", () => r()));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
}, 120_000);
afterAll(() => {
  listener.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("lvsctl.cjs, alone in an empty directory", () => {
  it("is one JavaScript file plus its native addons", () => {
    expect(readdirSync(dir).sort()).toEqual(["lvsctl.cjs", "native"]);
    expect(readdirSync(join(dir, "native")).sort()).toEqual([
      "lvs-sys.node",
      "netlink.node",
      "raw-socket.node",
    ]);
  });

  it("--help lists the command groups", async () => {
    const r = await lvsctl(["--help"]);
    expect(r.code).toBe(0);
    for (const group of ["ipvs", "sync", "check", "completion"])
      expect(r.stdout).toMatch(new RegExp(`^  ${group}\\b`, "m"));
  });

  it("ipvs --help prints ipvsadm's usage", async () => {
    const r = await lvsctl(["ipvs", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--add-service");
    expect(r.stdout).toContain("--start-daemon");
  });

  it("check tcp: up against a listener, down against a closed port", async () => {
    const up = await lvsctl([
      "check",
      "tcp",
      "--connect-ip",
      "127.0.0.1",
      "--connect-port",
      String(openPort),
    ]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`^UP tcp 127\\.0\\.0\\.1:${openPort} `));
    const down = await lvsctl([
      "check",
      "tcp",
      "--connect-ip",
      "127.0.0.1",
      "--connect-port",
      String(closedPort),
    ]);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain("ECONNREFUSED");
  });

  it("loads the raw-socket addon beside it (ICMP echo to 127.0.0.1)", async () => {
    const r = await lvsctl(["check", "icmp", "--connect-ip", "127.0.0.1"]);
    if (process.getuid?.() !== 0) return; // raw sockets need CAP_NET_RAW
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^UP icmp 127\.0\.0\.1 /);
  });

  it("loads the netlink addon beside it (ipvs reaches the kernel or says IPVS is missing)", async () => {
    const r = await lvsctl(["ipvs", "-Ln"]);
    // With IPVS (the VM) this lists the table; without it (our hosts) the netlink socket still had
    // to open to find that out, which is what this test is about.
    if (r.code === 0) expect(r.stdout).toContain("IP Virtual Server version");
    else expect(r.stderr).toContain("Can't initialize ipvs");
  });
});

describe("lvsctl.cjs copied without its native/ folder", () => {
  let bare = "";
  beforeAll(() => {
    bare = mkdtempSync(join(tmpdir(), "lvsctl-bare-"));
    copyFileSync(join(dir, "lvsctl.cjs"), join(bare, "lvsctl.cjs"));
    writeFileSync(
      join(bare, "keepalived.conf"),
      "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server 10.0.0.2 80 {\n  }\n}\n",
    );
  });
  afterAll(() => {
    if (bare) rmSync(bare, { recursive: true, force: true });
  });
  const bareLvsctl = (args: string[], input?: string) => {
    const saved = dir;
    dir = bare;
    try {
      return run(process.execPath, [join(bare, "lvsctl.cjs"), ...args], input);
    } finally {
      dir = saved;
    }
  };
  const oneLine = (addon: string) =>
    new RegExp(
      `^lvsctl: native addon ${addon}\\.node not found next to lvsctl\\.cjs \\(expected [^)]*/native/${addon}\\.node\\); reinstall the bundle with its native/ folder.*npm install -g @lvs/cli\n$`,
    );

  it("commands without native code run: --help, config check, sched pick", async () => {
    expect(readdirSync(bare).sort()).toEqual(["keepalived.conf", "lvsctl.cjs"]);
    const help = await bareLvsctl(["--help"]);
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: lvsctl");
    const check = await bareLvsctl(["config", "check", "keepalived.conf"]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/keepalived\.conf: OK \(0 vrrp_instance, 1 virtual_server, 1 real_server/);
    const pick = await bareLvsctl(
      ["sched", "pick", "-s", "rr", "-r", "10.0.0.1:80", "-r", "10.0.0.2:80"],
      "10.9.0.1:1000\n",
    );
    expect(pick.stderr).toBe("");
    expect(pick.code).toBe(0);
    expect(pick.stdout).toBe("10.0.0.2:80\n");
  });

  it("ipvs -Ln: one line naming the missing netlink.node and how to get it; no stack trace", async () => {
    const r = await bareLvsctl(["ipvs", "-Ln"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(oneLine("netlink"));
  });

  it("up (the daemon) refuses to start with the same one line, before touching anything", async () => {
    const r = await bareLvsctl([
      "up",
      "-f",
      "keepalived.conf",
      "--no-socket",
      "--state",
      join(bare, "s.json"),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(oneLine("netlink"));
    expect(readdirSync(bare).sort()).toEqual(["keepalived.conf", "lvsctl.cjs"]);
  });

  it("check icmp: DOWN, the reason names raw-socket.node", async () => {
    const r = await bareLvsctl(["check", "icmp", "--connect-ip", "127.0.0.1"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^DOWN icmp 127\.0\.0\.1 raw-socket unavailable: native addon raw-socket\.node not found next to lvsctl\.cjs/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
  });
});

describe.skipIf(process.getuid?.() !== 0)(
  "lvsctl.cjs runs a VRRP instance (all three addons at work)",
  () => {
    const ns = `lvsbundle${process.pid}`;
    beforeAll(() => {
      execFileSync("ip", ["netns", "add", ns]);
      execFileSync("ip", ["-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
      for (const i of ["v0", "v1", "lo"]) execFileSync("ip", ["-n", ns, "link", "set", i, "up"]);
      execFileSync("ip", ["-n", ns, "addr", "add", "10.250.0.1/24", "dev", "v0"]);
    });
    afterAll(() => {
      execFileSync("ip", ["netns", "del", ns]);
    });

    it("up --vrrp: the owner (priority 255) becomes MASTER, holds the VIP, and SIGTERM removes it", async () => {
      const conf = join(dir, "vrrp.conf");
      writeFileSync(
        conf,
        "vrrp_instance VI_1 {\n  state MASTER\n  interface v0\n  virtual_router_id 9\n  priority 255\n  advert_int 1\n  virtual_ipaddress {\n    10.250.0.100/24\n  }\n}\n",
      );
      const child = spawn(
        process.execPath,
        [
          join(dir, "lvsctl.cjs"),
          "up",
          "--vrrp",
          "-f",
          conf,
          "--netns",
          ns,
          "--socket",
          join(dir, "vrrp.sock"),
        ],
        {
          cwd: dir,
          env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
        },
      );
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.stderr.on("data", (d) => {
        out += d;
      });
      const vip = () =>
        execFileSync("ip", ["-n", ns, "-4", "-o", "addr", "show", "dev", "v0"], { encoding: "utf8" });
      const deadline = Date.now() + 15_000;
      while (
        !(out.includes("Entering MASTER STATE") && vip().includes("10.250.0.100/24")) &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toContain("(VI_1) Entering MASTER STATE");
      // the bundle forks itself as the VRRP child process
      expect(out).toMatch(/VRRP child process \d+/);
      expect(vip()).toContain("10.250.0.100/24");
      const t0 = Date.now();
      child.kill("SIGTERM");
      const code = await new Promise((r) => child.on("close", r));
      expect(code, out).toBe(0);
      // A clean stop is quick (priority 0, VIP removed): nothing may wait out a netlink timeout.
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(vip()).not.toContain("10.250.0.100/24");
    }, 30_000);
  },
);

describe.skipIf(!hasSea)("lvsctl as a single executable (Node SEA)", () => {
  let seaDir = "";
  beforeAll(() => {
    seaDir = mkdtempSync(join(tmpdir(), "lvsctl-sea-"));
    execFileSync(process.execPath, [join(pkgDir, "scripts", "sea.mjs"), "--out", seaDir], { stdio: "pipe" });
    rmSync(join(seaDir, "lvsctl.cjs"));
  }, 120_000);
  afterAll(() => {
    if (seaDir) rmSync(seaDir, { recursive: true, force: true });
  });

  it("runs without node on PATH or any JavaScript file beside it", async () => {
    expect(existsSync(join(seaDir, "lvsctl"))).toBe(true);
    const saved = dir;
    dir = seaDir;
    try {
      const help = await run(join(seaDir, "lvsctl"), ["--help"]);
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain("Usage: lvsctl");
      const down = await run(join(seaDir, "lvsctl"), [
        "check",
        "tcp",
        "--connect-ip",
        "127.0.0.1",
        "--connect-port",
        String(closedPort),
      ]);
      expect(down.code).toBe(1);
      expect(down.stdout).toContain("ECONNREFUSED");
    } finally {
      dir = saved;
    }
  });
});
