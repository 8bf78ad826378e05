// Kernel tier (inside tools/vm): the kernel's own sync daemon is our peer.
//  - a kernel master with clients holding connections through a NAT service → our listener on the
//    same link sees exactly the master's connections (ipvsadm -Lcn), sync_version 0 and 1;
//  - our sender → a kernel backup (ipvsadm --start-daemon backup) → its ipvsadm -Lcn shows them.
// LVS_SYNC_CAPTURE=1 prints the kernel's datagrams as hex (golden bytes for test/fixtures/).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Bridge, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PEER = fileURLToPath(new URL("./peers/peer.mjs", import.meta.url));
const N = 5;

const RS_SERVER = `
  require("node:net").createServer((s) => s.on("data", (d) => s.write(d))).listen(8080, "::", () => console.log("rs up"));`;
// Opens N connections, sends one byte on each (the 3rd packet: the kernel syncs at sync_threshold 3),
// waits for the echo, prints the local ports and holds the connections.
const CLIENT = `
  const net = require("node:net");
  const n = Number(process.argv[1]);
  const host = process.argv[2];
  const socks = [];
  let done = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host, port: 80 }, () => s.write("x"));
    s.once("data", () => { if (++done === n) console.log("held " + socks.map((x) => x.localPort).join(",")); });
    socks.push(s);
  }
  setInterval(() => {}, 1000);`;

function parseIpvsadmLcn(out: string): string[] {
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 6 && /^(TCP|UDP|SCTP)$/.test(c[0] as string))
    .map(([pro, , state, src, virt, dst]) => `${pro} ${src} ${virt} ${dst} ${state}`);
}

describe("sync against the kernel's sync daemon", () => {
  let topo: Topology;
  let client: Netns;
  let director: Netns;
  let rs: Netns;
  let listener: Netns;
  let backup: Netns;
  let syncBridge: Bridge;

  beforeAll(async () => {
    // Explicit: module autoload may not reach modprobe from inside the VM's chroot.
    for (const m of ["veth", "bridge", "ip_vs", "ip_vs_rr"]) execFileSync("modprobe", [m]);
    topo = await Topology.create("sync-k");
    client = await topo.addNamespace("cl");
    director = await topo.addNamespace("dir");
    rs = await topo.addNamespace("rs");
    listener = await topo.addNamespace("ls");
    backup = await topo.addNamespace("bk");
    await topo.link(client, director, {
      a: ["10.1.0.5/24", "fd01::5/64"],
      b: ["10.1.0.1/24", "fd01::1/64"],
      ifA: "eth0",
      ifB: "eth0",
    });
    await topo.link(rs, director, {
      a: ["10.0.2.11/24", "fd02::11/64"],
      b: ["10.0.2.1/24", "fd02::1/64"],
      ifA: "eth0",
      ifB: "eth1",
    });
    syncBridge = await topo.addBridge("sync");
    const br = syncBridge;
    await topo.attach(director, br, { addr: "192.168.90.1/24", ifname: "eth2" });
    await topo.attach(listener, br, { addr: "192.168.90.2/24", ifname: "eth0" });
    await topo.attach(backup, br, { addr: "192.168.90.3/24", ifname: "eth0" });
    await client.addRoute("default via 10.1.0.1");
    await client.run("ip -6 route add default via fd01::1");
    await rs.run("ip -6 route add default via fd02::1");
    await director.sysctl("net.ipv6.conf.all.forwarding", 1);
    await rs.addRoute("default via 10.0.2.1");
    await director.sysctl("net.ipv4.ip_forward", 1);
    await director.run(
      "ipvsadm -A -t 10.1.0.1:80 -s rr && ipvsadm -a -t 10.1.0.1:80 -r 10.0.2.11:8080 -m && ipvsadm -A -t [fd01::1]:80 -s rr && ipvsadm -a -t [fd01::1]:80 -r [fd02::11]:8080 -m",
    );
    await director.run("ipvsadm --start-daemon master --mcast-interface eth2 --syncid 1");
    // The backup listens for syncid 2 only: our sender's, not the kernel master's.
    await backup.run(
      "ipvsadm -A -t 10.1.0.1:80 -s rr && ipvsadm -a -t 10.1.0.1:80 -r 10.0.2.11:8080 -m && ipvsadm -A -t [fd01::1]:80 -s rr && ipvsadm -a -t [fd01::1]:80 -r [fd02::11]:8080 -m",
    );
    await backup.run("ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 2");
    const srv = rs.spawn(["node", "-e", RS_SERVER]);
    await waitFor(() => srv.output().includes("rs up"), { what: "real server", timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  async function holdConnections(host: string): Promise<{ proc: SpawnedProcess; ports: number[] }> {
    const proc = client.spawn(["node", "-e", CLIENT, String(N), host]);
    await waitFor(() => /held [\d,]+/.test(proc.output()), {
      what: `${N} held connections`,
      timeoutMs: 60_000,
    });
    const ports = (/held ([\d,]+)/.exec(proc.output())?.[1] ?? "").split(",").map(Number);
    return { proc, ports };
  }

  const received = new Map<number, string[]>();

  it.each([
    [1, 4],
    [0, 4],
    [1, 6],
  ] as const)("sync_version %i, IPv%i connections: our listener sees exactly the master's connections", async (version, family) => {
    await director.sysctl("net.ipv4.vs.sync_version", version);
    const rx = listener.spawn([
      "node",
      PEER,
      "listen",
      JSON.stringify({ interface: "eth0", syncId: 1, count: N, timeoutMs: 60_000, hex: true }),
    ]);
    await waitFor(() => rx.output().includes("ready"), { what: "listener", timeoutMs: 30_000 });
    // held (idle) until teardown, so no later state change is synced
    const { ports } = await holdConnections(family === 4 ? "10.1.0.1" : "fd01::1");
    const clientPrefix = family === 4 ? "TCP 10.1.0.5:" : "TCP [fd01::5]:";
    expect(await rx.exited, rx.output()).toBe(0);
    const lines = rx
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map(
        (l) =>
          JSON.parse(l) as {
            kind: string;
            version?: number;
            hex?: string;
            connections?: Array<Record<string, unknown>>;
          },
      );
    const accepted = lines.filter((l) => l.kind === "accepted");
    expect(accepted.every((l) => l.version === version)).toBe(true);
    if (process.env.LVS_SYNC_CAPTURE)
      for (const l of accepted) console.log(`GOLDEN v${version} IPv${family} ${l.hex}`);
    const got = accepted
      .flatMap((l) => l.connections ?? [])
      .map((c) => {
        const ep = (a: unknown, p: unknown) => (c.af === "inet6" ? `[${a}]:${p}` : `${a}:${p}`);
        return `${c.protocol} ${ep(c.clientAddress, c.clientPort)} ${ep(c.virtualAddress, c.virtualPort)} ${ep(c.destAddress, c.destPort)} ${c.state}`;
      })
      .sort();
    const master = parseIpvsadmLcn(await director.run("ipvsadm -Lcn"))
      .filter((l) => ports.some((p) => l.startsWith(`${clientPrefix}${p} `)))
      .sort();
    expect(master).toHaveLength(N);
    expect(got).toEqual(master);
    if (family === 4) received.set(version, got);
  });

  it("our sender → kernel backup: ipvsadm -Lcn on the backup shows the connections", async () => {
    const lines = received.get(1) ?? [];
    expect(lines).toHaveLength(N);
    const r = await listener.exec([
      "node",
      PEER,
      "send",
      JSON.stringify({ interface: "eth0", syncId: 2, lines }),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const shown = await waitFor(
      async () => {
        const l = parseIpvsadmLcn(await backup.run("ipvsadm -Lcn")).sort();
        return l.length >= N ? l : undefined;
      },
      { what: "backup connections", timeoutMs: 30_000 },
    );
    expect(shown).toEqual(lines);
  });

  it("bulk resync: a backup started after the connections were established receives them all", async () => {
    const late = await topo.addNamespace("bk2");
    const master = parseIpvsadmLcn(await director.run("ipvsadm -Lcn")).sort();
    expect(master.length).toBeGreaterThanOrEqual(3 * N);
    await topo.attach(late, syncBridge, { addr: "192.168.90.4/24", ifname: "eth0" });
    await late.run(
      "ipvsadm -A -t 10.1.0.1:80 -s rr && ipvsadm -a -t 10.1.0.1:80 -r 10.0.2.11:8080 -m && ipvsadm -A -t [fd01::1]:80 -s rr && ipvsadm -a -t [fd01::1]:80 -r [fd02::11]:8080 -m",
    );
    await late.run("ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 3");
    const r = await director.exec(["node", PEER, "resync", JSON.stringify({ interface: "eth2", syncId: 3 })]);
    expect(r.code, r.stderr).toBe(0);
    const shown = await waitFor(
      async () => {
        const l = parseIpvsadmLcn(await late.run("ipvsadm -Lcn")).sort();
        return l.length >= master.length ? l : undefined;
      },
      { what: "resynced connections", timeoutMs: 30_000 },
    );
    expect(shown).toEqual(master);
  });

  it("across L3: master on link A, relay on each side of a routed path, kernel backup on link B", async () => {
    const relayA = await topo.addNamespace("ra");
    const router = await topo.addNamespace("rt");
    const relayB = await topo.addNamespace("rb");
    const far = await topo.addNamespace("bkf");
    const linkB = await topo.addBridge("b");
    await topo.attach(relayA, syncBridge, { addr: "192.168.90.5/24", ifname: "eth0" });
    await topo.link(relayA, router, { a: "10.99.0.1/24", b: "10.99.0.2/24", ifA: "wan0", ifB: "eth0" });
    await topo.link(router, relayB, { a: "10.98.0.2/24", b: "10.98.0.1/24", ifA: "eth1", ifB: "wan0" });
    await topo.attach(relayB, linkB, { addr: "192.168.91.2/24", ifname: "eth0" });
    await topo.attach(far, linkB, { addr: "192.168.91.3/24", ifname: "eth0" });
    await router.sysctl("net.ipv4.ip_forward", 1);
    await relayA.addRoute("10.98.0.0/24 via 10.99.0.2");
    await relayB.addRoute("10.99.0.0/24 via 10.98.0.2");
    await far.run(
      "ipvsadm -A -t 10.1.0.1:80 -s rr && ipvsadm -a -t 10.1.0.1:80 -r 10.0.2.11:8080 -m && ipvsadm -A -t [fd01::1]:80 -s rr && ipvsadm -a -t [fd01::1]:80 -r [fd02::11]:8080 -m",
    );
    await far.run("ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 1");
    const keyHex = "42".repeat(32);
    const ra = relayA.spawn([
      "node",
      PEER,
      "relay",
      JSON.stringify({
        interface: "eth0",
        listen: { address: "10.99.0.1" },
        peer: { address: "10.98.0.1" },
        keyHex,
      }),
    ]);
    const rb = relayB.spawn([
      "node",
      PEER,
      "relay",
      JSON.stringify({
        interface: "eth0",
        listen: { address: "10.98.0.1" },
        peer: { address: "10.99.0.1" },
        keyHex,
      }),
    ]);
    await waitFor(() => ra.output().includes("ready") && rb.output().includes("ready"), {
      what: "relays",
      timeoutMs: 30_000,
    });
    await director.sysctl("net.ipv4.vs.sync_version", 1);
    const { ports } = await holdConnections("10.1.0.1");
    const expected = parseIpvsadmLcn(await director.run("ipvsadm -Lcn"))
      .filter((l) => ports.some((p) => l.startsWith(`TCP 10.1.0.5:${p} `)))
      .sort();
    expect(expected).toHaveLength(N);
    const shown = await waitFor(
      async () => {
        const l = parseIpvsadmLcn(await far.run("ipvsadm -Lcn")).sort();
        return l.length >= N ? l : undefined;
      },
      { what: "relayed connections on the far backup", timeoutMs: 60_000 },
    );
    expect(shown).toEqual(expected);
    rb.kill("SIGTERM");
    expect(await rb.exited).toBe(0);
    const stats = JSON.parse(
      rb
        .output()
        .split("\n")
        .find((l) => l.startsWith("{")) ?? "{}",
    );
    expect(stats.remulticast).toBeGreaterThanOrEqual(1);
    expect(stats.auth.dropped).toBe(0);
  });
});
