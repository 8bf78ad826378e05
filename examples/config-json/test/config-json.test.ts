// Runs examples/config-json/config-json.mjs as a user would and checks what it prints.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadConfig } from "@lvs/config";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const program = fileURLToPath(new URL("../config-json.mjs", import.meta.url));
const sample = fileURLToPath(new URL("../keepalived.conf", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "config-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("examples/config-json", () => {
  it("prints the keepalived.conf as the typed model in JSON", async () => {
    const { stdout } = await run(process.execPath, [program, sample]);
    const printed = JSON.parse(stdout);
    expect(printed).toEqual(JSON.parse(JSON.stringify(loadConfig(sample).config)));
    expect(printed.vrrpInstances[0].name).toBe("VI_1");
    expect(printed.vrrpScripts[0].script).toEqual(["/usr/bin/test", "!", "-e", "/etc/keepalived/down"]);
    expect(printed.virtualServers.length).toBeGreaterThan(0);
  });

  it("follows includes relative to the file", async () => {
    writeFileSync(join(dir, "main.conf"), "include parts/*.conf\n");
    const parts = join(dir, "parts");
    await run("mkdir", ["-p", parts]);
    writeFileSync(
      join(parts, "vi.conf"),
      "vrrp_instance VI_9 {\n  interface eth1\n  virtual_router_id 9\n  virtual_ipaddress {\n    192.0.2.9\n  }\n}\n",
    );
    const { stdout } = await run(process.execPath, [program, join(dir, "main.conf")]);
    expect(JSON.parse(stdout).vrrpInstances[0]).toMatchObject({ name: "VI_9", virtualRouterId: 9 });
  });

  it("reports a bad file as file:line:column with what to write, exit 1", async () => {
    const bad = join(dir, "bad.conf");
    writeFileSync(bad, "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n}\n");
    const r = await run(process.execPath, [program, bad]).catch(
      (e) => e as { code: number; stderr: string; stdout: string },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${bad}:3:21: virtual_router_id .*write \`virtual_router_id`, "m"));
    expect(r.stdout).toBe("");
  });
});
