#!/usr/bin/env node
// Fault figure, run inside tools/vm (the kernel's IPVS, root): `kill -9` the daemon at a random
// point of a 1,000-service apply, restart it, and check that
//   - the restarted daemon converges: `ipvsadm -Sn` equals the table the config describes, and
//   - an established TCP connection through a service the config does not change is never reset.
//
//   flock /tmp/vm.lock tools/vm 'node packages/director/bench/kill9.mjs'
//   KILL9_ITERATIONS=100 KILL9_MAX_SECONDS=2400 KILL9_SEED=7 KILL9_SERVICES=1000
//
// Each iteration: the 1,000 services are deleted with ipvsadm (the unchanged one stays), the
// daemon (`lvsctl director run --mode check`, no VRRP) starts on the config, and once it logs
// "Applying N IPVS operations" it gets SIGKILL as soon as the kernel holds a number of the batch's
// operations drawn uniformly from [0, N) (KILL9_SPREAD=1 spaces the kill points evenly through the
// batch instead). The count is read from /proc/PID/net/ip_vs (the daemon's namespace, as the
// kernel lists it) in a loop with no pause, so the kill lands on the batch itself whatever the
// load on the machine: a time delay calibrated on one run was not, under a busy CI host.
// A second daemon then starts on the
// same config (and the state file the first left), and must bring the table to the config; it is
// stopped with SIGTERM (which leaves the table). Meanwhile a client in its own namespace sends a
// line every 100 ms through VIP:9000 to an echo server and must keep getting its echoes.
// The kernel tier runs three iterations (test/kill9.kernel.test.ts); the figure is in the README.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Topology, waitFor } from "@lvs/testkit";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));
const SERVERS = fileURLToPath(new URL("../test/fixtures/servers.mjs", import.meta.url));
const VIP = "10.80.0.100";
const RS = "10.81.0.11";

// A client that never stops on its own: one line every 100 ms, one "echo" line per reply, and
// "closed" / "error CODE" if the connection ends.
const CLIENT = `
const sock = require("node:net").connect(Number(process.argv[2]), process.argv[1], () => console.log("connected"));
let n = 0, buf = "";
const t = setInterval(() => sock.write("ping " + ++n + "\\n"), 100);
sock.setEncoding("utf8");
sock.on("data", (d) => { buf += d; let i; while ((i = buf.indexOf("\\n")) >= 0) { console.log("echo " + buf.slice(0, i)); buf = buf.slice(i + 1); } });
sock.on("close", () => { clearInterval(t); console.log("closed"); });
sock.on("error", (e) => console.log("error " + (e.code || e.message)));
`;

/** mulberry32: a small seeded PRNG, so a run's kill points can be replayed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const serviceAddress = (i) => `10.90.${i >> 8}.${i & 255}`;

function config(services) {
  const blocks = [
    // the unchanged service: the established connection goes through it
    `virtual_server ${VIP} 9000 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server ${RS} 9000 {\n    weight 1\n  }\n}\n`,
  ];
  for (let i = 0; i < services; i++) {
    blocks.push(
      `virtual_server ${serviceAddress(i)} 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server ${RS} 8080 {\n    weight 1\n  }\n}\n`,
    );
  }
  return blocks.join("");
}

const sortedLines = (text) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();

const echoes = (p) => p.output().match(/^echo /gm)?.length ?? 0;

/**
 * Operations of the batch in the kernel of `pid`'s namespace: /proc/net/ip_vs has 3 header lines,
 * then a line per service and per real server; the unchanged service's two lines are not the
 * batch's. undefined once the process is gone.
 */
async function opsInKernel(pid) {
  let text;
  try {
    text = await readFile(`/proc/${pid}/net/ip_vs`, "latin1");
  } catch {
    return undefined;
  }
  let lines = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  return lines - 3 - 2;
}

/**
 * Polls the kernel (no pause between reads: one read of a few thousand lines is the interval)
 * until `target` operations are in, then SIGKILLs the daemon. Returns what the last read saw.
 */
async function killAtOps(proc, target, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    const ops = await opsInKernel(proc.child.pid);
    if (ops === undefined) break; // it died on its own: the caller sees that in the table
    seen = ops;
    if (ops >= target) break;
  }
  proc.kill("SIGKILL");
  await proc.exited;
  return seen;
}

/**
 * Runs the figure. Returns one record per iteration and the totals; `log` gets a line per
 * iteration. Stops early (after at least one iteration) once `maxSeconds` have passed.
 */
export async function runKill9({
  iterations = 100,
  services = 1000,
  seed = 0x19,
  maxSeconds = Number.POSITIVE_INFINITY,
  spread = false,
  log = (line) => console.log(line),
} = {}) {
  const started = Date.now();
  const random = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), "lvs-kill9-"));
  const conf = join(dir, "keepalived.conf");
  writeFileSync(conf, config(services));
  const topo = await Topology.create("k9");
  const records = [];
  let resets = 0;
  let reconnects = 0;
  let conn;
  try {
    const client = await topo.addNamespace("client");
    const lb = await topo.addNamespace("lb");
    const servers = await topo.addNamespace("servers");
    await topo.link(client, lb, { a: "10.80.0.2/24", b: ["10.80.0.1/24", `${VIP}/24`] });
    await topo.link(lb, servers, { a: "10.81.0.1/24", b: `${RS}/24` });
    await lb.sysctl("net.ipv4.ip_forward", 1);
    await client.addRoute("default via 10.80.0.1");
    await servers.addRoute("default via 10.81.0.1");
    const echo = servers.spawn(["node", SERVERS, `${RS}:9000:echo`]);
    await waitFor(() => echo.output().includes("listening"), { what: "echo server", timeoutMs: 60_000 });
    const table = async () => sortedLines(await lb.run("ipvsadm -Sn"));

    // The unchanged service exists before any daemon runs, as the config says it; the
    // connection through it is established once and must outlive every kill.
    await lb.run(`ipvsadm -A -t ${VIP}:9000 -s rr && ipvsadm -a -t ${VIP}:9000 -r ${RS}:9000 -m -w 1`);
    const connect = async () => {
      const p = client.spawn(["node", "-e", CLIENT, VIP, "9000"]);
      await waitFor(() => echoes(p) >= 3, {
        what: "echoes through the unchanged service",
        timeoutMs: 60_000,
      });
      return p;
    };
    conn = await connect();

    const stateFile = join(dir, "state.json");
    const daemonArgs = [
      "node",
      BIN,
      "director",
      "run",
      "-f",
      conf,
      "--mode",
      "check",
      "--socket",
      join(dir, "d.sock"),
      "--state",
      stateFile,
      "--reconcile-interval",
      "60",
    ];
    const clearServices = async () => {
      const victims = (await table())
        .filter((l) => l.startsWith("-A ") && !l.includes(`${VIP}:9000`))
        .map((l) => `${l.replace(/^-A /, "-D ").replace(/ -s .*$/, "")}\n`);
      if (victims.length) await lb.run("ipvsadm -R", { input: victims.join("") });
    };
    const waitApplying = (p) =>
      waitFor(() => /Applying \d+ IPVS operations/.test(p.output()), {
        what: "the apply to start",
        timeoutMs: 120_000,
        intervalMs: 5,
      });
    const equals = (a, b) => a.length === b.length && a.every((l, i) => l === b[i]);

    // The daemon logs "Runtime API on …" once start() has put the table in place.
    const waitStarted = (p) =>
      waitFor(() => p.output().includes("Runtime API on"), {
        what: "the daemon to finish starting",
        timeoutMs: 180_000,
        intervalMs: 20,
      });

    // Calibration: one uninterrupted apply gives the golden table (and, for the log, how long the
    // batch took: "Applying" seen to /proc/net/ip_vs complete).
    await clearServices();
    const cal = lb.spawn(daemonArgs);
    await waitApplying(cal);
    const applyStart = Date.now();
    const calOps = await (async () => {
      for (const deadline = Date.now() + 180_000; Date.now() < deadline; ) {
        const ops = await opsInKernel(cal.child.pid);
        if (ops === undefined || ops >= 2 * services) return ops;
      }
    })();
    if (calOps !== 2 * services)
      throw new Error(`calibration batch: ${calOps} of ${2 * services} operations`);
    const applyMs = Date.now() - applyStart;
    await waitStarted(cal);
    const golden = await table();
    cal.kill("SIGTERM");
    await cal.exited;
    if (golden.filter((l) => l.startsWith("-A ")).length !== services + 1)
      throw new Error(`calibration table has ${golden.length} lines, not ${services + 1} services`);
    log(`calibration: the apply of ${2 * services} operations takes ~${applyMs} ms; seed ${seed}`);

    for (let i = 0; i < iterations; i++) {
      if (i > 0 && (Date.now() - started) / 1000 > maxSeconds) {
        log(`time budget of ${maxSeconds} s spent after ${i} iterations`);
        break;
      }
      await clearServices();
      const before = echoes(conn);
      const spawned = Date.now();
      const first = lb.spawn(daemonArgs);
      try {
        await waitApplying(first);
      } catch (err) {
        // A daemon that never reaches its apply is a failed iteration, shown with its output.
        first.kill("SIGKILL");
        await first.exited;
        records.push({ iteration: i + 1, converged: false, reset: false, error: String(err) });
        log(`#${i + 1}: ${err.message}; the daemon's output:\n${first.output().slice(-3000)}`);
        continue;
      }
      const startMs = Date.now() - spawned;
      // random: uniform over the batch's operations; spread: evenly through it (the kernel test)
      const fraction = spread ? (i + 0.5) / iterations : random();
      const target = Math.floor(fraction * 2 * services);
      const killedAt = Date.now();
      const seenAtKill = await killAtOps(first, target);
      const delay = Date.now() - killedAt;
      const atKill = (await table()).length - 2; // the unchanged service's two lines
      const t0 = Date.now();
      const second = lb.spawn(daemonArgs);
      let converged = true;
      try {
        await waitStarted(second);
        await waitFor(async () => equals(await table(), golden), {
          what: "convergence",
          timeoutMs: 30_000,
          intervalMs: 500,
        });
      } catch {
        converged = false;
      }
      const convergeMs = Date.now() - t0;
      second.kill("SIGTERM");
      const exit = await second.exited;
      // The connection: still open, and still answered after all that.
      let reset = /closed|error/.test(conn.output());
      if (!reset) {
        try {
          await waitFor(() => echoes(conn) >= before + 5, { what: "echoes", timeoutMs: 10_000 });
        } catch {
          reset = true;
        }
      }
      if (reset) {
        resets++;
        conn.kill("SIGKILL");
        reconnects++;
        conn = await connect();
      }
      const record = {
        iteration: i + 1,
        startMs,
        targetOps: target,
        seenAtKill,
        delayMs: delay,
        opsInKernelAtKill: atKill,
        converged,
        convergeMs,
        secondExit: exit,
        reset,
      };
      records.push(record);
      log(
        `#${i + 1}: started in ${startMs} ms, killed ${delay} ms into the apply at ${seenAtKill} operations seen (aim ${target}), ${atKill}/${2 * services} in the kernel after; ` +
          `${converged ? `converged in ${convergeMs} ms` : "DID NOT CONVERGE"}; ` +
          `connection ${reset ? "RESET" : "intact"}; second daemon exit ${exit}`,
      );
      if (!converged) log(second.output().slice(-2000));
    }
  } finally {
    conn?.kill("SIGKILL");
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const converged = records.filter((r) => r.converged).length;
  const midApply = records.filter(
    (r) => r.opsInKernelAtKill > 0 && r.opsInKernelAtKill < 2 * services,
  ).length;
  const times = records
    .map((r) => r.convergeMs)
    .filter((t) => t !== undefined)
    .sort((a, b) => a - b);
  return {
    iterations: records.length,
    converged,
    resets,
    reconnects,
    midApply,
    convergeMsMedian: times[Math.floor(times.length / 2)],
    convergeMsMax: times[times.length - 1],
    seconds: Math.round((Date.now() - started) / 1000),
    records,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const r = await runKill9({
    iterations: Number(env.KILL9_ITERATIONS ?? 100),
    services: Number(env.KILL9_SERVICES ?? 1000),
    seed: Number(env.KILL9_SEED ?? 0x19),
    maxSeconds: Number(env.KILL9_MAX_SECONDS ?? Number.POSITIVE_INFINITY),
    spread: env.KILL9_SPREAD === "1",
  });
  console.log(
    `kill -9 during a ${env.KILL9_SERVICES ?? 1000}-service apply: ${r.iterations} iterations, ` +
      `${r.converged} converged to the config, ${r.midApply} killed with a partial table, ` +
      `${r.resets} resets of the established connection; restart → converged median ${r.convergeMsMedian} ms, ` +
      `max ${r.convergeMsMax} ms; ${r.seconds} s in all`,
  );
  process.exitCode = r.converged === r.iterations && r.resets === 0 ? 0 : 1;
}
