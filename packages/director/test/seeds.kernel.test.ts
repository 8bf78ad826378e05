// Kernel tier (tools/vm): the seeds' keepalived recipe, run unchanged by `lvsctl up -f` on two
// directors — examples/keepalived/dr-maintenance.conf, one file for both (`-i master` /
// `-i backup`, keepalived's @ID lines): LVS-DR with HTTP checks, VRRP with password auth,
// maintenance mode through a vrrp_script (`touch down` → priority −2 → the backup takes over),
// notify_master/backup scripts, and the sorry_server once every real server is down.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectorClient } from "../src/client.js";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));
const CONF = fileURLToPath(new URL("../../../examples/keepalived/dr-maintenance.conf", import.meta.url));
const RUN = "/run/lvs-seed"; // the paths the example file names
const VIP = "10.91.0.100";
const RS = ["10.91.0.11", "10.91.0.12"];

// DR: the real server answers for the VIP (on lo), so it listens on every address and says who it is.
const web_ = (ip: string) =>
  `require("node:http").createServer((q, r) => r.end("${ip}:80")).listen(80, "0.0.0.0", () => console.log("listening"))`;
const state = async (api: DirectorClient) => (await api.status()).vrrp.instances[0];
const holdsVip = async (ns: Netns) => (await ns.run("ip -4 -o addr show dev eth0")).includes(`${VIP}/24`);

describe("the seeds' keepalived.conf (DR, maintenance mode, notify, sorry server) under lvsctl up -f", () => {
  let topo: Topology;
  let client: Netns;
  let dirA: Netns;
  let dirB: Netns;
  let web: SpawnedProcess[] = [];
  const servers: Netns[] = [];
  const daemons: SpawnedProcess[] = [];
  let apiA: DirectorClient;
  let apiB: DirectorClient;

  const notifyLog = () => (existsSync(`${RUN}/notify.log`) ? readFileSync(`${RUN}/notify.log`, "utf8") : "");
  const ask = async () => (await client.run(`curl -s --max-time 5 http://${VIP}/`)).trim();

  beforeAll(async () => {
    rmSync(RUN, { recursive: true, force: true });
    for (const id of ["master", "backup"]) mkdirSync(`${RUN}/${id}`, { recursive: true });
    // The seed's new_notify.sh mails the admin; this one notes which director said what.
    writeFileSync(`${RUN}/notify.sh`, `#!/bin/sh\necho "$(ip netns identify $$) $*" >> ${RUN}/notify.log\n`, {
      mode: 0o755,
    });
    topo = await Topology.create("seeds");
    const lan = await topo.addBridge("lan");
    client = await topo.addNamespace("client");
    dirA = await topo.addNamespace("dirA");
    dirB = await topo.addNamespace("dirB");
    await topo.attach(client, lan, { addr: "10.91.0.2/24", ifname: "eth0" });
    await topo.attach(dirA, lan, { addr: "10.91.0.3/24", ifname: "eth0" });
    await topo.attach(dirB, lan, { addr: "10.91.0.4/24", ifname: "eth0" });
    for (const [i, ip] of RS.entries()) {
      const rs = await topo.addNamespace(`rs${i + 1}`);
      servers.push(rs);
      await topo.attach(rs, lan, { addr: `${ip}/24`, ifname: "eth0" });
      // `lvsctl realserver up` is what an operator runs here; the sysctls are the same.
      await rs.run(
        `ip addr add ${VIP}/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.lo.arp_ignore=1 net.ipv4.conf.lo.arp_announce=2`,
      );
      const p = rs.spawn(["node", "-e", web_(ip)]);
      await waitFor(() => p.output().includes("listening"), { what: `web on ${ip}`, timeoutMs: 30_000 });
      web.push(p);
    }
    for (const [ns, id] of [
      [dirA, "master"],
      [dirB, "backup"],
    ] as const) {
      daemons.push(
        ns.spawn([
          "node",
          BIN,
          "up",
          "-f",
          CONF,
          "-i",
          id,
          "--socket",
          `${RUN}/${id}.sock`,
          "--state",
          `${RUN}/${id}.state.json`,
          "--log-format",
          "text",
        ]),
      );
    }
    apiA = new DirectorClient({ socketPath: `${RUN}/master.sock` });
    apiB = new DirectorClient({ socketPath: `${RUN}/backup.sock` });
  });
  afterAll(async () => {
    await topo?.destroy();
    rmSync(RUN, { recursive: true, force: true });
  });

  it("the MASTER (-i master) takes the VIP, the backup waits; DR traffic flows; notify scripts ran", async () => {
    await waitFor(
      async () =>
        (await state(apiA).catch(() => undefined))?.state === "MASTER" &&
        (await state(apiB).catch(() => undefined))?.state === "BACKUP",
      { what: "master MASTER, backup BACKUP", timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(await holdsVip(dirA)).toBe(true);
    expect(await holdsVip(dirB)).toBe(false);
    for (const ns of [dirA, dirB]) {
      await waitFor(
        async () =>
          (await ns.run("ipvsadm -Sn")).split("\n").filter((l) => l.includes(":80 -g")).length === 2,
        {
          what: `both DR real servers in ${ns.label}'s table`,
          timeoutMs: 20_000,
          intervalMs: 250,
        },
      );
    }
    expect(await dirA.run("ipvsadm -Sn")).toContain(`-A -t ${VIP}:80 -s wlc`);
    expect(RS.map((ip) => `${ip}:80`)).toContain(await ask());
    await waitFor(() => notifyLog().includes(`${dirA.name} master ${VIP}`), {
      what: "notify_master on dirA",
      timeoutMs: 10_000,
    });
    expect(notifyLog()).toContain(`${dirB.name} backup ${VIP}`);
  });

  it("maintenance mode: `touch down` on the master hands the VIP over, removing it hands it back", async () => {
    writeFileSync(`${RUN}/master/down`, "");
    // chk_schedown: interval 1, fall 2 → priority 101 − 2 = 99 < 100: the backup preempts.
    await waitFor(
      async () => (await state(apiB))?.state === "MASTER" && (await state(apiA))?.state === "BACKUP",
      {
        what: "backup MASTER after the down file",
        timeoutMs: 20_000,
        intervalMs: 250,
      },
    );
    expect((await state(apiA))?.effectivePriority).toBe(99);
    await waitFor(() => holdsVip(dirB), { what: "VIP on the backup", timeoutMs: 5_000 });
    expect(await holdsVip(dirA)).toBe(false);
    await waitFor(async () => RS.map((ip) => `${ip}:80`).includes(await ask().catch(() => "")), {
      what: "the client served through the backup",
      timeoutMs: 10_000,
      intervalMs: 250,
    });
    await waitFor(
      () =>
        notifyLog().includes(`${dirB.name} master ${VIP}`) &&
        notifyLog().includes(`${dirA.name} backup ${VIP}`),
      {
        what: "notify scripts of the hand-over",
        timeoutMs: 10_000,
      },
    );

    rmSync(`${RUN}/master/down`);
    await waitFor(
      async () => (await state(apiA))?.state === "MASTER" && (await state(apiB))?.state === "BACKUP",
      {
        what: "master back after the down file is gone",
        timeoutMs: 20_000,
        intervalMs: 250,
      },
    );
    expect((await state(apiA))?.effectivePriority).toBe(101);
    await waitFor(() => holdsVip(dirA), { what: "VIP back on the master", timeoutMs: 5_000 });
  });

  it("every real server down: the sorry_server takes their place; one back: it leaves", async () => {
    for (const p of web) p.kill("SIGKILL");
    web = [];
    await waitFor(
      async () => {
        const t = await dirA.run("ipvsadm -Sn");
        return t.includes(`-a -t ${VIP}:80 -r 127.0.0.1:80 -g`) && !RS.some((ip) => t.includes(`${ip}:80`));
      },
      { what: "sorry server in, real servers out", timeoutMs: 20_000, intervalMs: 250 },
    );
    const status = (await apiA.status()).virtualServers[0];
    expect(status?.sorry).toMatchObject({ key: "127.0.0.1:80", active: true });
    expect(status?.realServers.map((r) => r.state)).toEqual(["down", "down"]);

    const back = (servers[0] as Netns).spawn(["node", "-e", web_(RS[0] as string)]);
    await waitFor(() => back.output().includes("listening"), { what: "rs1 web again", timeoutMs: 30_000 });
    await waitFor(
      async () => {
        const t = await dirA.run("ipvsadm -Sn");
        return t.includes(`-a -t ${VIP}:80 -r ${RS[0]}:80 -g`) && !t.includes("127.0.0.1:80");
      },
      { what: "rs1 in, sorry server out", timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(await ask()).toBe(`${RS[0]}:80`);
  });
});
