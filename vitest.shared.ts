// Shared vitest settings. Tiers by file name:
//   *.test.ts         unit (pure logic, loopback sockets)       — host, every run
//   *.netns.test.ts   real sockets in network namespaces (root) — host, every run as root
//   *.kernel.test.ts  the kernel's IPVS                           — inside tools/vm only
import { defineConfig } from "vitest/config";

export const sharedTestConfig = defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.kernel.test.ts", "**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // LVS_REPORT=1 (tools/test) adds a JSON report that tools/test-summary.mjs sums up.
    reporters: process.env.LVS_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.LVS_REPORT ? { json: "test-results/vitest.json" } : undefined,
  },
});
