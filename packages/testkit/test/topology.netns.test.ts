// Netns tier: real traffic between two namespaces, through a bridge in a third.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canUseNetns, type Netns, Topology, waitFor } from "../src/index.js";

const SERVER = `
const http = require("node:http");
http.createServer((req, res) => res.end("hello from " + process.argv[1] + " to " + req.socket.remoteAddress))
  .listen(8080, "10.77.0.2", () => console.log("listening"));
`;

describe.skipIf(!canUseNetns())("Topology (netns tier)", () => {
  let topo: Topology;
  let client: Netns;
  let server: Netns;

  beforeAll(async () => {
    topo = await Topology.create("testkit");
    client = await topo.addNamespace("client");
    server = await topo.addNamespace("server");
    const br = await topo.addBridge();
    await topo.attach(client, br, { addr: ["10.77.0.1/24", "fd77::1/64"] });
    await topo.attach(server, br, { addr: ["10.77.0.2/24", "fd77::2/64"] });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("carries an HTTP exchange from one namespace to another over the bridge", async () => {
    const proc = server.spawn(["node", "-e", SERVER, "server-ns"]);
    await waitFor(() => proc.output().includes("listening"), { what: "server listening" });
    const r = await client.exec([
      "node",
      "-e",
      "fetch('http://10.77.0.2:8080/').then(r=>r.text()).then(t=>console.log(t))",
    ]);
    expect(r.code).toBe(0);
    // The server saw the client's namespace address: the bytes crossed the veth/bridge path.
    expect(r.stdout.trim()).toBe("hello from server-ns to 10.77.0.1");
  });

  it("isolates namespaces: the server address is not reachable from the host", async () => {
    const r = await client.exec(["ip", "-j", "addr", "show"]);
    expect(r.stdout).toContain("10.77.0.1");
    const hostAddrs = await import("node:os").then((os) => JSON.stringify(os.networkInterfaces()));
    expect(hostAddrs).not.toContain("10.77.0.1");
  });

  it("carries IPv6 TCP between the namespaces", async () => {
    const srv = `require("node:net").createServer((s) => s.end("v6 " + s.remoteAddress)).listen(9090, "fd77::2", () => console.log("listening"))`;
    const proc = server.spawn(["node", "-e", srv]);
    await waitFor(() => proc.output().includes("listening"), { what: "v6 server listening" });
    const cli = `const s = require("node:net").connect(9090, "fd77::2"); let d = ""; s.on("data", (c) => (d += c)); s.on("end", () => console.log(d));`;
    const r = await client.exec(["node", "-e", cli]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("v6 fd77::1");
  });

  it("deletes every namespace and kills its processes on destroy", async () => {
    const t2 = await Topology.create("gone");
    const ns = await t2.addNamespace("x");
    const p = ns.spawn(["sleep", "30"]);
    expect(existsSync(ns.path)).toBe(true);
    await t2.destroy();
    expect(existsSync(ns.path)).toBe(false);
    expect(await p.exited).not.toBe(0);
  });
});
