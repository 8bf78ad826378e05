// Kernel tier (tools/vm): two directors, VRRP + the kernel's connection sync, as keepalived runs
// an LVS-DR pair. One LAN (a bridge) holds the client, both directors and the real server; the
// VIP moves between the directors with VRRP and gratuitous ARP; the sync multicast
// (224.0.0.81:8848) runs on the same LAN. DR: the real server answers the client directly, so
// only the client → VIP path changes director at a failover.
//
// The master's daemon is killed (kill -9) and its link goes down (a dead machine: kill -9 alone
// leaves its kernel's VIP and IPVS table answering). Then the backup must take the VIP, the
// client's neighbour entry must follow (GARP), and the client's ESTABLISHED connection — the
// same socket, no reconnect — keeps echoing, because the backup's kernel holds the connection
// the master's sync daemon sent it.
//
// The control: the same pair without `lvs_sync_daemon`. The new master's IPVS has no entry for
// the connection and schedules only on a SYN (sloppy_tcp=0, net/netfilter/ipvs/
// ip_vs_proto_tcp.c tcp_conn_schedule), so the client's next segment reaches the new master's
// own TCP stack, which has no socket for VIP:port and answers with a RST.
// (Checked once by hand: with sloppy_tcp=1 on the new master the ACK is scheduled instead, and
// with a single real server the connection then survives even without sync — so the control
// relies on the default sloppy_tcp=0.)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { DirectorClient } from "../src/client.js";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));
const SERVERS = fileURLToPath(new URL("./fixtures/servers.mjs", import.meta.url));
const CLIENT = fileURLToPath(new URL("./fixtures/client.mjs", import.meta.url));
const VIP = "10.82.0.100";
const CLIENT_IP = "10.82.0.2";
const DIR_A = "10.82.0.3";
const DIR_B = "10.82.0.4";
const RIP = "10.82.0.11";
const PORT = 9000;
const VRID = 82;
const SYNC_ID = 57;

function config(name: string, priority: number, sync: boolean): string {
  return `global_defs {
  router_id ${name}
  vrrp_version 3
${sync ? `  lvs_sync_daemon eth0 VI_1 id ${SYNC_ID}\n` : ""}}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${VRID}
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
virtual_server ${VIP} ${PORT} {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server ${RIP} ${PORT} {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`;
}

/** `ipvsadm -Lcn` lines as "STATE client virtual dest". */
function connections(out: string): string[] {
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c[0] === "TCP" && c.length >= 6)
    .map(([, , state, src, virt, dst]) => `${state} ${src} ${virt} ${dst}`);
}

interface Pair {
  topo: Topology;
  client: Netns;
  dirA: Netns;
  dirB: Netns;
  daemonA: SpawnedProcess;
  daemonB: SpawnedProcess;
  apiA: DirectorClient;
  apiB: DirectorClient;
  dir: string;
}

const echoes = (p: SpawnedProcess) => p.output().match(/^echo ping \d+$/gm)?.length ?? 0;
const neighbour = async (ns: Netns) =>
  /lladdr (\S+)/.exec(await ns.run(`ip neigh show ${VIP} dev eth0`))?.[1] ?? "";
/** Counts the RSTs a namespace's own stack sends to the client (nft, output hook). */
const countRsts = (ns: Netns) =>
  ns.run(
    `nft add table ip rst && nft add chain ip rst out '{ type filter hook output priority 0; }' && nft add rule ip rst out ip daddr ${CLIENT_IP} tcp flags rst counter`,
  );
const rsts = async (ns: Netns) =>
  Number(/packets (\d+)/.exec(await ns.run("nft list chain ip rst out"))?.[1]);
const state = async (api: DirectorClient) => (await api.status()).vrrp.instances[0]?.state;

describe("two directors, VRRP + connection sync: the master dies, the connection lives on", () => {
  let pair: Pair | undefined;

  afterEach(async () => {
    await pair?.topo.destroy();
    if (pair) rmSync(pair.dir, { recursive: true, force: true });
    pair = undefined;
  });

  /** LAN + real server + client, both daemons started; resolves once A is MASTER and B BACKUP. */
  async function startPair(sync: boolean): Promise<Pair> {
    const t0 = Date.now();
    const dir = mkdtempSync(join(tmpdir(), "lvs-failover-k-"));
    const topo = await Topology.create("fo");
    const p: Partial<Pair> = { topo, dir };
    pair = p as Pair;
    const client = await topo.addNamespace("client");
    const dirA = await topo.addNamespace("dirA");
    const dirB = await topo.addNamespace("dirB");
    const rs = await topo.addNamespace("rs");
    const lan = await topo.addBridge("lan");
    await topo.attach(client, lan, { addr: `${CLIENT_IP}/24`, ifname: "eth0" });
    await topo.attach(dirA, lan, { addr: `${DIR_A}/24`, ifname: "eth0" });
    await topo.attach(dirB, lan, { addr: `${DIR_B}/24`, ifname: "eth0" });
    // The DR real server: the VIP on lo, never answering or announcing it on the LAN.
    await topo.attach(rs, lan, { addr: `${RIP}/24`, ifname: "eth0" });
    await rs.run(
      `ip addr add ${VIP}/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.lo.arp_ignore=1 net.ipv4.conf.lo.arp_announce=2`,
    );
    const echo = rs.spawn(["node", SERVERS, `0.0.0.0:${PORT}:echo`]);

    const run = (ns: Netns, name: string, priority: number) => {
      mkdirSync(join(dir, name));
      const conf = join(dir, name, "keepalived.conf");
      writeFileSync(conf, config(name, priority, sync));
      const sock = join(dir, name, "d.sock");
      const d = ns.spawn([
        "node",
        BIN,
        "director",
        "run",
        "-f",
        conf,
        "--socket",
        sock,
        "--log-format",
        "text",
      ]);
      return { d, api: new DirectorClient({ socketPath: sock }) };
    };
    const a = run(dirA, "dirA", 150);
    const b = run(dirB, "dirB", 100);
    Object.assign(p, { client, dirA, dirB, daemonA: a.d, daemonB: b.d, apiA: a.api, apiB: b.api });
    await waitFor(() => echo.output().includes("listening"), { what: "echo server", timeoutMs: 30_000 });
    await waitFor(async () => (await state(a.api)) === "MASTER" && (await state(b.api)) === "BACKUP", {
      what: "dirA MASTER, dirB BACKUP",
      // Two node processes each (daemon + VRRP child) start under TCG emulation.
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    for (const ns of [dirA, dirB]) {
      await waitFor(
        async () => (await ns.run("ipvsadm -Sn")).includes(`-a -t ${VIP}:${PORT} -r ${RIP}:${PORT} -g`),
        {
          what: `the DR service in ${ns.label}`,
          timeoutMs: 15_000,
          intervalMs: 200,
        },
      );
    }
    console.log(`pair up (A MASTER, B BACKUP, both tables in) in ${Date.now() - t0} ms`);
    return pair;
  }

  /** The client's long-lived connection through dirA; returns it with its ipvsadm -Lcn triple. */
  async function connect(p: Pair): Promise<{ conn: SpawnedProcess; entry: string }> {
    const conn = p.client.spawn(["node", CLIENT, VIP, String(PORT)]);
    await waitFor(() => echoes(conn) >= 3, { what: "echoes through dirA", timeoutMs: 20_000 });
    const entry = (
      connections(await p.dirA.run("ipvsadm -Lcn")).find((l) => l.startsWith("ESTABLISHED ")) ?? ""
    )
      .split(" ")
      .slice(1)
      .join(" ");
    expect(entry).toMatch(new RegExp(`^${CLIENT_IP}:\\d+ ${VIP}:${PORT} ${RIP}:${PORT}$`));
    expect(await neighbour(p.client)).toBe(await p.dirA.mac("eth0"));
    return { conn, entry };
  }

  /** kill -9 of dirA's daemon, then its cable: returns when dirB says MASTER. */
  async function killMaster(p: Pair): Promise<number> {
    const t0 = Date.now();
    // A crash: the daemon and its VRRP child process die at once (killing the daemon alone is a
    // clean handover: its VRRP child sees the parent gone and stops with priority 0, as
    // keepalived's VRRP child does on its parent's death).
    const pid = p.daemonA.child.pid;
    await p.dirA.run(`sh -c 'kill -KILL $(pgrep -P ${pid}) ${pid}'`);
    expect(await p.daemonA.exited).toBe(128);
    // What kill -9 leaves behind: the VIP and the table, still answering on the LAN.
    expect(await p.dirA.run("ip -4 -o addr show dev eth0")).toContain(`${VIP}/24`);
    await p.dirA.run("ip link set eth0 down");
    await waitFor(async () => (await state(p.apiB)) === "MASTER", {
      what: "dirB MASTER",
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    return Date.now() - t0;
  }

  it("with lvs_sync_daemon: dirB takes the VIP and the same TCP connection keeps echoing", async () => {
    const p = await startPair(true);
    await waitFor(
      async () =>
        (await p.dirA.run("ipvsadm -L --daemon")).includes(
          `master sync daemon (mcast=eth0, syncid=${SYNC_ID}`,
        ),
      {
        what: "master sync daemon on dirA",
        timeoutMs: 10_000,
        intervalMs: 200,
      },
    );
    await waitFor(
      async () =>
        (await p.dirB.run("ipvsadm -L --daemon")).includes(
          `backup sync daemon (mcast=eth0, syncid=${SYNC_ID}`,
        ),
      {
        what: "backup sync daemon on dirB",
        timeoutMs: 10_000,
        intervalMs: 200,
      },
    );
    const { conn, entry } = await connect(p);
    // The backup's kernel installed the master's connection (the sync daemon, not traffic: dirB
    // has no VIP yet and has seen no packet of it).
    await waitFor(
      async () => connections(await p.dirB.run("ipvsadm -Lcn")).includes(`ESTABLISHED ${entry}`),
      {
        what: `dirB's kernel holding ${entry}`,
        timeoutMs: 15_000,
        intervalMs: 250,
      },
    );
    expect(await p.dirB.run("ip -4 -o addr show dev eth0")).not.toContain(VIP);

    await countRsts(p.dirB);
    const before = echoes(conn);
    const t0 = Date.now();
    const tookOver = await killMaster(p);
    expect(await p.dirB.run("ip -4 -o addr show dev eth0")).toContain(`${VIP}/24`);
    const macB = await p.dirB.mac("eth0");
    await waitFor(async () => (await neighbour(p.client)) === macB, {
      what: "the client's neighbour entry for the VIP on dirB (GARP)",
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const garp = Date.now() - t0;
    await waitFor(() => echoes(conn) >= before + 10, {
      what: "echoes through dirB",
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    console.log(
      `kill -9 → dirB MASTER ${tookOver} ms, the client's neighbour entry on dirB ${garp} ms, 10 more echoes ${Date.now() - t0} ms`,
    );
    // The same socket: one connect, no close, no error, every ping echoed in order.
    const out = conn.output();
    expect(out.match(/^connected$/gm)).toHaveLength(1);
    expect(out).not.toMatch(/^(closed|error)/m);
    const n = [...out.matchAll(/^echo ping (\d+)$/gm)].map((m) => Number(m[1]));
    expect(n).toEqual(n.map((_, i) => i + 1));
    // And through dirB's IPVS: its entry for that connection carries the traffic now.
    expect(connections(await p.dirB.run("ipvsadm -Lcn"))).toContain(`ESTABLISHED ${entry}`);
    await waitFor(
      async () => {
        const s = /TCP\s+\S+\s+\d+\s+(\d+)/.exec(await p.dirB.run(`ipvsadm -Ln --stats -t ${VIP}:${PORT}`));
        return Number(s?.[1] ?? 0) > 0;
      },
      { what: "incoming packets counted by dirB's service", timeoutMs: 10_000, intervalMs: 500 },
    );
    expect(p.daemonB.output()).toContain("(VI_1) Entering MASTER STATE");
    expect(await rsts(p.dirB)).toBe(0);
    conn.kill("SIGKILL");
  }, 120_000);

  it("control, without lvs_sync_daemon: the new master resets the connection", async () => {
    const p = await startPair(false);
    const { conn, entry } = await connect(p);
    expect((await p.dirB.run("ipvsadm -L --daemon")).trim()).toBe("");
    expect((await p.dirB.run("sysctl -n net.ipv4.vs.sloppy_tcp")).trim()).toBe("0");
    expect(connections(await p.dirB.run("ipvsadm -Lcn")).some((l) => l.endsWith(entry))).toBe(false);
    await countRsts(p.dirB);
    const t0 = Date.now();
    const tookOver = await killMaster(p);
    const atMaster = echoes(conn);
    await waitFor(() => /^(error|closed)/m.test(conn.output()), {
      what: "the connection to end",
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    console.log(`kill -9 → dirB MASTER ${tookOver} ms, the connection reset ${Date.now() - t0} ms`);
    expect(conn.output()).toMatch(/^error ECONNRESET$/m);
    expect(echoes(conn)).toBe(atMaster);
    // The reset came from dirB's own TCP stack (the segment was not IPVS's to forward).
    expect(await rsts(p.dirB)).toBeGreaterThan(0);
  }, 120_000);
});
