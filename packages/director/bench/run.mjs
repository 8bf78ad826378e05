#!/usr/bin/env node
// Director benchmarks, run inside tools/vm (they need the kernel's IPVS and root):
//
//   tools/vm 'node packages/director/bench/run.mjs'            # all three
//   tools/vm 'node packages/director/bench/run.mjs reconcile'  # one: reconcile | failure | memory
//
// reconcile: 5,000 virtual services × 4 real servers programmed from empty by the director's
//            reconciler (one pass), then no-op passes (one dump + diff, nothing sent), and a scoped
//            pass (one service); ipvsadm -R of the same table in the same VM for the ratio.
// failure:   with that table in place and the daemon's periodic passes running, BENCH_FAILURES
//            (40) times one of BENCH_CHECKED (10) checked real servers' port closes: p50/p95 of
//            failing check → gone from the kernel and of port closed → gone, against the aim
//            (p95 ≤ delay_loop + 50 ms). BENCH_FULL_EVERY (12): every Nth periodic pass is full.
// memory:    the daemon with 5,000 services and 20,000 TCP checks (delay_loop 60) — RSS and heap
//            after BENCH_WAIT_S (70) seconds: one whole check cycle.
//
// Sizes: BENCH_SERVICES (5000), BENCH_DESTS (4); a quick look: BENCH_SERVICES=500. The process
// runs with the daemon's young-generation cap ($LVS_MAX_SEMI_SPACE_MIB, default 2 MiB; 0: none).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const NS = "lvs-dir-bench";
const here = fileURLToPath(import.meta.url);
const what = process.argv[2] ?? "all";
const SERVICES = Number(process.env.BENCH_SERVICES ?? 5000);
const DESTS = Number(process.env.BENCH_DESTS ?? 4);

if (!process.env.LVS_BENCH_IN_NS && !existsSync("/proc/net/ip_vs")) {
  // `pnpm bench` on a host without IPVS: say where these run instead of failing.
  console.log("director benchmarks need the kernel's IPVS: tools/vm 'node packages/director/bench/run.mjs'");
} else if (!process.env.LVS_BENCH_IN_NS) {
  spawnSync("ip", ["netns", "del", NS]);
  execFileSync("ip", ["netns", "add", NS]);
  try {
    execFileSync("ip", ["-n", NS, "link", "set", "lo", "up"]);
    // Real servers live on a routable prefix (DR: the kernel wants unicast, not necessarily local).
    execFileSync("ip", ["-n", NS, "link", "add", "d0", "type", "dummy"]);
    execFileSync("ip", ["-n", NS, "link", "set", "d0", "up"]);
    execFileSync("ip", ["-n", NS, "addr", "add", "10.200.0.1/16", "dev", "d0"]);
    // The daemon's young generation, as `lvsctl up` / `director run` cap it (2 MiB per
    // semi-space unless $LVS_MAX_SEMI_SPACE_MIB says otherwise; 0: V8's default): the failure and
    // memory figures are the daemon's, scavenge pauses and all.
    const { semiSpaceMib, wantsOptimizeForSize } = await import("../dist/index.js");
    const semi = semiSpaceMib(undefined);
    // And its heap sizing for memory when $LVS_V8_OPTIMIZE_FOR_SIZE=1 asks for it (off by default).
    const v8Flags = [
      ...(semi > 0 ? [`--max-semi-space-size=${semi}`] : []),
      ...(wantsOptimizeForSize(undefined) ? ["--optimize-for-size"] : []),
    ];
    // $LVS_BENCH_NODE_FLAGS: more V8 flags for an A/B run (space-separated).
    const extra = (process.env.LVS_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
    const args = ["netns", "exec", NS, process.execPath, "--expose-gc", ...v8Flags, ...extra, here, what];
    const r = spawnSync("ip", args, {
      stdio: "inherit",
      env: { ...process.env, LVS_BENCH_IN_NS: "1" },
    });
    process.exitCode = r.status ?? 1;
  } finally {
    spawnSync("ip", ["netns", "del", NS]);
  }
} else {
  const {
    Director,
    DirectorEngine,
    IpvsDataplane,
    Reconciler,
    compilePlan,
    createLogger,
    heapReduceIntervalS,
    startHeapReducer,
  } = await import("../dist/index.js");
  // The daemon's heap reducer, as `lvsctl up` starts it (every 30 s; $LVS_HEAP_REDUCE_INTERVAL_S, 0 = off).
  startHeapReducer({ intervalMs: heapReduceIntervalS(undefined) * 1000 });
  const { IpvsClient } = await import("@lvs/ipvs");
  const { parseKeepalivedConf } = await import("@lvs/config");
  const { probe } = await import("@lvs/healthcheck");
  const ms = (t) => `${t.toFixed(0)} ms`;
  const mb = (b) => `${(b / 1048576).toFixed(1)} MiB`;
  const dir = mkdtempSync(join(tmpdir(), "lvs-dir-bench-"));

  /** SERVICES virtual servers × DESTS real servers, DR; checks optional. */
  function bigConfig(check) {
    const out = [];
    for (let i = 0; i < SERVICES; i++) {
      const vip = `10.100.${i >> 8}.${i & 255}`;
      out.push(`virtual_server ${vip} 80 {\n protocol TCP\n delay_loop 60\n lb_kind DR\n`);
      for (let j = 0; j < DESTS; j++) {
        const n = i * DESTS + j;
        out.push(
          ` real_server 10.200.${1 + ((n >> 8) % 250)}.${n & 255} 80 {\n${check ? `  TCP_CHECK {\n   connect_ip 127.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}\n   connect_port 8080\n   connect_timeout 2\n  }\n` : ""} }\n`,
        );
      }
      out.push("}\n");
    }
    return out.join("");
  }
  const lookupUser = () => ({ uid: 0, gid: 0 });

  if (what === "all" || what === "reconcile" || what === "failure") {
    const client = await IpvsClient.open({ timeoutMs: 60_000 });
    await client.flush();
    const plan = compilePlan(parseKeepalivedConf(bigConfig(false), { lookupUser }).config);
    const engine = new DirectorEngine(Date.now);
    engine.load(plan);
    const { readFile } = await import("node:fs/promises");
    // The reconciler alone: the IPVS dataplane (netlink + /proc/net/ip_vs), the engine's table.
    const rec = new Reconciler({
      dataplane: new IpvsDataplane(client, { readProc: () => readFile("/proc/net/ip_vs", "utf8") }),
      engine: { desired: (scope) => engine.desired(scope) },
    });

    let t = performance.now();
    const first = await rec.pass();
    const applyMs = performance.now() - t;
    console.log(
      `reconcile: program ${SERVICES} × ${DESTS} from empty: ${ms(applyMs)} (${first.operations.length} operations, ${first.failed.length} failed; read ${ms(first.readMs)}, apply ${ms(first.applyMs)})`,
    );
    const noops = [];
    for (let k = 0; k < 3; k++) {
      t = performance.now();
      const r = await rec.pass();
      noops.push(performance.now() - t);
      if (r.operations.length) console.log(`  unexpected: ${r.operations.length} operations in a no-op pass`);
    }
    const noop = Math.min(...noops);
    console.log(
      `reconcile: no-op full pass (dump + diff, 0 operations): ${noops.map(ms).join(", ")} → best ${ms(noop)} = ${(noop / applyMs).toFixed(2)}× the programming time`,
    );
    const quicks = [];
    for (let k = 0; k < 3; k++) {
      t = performance.now();
      const r = await rec.pass({ quick: true });
      quicks.push(performance.now() - t);
      if (r.kind !== "quick") console.log(`  unexpected: quick pass went to netlink (${r.kind})`);
    }
    const quick = Math.min(...quicks);
    console.log(
      `reconcile: no-op periodic pass (/proc/net/ip_vs read + compare, 0 operations): ${quicks.map(ms).join(", ")} → best ${ms(quick)} = ${(quick / applyMs).toFixed(2)}× the programming time`,
    );
    const scope = new Set([plan.virtualServers[17].services[0].id]);
    t = performance.now();
    await rec.pass({ scope });
    console.log(
      `reconcile: scoped pass (one service: GET_SERVICE + GET_DEST + diff): ${ms(performance.now() - t)}`,
    );

    // ipvsadm -R of the same table, same VM.
    const save = execFileSync("ipvsadm", ["-Sn"], { maxBuffer: 64 << 20 });
    await client.flush();
    t = performance.now();
    execFileSync("ipvsadm", ["-R"], { input: save });
    console.log(`reconcile: ipvsadm -R of the same ${SERVICES} × ${DESTS}: ${ms(performance.now() - t)}`);
    t = performance.now();
    execFileSync("ipvsadm", ["-Sn"], { maxBuffer: 64 << 20 });
    console.log(`reconcile: ipvsadm -Sn of it: ${ms(performance.now() - t)}`);
    client.close();
  }

  if (what === "all" || what === "failure") {
    // The table stays from the reconcile phase (ipvsadm -R put it back); the director adopts it and
    // runs as the daemon does: the periodic drift check every 5 s, a full netlink pass every 12th
    // (BENCH_FULL_EVERY), so a failure can land while a multi-second full dump is under way.
    // FAILURES times: one of CHECKED servers' port closes; when did the failing check complete,
    // when did the kernel lose the real server? Aim: one check interval + 50 ms at p95.
    const FAILURES = Number(process.env.BENCH_FAILURES ?? 40);
    const CHECKED = Math.min(Number(process.env.BENCH_CHECKED ?? 10), SERVICES);
    const FULL_EVERY = Number(process.env.BENCH_FULL_EVERY ?? 12);
    const INTERVAL_MS = 1000;
    const AIM_MS = INTERVAL_MS + 50;
    const checked = Array.from({ length: CHECKED }, (_, k) => {
      const i = Math.floor((k * SERVICES) / CHECKED);
      const n = i * DESTS;
      return {
        i,
        port: 9000 + k,
        rs: `10.200.${1 + ((n >> 8) % 250)}.${n & 255}`,
        key: { protocol: 6, address: `10.100.${i >> 8}.${i & 255}`, port: 80 },
        server: undefined,
        failedAt: 0,
      };
    });
    const byPort = new Map(checked.map((c) => [c.port, c]));
    const listen = async (c) => {
      c.server = createServer((s) => s.destroy());
      await new Promise((r) => c.server.listen(c.port, "127.0.0.1", r));
    };
    for (const c of checked) await listen(c);
    const cfg = join(dir, "failure.conf");
    const tcpCheck = (port) =>
      `  TCP_CHECK {\n   connect_ip 127.0.0.1\n   connect_port ${port}\n   connect_timeout 1\n   retry 0\n   delay_loop ${INTERVAL_MS / 1000}\n  }\n`;
    let text = bigConfig(false);
    for (const c of checked)
      text = text.replace(`real_server ${c.rs} 80 {\n }`, `real_server ${c.rs} 80 {\n${tcpCheck(c.port)} }`);
    writeFileSync(cfg, text);
    const director = new Director({
      configPath: cfg,
      socketPath: null,
      mode: "check",
      fullPassEvery: FULL_EVERY,
      log: createLogger({ destination: { write: () => {} } }),
      health: {
        probe: async (def, o) => {
          const r = await probe(def, o);
          const c = byPort.get(def.connectPort);
          if (c && !r.up && !c.failedAt) c.failedAt = performance.now();
          return r;
        },
      },
    });
    const t = performance.now();
    await director.start();
    console.log(
      `failure: director start with ${SERVICES} × ${DESTS} already in the kernel (load, plan, one full pass): ${ms(performance.now() - t)}`,
    );
    const watch = await IpvsClient.open();
    const present = async (c) => (await watch.dests(c.key)).some((d) => d.address === c.rs && d.weight > 0);
    const until = async (fn, what) => {
      const deadline = performance.now() + 60_000;
      while (!(await fn())) {
        if (performance.now() > deadline) throw new Error(`bench: ${what} did not happen within 60 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return performance.now();
    };
    const afterCheck = [];
    const afterDown = [];
    const tStart = performance.now();
    for (let s = 0; s < FAILURES; s++) {
      const c = checked[s % CHECKED];
      await until(() => present(c), `${c.rs} back in the kernel`);
      // A random phase against the check timer and the periodic pass.
      await new Promise((r) => setTimeout(r, Math.random() * INTERVAL_MS));
      c.failedAt = 0;
      const downAt = performance.now();
      await new Promise((r) => c.server.close(r));
      const goneAt = await until(async () => !(await present(c)), `${c.rs} gone from the kernel`);
      afterDown.push(goneAt - downAt);
      afterCheck.push(goneAt - (c.failedAt || goneAt));
      await listen(c);
    }
    const st = await director.status();
    const pct = (xs, p) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
    };
    const sum = (xs) => `p50 ${ms(pct(xs, 50))}, p95 ${ms(pct(xs, 95))}, max ${ms(Math.max(...xs))}`;
    console.log(
      `failure: ${FAILURES} failures over ${((performance.now() - tStart) / 1000).toFixed(0)} s (${st.reconcile?.passes ?? "?"} passes; periodic every 5 s, full netlink pass every ${FULL_EVERY}th), delay_loop ${INTERVAL_MS / 1000} s, retry 0`,
    );
    console.log(`failure: failing check completed → gone from the kernel: ${sum(afterCheck)}`);
    const p95 = pct(afterDown, 95);
    console.log(
      `failure: port closed → gone from the kernel: ${sum(afterDown)} — aim p95 ≤ delay_loop + 50 ms = ${AIM_MS} ms: ${p95 <= AIM_MS ? "met" : "NOT met"}`,
    );
    await director.stop();
    watch.close();
    for (const c of checked) await new Promise((r) => c.server.close(() => r()));
  }

  if (what === "all" || what === "memory") {
    const client = await IpvsClient.open({ timeoutMs: 60_000 });
    await client.flush();
    const server = createServer((c) => c.destroy());
    await new Promise((r) => server.listen(8080, "0.0.0.0", r));
    global.gc?.();
    const before = process.memoryUsage();
    const cfg = join(dir, "memory.conf");
    writeFileSync(cfg, bigConfig(true));
    const director = new Director({
      configPath: cfg,
      socketPath: null,
      mode: "check",
      reconcileIntervalMs: 3_600_000,
      log: createLogger({ destination: { write: () => {} } }),
    });
    const t = performance.now();
    await director.start();
    console.log(
      `memory: start with ${SERVICES} services, ${SERVICES * DESTS} checks (programs the table): ${ms(performance.now() - t)}`,
    );
    // A whole check cycle (delay_loop 60, the checks spread over it) and 10 s more: every check
    // has run and holds its results.
    const WAIT_S = Number(process.env.BENCH_WAIT_S ?? 70);
    await new Promise((r) => setTimeout(r, WAIT_S * 1000));
    global.gc?.();
    const after = process.memoryUsage();
    const st = await director.status();
    const checked = st.virtualServers
      .flatMap((v) => v.realServers.flatMap((r) => r.checks))
      .filter((c) => c.at !== null).length;
    // Alive: a director whose checks time out (an emulator that can't run 333 checks a second on
    // time) holds their failures, transitions and retries: another state than the aim's.
    const alive = st.virtualServers.flatMap((v) => v.realServers).filter((r) => r.alive).length;
    console.log(
      `memory: RSS ${mb(after.rss)} (process before the director: ${mb(before.rss)}), heap used ${mb(after.heapUsed)} (+${mb(after.heapUsed - before.heapUsed)}), ${checked} checks run in ${WAIT_S} s, ${alive} of ${SERVICES * DESTS} real servers alive`,
    );
    await director.stop();
    await client.flush();
    client.close();
    server.close();
  }
  rmSync(dir, { recursive: true, force: true });
}
