// Kernel tier (inside tools/vm): `explain` (explainPick, what `GET /api/explain` and `lvsctl
// explain` answer) against the kernel's own choice. For every scheduler whose pick depends only on
// what IPVS reports (weights, thresholds, connection counters, the packet), a service in a real
// IPVS table with connections held open through it: before each new connection, explain reads the
// table and names a real server; the client then connects from exactly that address and port and
// /proc/net/ip_vs_conn must show the kernel sent it there. rr/wrr/lblc/lblcr/twos keep state IPVS
// does not report; explain says so (exact: false) and they are not compared here.
import { parseAddress } from "@lvs/inet";
import { IpvsClient, parseConnections, readConnectionsFile } from "@lvs/ipvs";
import { type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explainPick } from "../src/index.js";

const VIP = "10.31.0.100";
const RIPS = ["10.41.0.11", "10.41.0.12", "10.41.0.13"];
const CLIENTS = Array.from({ length: 12 }, (_, i) => `10.31.0.${10 + i}`);
const RPORT = 8080;

/** Scheduler, its flags, and [weight, upper threshold] per real server (ovf compares active to weight). */
const CASES: Array<{ sched: string; flags?: string; dests: Array<[number, number]> }> = [
  {
    sched: "lc",
    dests: [
      [1, 0],
      [1, 0],
      [1, 0],
    ],
  },
  {
    sched: "wlc",
    dests: [
      [3, 0],
      [2, 0],
      [1, 0],
    ],
  },
  {
    sched: "sed",
    dests: [
      [3, 0],
      [2, 0],
      [1, 0],
    ],
  },
  {
    sched: "nq",
    dests: [
      [3, 0],
      [2, 0],
      [1, 0],
    ],
  },
  {
    sched: "fo",
    dests: [
      [3, 2],
      [2, 0],
      [1, 0],
    ],
  },
  {
    sched: "ovf",
    dests: [
      [2, 0],
      [3, 0],
      [1, 0],
    ],
  },
  {
    sched: "sh",
    dests: [
      [3, 0],
      [2, 0],
      [1, 0],
    ],
  },
  {
    sched: "sh",
    flags: "sh-port",
    dests: [
      [1, 0],
      [1, 0],
      [2, 0],
    ],
  },
  {
    sched: "dh",
    dests: [
      [1, 0],
      [2, 0],
      [1, 0],
    ],
  },
  {
    sched: "mh",
    dests: [
      [2, 0],
      [1, 0],
      [1, 0],
    ],
  },
];
const CONNS_PER_CASE = 7;

let topo: Topology;
let client: Netns;
let director: Netns;
let servers: Netns;
let web: SpawnedProcess;
let holder: SpawnedProcess;
let ipvs: IpvsClient;

// Holds connections open from the client namespace: stdin "src sport dst dport", stdout
// "ok src:sport" or "err src:sport CODE" once the handshake finished (or failed).
const HOLDER = `
const net = require("node:net");
const held = [];
require("node:readline").createInterface({ input: process.stdin }).on("line", (l) => {
  const [src, sport, dst, dport] = l.trim().split(" ");
  const s = net.connect({ host: dst, port: Number(dport), localAddress: src, localPort: Number(sport) });
  s.setTimeout(15000, () => { s.destroy(); console.log("err " + src + ":" + sport + " TIMEOUT"); });
  s.once("connect", () => { s.setTimeout(0); held.push(s); console.log("ok " + src + ":" + sport); });
  s.once("error", (e) => console.log("err " + src + ":" + sport + " " + (e.code || e)));
});
console.log("ready");
`;
const SERVER = `
const held = [];
require("node:net").createServer((s) => { held.push(s); s.on("error", () => {}); })
  .listen(${RPORT}, "0.0.0.0", () => console.log("up"));
`;

async function connect(src: string, sport: number, vport: number): Promise<void> {
  holder.child.stdin!.write(`${src} ${sport} ${VIP} ${vport}\n`);
  const tag = `${src}:${sport}`;
  await waitFor(() => holder.output().includes(`ok ${tag}\n`) || holder.output().includes(`err ${tag} `), {
    what: `connection from ${tag}`,
    timeoutMs: 30_000,
    intervalMs: 20,
  });
  expect(holder.output()).toContain(`ok ${tag}\n`);
}

/** The real server the kernel gave this client's connection, once it counts as established. */
async function kernelPick(src: string, sport: number): Promise<string> {
  const want = parseAddress(src).text;
  return waitFor(
    () => {
      const c = parseConnections(readConnectionsFile(director.path)).connections.find(
        (e) => parseAddress(e.clientAddress).text === want && e.clientPort === sport,
      );
      return c && c.state === "ESTABLISHED" ? `${parseAddress(c.destAddress).text}:${c.destPort}` : undefined;
    },
    { what: `IPVS entry for ${src}:${sport}`, timeoutMs: 15_000, intervalMs: 20 },
  );
}

beforeAll(async () => {
  topo = await Topology.create("explain");
  client = await topo.addNamespace("client");
  director = await topo.addNamespace("director");
  servers = await topo.addNamespace("rs");
  await topo.link(client, director, { a: CLIENTS.map((a) => `${a}/24`), b: ["10.31.0.1/24", `${VIP}/24`] });
  await topo.link(director, servers, { a: "10.41.0.1/24", b: RIPS.map((a) => `${a}/24`) });
  await director.sysctl("net.ipv4.ip_forward", 1);
  await client.addRoute("default via 10.31.0.1");
  await servers.addRoute("default via 10.41.0.1");
  web = servers.spawn(["node", "-e", SERVER]);
  holder = client.spawn(["node", "-e", HOLDER], { stdio: ["pipe", "pipe", "pipe"] });
  await waitFor(() => web.output().includes("up") && holder.output().includes("ready"), {
    what: "server and client helpers",
    timeoutMs: 60_000,
  });
  ipvs = await IpvsClient.open({ netns: director.path, timeoutMs: 20_000 });
}, 120_000);

afterAll(async () => {
  ipvs?.close();
  holder?.kill();
  web?.kill();
  await topo?.destroy();
});

describe("explain names the real server the kernel then picks", () => {
  CASES.forEach((c, k) => {
    const vport = 2000 + k;
    it(`${c.sched}${c.flags ? ` (${c.flags})` : ""}: ${CONNS_PER_CASE} connections, each predicted`, async () => {
      await director.run(`ipvsadm -A -t ${VIP}:${vport} -s ${c.sched}${c.flags ? ` -b ${c.flags}` : ""}`);
      for (let i = 0; i < RIPS.length; i++) {
        const [w, x] = c.dests[i]!;
        await director.run(
          `ipvsadm -a -t ${VIP}:${vport} -r ${RIPS[i]}:${RPORT} -m -w ${w}${x ? ` -x ${x}` : ""}`,
        );
      }
      const mismatches: string[] = [];
      for (let n = 0; n < CONNS_PER_CASE; n++) {
        const src = CLIENTS[(n * 5 + k) % CLIENTS.length]!;
        const sport = 40000 + k * 100 + n;
        const entry = (await ipvs.table()).find((e) => e.service.port === vport);
        expect(entry, `service ${vport} in the table`).toBeDefined();
        const ex = explainPick(entry!, { address: src, port: sport }, `TCP/${VIP}:${vport}`, {
          address: VIP,
          port: vport,
        });
        expect(ex.exact).toBe(true);
        await connect(src, sport, vport);
        const kernel = await kernelPick(src, sport);
        if (ex.realServer !== kernel)
          mismatches.push(`#${n} ${src}:${sport}: explain ${ex.realServer}, kernel ${kernel}`);
      }
      expect(mismatches).toEqual([]);
    });
  });
});
