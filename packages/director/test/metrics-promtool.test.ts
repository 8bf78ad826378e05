// `promtool check metrics` (Debian's prometheus package; tools/host-deps installs it) on a real
// scrape of /metrics from a director on the userspace proxy dataplane that has carried traffic
// and seen a backend fail: names, types, help text and label use pass Prometheus' own linter.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { type Rig, startRig, waitFor } from "./web-rig.js";

const PROMTOOL = process.env.LVS_PROMTOOL ?? "/usr/bin/promtool";
const present = existsSync(PROMTOOL);
if (!present && process.env.CI) throw new Error(`${PROMTOOL} missing: run tools/host-deps as root`);

function get(port: number, path = "/", headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => {
        body += c;
      });
      res.on("end", () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode} ${body}`)),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe.skipIf(!present)("promtool check metrics", () => {
  let rig: Rig | undefined;
  afterAll(() => rig?.stop());

  it("finds nothing to complain about in a real scrape", async () => {
    rig = await startRig();
    const r = rig;
    for (let i = 0; i < 6; i++) await get(r.vport);
    await r.backends[2]?.kill();
    await waitFor(async () => {
      const s = JSON.parse(await get(Number(new URL(r.base).port), "/api/state"));
      return s.virtualServers[0].realServers.some((x: { state: string }) => x.state === "down");
    }, "a backend down");
    const scrape = await get(Number(new URL(r.base).port), "/metrics", {
      authorization: `Bearer ${r.token}`,
    });
    // The scrape has what the check is about: per-backend series and the director's own.
    expect(scrape).toMatch(/^lvs_backend_connections_total\{/m);
    expect(scrape).toMatch(/^# HELP lvs_/m);
    const lint = spawnSync(PROMTOOL, ["check", "metrics"], { input: scrape, encoding: "utf8" });
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe("");
    expect(lint.status).toBe(0);
  });
});
