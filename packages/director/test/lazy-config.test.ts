// The daemon's own thread loads @lvs/config's parsers (zod, yaml: ~23 MiB of RSS) only when it
// parses a file itself: with the file parsed in the worker (config-load.ts) they stay out of it.
// A child process (fixtures/parsers-loaded.mjs) records every module its main thread resolves
// (module.register hooks are not inherited by worker threads on Node 20). Uses the built dist/,
// as the daemon does.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "lvs-lazy-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The modules of zod and yaml that the main thread of a director on `path` loaded. */
function parsersLoaded(path: string): string[] {
  const child = fileURLToPath(new URL("./fixtures/parsers-loaded.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [child, path], { encoding: "utf8" });
  return (JSON.parse(out) as { urls: string[] }).urls.filter((u) => /\/node_modules\/(zod|yaml)\//.test(u));
}

const VS = `virtual_server 10.0.0.1 80 {
  real_server 10.1.0.1 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

describe("@lvs/config's parsers in the daemon's thread", () => {
  it("are not loaded when the worker parses the file (it includes another)", () => {
    const inc = join(dir, "vs.conf");
    writeFileSync(inc, VS);
    const main = join(dir, "main.conf");
    writeFileSync(main, `include ${inc}\n`);
    expect(parsersLoaded(main)).toEqual([]);
  });

  it("are loaded on demand when the daemon parses a small file itself", () => {
    const small = join(dir, "small.conf");
    writeFileSync(small, VS);
    const loaded = parsersLoaded(small);
    expect(loaded.some((u) => u.includes("/zod/"))).toBe(true);
    expect(loaded.some((u) => u.includes("/yaml/"))).toBe(true);
  });
});
