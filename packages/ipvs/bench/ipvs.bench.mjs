// Benchmark (run as root where the kernel has IPVS, e.g. inside tools/vm):
//   node packages/ipvs/bench/ipvs.bench.mjs [--services 5000] [--dests 4] [--mixed]
// --mixed: the table of every shape instead of 5,000 alike: services in turn TCP, UDP, fwmark and
// IPv6 TCP with persistence, the 13 schedulers in turn, real servers port-mapped (NAT), direct
// routing and tunnelled, weights 1-5 (the kernel floor row is then left out: dump-floor.c asks
// for the uniform table's services).
// Same run, same kernel:
//   1. program S services x D real servers from empty: ipvsadm -R  vs  apply()
//   2. full dump: ipvsadm -Sn  vs  client.table()  (the -Sn text: @lvs/ipvsadm's bench/save.bench.mjs)
//   3. a no-op reconcile of that table: apply() when nothing differs, beside the kernel's own time
//      for the same dumps (dump-floor.c, from C)
// Each programming run starts in a network namespace of its own, made for it: IPVS state is per
// namespace, and a namespace where a table was flushed is not "empty" to the kernel. Deleted real
// servers wait in a trash list for reuse (IP_VS_DEST_TRASH_PERIOD, 120 s), and every ADD_DEST
// scans that list: after a flush of 20,000 real servers, programming the same table again takes
// twice as long or more, whoever sends it. So neither side inherits the other's trash.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { apply, IpvsClient } from "../dist/index.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const S = arg("services", 5000);
const D = arg("dests", 4);
const MIXED = process.argv.includes("--mixed");
const SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"];

for (const m of ["ip_vs", ...(MIXED ? SCHEDULERS : ["wlc"]).map((s) => `ip_vs_${s}`)])
  execFileSync("modprobe", [m]);
// Namespaces made by this run, deleted at its end (also on failure).
const namespaces = [];
const freshNamespace = () => {
  const name = `lvsbench-${process.pid}-${namespaces.length}`;
  execFileSync("ip", ["netns", "add", name]);
  namespaces.push(name);
  // Masquerading real servers must be routable unicast addresses (ip_vs_add_dest checks).
  execFileSync("sh", [
    "-c",
    `ip -n ${name} link add lvsbench0 type dummy && ip -n ${name} link set lvsbench0 up && ip -n ${name} addr add 10.200.0.1/16 dev lvsbench0 && ip -n ${name} -6 addr add fd00:8::1/64 dev lvsbench0 nodad`,
  ]);
  return name;
};
const cleanup = () => {
  for (const name of namespaces.splice(0)) spawnSync("ip", ["netns", "del", name]);
};
process.on("exit", cleanup);

const vip = (s) => `10.100.${s >> 8}.${s & 0xff}`;
const rip = (s, d) => `10.200.${1 + (((s * D + d) >> 8) % 250)}.${1 + (((s * D + d) & 0xff) % 250)}`;
let rules = "";
const desired = [];
/** One service of the mixed table: its desired entry and its ipvsadm -R lines. */
function mixedService(s) {
  const scheduler = SCHEDULERS[s % SCHEDULERS.length];
  const kind = s % 4;
  const dests = [];
  let head;
  let service;
  if (kind === 2) {
    service = { fwmark: s + 1, scheduler };
    head = `-f ${s + 1}`;
  } else if (kind === 3) {
    const address = `fd00:9::${(s + 1).toString(16)}`;
    service = { protocol: 6, address, port: 443, scheduler, flags: 1, timeout: 300, netmask: 128 };
    head = `-t [${address}]:443`;
  } else {
    const protocol = kind === 0 ? 6 : 17;
    const port = kind === 0 ? 80 : 53;
    service = { protocol, address: vip(s), port, scheduler };
    head = `${kind === 0 ? "-t" : "-u"} ${vip(s)}:${port}`;
  }
  let lines = `-A ${head} -s ${scheduler}${kind === 3 ? " -p 300" : ""}\n`;
  for (let d = 0; d < D; d++) {
    const weight = 1 + ((s + d) % 5);
    if (kind === 3) {
      const address = `fd00:8::${(s * D + d + 2).toString(16)}`;
      dests.push({ address, port: 8443, forward: 0, weight });
      lines += `-a ${head} -r [${address}]:8443 -m -w ${weight}\n`;
      continue;
    }
    // Port-mapped NAT, then direct routing and tunnelling (which keep the service's port).
    const forward = d % 3 === 0 ? 0 : d % 3 === 1 ? 3 : 2;
    const port = kind === 2 ? 0 : forward === 0 ? 8080 + d : service.port;
    dests.push({ address: rip(s, d), port, forward, weight });
    lines += `-a ${head} -r ${rip(s, d)}${kind === 2 ? "" : `:${port}`} ${["-m", "", "-i", "-g"][forward]} -w ${weight}\n`;
  }
  return { entry: { service, dests }, lines };
}
for (let s = 0; s < S; s++) {
  if (MIXED) {
    const { entry, lines } = mixedService(s);
    desired.push(entry);
    rules += lines;
    continue;
  }
  const service = { protocol: 6, address: vip(s), port: 80, scheduler: "wlc" };
  rules += `-A -t ${vip(s)}:80 -s wlc\n`;
  const dests = [];
  for (let d = 0; d < D; d++) {
    rules += `-a -t ${vip(s)}:80 -r ${rip(s, d)}:8080 -m -w 1\n`;
    dests.push({ address: rip(s, d), port: 8080, forward: 0, weight: 1 });
  }
  desired.push({ service, dests });
}
const ms = (t0) => performance.now() - t0;
const ipvsadm = (ns, args, input) => {
  const r = spawnSync("ip", ["netns", "exec", ns, "ipvsadm", ...args], {
    input,
    maxBuffer: 1 << 30,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`ipvsadm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

// 1a. ipvsadm -R in a fresh namespace; the dumps read that table.
const nsIpvsadm = freshNamespace();
const client = await IpvsClient.open({ netns: nsIpvsadm, timeoutMs: 120_000 });

let t0 = performance.now();
ipvsadm(nsIpvsadm, ["-R"], rules);
const tRestore = ms(t0);
// Three reads each, alternating: the first (a cold client's JIT) and the median are reported.
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const saves = [];
const tables = [];
let saved;
let table;
for (let r = 0; r < 3; r++) {
  t0 = performance.now();
  saved = ipvsadm(nsIpvsadm, ["-Sn"]);
  saves.push(ms(t0));
  t0 = performance.now();
  table = await client.table();
  tables.push(ms(t0));
}
const tSave = median(saves);
const tTable = median(tables);
if (table.reduce((n, t) => n + t.dests.length, 0) !== S * D) throw new Error("table() missed real servers");
// The same dump on the JS thread's own sockets only (nativeIo: false): what the pool-thread
// exchange saves.
const socketClient = await IpvsClient.open({
  netns: nsIpvsadm,
  timeoutMs: 120_000,
  nativeIo: false,
  parallelDumps: 4,
});
t0 = performance.now();
const socketTable = await socketClient.table();
const tSocketTable = ms(t0);
if (!isDeepStrictEqual(socketTable, table)) throw new Error("the two dump paths differ");
client.close();
socketClient.close();
// The two reads are let go before anything else is timed. Kept, they held 25,000 entries each
// with 20 BigInt counters apiece (1,000,004 BigInts, 51 MB of heap in all): V8 then started a
// major collection every second or two, and each one that fell inside a no-op reconcile (marking
// threads beside the dump threads on 2 vCPUs) added ~0.3 s to it. A director does not keep its
// reads; the bench should not time the library against its own leftovers.
const n = table.reduce((a, t) => a + 1 + t.dests.length, 0);
table = undefined;
socketTable.length = 0;

// 1b. apply() in a fresh namespace of its own; then the no-op reconciles of that table.
const nsApply = freshNamespace();
const applyClient = await IpvsClient.open({ netns: nsApply, timeoutMs: 120_000 });
t0 = performance.now();
const report = await apply(applyClient, desired);
const tApply = ms(t0);
if (report.failed.length)
  throw new Error(`${report.failed.length} operations failed: ${report.failed[0].error.message}`);
if (ipvsadm(nsApply, ["-Sn"]) !== saved) throw new Error("apply() built a different table than ipvsadm -R");
// Seven no-op reconciles on the client that programmed: a daemon repairs drift with one every few
// seconds for as long as it runs, so the steady state is the median of all seven; the first (the
// decoder's code still cold) and the median of the first three (what this bench reported until
// 2026-12-07) are printed beside it.
const noops = [];
for (let r = 0; r < 7; r++) {
  t0 = performance.now();
  const noop = await apply(applyClient, desired);
  noops.push(ms(t0));
  if (noop.operations.length !== 0) throw new Error("no-op reconcile produced operations");
}
const tNoop = median(noops);
const tNoopFirst3 = median(noops.slice(0, 3));
// What a no-op reconcile allocates on the JS heap, after the timed ones (the sampler slows what
// it watches): V8's sampling heap profiler over three more, garbage included. Each allocation
// brings the next garbage collection closer, and on the VM's 2 vCPUs a major one (its marking
// threads beside the dump threads) slows the no-op it lands in.
const session = new Session();
session.connect();
await session.post("HeapProfiler.enable");
await session.post("HeapProfiler.startSampling", {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
for (let r = 0; r < 3; r++) await apply(applyClient, desired);
const { profile: heapProfile } = await session.post("HeapProfiler.stopSampling");
session.disconnect();
const allocatedBytes = (node) => node.selfSize + node.children.reduce((n, c) => n + allocatedBytes(c), 0);
const noopAllocated = allocatedBytes(heapProfile.head) / 3;
applyClient.close();

// The kernel's own time for the same dumps (dump-floor.c: from C, no decoding; one socket per
// thread): what no client goes below. Median of 3, on 1 and 2 threads (the VM has 2 vCPUs), with
// 64 KiB reads (the kernel then makes 32 KiB parts) and with 4 KiB reads, as @lvs/ipvs reads
// real servers' dumps (DEST_DUMP_RECEIVE_BYTES).
const floors = {};
const floorDir = mkdtempSync(join(tmpdir(), "lvs-dump-floor-"));
try {
  if (MIXED) throw new Error("the mixed table is not the one it dumps");
  const bin = join(floorDir, "dump-floor");
  execFileSync("cc", [
    "-O2",
    "-pthread",
    "-o",
    bin,
    fileURLToPath(new URL("./dump-floor.c", import.meta.url)),
  ]);
  for (const [key, threads, recvBytes] of [
    [1, 1, 65536],
    [2, 2, 65536],
    ["small1", 1, 4096],
    ["small2", 2, 4096],
  ]) {
    const runs = [];
    for (let r = 0; r < 3; r++) {
      const [msText, parts] = execFileSync(bin, [nsApply, String(S), String(threads), String(recvBytes)])
        .toString()
        .trim()
        .split(" ");
      if (Number(parts) !== S * (D + 1))
        throw new Error(`dump-floor read ${parts} parts, not ${S * (D + 1)}`);
      runs.push(Number(msText));
    }
    floors[key] = median(runs);
  }
} catch (err) {
  console.error(`dump-floor: ${err.message.split("\n")[0]} (no kernel floor row)`);
} finally {
  rmSync(floorDir, { recursive: true, force: true });
}

// 1c. The JS-thread socket path, in a fresh namespace too.
const nsSocket = freshNamespace();
const socketApplyClient = await IpvsClient.open({ netns: nsSocket, timeoutMs: 120_000, nativeIo: false });
t0 = performance.now();
const socketReport = await apply(socketApplyClient, desired);
const tSocketApply = ms(t0);
if (socketReport.failed.length) throw new Error("socket-path apply() failed");
socketApplyClient.close();

// 4. What the trash list costs: the same table programmed again right after a flush, each side
// in the namespace it programmed before.
const flushAndTime = async (ns, program) => {
  ipvsadm(ns, ["-C"]);
  const t = performance.now();
  await program();
  return ms(t);
};
const tRestoreAfterFlush = await flushAndTime(nsIpvsadm, () => ipvsadm(nsIpvsadm, ["-R"], rules));
const again = await IpvsClient.open({ netns: nsApply, timeoutMs: 120_000 });
const tApplyAfterFlush = await flushAndTime(nsApply, () => apply(again, desired));
again.close();
cleanup();

const f = (x) => `${(x / 1000).toFixed(2)} s`;
console.log(
  `IPVS benchmark: ${S} services x ${D} real servers (${n} objects${MIXED ? ", mixed: TCP/UDP/fwmark/IPv6+persistence, 13 schedulers, NAT port-mapped/DR/TUN" : ""}), kernel ${execFileSync("uname", ["-r"]).toString().trim()}`,
);
console.log(`| task | ipvsadm 1.31 | @lvs/ipvs | ratio |`);
console.log(`|---|---|---|---|`);
console.log(
  `| program from empty (ipvsadm -R vs apply()) | ${f(tRestore)} | ${f(tApply)} | ${(tApply / tRestore).toFixed(2)}x |`,
);
console.log(
  `| full dump, median of 3 (ipvsadm -Sn vs client.table()) | ${f(tSave)} | ${f(tTable)} | ${(tTable / tSave).toFixed(2)}x |`,
);
console.log(
  `| full dump, first read | ${f(saves[0])} | ${f(tables[0])} | ${(tables[0] / saves[0]).toFixed(2)}x |`,
);
console.log(
  `| no-op reconcile (apply() of the same table), median of 7 | - | ${f(tNoop)} | ${(tNoop / tApply).toFixed(2)}x of programming |`,
);
console.log(
  `| no-op reconcile, first / median of the first 3 | - | ${f(noops[0])} / ${f(tNoopFirst3)} | ${(noops[0] / tApply).toFixed(2)}x / ${(tNoopFirst3 / tApply).toFixed(2)}x of programming |`,
);
console.log(
  `| the seven no-op reconciles, in order | - | ${noops.map((x) => (x / 1000).toFixed(2)).join(" / ")} s | - |`,
);
console.log(
  `| JS heap allocated per no-op reconcile (sampled over 3 more) | - | ${(noopAllocated / 1e6).toFixed(2)} MB | - |`,
);
if (floors.small2 !== undefined) {
  console.log(
    `| kernel floor: the ${S} GET_DEST dumps from C, no decoding, 1 / 2 threads, 64 KiB reads | - | ${f(floors[1])} / ${f(floors[2])} | - |`,
  );
  console.log(
    `| kernel floor, 4 KiB reads (as @lvs/ipvs reads them) | - | ${f(floors.small1)} / ${f(floors.small2)} | no-op reconcile = ${(tNoop / floors.small2).toFixed(2)}x the 2-thread floor; floor = ${(floors.small2 / tApply).toFixed(2)}x of programming |`,
  );
}
console.log(
  `| program again right after a flush (the kernel's trash list) | ${f(tRestoreAfterFlush)} | ${f(tApplyAfterFlush)} | ${(tApplyAfterFlush / tRestoreAfterFlush).toFixed(2)}x |`,
);
console.log(
  `| (JS-thread sockets only, nativeIo: false) program / dump | ${f(tRestore)} / ${f(tSave)} | ${f(tSocketApply)} / ${f(tSocketTable)} | ${(tSocketApply / tRestore).toFixed(2)}x / ${(tSocketTable / tSave).toFixed(2)}x |`,
);
