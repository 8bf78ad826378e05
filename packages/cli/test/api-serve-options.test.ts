// Where `lvsctl up` / `lvsctl director run` take the API token from, and the API bounds flags.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { addApiServeOptions, apiServeSettings } from "../src/api-serve-options.js";

const dir = mkdtempSync(join(tmpdir(), "lvsctl-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokenFile(name: string, text: string, mode: number): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
}

describe("apiServeSettings", () => {
  it("a 0600 token file: its first line, no warning; it wins over $LVS_API_TOKEN", () => {
    const warnings: string[] = [];
    const f = tokenFile("ok", "s3cret-from-file\nsecond line ignored\n", 0o600);
    expect(apiServeSettings({ apiTokenFile: f }, (m) => warnings.push(m), { LVS_API_TOKEN: "env" })).toEqual({
      token: "s3cret-from-file",
    });
    expect(warnings).toEqual([]);
  });

  it("a token file others can read: used, with a warning naming its mode", () => {
    const warnings: string[] = [];
    const f = tokenFile("loose", "t\n", 0o644);
    expect(apiServeSettings({ apiTokenFile: f }, (m) => warnings.push(m), {}).token).toBe("t");
    expect(warnings).toEqual([
      `--api-token-file ${f} is readable by group or others (mode 644); chmod 600 it`,
    ]);
  });

  it("$LVS_API_TOKEN without a warning; --api-token with one", () => {
    const warnings: string[] = [];
    expect(apiServeSettings({}, (m) => warnings.push(m), { LVS_API_TOKEN: "env" }).token).toBe("env");
    expect(warnings).toEqual([]);
    expect(
      apiServeSettings({ apiToken: "argv" }, (m) => warnings.push(m), { LVS_API_TOKEN: "env" }).token,
    ).toBe("argv");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("/proc/PID/cmdline");
    expect(apiServeSettings({}, () => {}, {})).toEqual({});
  });

  it("API bounds in seconds become milliseconds", () => {
    expect(
      apiServeSettings({ apiMaxConnections: 8, apiHeadersTimeout: 2.5, apiRequestTimeout: 20 }, () => {}, {}),
    ).toEqual({ apiLimits: { maxConnections: 8, headersTimeoutMs: 2500, requestTimeoutMs: 20_000 } });
  });

  it("--check-history: the status page's check results in all, parsed and handed to the director", () => {
    expect(apiServeSettings({ checkHistory: 50_000 }, () => {}, {})).toEqual({
      history: { checkResults: 50_000 },
    });
    const cmd = addApiServeOptions(new Command("up").exitOverride().configureOutput({ writeErr: () => {} }));
    expect(cmd.parse(["--check-history", "2000"], { from: "user" }).opts().checkHistory).toBe(2000);
    expect(() => cmd.parse(["--check-history", "0"], { from: "user" })).toThrow(/--check-history/);
  });
});
