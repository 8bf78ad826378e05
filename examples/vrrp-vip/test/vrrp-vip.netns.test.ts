// Netns tier: two machines keep one VIP for a plain TCP service with examples/vrrp-vip; the
// master dies (kill -9, link down) and a client on the same LAN reaches the other one at the VIP.
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PROGRAM = fileURLToPath(new URL("../vrrp-vip.mjs", import.meta.url));
const VIP = "10.71.0.100";
// The service that is not LVS: a TCP server on every address that says which machine it is.
const web = (name: string) =>
  `require("node:net").createServer((c) => c.end("${name}\\n")).listen(8080, "0.0.0.0", () => console.log("listening"))`;

describe.skipIf(!canUseNetns())("examples/vrrp-vip: a VIP for a non-LVS service", () => {
  let topo: Topology;
  let client: Netns;
  const machines: Netns[] = [];
  const routers: SpawnedProcess[] = [];

  const ask = async () =>
    (
      await client.run(
        `node -e 'const s=require("net").connect(8080,"${VIP}");s.setEncoding("utf8");s.on("data",d=>process.stdout.write(d));s.on("error",e=>{console.error(e.code);process.exit(1)})'`,
        { timeoutMs: 5_000 },
      )
    ).trim();
  const holds = async (ns: Netns) => (await ns.run("ip -4 -o addr show dev eth0")).includes(`${VIP}/24`);

  beforeAll(async () => {
    topo = await Topology.create("vrrpvip");
    const lan = await topo.addBridge("lan");
    client = await topo.addNamespace("client");
    await topo.attach(client, lan, { addr: "10.71.0.9/24" });
    for (const [i, name] of ["alpha", "beta"].entries()) {
      const ns = await topo.addNamespace(name);
      await topo.attach(ns, lan, { addr: `10.71.0.${i + 1}/24`, ifname: "eth0" });
      const w = ns.spawn(["node", "-e", web(name)]);
      await waitFor(() => w.output().includes("listening"), { what: `${name} service`, timeoutMs: 20_000 });
      machines.push(ns);
    }
    // alpha has the higher priority; 0.1 s VRRPv3 adverts keep the test short.
    for (const [i, ns] of machines.entries()) {
      routers.push(
        ns.spawn([
          "node",
          PROGRAM,
          "--interface",
          "eth0",
          "--vip",
          `${VIP}/24`,
          "--priority",
          String(200 - i * 100),
          "--advert",
          "0.1",
        ]),
      );
    }
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("the higher priority machine holds the VIP and answers on it", async () => {
    await waitFor(() => holds(machines[0] as Netns), {
      what: "alpha holds the VIP",
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    expect(await holds(machines[1] as Netns)).toBe(false);
    expect(await ask()).toBe("alpha");
    expect(routers[0]?.output()).toContain("(VI_WEB) Entering MASTER STATE");
    expect(routers[1]?.output()).toContain("(VI_WEB) Entering BACKUP STATE");
  });

  it("when alpha dies, beta takes the VIP and the client reaches beta at the same address", async () => {
    routers[0]?.kill("SIGKILL");
    await (machines[0] as Netns).run("ip link set eth0 down"); // the machine is gone from the LAN
    await waitFor(() => holds(machines[1] as Netns), {
      what: "beta holds the VIP",
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    // beta's gratuitous ARP moved the client's neighbour entry: the same VIP now reaches beta.
    await waitFor(async () => (await ask().catch(() => "")) === "beta", {
      what: "client reaches beta",
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    expect(routers[1]?.output()).toContain("(VI_WEB) Entering MASTER STATE");
  });
});
