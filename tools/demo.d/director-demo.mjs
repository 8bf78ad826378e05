// The README's main command (tools/demo runs this inside tools/vm, whose kernel has IPVS):
// `lvsctl up -f examples/keepalived/nat-director.conf` in a director namespace — VRRP brings the
// VIP up, HTTP checks put three real servers into the kernel's IPVS — and a client namespace
// sends requests. A real server fails and comes back, one is drained, and `lvsctl status`
// shows each step. Everything runs in namespaces this script creates and removes.
//
// `--dataplane proxy` (tools/demo proxy): the same on the host, no VM — the director forwards with
// its userspace proxy instead of the kernel's IPVS, and the steps that show the kernel's table are
// left out. It shows the failure-detection step at the host's speed, without the emulator.
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Topology, waitFor } from "../../packages/testkit/dist/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const LVSCTL = ["node", join(ROOT, "packages/cli/dist/bin.cjs")];
const CONF = join(ROOT, "examples/keepalived/nat-director.conf");
const VIP = "10.10.0.100";
const servers = [
  { name: "rs1", ip: "10.20.0.11" },
  { name: "rs2", ip: "10.20.0.12" },
  { name: "rs3", ip: "10.20.0.13" },
];
const bold = (s) => `\x1b[1m${s}\x1b[0m`;
const say = (s) => process.stdout.write(`\n${bold(`== ${s}`)}\n`);
const dir = mkdtempSync(join(tmpdir(), "lvs-demo-"));
const SOCK = join(dir, "director.sock");

const PROXY = process.argv.includes("--dataplane") && process.argv.at(-1) === "proxy";
const DATAPLANE = PROXY ? "proxy" : "ipvs";

const topo = await Topology.create("demo");
let daemon;
try {
  const client = await topo.addNamespace("client");
  const director = await topo.addNamespace("director");
  const lan = await topo.addBridge("rs");
  await topo.link(client, director, { a: "10.10.0.2/24", b: "10.10.0.1/24" }); // director: eth0
  await topo.attach(director, lan, { addr: "10.20.0.1/24" });
  await director.sysctl("net.ipv4.ip_forward", 1);
  // The proxy listens on the VIP: allowed before VRRP has put the address up (as with haproxy).
  if (PROXY) await director.sysctl("net.ipv4.ip_nonlocal_bind", 1);
  await client.addRoute("default via 10.10.0.1");
  const web = (s) =>
    `require("node:http").createServer((q, r) => r.end(${JSON.stringify(s.name)})).listen(8080, ${JSON.stringify(s.ip)}, () => console.log("up"))`;
  const startWeb = async (s) => {
    s.proc = s.ns.spawn(["node", "-e", web(s)]);
    await waitFor(() => s.proc.output().includes("up"), { what: `${s.name} listening`, timeoutMs: 30_000 });
  };
  for (const s of servers) {
    s.ns = await topo.addNamespace(s.name);
    await topo.attach(s.ns, lan, { addr: `${s.ip}/24` });
    await s.ns.addRoute("default via 10.20.0.1");
    await startWeb(s);
  }

  const run = async (args, { show = true } = {}) => {
    const r = await director.exec([...LVSCTL, ...args]);
    if (show) process.stdout.write(`${bold(`# lvsctl ${args.join(" ")}`)}\n${r.stdout}${r.stderr}`);
    if (r.code !== 0) throw new Error(`lvsctl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const status = () =>
    run(["status", "--socket", SOCK, "--json"], { show: false }).then((t) => JSON.parse(t));
  // Polls read the API socket from this process: spawning `lvsctl status` per poll costs seconds
  // under the emulator, and that cost would be measured as detection time.
  /** GET a path of the director's API over its unix socket, as parsed JSON. */
  const apiGet = (path) =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath: SOCK, path }, (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(body))));
      });
      req.on("error", reject);
      req.end();
    });
  const apiStatus = () => apiGet("/status");
  const rsState = async (ip) =>
    (await apiStatus()).virtualServers[0]?.realServers.find((r) => r.address === ip)?.state;
  // The status page's state: each real server's recent checks and transitions, with their times.
  const apiState = () => apiGet("/api/state");
  // Whether the dataplane forwards to a real server: the kernel's table read over netlink in the
  // director's namespace (IPVS), or the proxy's own table (it lives in the daemon: its status).
  const { IpvsClient } = await import("../../packages/ipvs/dist/index.js");
  const kernel = PROXY ? undefined : await IpvsClient.open({ netns: director.name });
  const forwardsTo = async (ip) => {
    if (!kernel) {
      const rs = (await apiStatus()).virtualServers[0]?.realServers.find((r) => r.address === ip);
      return (rs?.kernelWeight ?? 0) > 0;
    }
    const dests = await kernel.dests({ protocol: 6, address: VIP, port: 80 });
    return dests.some((d) => d.address === ip && d.weight > 0);
  };

  say("director: lvsctl up -f examples/keepalived/nat-director.conf (VRRP + LVS NAT + HTTP checks)");
  daemon = director.spawn([
    ...LVSCTL,
    "up",
    "-f",
    CONF,
    "--socket",
    SOCK,
    "--state",
    join(dir, "state.json"),
    "--log-format",
    "text",
    "--dataplane",
    DATAPLANE,
  ]);
  await waitFor(
    async () => {
      try {
        const s = await status();
        return (
          s.vrrp.instances[0]?.state === "MASTER" &&
          s.virtualServers[0]?.realServers.every((r) => r.state === "up" && r.kernelWeight > 0)
        );
      } catch {
        return false;
      }
    },
    {
      what: "VRRP master and three healthy real servers in the dataplane",
      timeoutMs: 60_000,
      intervalMs: 250,
    },
  );
  process.stdout.write(
    daemon
      .output()
      .split("\n")
      .filter((l) => /MASTER|UP|Applying|started/i.test(l))
      .slice(0, 8)
      .join("\n") + "\n",
  );
  await run(["status", "--socket", SOCK]);

  const burst = async (n) => {
    const js = `(async()=>{const o=[];for(let i=0;i<${n};i++){o.push(await (await fetch("http://${VIP}/",{headers:{connection:"close"}})).text())}console.log(o.join(" "))})()`;
    const r = await client.exec(["node", "-e", js]);
    if (r.code !== 0) throw new Error(`client failed: ${r.stderr}`);
    const counts = {};
    for (const w of r.stdout.trim().split(" ")) counts[w] = (counts[w] ?? 0) + 1;
    console.log(`client: ${n} requests to http://${VIP}/ answered by`, JSON.stringify(counts));
    return counts;
  };
  say("client: 60 requests through the VIP (wrr 3:2:1)");
  await burst(60);

  say(
    `rs2's web server dies: its HTTP check fails and the director removes it from ${PROXY ? "the proxy" : "IPVS"}`,
  );
  servers[1].proc.kill("SIGKILL");
  const t0 = Date.now();
  // Watch the dataplane itself, not the daemon's view of it: the time is the kernel's (or proxy's).
  await waitFor(async () => !(await forwardsTo(servers[1].ip)), {
    what: "rs2 gone from the dataplane",
    timeoutMs: 30_000,
    intervalMs: 10,
  });
  const gone = Date.now() - t0;
  // From the daemon's own records: the first check that ran after the kill and failed (its
  // completion time) and the transition to down. With retry 0 the first failed check marks the
  // server down (keepalived's retry × delay_before_retry adds nothing); a check runs every
  // delay_loop, so the first failed one completes within delay_loop of the kill plus one connect
  // attempt — refused at once here: the killed process's port answers with a reset.
  const rs2 = (await apiState()).virtualServers[0].realServers.find((r) => r.address === servers[1].ip);
  const firstFailed = rs2.history.checks.find((c) => c.at >= t0 && !c.ok);
  const markedDown = rs2.history.transitions.find((x) => x.at >= t0 && x.state === "down");
  const ms = (at) => (at === undefined ? "?" : `${at - t0} ms`);
  console.log(
    `rs2 killed; first failed check completed ${ms(firstFailed?.at)} after the kill (${firstFailed?.reason ?? "?"}, took ${firstFailed ? Math.round(firstFailed.latencyMs) : "?"} ms; delay_loop 1 s: due within 1 s); marked down ${ms(markedDown?.at)} after (retry 0: at the first failed check); gone from the ${PROXY ? "proxy's table" : "kernel's IPVS table"} ${gone} ms after the kill`,
  );
  await run(["status", "--socket", SOCK]);
  await burst(30);

  say("rs2 comes back: the next successful check puts it back");
  await startWeb(servers[1]);
  await waitFor(async () => (await rsState(servers[1].ip)) === "up", {
    what: "rs2 up",
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  await burst(30);

  say("drain rs1 (weight 0 now, removed once its connections end), then undrain");
  await run(["drain", `${VIP}:80`, `${servers[0].ip}:8080`, "--socket", SOCK, "--timeout", "30"]);
  await waitFor(async () => ["draining", "drained"].includes(await rsState(servers[0].ip)), {
    what: "rs1 draining",
    timeoutMs: 10_000,
  });
  await burst(20);
  await run(["status", "--socket", SOCK]);
  await run(["undrain", `${VIP}:80`, `${servers[0].ip}:8080`, "--socket", SOCK]);

  say(
    PROXY ? "a few of the Prometheus metrics" : "the kernel's own view, and a few of the Prometheus metrics",
  );
  if (!PROXY) await run(["ipvs", "-Ln", "--stats"]);
  const metrics = await director.exec(["curl", "-s", "--unix-socket", SOCK, "http://lvs/metrics"]);
  process.stdout.write(
    `${metrics.stdout
      .split("\n")
      .filter((l) => /^lvs_(backend_weight|vrrp_state|reconcile_passes_total)/.test(l))
      .join("\n")}\n`,
  );

  say(
    PROXY
      ? "SIGTERM: VRRP hands the VIP over (priority 0), the proxy's listeners close with the daemon"
      : "SIGTERM: VRRP hands the VIP over (priority 0), the IPVS table stays as keepalived leaves it",
  );
  const before = daemon.output().length;
  daemon.kill("SIGTERM");
  await daemon.exited;
  process.stdout.write(daemon.output().slice(before));
  if (!PROXY) await run(["ipvs", "-Sn"]);
  kernel?.close();
} finally {
  daemon?.kill("SIGKILL");
  await topo.destroy();
  rmSync(dir, { recursive: true, force: true });
}
