import { defineConfig, mergeConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared";

// Packing and installing every package takes a while: one file at a time, generous timeouts.
export default mergeConfig(
  sharedTestConfig,
  defineConfig({ test: { fileParallelism: false, testTimeout: 300_000, hookTimeout: 600_000 } }),
);
