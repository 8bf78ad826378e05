#!/usr/bin/env node
// Scale-out figure, run inside tools/vm (the kernel's IPVS, FRR 8.4, root): active-active
// directors behind a real router's ECMP, each announcing the VIP over BGP.
//
//   flock /tmp/vm.lock tools/vm 'node packages/director/bench/bgp-ecmp.mjs'
//   ECMP_FLOWS=100 ECMP_DIRECTORS=3 ECMP_SILENT=1
//
//   client ── R (FRR: zebra + bgpd, maximum-paths 8, fib_multipath_hash_policy=1)
//              │ 10.190.0.1
//   ───────────┴──────── one L2 bridge ─────────────────────────────────
//     D1 .11   D2 .12   D3 .13             RS1 .21   RS2 .22   RS3 .23
//   (lvsctl up -C: IPVS mh + mh-port, DR,  (VIP on lo, arp_ignore=1,
//    sloppy_tcp=1, bgp: → R, hold 3 s)       arp_announce=2, TCP echo)
//
// Every director runs the same config, so every director's Maglev table is the same and picks
// the same real server for a flow; sloppy_tcp lets a director that never saw a flow's SYN take
// it over mid-stream. Phases:
//   start   each director's session (its log: Connect → Established) and its next hop in R;
//   flows   N long-lived TCP connections, one line every 200 ms each; counted per director from
//           each director's IPVS connection table; every flow has one real server everywhere;
//   loss    kill -9 of D1's daemon (its kernel closes the BGP socket: FRR drops the session at
//           once), time until R's route loses D1; then D1's namespace is deleted (the box and its
//           IPVS state are gone) and every flow must echo again;
//   join    a fresh D1 (new namespace, same address and MAC, empty IPVS) starts: session, next
//           hop back, flows rehashed onto it (its connection table fills from mid-stream packets)
//           and every flow echoes;
//   silent  (optional) D2's link goes down without a FIN: R keeps the next hop until its hold
//           timer (3 s) expires; the flows stall for that long and must all come back.
// A flow is lost when it ends (close/error) or does not echo again within `echoTimeoutMs`.
// The kernel tier runs this with 60 flows (test/bgp-ecmp.kernel.test.ts); the figure is in the README.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanupFrr, kernelNextHops, sh, startFrr, Topology, waitFor } from "@lvs/testkit";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));
const SERVERS = fileURLToPath(new URL("../test/fixtures/servers.mjs", import.meta.url));
const VIP = "10.190.100.10";
const PORT = 7000;
const ROUTER = "10.190.0.1";
const CLIENT_IP = "10.190.9.2";
const HOLD_S = 3;
const directorIp = (i) => `10.190.0.${11 + i}`;
const directorMac = (i) => `02:ec:00:00:00:${(0x11 + i).toString(16)}`;
const serverIp = (i) => `10.190.0.${21 + i}`;

// N connections in one process (node processes are dear under TCG): each sends a line every
// INTERVAL ms. Prints "S {json}" twice a second (per flow: local port, echoes, end reason) and
// "G flow gapMs now" whenever an echo comes after a silence of more than 600 ms.
const CLIENT = `
const [host, port, n, interval] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
const flows = [];
for (let i = 0; i < n; i++) {
  const f = { port: 0, echoes: 0, end: null, last: 0, buf: "" };
  flows.push(f);
  const s = require("node:net").connect(port, host, () => { f.port = s.localPort; f.last = Date.now(); });
  s.setNoDelay(true);
  s.setEncoding("utf8");
  let k = 0;
  const t = setInterval(() => { if (f.port) s.write("f" + i + " " + ++k + "\\n"); }, interval);
  s.on("data", (d) => {
    f.buf += d;
    let j;
    while ((j = f.buf.indexOf("\\n")) >= 0) {
      f.buf = f.buf.slice(j + 1);
      f.echoes++;
      const now = Date.now();
      if (now - f.last > 600) console.log("G " + i + " " + (now - f.last) + " " + now);
      f.last = now;
    }
  });
  s.on("close", () => { clearInterval(t); f.end = f.end || "closed"; });
  s.on("error", (e) => { f.end = "error " + (e.code || e.message); });
}
setInterval(() => console.log("S " + JSON.stringify(flows.map((f) => [f.port, f.echoes, f.end]))), 500);
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The client's last status line: per flow { port, echoes, end }. */
function flowStatus(client) {
  const out = client.output();
  const body = out.slice(0, out.lastIndexOf("\n") + 1); // complete lines only
  const at = body.lastIndexOf("\nS ");
  const start = at >= 0 ? at + 1 : body.startsWith("S ") ? 0 : -1;
  if (start < 0) return [];
  const line = body.slice(start + 2, body.indexOf("\n", start));
  return JSON.parse(line).map(([port, echoes, end]) => ({ port, echoes, end }));
}

/** Longest echo gap (ms) the client reported after `since` (epoch ms). */
function maxStall(client, since) {
  let max = 0;
  for (const m of client.output().matchAll(/^G (\d+) (\d+) (\d+)$/gm))
    if (Number(m[3]) >= since) max = Math.max(max, Number(m[2]));
  return max;
}

/**
 * `ipvsadm -Lnc`: client port → real server, for the client's connections to VIP:PORT; `active`
 * keeps only the entries a packet refreshed lately (expire within 2 s of the freshest entry in
 * the same state): an entry outlives its flow by minutes after ECMP moved the flow elsewhere.
 */
async function connections(ns, { active = false } = {}) {
  const out = await ns.run("ipvsadm -Lnc");
  const rows = [];
  for (const m of out.matchAll(
    /^TCP\s+(\d+):(\d+)\s+(\S+)\s+([\d.]+):(\d+)\s+([\d.]+):(\d+)\s+([\d.]+):(\d+)/gm,
  )) {
    if (m[4] !== CLIENT_IP || m[6] !== VIP || Number(m[7]) !== PORT) continue;
    rows.push({ expire: Number(m[1]) * 60 + Number(m[2]), state: m[3], port: Number(m[5]), rs: m[8] });
  }
  const freshest = new Map();
  for (const r of rows) freshest.set(r.state, Math.max(freshest.get(r.state) ?? 0, r.expire));
  const byPort = new Map();
  for (const r of rows) if (!active || r.expire >= freshest.get(r.state) - 2) byPort.set(r.port, r.rs);
  return byPort;
}

function directorConfig(i, servers) {
  const rs = [];
  for (let s = 0; s < servers; s++) rs.push(`      - { address: ${serverIp(s)}, port: ${PORT} }`);
  return `virtualServers:
  - key: { address: ${VIP}, port: ${PORT} }
    protocol: TCP
    lvsSched: mh
    schedFlags: [mh-port]
    lvsMethod: { method: DR }
    realServers:
${rs.join("\n")}
bgp:
  localAs: 65001
  routerId: ${directorIp(i)}
  holdTime: ${HOLD_S}
  peers:
    - { address: ${ROUTER}, as: 65000, localAddress: ${directorIp(i)} }
`;
}

function frrConfig(directors) {
  const lines = [
    "frr defaults datacenter",
    "hostname ecmp-r",
    "log stdout informational",
    "log timestamp precision 3",
    "router bgp 65000",
    ` bgp router-id ${ROUTER}`,
    " no bgp ebgp-requires-policy",
  ];
  for (let i = 0; i < directors; i++) {
    lines.push(` neighbor ${directorIp(i)} remote-as 65001`);
    lines.push(` neighbor ${directorIp(i)} timers 1 ${HOLD_S}`);
    lines.push(` neighbor ${directorIp(i)} timers connect 1`);
  }
  lines.push(" address-family ipv4 unicast", "  maximum-paths 8", " exit-address-family", "");
  return lines.join("\n");
}

/**
 * Runs the scenario; returns the figures (the test asserts on them). Always tears down what it
 * made: namespaces, FRR, the daemons, the client.
 */
export async function runBgpEcmp({
  directors = 3,
  servers = 3,
  flows = 100,
  intervalMs = 200,
  silent = true,
  echoTimeoutMs = 30_000,
  log = (line) => console.log(line),
} = {}) {
  if (directors < 2) throw new Error("runBgpEcmp: needs at least two directors");
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "lvs-ecmp-"));
  const topo = await Topology.create("ecmp");
  let frr;
  const result = { directors, servers, flows, start: [], spread: [], inconsistent: [] };
  try {
    const lan = await topo.addBridge("lan");
    const r = await topo.addNamespace("r");
    const client = await topo.addNamespace("client");
    await topo.attach(r, lan, { addr: `${ROUTER}/24` });
    await topo.link(r, client, { a: "10.190.9.1/24", b: `${CLIENT_IP}/24` });
    await client.addRoute("default via 10.190.9.1");
    await r.run(
      "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0",
    );

    // Real servers: the VIP on lo, never answering ARP for it; replies go straight to R.
    for (let s = 0; s < servers; s++) {
      const ns = await topo.addNamespace(`rs${s + 1}`);
      await topo.attach(ns, lan, { addr: `${serverIp(s)}/24` });
      await ns.run(
        `sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 && ip addr add ${VIP}/32 dev lo && ip route add default via ${ROUTER}`,
      );
      const echo = ns.spawn(["node", SERVERS, `0.0.0.0:${PORT}:echo`]);
      await waitFor(() => echo.output().includes("listening"), {
        what: `echo server ${s + 1}`,
        timeoutMs: 60_000,
      });
    }

    frr = await startFrr(r, frrConfig(directors));
    const hops = () => kernelNextHops(r, VIP);
    /** ms from `since` to FRR logging the session with `ip` Down (its own clock, ms precision). */
    const frrDownMs = (ip, since) => {
      const re = new RegExp(
        `^(\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .*%ADJCHANGE: neighbor ${ip.replaceAll(".", "\\.")}\\S* in vrf \\S+ Down`,
        "gm",
      );
      for (const m of frr.log().matchAll(re)) {
        const at = new Date(m[1]).getTime();
        if (at >= since - 1000) return at - since;
      }
      return undefined;
    };
    /** Flows each live director carries now (fresh connection entries). */
    const carried = async (live) =>
      Object.fromEntries(
        await Promise.all(
          live.map(async (d) => [`D${d.i + 1}`, (await connections(d.ns, { active: true })).size]),
        ),
      );

    // A director: a namespace on the bridge (fixed MAC, so a replacement box is the same
    // neighbour to R), the VIP on lo, sloppy_tcp, and `lvsctl up -C` on its YAML.
    const nodes = [];
    const makeDirector = async (i) => {
      const ns = await topo.addNamespace(`d${i + 1}`);
      const ifname = await topo.attach(ns, lan, { addr: `${directorIp(i)}/24` });
      await ns.run(
        `ip link set ${ifname} address ${directorMac(i)} && ip addr add ${VIP}/32 dev lo && ip route add default via ${ROUTER} && ` +
          "sysctl -qw net.ipv4.vs.sloppy_tcp=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0",
      );
      const home = join(dir, `d${i + 1}-${Date.now()}`);
      mkdirSync(home);
      writeFileSync(join(home, "lvs.yaml"), directorConfig(i, servers));
      return { i, ns, ifname, home, ip: directorIp(i) };
    };
    const startDaemon = (d) => {
      const t0 = Date.now();
      d.daemon = d.ns.spawn([
        "node",
        BIN,
        "up",
        "-C",
        "-f",
        join(d.home, "lvs.yaml"),
        "--dataplane",
        "ipvs",
        "--socket",
        join(d.home, "d.sock"),
      ]);
      return t0;
    };
    // Session establishment as the daemon logs it (JSON lines, ms: its first FSM step to
    // Established), its start-up (spawn to its API up) and spawn to R's route carrying its next hop.
    const logTime = (d, re) => {
      for (const line of d.daemon.output().split("\n")) {
        if (!re.test(line)) continue;
        try {
          return JSON.parse(line).time;
        } catch {
          // not a log line
        }
      }
      return undefined;
    };
    const watchStart = async (d, t0) => {
      let hopAt;
      const deadline = Date.now() + 300_000;
      while (!(hopAt && logTime(d, /OpenConfirm -> Established/))) {
        if (Date.now() > deadline || d.daemon.child.exitCode !== null)
          throw new Error(
            `director ${d.i + 1} did not come up; its output:\n${d.daemon.output().slice(-3000)}`,
          );
        if (!hopAt && (await hops()).includes(d.ip)) hopAt = Date.now();
        await sleep(20);
      }
      const connectAt = logTime(d, /BGP peer \S+: Idle -> Connect/);
      const establishedAt = logTime(d, /OpenConfirm -> Established/);
      const apiAt = logTime(d, /Runtime API on/);
      return {
        director: d.i + 1,
        sessionMs: connectAt !== undefined ? establishedAt - connectAt : undefined,
        daemonStartMs: apiAt !== undefined ? apiAt - t0 : undefined,
        spawnToNextHopMs: hopAt - t0,
      };
    };

    for (let i = 0; i < directors; i++) nodes.push(await makeDirector(i));
    const t0s = nodes.map(startDaemon);
    result.start = await Promise.all(nodes.map((d, k) => watchStart(d, t0s[k])));
    result.nextHops = await hops();
    log(
      `start: R's route to ${VIP} has ${result.nextHops.length} next hops (${result.nextHops.join(", ")}); ` +
        result.start
          .map(
            (s) =>
              `D${s.director}: session ${s.sessionMs} ms, daemon start-up ${s.daemonStartMs} ms, spawn → next hop ${s.spawnToNextHopMs} ms`,
          )
          .join("; "),
    );

    // ── flows ──
    const cl = client.spawn(["node", "-e", CLIENT, VIP, String(PORT), String(flows), String(intervalMs)]);
    await waitFor(
      () => {
        const st = flowStatus(cl);
        return st.length === flows && st.every((f) => f.echoes >= 3);
      },
      {
        what: `${flows} flows echoing (client: ${cl.output().slice(-300)})`,
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    /** Waits until every flow has `more` echoes beyond `base`; returns the flows that did not. */
    const progressed = async (base, more = 5) => {
      const deadline = Date.now() + echoTimeoutMs;
      let st = flowStatus(cl);
      while (Date.now() < deadline) {
        st = flowStatus(cl);
        if (st.every((f, k) => f.end || f.echoes >= (base[k]?.echoes ?? 0) + more)) break;
        await sleep(250);
      }
      return st
        .map((f, k) => ({ flow: k, port: f.port, end: f.end, echoes: f.echoes - (base[k]?.echoes ?? 0) }))
        .filter((f) => f.end || f.echoes < more);
    };
    /** Client port → real server, as each live director's connection table has it. */
    const tables = async (live) =>
      Promise.all(live.map(async (d) => ({ d, conns: await connections(d.ns) })));
    /** Flows whose real server differs between two directors' tables. */
    const disagreements = (tabs) => {
      const seen = new Map();
      const bad = [];
      for (const { d, conns } of tabs)
        for (const [port, rs] of conns) {
          const first = seen.get(port);
          if (first && first.rs !== rs) bad.push({ port, [`D${first.d}`]: first.rs, [`D${d.i + 1}`]: rs });
          else if (!first) seen.set(port, { d: d.i + 1, rs });
        }
      return bad;
    };

    const ports = new Set(flowStatus(cl).map((f) => f.port));
    const first = await tables(nodes);
    result.spread = first.map(({ d, conns }) => ({
      director: d.i + 1,
      flows: [...conns.keys()].filter((p) => ports.has(p)).length,
    }));
    result.inconsistent.push(...disagreements(first));
    result.duplicated = first
      .flatMap(({ conns }) => [...conns.keys()])
      .filter((p, k, all) => all.indexOf(p) !== k).length;
    const perServer = new Map();
    for (const { conns } of first)
      for (const rs of conns.values()) perServer.set(rs, (perServer.get(rs) ?? 0) + 1);
    result.perServer = Object.fromEntries([...perServer].sort());
    log(
      `flows: ${flows} → ${result.spread.map((s) => `D${s.director} ${s.flows}`).join(", ")}; ` +
        `real servers ${JSON.stringify(result.perServer)}; ${result.duplicated} on two directors`,
    );

    // ── loss: kill -9 of D1 ──
    const victim = nodes[0];
    const victimFlows = new Map(first[0].conns);
    let base = flowStatus(cl);
    const killedAt = Date.now();
    victim.daemon.kill("SIGKILL");
    await waitFor(async () => !(await hops()).includes(victim.ip), {
      what: "R dropping D1's next hop",
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    const routeChangeMs = Date.now() - killedAt;
    const sessionDownMs = frrDownMs(victim.ip, killedAt);
    await victim.daemon.exited;
    // The box is gone: its namespace (IPVS table, connection entries, VIP) with it.
    const left = (await sh(["ip", "netns", "pids", victim.ns.name])).stdout.split(/\s+/).filter(Boolean);
    for (const pid of left) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone already
      }
    }
    await sh(["ip", "netns", "del", victim.ns.name]);
    const lostLoss = await progressed(base);
    const afterLoss = await tables(nodes.slice(1));
    const moved = [...victimFlows.keys()].filter((p) => afterLoss.some(({ conns }) => conns.has(p))).length;
    const movedInconsistent = [...victimFlows].filter(([p, rs]) =>
      afterLoss.some(({ conns }) => conns.has(p) && conns.get(p) !== rs),
    ).length;
    result.inconsistent.push(...disagreements(afterLoss));
    result.loss = {
      director: 1,
      routeChangeMs,
      sessionDownMs,
      nextHops: await hops(),
      carried: await carried(nodes.slice(1)),
      lost: lostLoss.length,
      lostFlows: lostLoss.slice(0, 10),
      victimFlows: victimFlows.size,
      moved,
      movedInconsistent,
      maxStallMs: maxStall(cl, killedAt),
    };
    log(
      `loss: kill -9 D1 → FRR: session down after ${sessionDownMs} ms, route changed after ${routeChangeMs} ms (hold ${HOLD_S} s; next hops now ${result.loss.nextHops.join(", ")}); ` +
        `D1 had ${victimFlows.size} flows, ${moved} found on the others (${movedInconsistent} with another real server); ` +
        `${flows - lostLoss.length}/${flows} flows kept; longest echo gap ${result.loss.maxStallMs} ms; carried now ${JSON.stringify(result.loss.carried)}`,
    );

    // ── join: a fresh D1 ──
    const fresh = await makeDirector(0);
    nodes[0] = fresh;
    base = flowStatus(cl);
    const joinT0 = startDaemon(fresh);
    const joined = await watchStart(fresh, joinT0);
    // Flows reach the fresh D1 as soon as R routes to it (no bound asserted: only that they do).
    let rehashedAt;
    try {
      rehashedAt = await waitFor(async () => (await connections(fresh.ns)).size > 0 && Date.now(), {
        what: "flows on the fresh D1",
        timeoutMs: 20_000,
        intervalMs: 100,
      });
    } catch (err) {
      log(
        `${err.message}; D1's table:\n${await fresh.ns.run("ipvsadm -Ln --stats")}\nits daemon:\n${fresh.daemon.output().slice(-2000)}`,
      );
    }
    const lostJoin = await progressed(base);
    const afterJoin = await tables(nodes);
    result.inconsistent.push(...disagreements(afterJoin));
    result.join = {
      director: 1,
      ...joined,
      nextHops: await hops(),
      carried: await carried(nodes),
      rehashed: [...afterJoin[0].conns.keys()].filter((p) => ports.has(p)).length,
      rehashMs: rehashedAt ? rehashedAt - joinT0 : undefined,
      lost: lostJoin.length,
      lostFlows: lostJoin.slice(0, 10),
      maxStallMs: maxStall(cl, joinT0),
    };
    log(
      `join: fresh D1 session ${joined.sessionMs} ms, daemon start-up ${joined.daemonStartMs} ms, spawn → next hop ${joined.spawnToNextHopMs} ms (next hops ${result.join.nextHops.join(", ")}); ` +
        `${result.join.rehashed} flows rehashed onto it; ${flows - lostJoin.length}/${flows} flows kept; longest echo gap ${result.join.maxStallMs} ms; carried now ${JSON.stringify(result.join.carried)}`,
    );

    // ── silent loss: D2's link goes down, no FIN; R waits for its hold timer ──
    if (silent) {
      const quiet = nodes[1];
      const victimFlows = (await connections(quiet.ns, { active: true })).size;
      base = flowStatus(cl);
      const downAt = Date.now();
      await quiet.ns.run(`ip link set ${quiet.ifname} down`);
      await waitFor(async () => !(await hops()).includes(quiet.ip), {
        what: "R dropping D2's next hop at its hold timer",
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      const silentMs = Date.now() - downAt;
      const sessionDownMs = frrDownMs(quiet.ip, downAt);
      const lostSilent = await progressed(base);
      result.silent = {
        director: 2,
        routeChangeMs: silentMs,
        sessionDownMs,
        victimFlows,
        holdTimerLogged: /10\.190\.0\.12 4\/0 \(Hold Timer Expired\)/.test(frr.log()),
        nextHops: await hops(),
        lost: lostSilent.length,
        lostFlows: lostSilent.slice(0, 10),
        maxStallMs: maxStall(cl, downAt),
      };
      quiet.daemon.kill("SIGKILL");
      log(
        `silent: D2's link down (it carried ${victimFlows} flows) → FRR: session down after ${sessionDownMs} ms, route changed after ${silentMs} ms (hold ${HOLD_S} s, ${result.silent.holdTimerLogged ? "" : "no "}Hold Timer Expired in FRR's log); ` +
          `${flows - lostSilent.length}/${flows} flows kept; longest echo gap ${result.silent.maxStallMs} ms`,
      );
    }
    result.ended = flowStatus(cl).filter((f) => f.end).length;
    cl.kill("SIGKILL");
  } finally {
    await topo.destroy();
    cleanupFrr(frr);
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = Math.round((Date.now() - started) / 1000);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const load = (await import("node:os"))
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  const r = await runBgpEcmp({
    directors: Number(env.ECMP_DIRECTORS ?? 3),
    flows: Number(env.ECMP_FLOWS ?? 100),
    silent: env.ECMP_SILENT !== "0",
  });
  console.log(JSON.stringify(r));
  console.log(`load average in the VM at start: ${load}; ${r.seconds} s in all`);
  const lost = r.loss.lost + r.join.lost + (r.silent?.lost ?? 0);
  process.exitCode = lost === 0 && r.inconsistent.length === 0 ? 0 : 1;
}
