// Kernel tier (tools/vm): the 40-line example director runs in a director namespace against the
// real IPVS; real HTTP servers in their own namespace come and go; a client sees the result.
import { fileURLToPath } from "node:url";
import { type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PROGRAM = fileURLToPath(new URL("../mini-director.mjs", import.meta.url));
const VIP = "10.61.0.100";
const RS = ["10.62.0.11", "10.62.0.12"];

const web = (ip: string) =>
  `require("node:http").createServer((q, r) => r.end("${ip}")).listen(8080, "${ip}", () => console.log("listening"))`;

describe("examples/mini-director: health checker + IPVS client", () => {
  let topo: Topology;
  let client: Netns;
  let director: Netns;
  let servers: Netns;
  let lb: SpawnedProcess;
  const webs = new Map<string, SpawnedProcess>();

  const startWeb = async (ip: string) => {
    const p = servers.spawn(["node", "-e", web(ip)]);
    webs.set(ip, p);
    await waitFor(() => p.output().includes("listening"), { what: `web ${ip}`, timeoutMs: 30_000 });
  };
  const table = () => director.run("ipvsadm -Sn");

  beforeAll(async () => {
    topo = await Topology.create("minidir");
    client = await topo.addNamespace("client");
    director = await topo.addNamespace("director");
    servers = await topo.addNamespace("servers");
    await topo.link(client, director, { a: "10.61.0.2/24", b: ["10.61.0.1/24", `${VIP}/24`] });
    await topo.link(director, servers, { a: "10.62.0.1/24", b: RS.map((ip) => `${ip}/24`) });
    await director.sysctl("net.ipv4.ip_forward", 1);
    await client.addRoute("default via 10.61.0.1");
    await servers.addRoute("default via 10.62.0.1");
    for (const ip of RS) await startWeb(ip);
    lb = director.spawn(["node", PROGRAM, `${VIP}:80`, ...RS.map((ip) => `${ip}:8080`)]);
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("puts every healthy real server into the kernel's service", async () => {
    await waitFor(
      async () =>
        RS.every((ip) => table().then((t) => t.includes(`-r ${ip}:8080 -m`))) &&
        (await table()).split("\n").filter((l) => l.startsWith("-a")).length === 2,
      {
        what: "both real servers in IPVS",
        timeoutMs: 30_000,
        intervalMs: 300,
      },
    );
    expect(await table()).toContain(`-A -t ${VIP}:80 -s wlc`);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await client.run(`curl -s --max-time 10 http://${VIP}/`)).trim());
    expect([...seen].sort()).toEqual([...RS].sort());
  });

  it("takes a failed server out and puts it back when it recovers", async () => {
    webs.get(RS[0] as string)?.kill("SIGKILL");
    await waitFor(async () => !(await table()).includes(`${RS[0]}:8080`), {
      what: "dead server removed",
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    for (let i = 0; i < 4; i++)
      expect((await client.run(`curl -s --max-time 10 http://${VIP}/`)).trim()).toBe(RS[1]);
    expect(lb.output()).toContain(`DOWN ${RS[0]}:8080`);

    await startWeb(RS[0] as string);
    await waitFor(async () => (await table()).includes(`-r ${RS[0]}:8080 -m`), {
      what: "server back",
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    expect(lb.output()).toMatch(new RegExp(`UP ${RS[0]?.replace(/\./g, "\\.")}:8080[^\\n]*\\n(.|\\n)*`));
  });
});
