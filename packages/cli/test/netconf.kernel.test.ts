// Kernel tier (tools/vm): real servers prepared by `lvsctl realserver up` serve a client through
// the kernel's IPVS with direct routing and with IP-in-IP tunnelling.
//
//   client 10.65.1.1 ── router ──(LAN 10.65.2.0/24: director .1, real server .2)
//   VIP 10.65.3.100 is on-link on the LAN for the router: it ARPs for it, and only the director
//   may answer (the real server holds the VIP too, hidden by arp_ignore/arp_announce).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Netns, Topology } from "@lvs/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const VIP = "10.65.3.100";
const lvsctl = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });

let topo: Topology;
let client: Netns;
let router: Netns;
let director: Netns;
let rs: Netns;
let tmp: string;

const curl = (maxTime: number) =>
  client.exec(["curl", "-s", "--max-time", String(maxTime), `http://${VIP}/`], {
    timeoutMs: (maxTime + 5) * 1000,
  });

/** Connections IPVS holds to the real server (ipvsadm -Lnc: immediate, unlike the 2 s stats). */
async function ipvsConns(): Promise<number> {
  const out = await director.run("ipvsadm -Lnc");
  return out.split("\n").filter((l) => l.includes("10.65.2.2:80")).length;
}

beforeAll(async () => {
  for (const m of ["ip_vs", "ip_vs_rr", "ipip"]) execFileSync("modprobe", [m]);
  tmp = mkdtempSync(join(tmpdir(), "lvs-netconf-kernel-"));
  topo = await Topology.create("nc-kernel");
  client = await topo.addNamespace("client");
  router = await topo.addNamespace("router");
  director = await topo.addNamespace("director");
  rs = await topo.addNamespace("rs");
  const lan = await topo.addBridge("lan");
  await topo.link(client, router, { ifA: "eth0", ifB: "eth0", a: "10.65.1.1/24", b: "10.65.1.254/24" });
  await topo.attach(router, lan, { addr: "10.65.2.254/24", ifname: "eth1" });
  await topo.attach(director, lan, { addr: "10.65.2.1/24", ifname: "eth0" });
  await topo.attach(rs, lan, { addr: "10.65.2.2/24", ifname: "eth0" });
  await client.run("ip route add default via 10.65.1.254");
  await router.run(`sysctl -qw net.ipv4.ip_forward=1 && ip route add ${VIP}/32 dev eth1`);
  await director.run(`ip route add default via 10.65.2.254 && ip addr add ${VIP}/32 dev eth0`);
  await rs.run("ip route add default via 10.65.2.254");
  rs.spawn([
    "node",
    "-e",
    "require('http').createServer((q,s)=>s.end('served by rs\\n')).listen(80,'0.0.0.0',()=>console.log('listening'))",
  ]);
  for (let i = 0; i < 100 && !(await rs.run("ss -ltn")).includes(":80 "); i++)
    await new Promise((r) => setTimeout(r, 100));
});
afterEach(async () => {
  await director?.exec(["ipvsadm", "-C"]);
});
afterAll(async () => {
  await topo?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

describe("real servers prepared by lvsctl behind the kernel's IPVS", () => {
  it("direct routing: the client is served through IPVS, the router resolves the VIP to the director", async () => {
    await director.run(`ipvsadm -A -t ${VIP}:80 -s rr && ipvsadm -a -t ${VIP}:80 -r 10.65.2.2:80 -g`);
    const stateFile = join(tmp, "dr.json");
    const up = lvsctl(["realserver", "up", "--vip", VIP, "--netns", rs.name, "--state-file", stateFile]);
    expect([up.status, up.stderr]).toEqual([0, ""]);
    const r = await curl(10);
    expect(r.stdout).toBe("served by rs\n");
    expect(await ipvsConns()).toBeGreaterThanOrEqual(1);
    const neigh = JSON.parse(await router.run(`ip -j neigh show to ${VIP} dev eth1`)) as Array<{
      lladdr?: string;
    }>;
    expect(neigh[0]?.lladdr).toBe(await director.mac("eth0"));
    expect(lvsctl(["realserver", "down", "--netns", rs.name, "--state-file", stateFile]).status).toBe(0);
  });

  it("tunnelling: tunl0 carries the VIP; strict rp_filter would drop the decapsulated packets", async () => {
    await rs.run("sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.tunl0.rp_filter=1");
    const before = await rs.run("sysctl -n net.ipv4.conf.all.rp_filter net.ipv4.conf.tunl0.rp_filter");
    await director.run(`ipvsadm -A -t ${VIP}:80 -s rr && ipvsadm -a -t ${VIP}:80 -r 10.65.2.2:80 -i`);
    const stateFile = join(tmp, "tun.json");
    const up = lvsctl([
      "realserver",
      "up",
      "--mode",
      "tun",
      "--vip",
      VIP,
      "--netns",
      rs.name,
      "--state-file",
      stateFile,
    ]);
    expect([up.status, up.stderr]).toEqual([0, ""]);
    expect(up.stdout).toContain("ip link set tunl0 up");
    expect(up.stdout).toContain(`ip address add ${VIP}/32 dev tunl0`);
    expect((await curl(10)).stdout).toBe("served by rs\n");
    const conns = await ipvsConns();
    expect(conns).toBeGreaterThanOrEqual(1);

    // Put strict reverse-path filtering back behind our back: the tunnelled request is dropped…
    await rs.run("sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.tunl0.rp_filter=1");
    expect((await curl(3)).stdout).toBe("");
    // …and `up` again repairs exactly that.
    const again = lvsctl([
      "realserver",
      "up",
      "--mode",
      "tun",
      "--vip",
      VIP,
      "--netns",
      rs.name,
      "--state-file",
      stateFile,
    ]);
    expect(again.stdout).toMatch(/2 changes made/);
    expect((await curl(10)).stdout).toBe("served by rs\n");

    const down = lvsctl(["realserver", "down", "--netns", rs.name, "--state-file", stateFile]);
    expect(down.status).toBe(0);
    expect(await rs.run("sysctl -n net.ipv4.conf.all.rp_filter net.ipv4.conf.tunl0.rp_filter")).toBe(before);
    expect(await rs.run("ip -br link show tunl0")).toMatch(/DOWN/);
    expect(await rs.run("ip -br addr show dev tunl0")).not.toContain(VIP);
  });
});
