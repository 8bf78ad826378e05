// `GET /api/explain` against a director on the userspace proxy dataplane with real backends:
// each prediction, made from one fresh read of the dataplane, is the backend the next real
// connection then reaches (lc, with connections held open so the counts differ each time).
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Explanation } from "../src/index.js";
import { type Rig, startRig } from "./web-rig.js";

let rig: Rig | undefined;
const open: Socket[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await rig?.stop();
  rig = undefined;
});

/** A kept-alive HTTP request through the VIP: which backend answered; the connection stays open. */
function holdOne(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    open.push(s);
    let buf = "";
    s.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const body = /\r\n\r\n(rs\d)/.exec(buf)?.[1];
      if (body) resolve(body);
    });
    s.on("error", reject);
  });
}

async function explain(r: Rig, client: string, service: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(
    `${r.base}/api/explain?client=${encodeURIComponent(client)}&service=${encodeURIComponent(service)}`,
  );
  return { status: res.status, body: await res.json() };
}

describe("GET /api/explain", () => {
  it("predicts the backend each new connection reaches (lc, counts from the live dataplane)", async () => {
    rig = await startRig({ algo: "lc" });
    const r = rig;
    const nameOf = (endpoint: string | null) =>
      r.backends.find((b) => `127.0.0.1:${b.port}` === endpoint)?.name ?? `?${endpoint}`;
    const reached: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { status, body } = await explain(r, "127.0.0.1:50000", `127.0.0.1:${r.vport}`);
      expect(status).toBe(200);
      const e = body as Explanation;
      expect(e).toMatchObject({ scheduler: "lc", exact: true, caveats: [] });
      expect(e.candidates).toHaveLength(3);
      expect(e.candidates.reduce((n, c) => n + c.activeConns, 0)).toBe(i);
      const got = await holdOne(r.vport);
      expect(got, `connection ${i + 1}`).toBe(nameOf(e.realServer));
      reached.push(got);
    }
    // Three idle servers, then one each, then the least loaded again: every backend was used.
    expect(new Set(reached.slice(0, 3)).size).toBe(3);
  });

  it("says what it cannot know (rr's position); refuses a malformed client or an unknown service", async () => {
    rig = await startRig({ backends: 2, algo: "rr" });
    const ok = await explain(rig, "192.0.2.7", `127.0.0.1:${rig.vport}`);
    expect(ok.status).toBe(200);
    const e = ok.body as Explanation;
    expect(e.exact).toBe(false);
    expect(e.caveats[0]).toMatch(/round-robin position/);
    expect(e.client).toBe("192.0.2.7:40000");
    expect(rig.backends.map((b) => `127.0.0.1:${b.port}`)).toContain(e.realServer);

    const bad = await explain(rig, "not-an-address", `127.0.0.1:${rig.vport}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: "DIRECTOR_BAD_ARGUMENT" } });
    const none = await explain(rig, "192.0.2.7", "127.0.0.1:1");
    expect(none.status).toBe(404);
    const missing = await fetch(`${rig.base}/api/explain?client=1.2.3.4`);
    expect(missing.status).toBe(400);
  });
});
