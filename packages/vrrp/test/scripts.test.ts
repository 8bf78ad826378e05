// Scripts run for real: argv without a shell, exit status, timeout (TERM then KILL, process
// group), the configured user; notify scripts get keepalived's four arguments.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Notifier, runScript } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "lvs-vrrp-scripts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("runScript", () => {
  it("runs argv without a shell: metacharacters stay literal", async () => {
    const out = join(dir, "literal");
    const r = await runScript({ argv: ["/usr/bin/touch", `${out}$(echo x);true`] });
    expect(r.ok).toBe(true);
    expect(statSync(`${out}$(echo x);true`).isFile()).toBe(true);
  });

  it("exit 0 is success, anything else a failure; a missing program is reported", async () => {
    expect((await runScript({ argv: ["/bin/true"] })).ok).toBe(true);
    expect(await runScript({ argv: ["/bin/sh", "-c", "exit 3"] })).toMatchObject({
      ok: false,
      code: 3,
      timedOut: false,
    });
    const missing = await runScript({ argv: ["/nonexistent/check"] });
    expect(missing.ok).toBe(false);
    expect(missing.error).toMatch(/ENOENT/);
  });

  it("a script outliving its timeout is terminated with what it started, and fails", async () => {
    const t0 = Date.now();
    const r = await runScript({ argv: ["/bin/sh", "-c", "sleep 30 & sleep 30"] }, 200);
    expect(r).toMatchObject({ ok: false, timedOut: true });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it.skipIf(process.getuid?.() !== 0)("runs as the configured user", async () => {
    chmodSync(dir, 0o777);
    const out = join(dir, "uid");
    const r = await runScript({ argv: ["/bin/sh", "-c", `id -u > ${out}`], uid: 65534, gid: 65534 });
    expect(r.ok).toBe(true);
    expect(readFileSync(out, "utf8").trim()).toBe("65534");
  });
});

describe("Notifier with real scripts", () => {
  it("notify_<state> with its own arguments, then notify with TYPE NAME STATE PRIORITY", async () => {
    const log = join(dir, "notify.log");
    const append = (tag: string) => ({ argv: ["/bin/sh", "-c", `echo "${tag} $*" >> ${log}`, "sh"] });
    const n = new Notifier();
    n.state("INSTANCE", "VI_1", "master", 150, { master: append("own"), any: append("any") });
    await n.drain();
    n.state("GROUP", "G1", "fault", 0, { any: append("any") });
    await n.drain();
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toContain("own ");
    expect(lines).toContain("any INSTANCE VI_1 MASTER 150");
    expect(lines.at(-1)).toBe("any GROUP G1 FAULT 0");
  });
});
