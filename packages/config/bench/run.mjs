// Parse time of a 5,000-virtual-server keepalived.conf (4 real servers with a TCP_CHECK each),
// ours vs `keepalived -t` on the same file in the same run. `pnpm bench` (after `pnpm build`).
// BENCH_VS=N changes the size; BENCH_RUNS=N the repetitions (median reported).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertToYaml, loadKeepalivedConf, parseYamlConfig } from "../dist/index.js";

const N = Number(process.env.BENCH_VS ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function config(n) {
  const out = ["global_defs {", "  router_id bench", "}"];
  for (let i = 0; i < n; i++) {
    const vip = `10.${(i >> 8) & 255}.${i & 255}.1`;
    out.push(
      `virtual_server ${vip} 80 {`,
      "  delay_loop 6",
      "  lb_algo wlc",
      "  lb_kind DR",
      "  protocol TCP",
    );
    for (let r = 0; r < 4; r++) {
      out.push(`  real_server 172.${16 + ((i >> 8) & 15)}.${i & 255}.${r + 10} 80 {`, "    weight 1");
      out.push("    TCP_CHECK {", "      connect_timeout 3", "    }", "  }");
    }
    out.push("}");
  }
  return `${out.join("\n")}\n`;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(fn) {
  const t = [];
  for (let i = 0; i < RUNS; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return median(t);
}

const dir = mkdtempSync(join(tmpdir(), "lvs-config-bench-"));
try {
  const file = join(dir, "keepalived.conf");
  const text = config(N);
  writeFileSync(file, text);
  const lines = text.split("\n").length;
  loadKeepalivedConf(file); // warm up the JIT
  const confMs = time(() => loadKeepalivedConf(file));
  const model = loadKeepalivedConf(file).config;
  const yaml = convertToYaml(model);
  const yamlMs = time(() => parseYamlConfig(yaml));
  const convMs = time(() => convertToYaml(model));
  const heap = process.memoryUsage().heapUsed / 1e6;

  let peer = "not run (needs root and /usr/sbin/keepalived)";
  let peerMs;
  if (process.getuid?.() === 0 && existsSync("/usr/sbin/keepalived")) {
    const t = [];
    for (let i = 0; i < RUNS; i++) {
      const s = process.hrtime.bigint();
      const r = spawnSync("unshare", ["-n", "/usr/sbin/keepalived", "-t", "-f", file], { encoding: "utf8" });
      t.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (r.status !== 0) peer = `keepalived -t exited ${r.status}: ${(r.stderr || r.stdout).split("\n")[0]}`;
    }
    peerMs = median(t);
    if (!peer.startsWith("keepalived -t exited")) peer = `${peerMs.toFixed(0)} ms`;
  }
  const rows = [
    [
      "config",
      `${N} virtual_server × 4 real_server + TCP_CHECK, ${lines} lines, ${(text.length / 1e6).toFixed(1)} MB`,
    ],
    ["parse keepalived.conf (ours, median)", `${confMs.toFixed(0)} ms`],
    ["keepalived -t on the same file (median, incl. process start)", peer],
    ["ratio ours / keepalived", peerMs ? (confMs / peerMs).toFixed(2) : "-"],
    ["parse the converted YAML (ours)", `${yamlMs.toFixed(0)} ms (${(yaml.length / 1e6).toFixed(1)} MB)`],
    ["convertToYaml", `${convMs.toFixed(0)} ms`],
    ["heap after loading", `${heap.toFixed(0)} MB`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(62)} ${v}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
