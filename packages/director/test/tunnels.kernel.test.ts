// Kernel tier (tools/vm): `lvs_method TUN type gue|gre` (keepalived 2.2 syntax) programmed by the
// director carries real traffic. A client reaches the VIP through a router; the director's IPVS
// encapsulates each packet (IPIP inside GUE over UDP, or GRE) to the real server, which
// decapsulates it and answers the client directly. Each encapsulation is proven by its absence:
// without the real server's decapsulation (no `ip fou` port, gre0 down) the client gets nothing.
//
//   client 10.66.1.1 ── router ──(LAN 10.66.2.0/24: director .1, real server .2)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directorCheckArgv } from "./helpers.js";

const GUE_VIP = "10.66.3.100";
const GRE_VIP = "10.66.3.101";
const GUE_PORT = 6080;

const CONF = `global_defs {
  router_id tunnels
}
virtual_server ${GUE_VIP} 80 {
  lb_algo rr
  lvs_method TUN type gue port ${GUE_PORT}
  protocol TCP
  real_server 10.66.2.2 80 {
  }
}
virtual_server ${GRE_VIP} 80 {
  lb_algo rr
  lvs_method TUN type gre
  protocol TCP
  real_server 10.66.2.2 80 {
  }
}
`;

let topo: Topology;
let client: Netns;
let router: Netns;
let director: Netns;
let rs: Netns;
let dir: string;
let daemon: SpawnedProcess;

const curl = (vip: string, maxTime: number) =>
  client.exec(["curl", "-s", "--max-time", String(maxTime), `http://${vip}/`], {
    timeoutMs: (maxTime + 5) * 1000,
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "lvs-tunnels-"));
  topo = await Topology.create("tun");
  client = await topo.addNamespace("client");
  router = await topo.addNamespace("router");
  director = await topo.addNamespace("director");
  rs = await topo.addNamespace("rs");
  const lan = await topo.addBridge("lan");
  await topo.link(client, router, { ifA: "eth0", ifB: "eth0", a: "10.66.1.1/24", b: "10.66.1.254/24" });
  await topo.attach(router, lan, { addr: "10.66.2.254/24", ifname: "eth1" });
  await topo.attach(director, lan, { addr: "10.66.2.1/24", ifname: "eth0" });
  await topo.attach(rs, lan, { addr: "10.66.2.2/24", ifname: "eth0" });
  await client.run("ip route add default via 10.66.1.254");
  // The router sends both VIPs to the director (a static route, as an upstream router would).
  await router.run(
    `sysctl -qw net.ipv4.ip_forward=1 && ip route add ${GUE_VIP}/32 via 10.66.2.1 && ip route add ${GRE_VIP}/32 via 10.66.2.1`,
  );
  await director.run(
    `ip route add default via 10.66.2.254 && ip addr add ${GUE_VIP}/32 dev lo && ip addr add ${GRE_VIP}/32 dev lo`,
  );
  // The real server: default route back via the router; the VIPs on tunl0 (IPIP, what GUE
  // carries) and gre0, reverse-path filtering relaxed for decapsulated packets.
  await rs.run(
    [
      "ip route add default via 10.66.2.254",
      "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0",
      "ip link set tunl0 up",
      `ip addr add ${GUE_VIP}/32 dev tunl0`,
      "sysctl -qw net.ipv4.conf.tunl0.rp_filter=0",
      `ip addr add ${GRE_VIP}/32 dev gre0`,
      "sysctl -qw net.ipv4.conf.gre0.rp_filter=0",
    ].join(" && "),
  );
  rs.spawn([
    "node",
    "-e",
    "require('http').createServer((q,s)=>s.end('served by rs\\n')).listen(80,'0.0.0.0',()=>console.log('listening'))",
  ]);
  await waitFor(async () => (await rs.run("ss -ltn")).includes(":80 "), {
    what: "real server",
    timeoutMs: 60_000,
  });
  writeFileSync(join(dir, "keepalived.conf"), CONF);
  daemon = director.spawn(directorCheckArgv(join(dir, "keepalived.conf"), dir));
  try {
    await waitFor(async () => (await director.run("ipvsadm -Ln")).split("Tunnel").length === 3, {
      what: "both tunnelled real servers programmed",
      timeoutMs: 120_000,
      intervalMs: 500,
    });
  } catch (err) {
    console.log(daemon.output().slice(-3000));
    throw err;
  }
}, 240_000);

afterAll(async () => {
  await topo?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("TUN with GUE and GRE encapsulation carries traffic to a real server", () => {
  it("the kernel holds what keepalived's syntax asked for (ipvsadm --tun-info)", async () => {
    const info = await director.run("ipvsadm -Ln --tun-info");
    console.log(info);
    expect(info).toMatch(new RegExp(`-> 10\\.66\\.2\\.2:80\\s+Tunnel\\s+gue:${GUE_PORT}:\\S+\\s+1\\s`));
    expect(info).toMatch(/-> 10\.66\.2\.2:80\s+Tunnel\s+gre:\S*\s+1\s/);
  });

  it("GUE: nothing without the real server's fou port; served once it decapsulates", async () => {
    expect((await curl(GUE_VIP, 3)).stdout).toBe("");
    await rs.run(`ip fou add port ${GUE_PORT} gue`);
    expect((await curl(GUE_VIP, 10)).stdout).toBe("served by rs\n");
    // The answer went straight back (DR-style): the director saw the connection, not the reply.
    expect(await director.run("ipvsadm -Lnc")).toContain(`${GUE_VIP}:80`);
  });

  it("GRE: nothing while gre0 is down; served once it is up", async () => {
    expect((await curl(GRE_VIP, 3)).stdout).toBe("");
    await rs.run("ip link set gre0 up");
    expect((await curl(GRE_VIP, 10)).stdout).toBe("served by rs\n");
  });
});
