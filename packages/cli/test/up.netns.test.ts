// lvsctl up --vrrp -f keepalived.conf in a namespace, against keepalived 2.2.7 in another, on one
// bridge: the same file format drives both; SIGTERM is a clean stop (priority 0, VIPs removed).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DirectorClient } from "@lvs/director";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));

/** The process has exited (no /proc entry, or a zombie nobody reaped yet). */
const gone = (pid: number) => {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
};

const conf = (priority: number) => `global_defs {
  router_id cli_up
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 71
  priority ${priority}
  advert_int 0.1
  virtual_ipaddress {
    10.71.0.100/24
  }
}
`;

describe.skipIf(!canUseNetns())("lvsctl up --vrrp (netns, against keepalived)", () => {
  let topo: Topology;
  let ka: Netns;
  let us: Netns;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lvsctl-up-"));
    topo = await Topology.create("cli-up");
    const br = await topo.addBridge();
    ka = await topo.addNamespace("ka");
    us = await topo.addNamespace("us");
    await topo.attach(ka, br, { addr: "10.71.0.1/24", ifname: "eth0" });
    await topo.attach(us, br, { addr: "10.71.0.2/24", ifname: "eth0" });
  });
  afterAll(async () => {
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const has = async (ns: Netns) => (await ns.run("ip -4 -o addr show dev eth0")).includes("10.71.0.100/24");

  it("preempts keepalived at higher priority, logs keepalived-style, SIGTERM hands the VIP back", async () => {
    writeFileSync(join(dir, "ka.conf"), conf(100));
    writeFileSync(join(dir, "us.conf"), conf(150));
    ka.spawn([
      "keepalived",
      "--vrrp",
      "-D",
      "-l",
      "-n",
      "-f",
      join(dir, "ka.conf"),
      "-p",
      join(dir, "ka.pid"),
      "-r",
      join(dir, "vrrp.pid"),
    ]);
    await waitFor(() => has(ka), { timeoutMs: 10_000 });
    const socketPath = join(dir, "us.sock");
    const lvs = us.spawn(["node", BIN, "up", "--vrrp", "-f", join(dir, "us.conf"), "--socket", socketPath]);
    await waitFor(async () => (await has(us)) && !(await has(ka)), { timeoutMs: 10_000 });
    expect(lvs.output()).toMatch(/\(VI_1\) Entering BACKUP STATE/);
    expect(lvs.output()).toMatch(/\(VI_1\) Entering MASTER STATE/);
    // VRRP runs in a child process of its own (IsolatedRouter), which the stop takes down too
    const child = Number(/VRRP child process (\d+)/.exec(lvs.output())?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(child).not.toBe(lvs.child.pid);
    // --vrrp serves the runtime API: status and VRRP counters; LVS requests say the LVS side isn't running.
    const api = new DirectorClient({ socketPath });
    const st = await api.status();
    expect(st.daemon.mode).toBe("vrrp");
    expect(st.virtualServers).toEqual([]);
    expect(st.vrrp.instances).toMatchObject([
      { name: "VI_1", interface: "eth0", vrid: 71, state: "MASTER", priority: 150, vips: ["10.71.0.100"] },
    ]);
    expect(st.vrrp.instances[0]?.counters?.become_master).toBe(1);
    expect(st.vrrp.instances[0]?.counters?.advert_sent).toBeGreaterThan(0);
    expect(await api.metrics()).toMatch(
      /lvs_vrrp_state\{iname="VI_1",intf="eth0",vrid="71",ip_address="10\.71\.0\.100"\} 2/,
    );
    await expect(api.drain("10.0.0.1:80", "10.0.0.2:80")).rejects.toMatchObject({
      code: "DIRECTOR_LVS_NOT_RUNNING",
      status: 409,
    });
    // SIGHUP with the same file and then with a second VIP: reloaded in place, still MASTER,
    // keepalived never takes over (no priority-0 advert from us).
    lvs.kill("SIGHUP");
    await waitFor(() => lvs.output().includes("SIGHUP: reloaded in place (unchanged: VI_1;"), {
      timeoutMs: 5000,
    }).catch((e) => {
      throw new Error(`${e.message}: ${lvs.output()}`);
    });
    writeFileSync(
      join(dir, "us.conf"),
      conf(150).replace("10.71.0.100/24", "10.71.0.100/24\n    10.71.0.101/24"),
    );
    lvs.kill("SIGHUP");
    await waitFor(() => lvs.output().includes("updated: VI_1;"), { timeoutMs: 5000 });
    await waitFor(async () => (await us.run("ip -4 -o addr show dev eth0")).includes("10.71.0.101/24"), {
      timeoutMs: 5000,
    });
    expect(await has(ka)).toBe(false);
    // The API's reload is SIGHUP's: in place, the same file now changes nothing.
    expect(await api.reload()).toMatchObject({ vrrp: { instances: { unchanged: ["VI_1"] } } });
    expect(lvs.output().match(/Entering MASTER STATE/g)).toHaveLength(1);
    const t0 = Date.now();
    lvs.kill("SIGTERM");
    await waitFor(() => has(ka), { timeoutMs: 5000 });
    // keepalived's Skew_Time at priority 100, 0.1 s adverts: 61 ms (a Master_Down_Interval would be 361 ms)
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await lvs.exited).toBe(0);
    expect(await has(us)).toBe(false);
    expect(existsSync(socketPath)).toBe(false);
    expect(lvs.output()).toMatch(/\(VI_1\) Entering STOP STATE/);
    expect(gone(child)).toBe(true);
  }, 40_000);
});
