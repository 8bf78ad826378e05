// @lvs/sync reads /proc/net/ip_vs_conn with @lvs/ipvs's parser; loading the package must still load
// no native addon (the netlink client's is loaded when a client opens, not on import).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/** Runs `code` in a fresh node (ESM or CJS) from this package; the .node files it mapped. */
function addonsLoadedBy(code: string, type: "module" | "commonjs"): string[] {
  const head =
    type === "module"
      ? `import { readFileSync } from "node:fs";`
      : `const { readFileSync } = require("node:fs");`;
  const tail = `const maps = readFileSync("/proc/self/maps", "utf8").split("\\n");
    const paths = maps.map((l) => l.slice(l.indexOf("/")));
    console.log(JSON.stringify([...new Set(paths.filter((p) => p.endsWith(".node")))]));`;
  const out = execFileSync(process.execPath, [`--input-type=${type}`, "-e", `${head}\n${code}\n${tail}`], {
    cwd: new URL("..", import.meta.url),
    encoding: "utf8",
  });
  return JSON.parse(out) as string[];
}

describe("loading @lvs/sync", () => {
  it("import() and require() load no native addon", () => {
    const esm = `const m = await import("@lvs/sync"); if (typeof m.resync !== "function") throw new Error("no resync");`;
    const cjs = `const m = require("@lvs/sync"); if (typeof m.resync !== "function") throw new Error("no resync");`;
    expect(addonsLoadedBy(esm, "module")).toEqual([]);
    expect(addonsLoadedBy(cjs, "commonjs")).toEqual([]);
  });

  it("the check sees an addon when one is loaded (netlink's, as IpvsClient.open loads it)", () => {
    const cjs = `require(require.resolve("netlink", { paths: [require.resolve("@lvs/ipvs")] }));`;
    expect(addonsLoadedBy(cjs, "commonjs")).toEqual([expect.stringMatching(/netlink.*\.node$/)]);
  });
});
