// Kernel tier (inside tools/vm): client → director (the kernel's IPVS, NAT) → real server, each in
// its own namespace. Fails if the bytes do not arrive or do not go through IPVS.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Netns, Topology, waitFor } from "../src/index.js";

const VIP = "10.30.0.100";
const RIP = "10.40.0.11";

describe("IPVS NAT through three namespaces", () => {
  let topo: Topology;
  let client: Netns;
  let director: Netns;
  let server: Netns;

  beforeAll(async () => {
    topo = await Topology.create("nat");
    client = await topo.addNamespace("client");
    director = await topo.addNamespace("director");
    server = await topo.addNamespace("server");
    await topo.link(client, director, { a: "10.30.0.2/24", b: ["10.30.0.1/24", `${VIP}/24`] });
    await topo.link(director, server, { a: "10.40.0.1/24", b: `${RIP}/24` });
    await director.sysctl("net.ipv4.ip_forward", 1);
    await client.addRoute("default via 10.30.0.1");
    // The real server must be routable before IPVS accepts it ("address not unicast" otherwise).
    await server.addRoute("default via 10.40.0.1");
    await director.run(`ipvsadm -A -t ${VIP}:80 -s rr && ipvsadm -a -t ${VIP}:80 -r ${RIP}:8080 -m`);
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("balances an HTTP request to the real server and counts it in the kernel", async () => {
    const code = `require("node:http").createServer((q, r) => r.end("real server saw " + q.socket.remoteAddress + " ask for " + q.headers.host)).listen(8080, "${RIP}", () => console.log("up"))`;
    const web = server.spawn(["node", "-e", code]);
    await waitFor(() => web.output().includes("up"), { what: "real server listening", timeoutMs: 30_000 });

    const r = await client.exec(["curl", "-s", "--max-time", "20", `http://${VIP}/`]);
    expect(r.code, r.stderr).toBe(0);
    // NAT keeps the client's address (the server saw 10.30.0.2) and the VIP as the Host.
    expect(r.stdout).toBe(`real server saw 10.30.0.2 ask for ${VIP}`);

    // The kernel folds its per-CPU counters into the stats it reports every 2 s (estimator).
    const conns = await waitFor(
      async () => {
        const stats = await director.run("ipvsadm -Ln --stats");
        const line = stats.split("\n").find((l) => l.includes(`${RIP}:8080`));
        return Number(line?.trim().split(/\s+/)[2] ?? 0);
      },
      { what: "the connection counted by IPVS", timeoutMs: 15_000, intervalMs: 500 },
    );
    expect(conns).toBe(1);
  });

  it("does not reach the server when IPVS has no service for the VIP", async () => {
    await director.run(`ipvsadm -D -t ${VIP}:80`);
    const r = await client.exec(["curl", "-s", "--max-time", "3", `http://${VIP}/`]);
    expect(r.code).not.toBe(0);
  });
});
