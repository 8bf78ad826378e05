// The kernel tier: every *.kernel.test.ts, run inside the qemu VM by `tools/vm` (one boot for
// all of them). Files run one after another: TCG emulation has little CPU to share.
import { defineConfig } from "vitest/config";

const out = process.env.LVS_VM_OUT;

export default defineConfig({
  test: {
    include: [
      "packages/*/test/**/*.kernel.test.ts",
      "examples/*/test/**/*.kernel.test.ts",
      "tools/**/*.kernel.test.ts",
    ],
    exclude: ["**/node_modules/**"],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // The JSON report leaves the VM through tools/vm's out-share (tools/test sums it up).
    reporters: out ? ["default", "json"] : ["default"],
    outputFile: out ? { json: `${out}/test-results/kernel.json` } : undefined,
  },
});
