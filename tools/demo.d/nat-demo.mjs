// Runs inside tools/vm: client → director (IPVS NAT, programmed by lvsctl) → 3 real servers.
import { Topology } from "../../packages/testkit/dist/index.js";

const sched = process.argv[2] ?? "wrr";
const LVSCTL = ["node", new URL("../../packages/cli/dist/bin.cjs", import.meta.url).pathname];
const VIP = "10.10.0.100";
const servers = [
  { name: "rs1", ip: "10.20.0.11", weight: 3 },
  { name: "rs2", ip: "10.20.0.12", weight: 2 },
  { name: "rs3", ip: "10.20.0.13", weight: 1 },
];
const say = (s) => process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);

const topo = await Topology.create("demo");
try {
  const client = await topo.addNamespace("client");
  const director = await topo.addNamespace("director");
  const lan = await topo.addBridge("rs");
  await topo.link(client, director, { a: "10.10.0.2/24", b: ["10.10.0.1/24", `${VIP}/24`] });
  await topo.attach(director, lan, { addr: "10.20.0.1/24" });
  await director.sysctl("net.ipv4.ip_forward", 1);
  await client.addRoute("default via 10.10.0.1");
  for (const s of servers) {
    s.ns = await topo.addNamespace(s.name);
    await topo.attach(s.ns, lan, { addr: `${s.ip}/24` });
    await s.ns.addRoute("default via 10.20.0.1");
    const code = `require("node:http").createServer((q, r) => r.end(${JSON.stringify(s.name)})).listen(8080, ${JSON.stringify(s.ip)}, () => console.log("up"))`;
    s.proc = s.ns.spawn(["node", "-e", code]);
  }
  for (const s of servers)
    while (!s.proc.output().includes("up")) await new Promise((r) => setTimeout(r, 50));

  const lvsctl = async (args) => {
    const r = await director.exec([...LVSCTL, "ipvs", ...args]);
    process.stdout.write(`# lvsctl ipvs ${args.join(" ")}\n${r.stdout}${r.stderr}`);
    if (r.code !== 0) throw new Error(`lvsctl ipvs ${args.join(" ")} failed (${r.code})`);
    return r.stdout;
  };
  say(`director: IPVS NAT service ${VIP}:80, scheduler ${sched}`);
  await lvsctl(["-A", "-t", `${VIP}:80`, "-s", sched]);
  for (const s of servers)
    await lvsctl(["-a", "-t", `${VIP}:80`, "-r", `${s.ip}:8080`, "-m", "-w", String(s.weight)]);
  await lvsctl(["-Ln"]);

  const burst = async (n) => {
    const counts = {};
    const js = `(async()=>{const o=[];for(let i=0;i<${n};i++){o.push(await (await fetch("http://${VIP}/",{headers:{connection:"close"}})).text())}console.log(o.join(" "))})()`;
    const r = await client.exec(["node", "-e", js]);
    if (r.code !== 0) throw new Error(`client failed: ${r.stderr}`);
    for (const w of r.stdout.trim().split(" ")) counts[w] = (counts[w] ?? 0) + 1;
    console.log(`client got ${n} answers:`, JSON.stringify(counts));
    return counts;
  };
  say("client: 60 requests to the VIP");
  await burst(60);
  say("rs2 fails: taken out of the service (what a health checker does)");
  await lvsctl(["-d", "-t", `${VIP}:80`, "-r", `${servers[1].ip}:8080`]);
  await burst(30);
  say("rs2 is back");
  await lvsctl(["-a", "-t", `${VIP}:80`, "-r", `${servers[1].ip}:8080`, "-m", "-w", "2"]);
  await burst(30);
  say("the kernel's table and counters");
  await lvsctl(["-Ln", "--stats"]);
  await lvsctl(["-Sn"]);
} finally {
  await topo.destroy();
}
