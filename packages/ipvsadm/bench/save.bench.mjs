// Benchmark (run as root where the kernel has IPVS, e.g. inside tools/vm):
//   node packages/ipvsadm/bench/save.bench.mjs [--services 5000] [--dests 4]
// A table of S services x D real servers (built with ipvsadm -R), then the full dump as text:
// ipvsadm -Sn vs runIpvsadm(["-Sn"]) on the same kernel, outputs checked identical.
import { execFileSync, spawnSync } from "node:child_process";
import { IpvsClient } from "@lvs/ipvs";
import { runIpvsadm } from "../dist/index.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const S = arg("services", 5000);
const D = arg("dests", 4);

for (const m of ["ip_vs", "ip_vs_wlc"]) execFileSync("modprobe", [m]);
spawnSync("ip", ["link", "add", "lvsbench0", "type", "dummy"]);
execFileSync("sh", [
  "-c",
  "ip link set lvsbench0 up; ip addr add 10.200.0.1/16 dev lvsbench0 2>/dev/null; true",
]);

const vip = (s) => `10.100.${s >> 8}.${s & 0xff}`;
const rip = (s, d) => `10.200.${1 + (((s * D + d) >> 8) % 250)}.${1 + (((s * D + d) & 0xff) % 250)}`;
let rules = "";
for (let s = 0; s < S; s++) {
  rules += `-A -t ${vip(s)}:80 -s wlc\n`;
  for (let d = 0; d < D; d++) rules += `-a -t ${vip(s)}:80 -r ${rip(s, d)}:8080 -m -w 1\n`;
}
const ipvsadm = (args, input) => {
  const r = spawnSync("ipvsadm", args, { input, maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ipvsadm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

const client = await IpvsClient.open({ timeoutMs: 120_000 });
await client.flush();
ipvsadm(["-R"], rules);
let t0 = performance.now();
const saved = ipvsadm(["-Sn"]);
const tSave = performance.now() - t0;
t0 = performance.now();
const ours = (await runIpvsadm(["-Sn"], { client })).stdout;
const tOurs = performance.now() - t0;
if (ours !== saved) throw new Error("our -Sn differs from ipvsadm -Sn");
await client.flush();
client.close();

const f = (x) => `${(x / 1000).toFixed(2)} s`;
console.log(`ipvsadm -Sn vs runIpvsadm -Sn: ${S} services x ${D} real servers`);
console.log(`| ipvsadm 1.31 | @lvs/ipvsadm | ratio |\n|---|---|---|`);
console.log(`| ${f(tSave)} | ${f(tOurs)} | ${(tOurs / tSave).toFixed(2)}x |`);
