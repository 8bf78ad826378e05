// The status page's weight: the document (server-rendered) plus its two assets, for N real
// servers each with a full history (100 check results, 50 transitions), as bytes on the wire
// (uncompressed). `pnpm build && node bench/page-size.mjs [N…]`.

import { readFileSync } from "node:fs";
import { renderPage } from "../dist/index.js";

const sizes = process.argv.slice(2).map(Number);
const t0 = Date.UTC(2026, 11, 6);
function realServer(i) {
  return {
    key: `10.0.1.${i}:80`,
    label: `[10.0.1.${i}]:tcp:80`,
    address: `10.0.1.${i}`,
    port: 80,
    forward: "NAT",
    configWeight: 100,
    effectiveWeight: 100,
    kernelWeight: 100,
    desiredWeight: 100,
    alive: true,
    activeConns: 1234,
    inactiveConns: 5678,
    state: "up",
    rates: { cps: 250, inBps: 1e6, outBps: 9e6 },
    checks: [{ id: `c${i}`, kind: "HTTP_GET", up: true, reason: "status 200", latencyMs: 3.2, at: t0 }],
    drain: null,
    disabled: false,
    weightOverride: null,
    history: {
      checks: Array.from({ length: 100 }, (_, k) => ({
        at: t0 + k * 1000,
        check: "HTTP_GET",
        ok: k % 17 !== 0,
        reason: k % 17 ? "status 200" : "timeout after 5000 ms",
        latencyMs: 2 + (k % 7),
      })),
      transitions: Array.from({ length: 50 }, (_, k) => ({
        at: t0 + k * 60_000,
        state: k % 2 ? "up" : "down",
        weight: 100,
        fromState: k % 2 ? "down" : "up",
        fromWeight: 100,
        reason: k % 2 ? "HTTP_GET: status 200" : "HTTP_GET: timeout after 5000 ms",
      })),
    },
  };
}
const assets = ["app.js", "style.css"].reduce(
  (n, f) => n + readFileSync(new URL(`../assets/${f}`, import.meta.url)).length,
  0,
);
for (const n of sizes.length ? sizes : [3, 10, 50]) {
  const state = {
    $schema: "https://lvs.invalid/schema/state-v1.json",
    version: 1,
    generatedAt: t0,
    access: "read",
    daemon: { startedAt: t0, mode: "all" },
    dataplane: "ipvs",
    health: { ok: true, reasons: [] },
    config: { loadedAt: t0, warnings: [] },
    reconcile: {
      intervalMs: 5000,
      passes: 100,
      lastPassAt: t0,
      lastDurationMs: 2,
      lastOperations: 0,
      driftRepairs: 0,
      failures: [],
      lastReadError: null,
      refusals: 0,
      readErrors: 0,
    },
    vrrp: {
      running: true,
      instances: [
        {
          name: "VI_1",
          interface: "eth0",
          vrid: 51,
          state: "MASTER",
          priority: 150,
          effectivePriority: 150,
          vips: ["10.0.0.100"],
          since: t0,
          transitions: [{ at: t0, from: "BACKUP", to: "MASTER", reason: "master down timer expired" }],
        },
      ],
    },
    syncDaemons: [],
    virtualServers: [
      {
        key: "TCP/10.0.0.100:80",
        label: "[10.0.0.100]:tcp:80",
        services: ["TCP 10.0.0.100:80"],
        scheduler: "wlc",
        persistence: null,
        forward: "NAT",
        flags: [],
        quorum: { up: true, quorum: 1, hysteresis: 0, liveWeight: 100 * n },
        sorry: null,
        checksSuspended: false,
        inKernel: true,
        rates: { cps: 250 * n, inBps: 1e6 * n, outBps: 9e6 * n },
        realServers: Array.from({ length: n }, (_, i) => realServer(i + 1)),
      },
    ],
  };
  const doc = Buffer.byteLength(renderPage(state));
  console.log(
    `${n} real servers: document ${doc} B + assets ${assets} B = ${((doc + assets) / 1024).toFixed(1)} KB`,
  );
}
