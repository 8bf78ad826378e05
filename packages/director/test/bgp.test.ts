// The `bgp:` section's logic with a speaker double (what each session is told to announce, which
// sessions a reload keeps, restarts, opens and closes), then through the daemon: the director
// drain over the runtime API, kept in the state file across a restart, and a reload that adds a
// peer without touching the running session. FRR proves the same on the wire (*.netns.test.ts).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BgpSpeaker, type FsmState, type SessionEffect, type SpeakerOptions } from "@lvs/bgp";
import type { BgpSection } from "@lvs/config";
import type { CheckDefinition, ProbeResult } from "@lvs/healthcheck";
import { FakeClock } from "@lvs/inet";
import { MemoryIpvs } from "@lvs/ipvs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { BgpAnnouncer, type BgpSpeakerLike } from "../src/bgp.js";
import { createLogger, Director, DirectorClient, formatWebState, type WebState } from "../src/index.js";

/** The status page's schema with every object closed (as web.test.ts checks it). */
function closed(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(closed);
  if (!s || typeof s !== "object") return s;
  const o = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, closed(v)]));
  if ("properties" in o && !("additionalProperties" in o)) o.additionalProperties = false;
  return o;
}
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(
  closed(
    JSON.parse(readFileSync(join(import.meta.dirname, "..", "schema", "state-v1.schema.json"), "utf8")),
  ) as object,
);

import type { PlannedVirtualServer } from "../src/plan.js";

const PROMTOOL = process.env.LVS_PROMTOOL ?? "/usr/bin/promtool";

class SpeakerDouble implements BgpSpeakerLike {
  state: FsmState = "Idle";
  routes: string[] = [];
  starts = 0;
  stops: string[] = [];
  private readonly listeners = new Set<(e: SessionEffect) => void>();
  constructor(readonly options: SpeakerOptions) {}
  start(): void {
    this.starts++;
    this.emit({ type: "state", from: this.state, to: "Established", reason: "double" });
    this.state = "Established";
  }
  setRoutes(routes: { prefix: string; communities?: readonly string[] }[]): void {
    this.routes = routes.map(
      (r) => `${r.prefix}${r.communities?.length ? ` ${r.communities.join(",")}` : ""}`,
    );
  }
  async stop(text?: string): Promise<void> {
    this.stops.push(text ?? "");
    this.emit({
      type: "notification",
      direction: "sent",
      code: 6,
      subcode: 2,
      name: "Cease/Administrative Shutdown",
      ...(text ? { text } : {}),
    });
    this.state = "Idle";
  }
  on(listener: (e: SessionEffect) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private emit(e: SessionEffect): void {
    for (const l of this.listeners) l(e);
  }
}

function doubles() {
  const made: SpeakerDouble[] = [];
  return {
    made,
    create: (o: SpeakerOptions) => {
      // The real speaker's constructor checks the options (and opens nothing): same refusals.
      new BgpSpeaker(o);
      const s = new SpeakerDouble(o);
      made.push(s);
      return s;
    },
    live: () => made.filter((s) => s.stops.length === 0),
  };
}

const silent = createLogger({ destination: { write: () => {} } });
const vs = (key: string, ...addresses: string[]) =>
  ({
    key,
    services: addresses.map((address) => ({ service: { address } })),
  }) as unknown as PlannedVirtualServer;
const section = (over: Partial<BgpSection> = {}): BgpSection => ({
  localAs: 65001,
  routerId: "192.0.2.1",
  peers: [
    { address: "10.0.0.1", as: 65000 },
    { address: "10.0.0.2", as: 65000 },
  ],
  ...over,
});

describe("BgpAnnouncer", () => {
  it("announces the addresses with quorum; a director drain withdraws them with the sessions up", () => {
    const d = doubles();
    let changes = 0;
    const a = new BgpAnnouncer(section({ communities: ["65001:1"] }), {
      log: silent,
      createSpeaker: d.create,
      onChange: () => changes++,
    });
    a.start();
    // Two sessions Established, then the (empty) announcement: the page's feed hears of each.
    expect(changes).toBe(3);
    a.quorum(vs("A", "192.0.2.10"), true);
    a.quorum(vs("B", "192.0.2.10", "2001:db8::10"), true);
    expect(d.made.map((s) => s.routes)).toEqual([
      ["192.0.2.10/32 65001:1", "2001:db8::10/128 65001:1"],
      ["192.0.2.10/32 65001:1", "2001:db8::10/128 65001:1"],
    ]);
    a.quorum(vs("B", "192.0.2.10", "2001:db8::10"), false);
    expect(d.made[0]?.routes).toEqual(["192.0.2.10/32 65001:1"]);
    const before = changes;
    a.setDrained(true);
    expect(changes).toBe(before + 1);
    expect(d.made.map((s) => [s.state, s.routes])).toEqual([
      ["Established", []],
      ["Established", []],
    ]);
    expect(a.announcement()).toMatchObject({ eligible: ["192.0.2.10/32"], announced: [] });
    expect(a.announcement().withheld).toMatch(/drained/);
    // Quorum keeps being followed while drained, and is what undrain announces.
    a.quorum(vs("C", "192.0.2.11"), true);
    expect(d.made[0]?.routes).toEqual([]);
    a.setDrained(false);
    expect(d.made[0]?.routes).toEqual(["192.0.2.10/32 65001:1", "192.0.2.11/32 65001:1"]);
    expect(a.announcement().withheld).toBeNull();
  });

  it("announceWhenMaster: announces only while every named instance is MASTER", () => {
    const d = doubles();
    const a = new BgpAnnouncer(section({ announceWhenMaster: ["VI_1", "VI_2"] }), {
      log: silent,
      createSpeaker: d.create,
    });
    a.start();
    a.quorum(vs("A", "192.0.2.10"), true);
    expect(d.made[0]?.routes).toEqual([]);
    expect(a.announcement().withheld).toBe(
      "announceWhenMaster: VRRP instance VI_1 is not reported yet, VRRP instance VI_2 is not reported yet",
    );
    a.vrrp("VI_1", "MASTER");
    expect(d.made[0]?.routes).toEqual([]);
    a.vrrp("VI_2", "master");
    expect(d.made[0]?.routes).toEqual(["192.0.2.10/32"]);
    a.vrrp("VI_3", "BACKUP");
    expect(d.made[0]?.routes).toEqual(["192.0.2.10/32"]);
    a.vrrp("VI_1", "BACKUP");
    expect(d.made[0]?.routes).toEqual([]);
    expect(a.announcement()).toMatchObject({
      withheld: "announceWhenMaster: VRRP instance VI_1 is BACKUP",
      announceWhenMaster: [
        { instance: "VI_1", state: "BACKUP" },
        { instance: "VI_2", state: "MASTER" },
      ],
    });
  });

  it("a reload keeps unchanged sessions, restarts changed ones, opens added and closes removed peers", async () => {
    const d = doubles();
    const a = new BgpAnnouncer(section({ holdTime: 9 }), { log: silent, createSpeaker: d.create });
    a.start();
    a.quorum(vs("A", "192.0.2.10"), true);
    const [one, two] = d.made as [SpeakerDouble, SpeakerDouble];
    const next = section({
      holdTime: 9,
      communities: ["65001:7"],
      peers: [
        { address: "10.0.0.1", as: 65000 },
        { address: "10.0.0.2", as: 65002 },
        { address: "10.0.0.3", as: 65000 },
      ],
    });
    const summary = await a.prepare(next).apply();
    expect(summary).toEqual({
      kept: ["10.0.0.1"],
      restarted: ["10.0.0.2"],
      added: ["10.0.0.3"],
      removed: [],
    });
    expect(one.starts).toBe(1);
    expect(one.stops).toEqual([]);
    // The kept session is only told the new communities.
    expect(one.routes).toEqual(["192.0.2.10/32 65001:7"]);
    expect(two.stops).toEqual(["lvs director reload: session parameters changed"]);
    expect(d.live().map((s) => [s.options.peer, s.options.peerAs, s.starts, s.routes])).toEqual([
      ["10.0.0.1", 65000, 1, ["192.0.2.10/32 65001:7"]],
      ["10.0.0.2", 65002, 1, ["192.0.2.10/32 65001:7"]],
      ["10.0.0.3", 65000, 1, ["192.0.2.10/32 65001:7"]],
    ]);
    expect(a.status().find((s) => s.peer === "10.0.0.2")).toMatchObject({ notificationsSent: 1 });

    const last = await a
      .prepare(section({ holdTime: 9, peers: [{ address: "10.0.0.3", as: 65000 }] }))
      .apply();
    expect(last).toEqual({ kept: ["10.0.0.3"], restarted: [], added: [], removed: ["10.0.0.1", "10.0.0.2"] });
    expect(a.status().map((s) => s.peer)).toEqual(["10.0.0.3"]);
    expect(one.stops).toEqual(["lvs director reload: peer removed"]);
  });

  it("a reload whose new session can't be built changes nothing", async () => {
    const d = doubles();
    const create = (o: SpeakerOptions) => {
      if (o.peer === "10.0.0.9") throw new Error("network namespace /run/netns/nowhere does not exist");
      return d.create(o);
    };
    const a = new BgpAnnouncer(section(), { log: silent, createSpeaker: create });
    a.start();
    expect(() => a.prepare(section({ peers: [{ address: "10.0.0.9", as: 1 }] }))).toThrow(/does not exist/);
    expect(d.live().map((s) => s.options.peer)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(a.status().map((s) => s.state)).toEqual(["Established", "Established"]);
  });
});

const yaml = (peers: string, extra = "") => `virtualServers:
  - key: { address: 192.0.2.60, port: 80 }
    protocol: TCP
    delayLoop: 1
    realServers:
      - address: 10.1.0.1
        port: 8080
        checkers:
          - check: { type: tcp, connectTimeout: 1 }
bgp:
  localAs: 65001
  routerId: 192.0.2.1
${extra}  peers:
${peers}`;

describe("the director's bgp: section", () => {
  const dir = mkdtempSync(join(tmpdir(), "lvs-bgpd-"));
  const configPath = join(dir, "lvs.yaml");
  const socketPath = join(dir, "d.sock");
  let director: Director | undefined;
  afterEach(async () => {
    await director?.stop();
    director = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A GET over the daemon's socket (the status page's routes answer there too). */
  const get = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request({ socketPath, path }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });
  const stateFile = () =>
    JSON.parse(readFileSync(director?.statePath as string, "utf8")) as { director?: unknown };

  const start = async (d: ReturnType<typeof doubles>, logs: string[] = []) => {
    director = new Director({
      configPath,
      socketPath,
      client: new MemoryIpvs(),
      reconcileIntervalMs: 3_600_000,
      drainPollMs: 3_600_000,
      clock: new FakeClock(),
      health: {
        probe: async (_: CheckDefinition): Promise<ProbeResult> => ({ up: true, reason: "ok", latencyMs: 1 }),
        random: () => 0,
      },
      log: createLogger({ destination: { write: (s: string) => logs.push(s) } }),
      mode: "check",
      createBgpSpeaker: d.create,
    });
    await director.start();
    return new DirectorClient({ socketPath });
  };

  it("drain --director over the API withdraws, survives a restart, and undrain announces again", async () => {
    writeFileSync(configPath, yaml("    - { address: 10.0.0.1, as: 65000 }\n"));
    let d = doubles();
    let c = await start(d);
    expect(d.made[0]?.routes).toEqual(["192.0.2.60/32"]);
    const r = await c.drainDirector();
    expect(r).toMatchObject({
      drained: true,
      changed: true,
      bgp: true,
      withdrawn: ["192.0.2.60/32"],
      announced: [],
    });
    expect(d.made[0]?.routes).toEqual([]);
    expect(d.made[0]?.state).toBe("Established");
    expect(stateFile().director).toEqual({ drained: true, since: r.since });
    const st = await c.status();
    expect(st.directorDrain).toEqual({ since: r.since });
    expect(st.bgpAnnouncement).toMatchObject({ eligible: ["192.0.2.60/32"], announced: [] });
    expect(await c.metrics()).toMatch(/^lvs_director_drained 1$/m);
    // The status page's document (schema-valid, every object closed) and the page itself.
    const web = JSON.parse(await get("/api/state")) as WebState;
    expect(validate(web), JSON.stringify(validate.errors, null, 1)).toBe(true);
    expect(web.directorDrain).toEqual({ since: r.since });
    expect(web.bgp?.sessions.map((s) => [s.peer, s.state])).toEqual([["10.0.0.1", "Established"]]);
    expect(web.bgp?.announcement.withheld).toMatch(/drained/);
    const page = await get("/");
    expect(page).toContain('<section id="bgp"><h2>BGP</h2>');
    expect(page).toMatch(/<b class="st st-down">director drained<\/b>/);
    expect(page).toMatch(/<b class="st st-down">withheld<\/b> 192\.0\.2\.60\/32: the director is drained/);
    expect(formatWebState(web)).toMatch(/^BGP: withheld 192\.0\.2\.60\/32: the director is drained/m);

    // A restart stays drained: the new session is never told to announce.
    await director?.stop();
    d = doubles();
    c = await start(d);
    expect(d.made[0]?.routes).toEqual([]);
    expect((await c.status()).directorDrain).toEqual({ since: r.since });
    const u = await c.undrainDirector();
    expect(u).toMatchObject({ drained: false, changed: true, announced: ["192.0.2.60/32"], withdrawn: [] });
    expect(d.made[0]?.routes).toEqual(["192.0.2.60/32"]);
    expect(stateFile().director).toBeUndefined();
    expect(await c.metrics()).toMatch(/^lvs_director_drained 0$/m);
    const scrape = await c.metrics();
    expect(scrape).toMatch(/^lvs_bgp_announced_prefixes\{peer="10.0.0.1",peer_as="65000"\} 1$/m);
    expect(scrape).toMatch(/^lvs_bgp_session_state\{peer="10.0.0.1",peer_as="65000"\} 6$/m);
    expect(scrape).toMatch(
      /^lvs_bgp_notifications_total\{peer="10.0.0.1",peer_as="65000",direction="sent"\} 0$/m,
    );
    // Prometheus' own linter on the BGP series (names, types, help), where it is installed.
    if (existsSync(PROMTOOL)) {
      const lint = spawnSync(PROMTOOL, ["check", "metrics"], { input: scrape, encoding: "utf8" });
      expect(`${lint.stdout}${lint.stderr}`.trim()).toBe("");
    }
  });

  it("reload adds a peer without touching the running session; removing bgp: closes them all", async () => {
    writeFileSync(configPath, yaml("    - { address: 10.0.0.1, as: 65000 }\n"));
    const d = doubles();
    const c = await start(d);
    writeFileSync(
      configPath,
      yaml("    - { address: 10.0.0.1, as: 65000 }\n    - { address: 10.0.0.2, as: 65000 }\n"),
    );
    const r = (await c.reload()) as { bgp: unknown };
    expect(r.bgp).toEqual({ kept: ["10.0.0.1"], added: ["10.0.0.2"], restarted: [], removed: [] });
    expect(d.made.map((s) => [s.options.peer, s.starts, s.stops.length, s.routes])).toEqual([
      ["10.0.0.1", 1, 0, ["192.0.2.60/32"]],
      ["10.0.0.2", 1, 0, ["192.0.2.60/32"]],
    ]);
    // A session that can't be built (the namespace doesn't exist: the real BgpSpeaker's check)
    // fails the reload as a configuration error, and changes nothing.
    writeFileSync(configPath, yaml("    - { address: 10.0.0.1, as: 65000 }\n", "  netns: bgpd-nowhere\n"));
    await expect(c.reload()).rejects.toMatchObject({
      code: "DIRECTOR_CONFIG",
      message: expect.stringMatching(
        /bgp: network namespace \/run\/netns\/bgpd-nowhere does not exist \(BGP_BAD_CONFIG\)/,
      ),
    });
    expect(d.made.every((s) => s.stops.length === 0)).toBe(true);
    // A file whose bgp: section is wrong changes nothing.
    writeFileSync(
      configPath,
      yaml("    - { address: 10.0.0.1, as: 65000 }\n", "  announceWhenMaster: VI_9\n"),
    );
    await expect(c.reload()).rejects.toThrow(/VI_9` is no vrrp_instance/);
    expect((await c.status()).bgp?.map((s) => s.peer)).toEqual(["10.0.0.1", "10.0.0.2"]);

    writeFileSync(configPath, yaml("").replace(/bgp:[\s\S]*$/, ""));
    const gone = (await c.reload()) as { bgp: unknown };
    expect(gone.bgp).toEqual({ kept: [], added: [], restarted: [], removed: ["10.0.0.1", "10.0.0.2"] });
    expect(d.made.map((s) => s.stops)).toEqual([
      ["lvs director reload: bgp section removed"],
      ["lvs director reload: bgp section removed"],
    ]);
    expect((await c.status()).bgp).toBeUndefined();
  });
});
