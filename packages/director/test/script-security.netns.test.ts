// enable_script_security and script_user with real files, a real non-root user and real runs
// (netns tier, host, as root): `lvsctl up --vrrp` and keepalived 2.2.7, each in a namespace of its
// own, run the same file. A notify script in a world-writable directory, to be run as root, is not
// run by either; the same script in a root-owned directory runs as root; one run as `nobody`
// is not checked and runs as uid 65534.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));
const hasKeepalived = existsSync("/usr/sbin/keepalived");
const hasNobody = readFileSync("/etc/passwd", "utf8").includes("\nnobody:x:65534:");

/** A tree under `root`: ok/ (root's, 0755), ww/ (0777: anyone may replace the script), out/ (0777). */
function scriptTree(root: string): void {
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  for (const [d, mode] of [
    ["ok", 0o755],
    ["ww", 0o777],
    ["out", 0o777],
  ] as const) {
    mkdirSync(join(root, d));
    chmodSync(join(root, d), mode);
  }
  // Each run appends "uid args" to out/<first arg>.log.
  const body = `#!/bin/sh\necho "$(id -u) $*" >> ${root}/out/$1.log\n`;
  for (const d of ["ok", "ww"]) {
    writeFileSync(join(root, d, "n.sh"), body);
    chmodSync(join(root, d, "n.sh"), 0o755);
  }
}

function conf(root: string, iface: string, lifecycle = ""): string {
  return `global_defs {
  enable_script_security
  script_user root
  vrrp_version 3
${lifecycle}}
vrrp_instance VI_1 {
  interface ${iface}
  virtual_router_id 61
  priority 150
  advert_int 0.1
  virtual_ipaddress { 10.61.0.100/24 }
  notify_master "${root}/ww/n.sh ww-root"
  notify "${root}/ok/n.sh ok-root"
}
vrrp_instance VI_2 {
  interface ${iface}
  virtual_router_id 62
  priority 150
  advert_int 0.1
  virtual_ipaddress { 10.61.0.101/24 }
  notify_master "${root}/ww/n.sh ww-nobody" nobody
}
`;
}

const log = (root: string, name: string) => {
  const f = join(root, "out", `${name}.log`);
  return existsSync(f) ? readFileSync(f, "utf8") : undefined;
};

describe.skipIf(!canUseNetns() || !hasNobody)("enable_script_security with real files and users", () => {
  let topo: Topology;
  let ours: Netns;
  let ka: Netns;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lvs-scriptsec-"));
    chmodSync(dir, 0o755);
    topo = await Topology.create("ssec");
    ours = await topo.addNamespace("ours");
    ka = await topo.addNamespace("ka");
    const p1 = await topo.addNamespace("p1");
    const p2 = await topo.addNamespace("p2");
    await topo.link(ours, p1, { a: "10.61.0.1/24", b: "10.61.0.2/24", ifA: "eth0", ifB: "eth0" });
    await topo.link(ka, p2, { a: "10.61.0.1/24", b: "10.61.0.2/24", ifA: "eth0", ifB: "eth0" });
  });
  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function expectRuns(root: string, output: () => string): Promise<void> {
    await waitFor(async () => log(root, "ok-root") !== undefined && log(root, "ww-nobody") !== undefined, {
      what: `the safe notify scripts to run (${output().slice(-400)})`,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    // The unsafe one would have run with the first two (same transition); give it time to show.
    await new Promise((r) => setTimeout(r, 500));
    expect(log(root, "ok-root")).toMatch(/^0 ok-root INSTANCE VI_1 MASTER 150$/m);
    expect(log(root, "ww-nobody")).toMatch(/^65534 ww-nobody$/m);
    expect(log(root, "ww-root")).toBeUndefined();
  }

  it("lvsctl up --vrrp: the world-writable one is refused at load (named with its line), the others run as their users", async () => {
    const root = join(dir, "ours");
    scriptTree(root);
    const file = join(root, "keepalived.conf");
    // startup_script / shutdown_script too: the safe one runs (before start, after stop), the unsafe one not.
    const lifecycle = `  startup_script "${root}/ok/n.sh startup"\n  shutdown_script "${root}/ww/n.sh shutdown"\n`;
    writeFileSync(file, conf(root, "eth0", lifecycle));
    const d = ours.spawn(["node", BIN, "up", "--vrrp", "-f", file, "--no-socket"]);
    try {
      await expectRuns(root, () => d.output());
      expect(log(root, "startup")).toBe("0 startup\n");
      expect(d.output()).toMatch(
        new RegExp(
          `keepalived\\.conf:14:\\d+: warning: vrrp_instance VI_1 notifyMaster .*${root}/ww is world-writable`,
        ),
      );
    } finally {
      d.kill("SIGTERM");
      await d.exited;
    }
    expect(log(root, "shutdown")).toBeUndefined();
  }, 40_000);

  it("lvsctl up --vrrp: a safe shutdown_script runs after the stop", async () => {
    const root = join(dir, "ours-stop");
    scriptTree(root);
    const file = join(root, "keepalived.conf");
    writeFileSync(file, conf(root, "eth0", `  shutdown_script "${root}/ok/n.sh shutdown"\n`));
    const d = ours.spawn(["node", BIN, "up", "--vrrp", "-f", file, "--no-socket"]);
    await expectRuns(root, () => d.output());
    d.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    expect(log(root, "shutdown")).toBe("0 shutdown\n");
  }, 40_000);

  it.skipIf(!hasKeepalived)(
    "keepalived 2.2.7 with the same file does the same",
    async () => {
      const root = join(dir, "ka");
      scriptTree(root);
      const file = join(root, "keepalived.conf");
      writeFileSync(file, conf(root, "eth0"));
      const k = ka.spawn([
        "/usr/sbin/keepalived",
        "--vrrp",
        "-D",
        "-l",
        "-n",
        "-f",
        file,
        "-p",
        join(root, "k.pid"),
        "-r",
        join(root, "v.pid"),
      ]);
      try {
        await expectRuns(root, () => k.output());
        expect(k.output()).toContain(`Unsafe permissions found for script '${root}/ww/n.sh' - disabling.`);
      } finally {
        k.kill("SIGTERM");
        await k.exited;
      }
    },
    40_000,
  );
});
