// The daemon end to end on the host: real config file, real runtime API on a unix socket, real
// state file, the daemon and its health runner on a fake clock with a scripted prober, and @lvs/ipvs's in-memory
// IPVS (the kernel tier runs the same against the real IPVS).
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Script } from "@lvs/config";
import type { CheckDefinition, ProbeResult } from "@lvs/healthcheck";
import { FakeClock } from "@lvs/inet";
import { MemoryIpvs, serviceId } from "@lvs/ipvs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createLogger,
  Director,
  DirectorClient,
  formatStatus,
  runDaemon,
  type ScriptResult,
} from "../src/index.js";

const CONF = `
global_defs {
  router_id test
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 2
  lb_algo wlc
  lb_kind NAT
  quorum_up "/usr/local/bin/up.sh web"
  quorum_down "/usr/local/bin/down.sh web"
  sorry_server 10.9.0.1 80
  real_server 10.1.0.1 8080 {
    weight 2
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.1.0.2 8080 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`;

/** What a FIFO holds now (non-blocking: the daemon keeps its write end open). */
function readFifo(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(65536);
  let out = "";
  try {
    for (;;) {
      const n = readSync(fd, buf);
      if (n <= 0) break;
      out += buf.toString("utf8", 0, n);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
  } finally {
    closeSync(fd);
  }
  return out;
}

const S1 = serviceId({ protocol: 6, address: "10.0.0.1", port: 80 });

class World {
  dir = mkdtempSync(join(tmpdir(), "lvs-director-"));
  configPath = join(this.dir, "keepalived.conf");
  socketPath = join(this.dir, "director.sock");
  kernel = new MemoryIpvs();
  clock = new FakeClock();
  down = new Set<string>();
  scripts: string[][] = [];
  logs: string[] = [];
  director: Director | undefined;

  constructor(text = CONF) {
    writeFileSync(this.configPath, text);
  }

  probe = async (def: CheckDefinition): Promise<ProbeResult> => {
    const c = def as { connectIp: string; connectPort: number };
    const k = `${c.connectIp}:${c.connectPort}`;
    return this.down.has(k)
      ? { up: false, reason: "ECONNREFUSED", latencyMs: 0.2 }
      : { up: true, reason: "connected", latencyMs: 0.1 };
  };

  async start(extra: Partial<ConstructorParameters<typeof Director>[0]> = {}): Promise<Director> {
    const d = new Director({
      configPath: this.configPath,
      socketPath: this.socketPath,
      client: this.kernel,
      reconcileIntervalMs: 3_600_000,
      drainPollMs: 3_600_000,
      // One fake clock for the director's timers and (by default) its health runner.
      clock: this.clock,
      health: { probe: this.probe, random: () => 0 },
      log: createLogger({ destination: { write: (s: string) => this.logs.push(s) } }),
      scriptRunner: async (s: Script): Promise<ScriptResult> => {
        this.scripts.push(s.argv);
        return { argv: s.argv, code: 0, signal: null, timedOut: false, durationMs: 0 };
      },
      mode: "check",
      ...extra,
    });
    this.director = d;
    await d.start();
    return d;
  }

  /** Let the fake clock run the checks, then wait for the loop to settle. */
  async tick(ms: number): Promise<void> {
    this.clock.advance(ms);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    await this.director?.requestPass(new Set());
  }

  client(): DirectorClient {
    return new DirectorClient({ socketPath: this.socketPath });
  }

  async close(): Promise<void> {
    await this.director?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe("Director", () => {
  let w: World;
  beforeEach(() => {
    w = new World();
  });
  afterEach(async () => {
    await w.close();
  });

  it("starts: table in place, quorum_up run, status over the socket (0600)", async () => {
    await w.start();
    expect(w.kernel.lines()).toEqual([
      "  6 10.0.0.1:80 -> 10.1.0.1:8080 fwd=0 w=2",
      "  6 10.0.0.1:80 -> 10.1.0.2:8080 fwd=0 w=1",
      "S 6 10.0.0.1:80 wlc f=0 t=0 m=32",
    ]);
    expect(w.scripts).toEqual([["/usr/local/bin/up.sh", "web"]]);
    expect(statSync(w.socketPath).mode & 0o777).toBe(0o600);
    const st = await w.client().status();
    expect(st.virtualServers[0]).toMatchObject({
      key: "TCP/10.0.0.1:80",
      services: ["TCP 10.0.0.1:80"],
      quorum: { up: true, liveWeight: 3 },
    });
    expect(st.virtualServers[0]!.realServers.map((r) => [r.key, r.kernelWeight, r.state])).toEqual([
      ["10.1.0.1:8080", 2, "up"],
      ["10.1.0.2:8080", 1, "up"],
    ]);
    const text = formatStatus(st);
    expect(text).toContain("TCP 10.0.0.1:80");
    expect(text).toMatch(/-> 10\.1\.0\.1:8080\s+Masq\s+2\s+0\s+0\s+UP/);
  });

  it("a failed server leaves, all failed brings the sorry server and quorum_down; recovery reverses it", async () => {
    await w.start();
    await w.tick(100);
    w.down.add("10.1.0.1:8080");
    await w.tick(2_000);
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    expect(w.logs.join("")).toContain("Removing service [10.1.0.1]:tcp:8080 from VS [10.0.0.1]:tcp:80");
    w.down.add("10.1.0.2:8080");
    await w.tick(2_000);
    expect(w.kernel.lines()).toEqual([
      "  6 10.0.0.1:80 -> 10.9.0.1:80 fwd=0 w=1",
      "S 6 10.0.0.1:80 wlc f=0 t=0 m=32",
    ]);
    expect(w.scripts.at(-1)).toEqual(["/usr/local/bin/down.sh", "web"]);
    const st = await w.client().status();
    expect(st.virtualServers[0]!.sorry).toEqual({ key: "10.9.0.1:80", active: true, inhibit: false });
    expect(st.virtualServers[0]!.realServers[0]!.checks[0]).toMatchObject({
      up: false,
      reason: "ECONNREFUSED",
    });
    w.down.clear();
    await w.tick(2_000);
    expect(w.kernel.dest(S1, "10.9.0.1", 80)).toBeUndefined();
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(2);
    expect(w.scripts.at(-1)).toEqual(["/usr/local/bin/up.sh", "web"]);
  });

  it("drain over the API: weight 0 at once, removed when idle, persisted across a restart; undrain", async () => {
    await w.start();
    w.kernel.services.get(S1)!.dests.find((d) => d.address === "10.1.0.1")!.activeConns = 3;
    const r = (await w.client().drain("10.0.0.1:80", "10.1.0.1:8080", 30)) as {
      override: { drain: { phase: string } };
    };
    expect(r.override.drain.phase).toBe("draining");
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(0);
    w.kernel.services.get(S1)!.dests.find((d) => d.address === "10.1.0.1")!.activeConns = 0;
    await w.director!.requestPass(w.director!.engine.drainingServices());
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    const state = JSON.parse(readFileSync(`${w.configPath}.state.json`, "utf8"));
    expect(state.overrides["TCP/10.0.0.1:80 10.1.0.1:8080"].drain).toMatchObject({
      phase: "drained",
      doneReason: "idle",
    });
    expect(state.owned).toEqual([S1]);

    await w.director!.stop();
    w.director = undefined;
    await w.start();
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)).toBeUndefined();
    const st = await w.client().status();
    expect(st.drains).toEqual([expect.objectContaining({ realServer: "10.1.0.1:8080", phase: "drained" })]);
    await w.client().undrain("10.0.0.1:80", "10.1.0.1:8080");
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(2);
  });

  it("weight, disable and enable; errors name what exists", async () => {
    await w.start();
    const c = w.client();
    await c.weight("10.0.0.1:80", "10.1.0.2:8080", 9);
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(9);
    await c.disable("10.0.0.1:80", "10.1.0.2");
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)).toBeUndefined();
    await c.enable("10.0.0.1:80", "10.1.0.2");
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(9);
    await c.weight("10.0.0.1:80", "10.1.0.2", null);
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
    await expect(c.drain("10.0.0.9:80", "10.1.0.2")).rejects.toMatchObject({
      code: "DIRECTOR_NOT_FOUND",
      status: 404,
    });
    await expect(c.drain("10.0.0.1:80", "10.1.0.7")).rejects.toThrow(
      /it has 10\.1\.0\.1:8080, 10\.1\.0\.2:8080/,
    );
    await expect(c.weight("10.0.0.1:80", "10.1.0.2", -1)).rejects.toMatchObject({
      code: "DIRECTOR_BAD_ARGUMENT",
    });
  });

  it("a weight past keepalived's 0..65535 is refused and changes nothing (no silent clamp)", async () => {
    await w.start();
    const c = w.client();
    for (const weight of [1e20, 65536, 2147483647]) {
      await expect(c.weight("10.0.0.1:80", "10.1.0.2", weight)).rejects.toMatchObject({
        code: "DIRECTOR_BAD_ARGUMENT",
        status: 400,
      });
    }
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(1);
    expect((await w.client().status()).virtualServers[0]!.realServers[1]!.override).toBeNull();
    await c.weight("10.0.0.1:80", "10.1.0.2", 65535);
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)?.weight).toBe(65535);
  });

  it("a corrupt or empty state file doesn't stop the start: moved aside, counted, logged", async () => {
    const state = `${w.configPath}.state.json`;
    for (const [i, text] of ["{ truncated", ""].entries()) {
      writeFileSync(state, text);
      const d = await w.start();
      const aside = readdirSync(w.dir).filter((f) => f.startsWith("keepalived.conf.state.json.corrupt-"));
      expect(aside).toHaveLength(i + 1);
      expect(aside.map((f) => readFileSync(join(w.dir, f), "utf8"))).toContain(text);
      expect(w.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(2);
      expect(await d.metrics.text()).toContain("lvs_state_file_corrupt_total 1");
      expect(w.logs.join("")).toContain("starting from the configuration without runtime changes");
      await d.stop();
      // The daemon wrote a good one at stop; the next start reads it without complaint.
      expect(JSON.parse(readFileSync(state, "utf8")).version).toBe(1);
      // Distinct ISO names: the next loop's file must not overwrite this one.
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  it("a state path that is a symlink stops the start with the reason", async () => {
    const victim = join(w.dir, "victim");
    writeFileSync(victim, "not yours\n");
    symlinkSync(victim, `${w.configPath}.state.json`);
    await expect(w.start()).rejects.toMatchObject({ code: "DIRECTOR_UNSAFE_PATH" });
    expect(readFileSync(victim, "utf8")).toBe("not yours\n");
  });

  it("mode vrrp: LVS requests answer 409 DIRECTOR_LVS_NOT_RUNNING", async () => {
    await w.start({ mode: "vrrp" });
    await expect(w.client().drain("10.0.0.1:80", "10.1.0.2")).rejects.toMatchObject({
      code: "DIRECTOR_LVS_NOT_RUNNING",
      status: 409,
      message: expect.stringContaining("LVS side isn't running"),
    });
  });

  it("reload applies only the difference and keeps the health of unchanged checks", async () => {
    await w.start();
    w.down.add("10.1.0.2:8080");
    await w.tick(2_100);
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)).toBeUndefined();
    w.kernel.log.length = 0;
    writeFileSync(
      w.configPath,
      CONF.replace("weight 2", "weight 4").replace(
        "lb_algo wlc",
        "lb_algo wlc\n  real_server 10.1.0.3 8080 { }",
      ),
    );
    const r = (await w.client().reload()) as { virtualServers: number };
    expect(r.virtualServers).toBe(1);
    // An edit for the new weight, an add for the new server; the down one stays out, nothing recreated.
    expect(w.kernel.log.map((o) => o.op).sort()).toEqual(["addDest", "editDest"]);
    expect(w.kernel.dest(S1, "10.1.0.2", 8080)).toBeUndefined();
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(4);
    // A file that does not load keeps the running configuration.
    writeFileSync(w.configPath, "virtual_server 10.0.0.1 80 {\n  lb_kind NOPE\n}\n");
    await expect(w.client().reload()).rejects.toMatchObject({ code: "DIRECTOR_CONFIG" });
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(4);
  });

  it("drift is repaired by the periodic pass and counted in /metrics (node_exporter labels)", async () => {
    await w.start();
    w.kernel.apply({
      op: "delDest",
      service: { protocol: 6, address: "10.0.0.1", port: 80 },
      dest: { address: "10.1.0.1", port: 8080 },
    });
    await w.director!.requestPass();
    expect(w.kernel.dest(S1, "10.1.0.1", 8080)?.weight).toBe(2);
    const m = await w.client().metrics();
    expect(m).toContain('lvs_drift_repairs_total{object="real_server"} 1');
    expect(m).toContain(
      'lvs_backend_weight{local_address="10.0.0.1",local_port="80",proto="TCP",local_mark="",remote_address="10.1.0.1",remote_port="8080"} 2',
    );
    expect(m).toMatch(/lvs_backend_connections_active\{[^}]*remote_address="10\.1\.0\.2"[^}]*\} 0/);
    expect(m).toContain('lvs_real_server_up{virtual_server="TCP/10.0.0.1:80",real_server="10.1.0.1:8080"} 1');
    expect(m).toContain('lvs_virtual_server_quorum_up{virtual_server="TCP/10.0.0.1:80"} 1');
    expect(m).toMatch(/lvs_reconcile_passes_total\{kind="full"\} \d+/);
  });

  it("TCP API needs the bearer token", async () => {
    const d = await w.start({ listen: "127.0.0.1:0", token: "s3cret" });
    const port = (d as unknown as { api: { tcpPort: number } }).api.tcpPort;
    await expect(new DirectorClient({ url: `http://127.0.0.1:${port}` }).status()).rejects.toMatchObject({
      code: "DIRECTOR_UNAUTHORIZED",
      status: 401,
    });
    const st = await new DirectorClient({ url: `http://127.0.0.1:${port}`, token: "s3cret" }).status();
    expect(st.virtualServers).toHaveLength(1);
  });

  it("a second daemon on the same socket is refused", async () => {
    await w.start();
    const other = new Director({
      configPath: w.configPath,
      socketPath: w.socketPath,
      client: new MemoryIpvs(),
      mode: "check",
      log: createLogger({ destination: { write: () => {} } }),
      health: { clock: new FakeClock(), probe: w.probe },
    });
    await expect(other.start()).rejects.toMatchObject({ code: "DIRECTOR_ALREADY_RUNNING" });
    await other.stop();
  });

  it("dry run prints ipvsadm -R lines and changes nothing", async () => {
    const out: string[] = [];
    const code = await runDaemon({
      configPath: w.configPath,
      client: w.kernel,
      dryRun: true,
      out: { write: (s: string) => out.push(s) },
    });
    expect(code).toBe(0);
    expect(out.join("")).toBe(
      "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 2\n-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 1\n",
    );
    expect(w.kernel.services.size).toBe(0);
  });

  it("notify_fifo and lvs_notify_fifo get keepalived's VS and RS lines (real FIFOs)", async () => {
    const shared = join(w.dir, "notify.fifo");
    const lvsOnly = join(w.dir, "lvs.fifo");
    writeFileSync(
      w.configPath,
      CONF.replace("router_id test", `router_id test\n  notify_fifo ${shared}\n  lvs_notify_fifo ${lvsOnly}`),
    );
    await w.start();
    await w.tick(100);
    w.down.add("10.1.0.1:8080");
    await w.tick(2_000);
    w.down.add("10.1.0.2:8080");
    await w.tick(2_000);
    w.down.clear();
    await w.tick(2_000);
    const want = [
      "VS [10.0.0.1]:tcp:80 UP",
      "RS [10.1.0.1]:tcp:8080 [10.0.0.1]:tcp:80 DOWN",
      "RS [10.1.0.2]:tcp:8080 [10.0.0.1]:tcp:80 DOWN",
      "VS [10.0.0.1]:tcp:80 DOWN",
    ];
    for (const path of [shared, lvsOnly]) {
      expect(statSync(path).isFIFO()).toBe(true);
      const lines = readFifo(path).split("\n").filter(Boolean);
      expect(lines.slice(0, 4)).toEqual(want);
      // Recovery: both real servers and the quorum come back (the order of the two RS lines is
      // the order their checks ran in).
      expect(lines.slice(4).sort()).toEqual(
        [
          "RS [10.1.0.1]:tcp:8080 [10.0.0.1]:tcp:80 UP",
          "RS [10.1.0.2]:tcp:8080 [10.0.0.1]:tcp:80 UP",
          "VS [10.0.0.1]:tcp:80 UP",
        ].sort(),
      );
    }
  });

  it("rs_init_notifies: notify_up and the FIFO's RS line for each real server alive at start, before the quorum", async () => {
    const fifo = join(w.dir, "lvs.fifo");
    writeFileSync(
      w.configPath,
      CONF.replace(
        "router_id test",
        `router_id test\n  rs_init_notifies\n  lvs_notify_fifo ${fifo}`,
      ).replaceAll("    TCP_CHECK {", '    notify_up "/usr/local/bin/rs-up.sh"\n    TCP_CHECK {'),
    );
    await w.start();
    expect(w.scripts).toEqual([
      ["/usr/local/bin/rs-up.sh"],
      ["/usr/local/bin/rs-up.sh"],
      ["/usr/local/bin/up.sh", "web"],
    ]);
    expect(readFifo(fifo).split("\n").filter(Boolean)).toEqual([
      "RS [10.1.0.1]:tcp:8080 [10.0.0.1]:tcp:80 UP",
      "RS [10.1.0.2]:tcp:8080 [10.0.0.1]:tcp:80 UP",
      "VS [10.0.0.1]:tcp:80 UP",
    ]);
    // keepalived logs nothing for the initial state of a real server.
    expect(w.logs.join("")).not.toContain("Adding service [10.1.0.1]:tcp:8080");
  });

  it("without rs_init_notifies the initial state notifies nothing but the quorum", async () => {
    writeFileSync(
      w.configPath,
      CONF.replaceAll("    TCP_CHECK {", '    notify_up "/usr/local/bin/rs-up.sh"\n    TCP_CHECK {'),
    );
    await w.start();
    expect(w.scripts).toEqual([["/usr/local/bin/up.sh", "web"]]);
  });

  it("stop leaves the table in place by default; lvs_flush_on_stop flushes", async () => {
    await w.start();
    await w.director!.stop();
    expect(w.kernel.services.size).toBe(1);
    w.director = undefined;
    writeFileSync(w.configPath, CONF.replace("router_id test", "router_id test\n  lvs_flush_on_stop"));
    await w.start();
    await w.director!.stop();
    expect(w.kernel.services.size).toBe(0);
  });
});

describe("Director start failures", () => {
  it("a config that doesn't load keeps the state file as it was", async () => {
    const w = new World("virtual_server 10.0.0.1 80 {\n  lb_kind NOPE\n}\n");
    const state = `${w.configPath}.state.json`;
    const before = `${JSON.stringify({ version: 1, overrides: { "TCP/10.0.0.1:80 10.1.0.1:8080": { disabled: true } }, owned: ["2/6/10.0.0.1/80"] })}\n`;
    writeFileSync(state, before);
    await expect(w.start()).rejects.toMatchObject({ code: "DIRECTOR_CONFIG" });
    await w.director?.stop();
    expect(readFileSync(state, "utf8")).toBe(before);
    await w.close();
  });
});
