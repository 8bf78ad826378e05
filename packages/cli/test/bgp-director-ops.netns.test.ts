// Netns tier: operating the director's `bgp:` section against FRR 8.4. Namespaces: R (FRR, addresses
// .1 and .11), D (`lvsctl up --dataplane proxy`, addresses .2 and .3, VIP 192.0.2.61 on lo, an echo
// real server), C (a client with a static route to the VIP through D, standing for another path of
// the router's ECMP) and K (keepalived, a real VRRP peer of D).
// - A reload that adds a peer opens only that session: FRR's session to the first peer keeps its
//   connection (its established-connections count stays 1, nothing dropped, its up-time goes on).
// - `lvsctl drain --director` withdraws the VIP from FRR's table, the sessions stay Established and
//   a connection established through D keeps being served; `undrain --director` announces again.
// - `announceWhenMaster`: announced while D's VRRP instance is MASTER, withdrawn when keepalived
//   (higher priority) takes over, announced again when keepalived stops.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DirectorClient } from "@lvs/director";
import {
  canUseNetns,
  cleanupFrr,
  type Frr,
  frrPaths,
  haveFrr,
  keepalivedArgv,
  type Netns,
  type SpawnedProcess,
  sh,
  startFrr,
  Topology,
  waitFor,
} from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const R1 = "10.185.1.1";
const R2 = "10.185.1.11";
const D1 = "10.185.1.2";
const D2 = "10.185.1.3";
const VIP = "192.0.2.61";

interface FrrNeighbor {
  bgpState?: string;
  connectionsEstablished?: number;
  connectionsDropped?: number;
  bgpTimerHoldTimeMsecs?: number;
  /** Up-time of the session, ms. */
  bgpTimerUpMsec?: number;
}

describe.skipIf(!canUseNetns() || !haveFrr())(
  "director bgp: reload, drain --director, announceWhenMaster (FRR, netns)",
  () => {
    let topo: Topology;
    let r: Netns;
    let d: Netns;
    let c: Netns;
    let k: Netns;
    let frr: Frr;
    let dir: string;
    let rs: SpawnedProcess;
    beforeAll(async () => {
      topo = await Topology.create("bgpd-ops");
      r = await topo.addNamespace("bgpd-r");
      d = await topo.addNamespace("bgpd-d");
      c = await topo.addNamespace("bgpd-c");
      k = await topo.addNamespace("bgpd-k");
      await topo.link(r, d, { a: [`${R1}/24`, `${R2}/24`], b: [`${D1}/24`, `${D2}/24`] });
      await topo.link(c, d, { a: "10.185.2.1/24", b: "10.185.2.2/24" });
      await topo.link(d, k, { a: "10.185.3.2/24", b: "10.185.3.3/24", ifA: "vrrp0", ifB: "vrrp0" });
      await c.addRoute(`${VIP}/32 via 10.185.2.2`);
      await d.addAddress("lo", `${VIP}/32`);
      frr = await startFrr(
        r,
        `frr defaults datacenter
hostname r
log stdout informational
router bgp 65000
 bgp router-id ${R1}
 no bgp ebgp-requires-policy
 bgp bestpath as-path multipath-relax
 neighbor ${D1} remote-as 65001
 neighbor ${D2} remote-as 65001
 address-family ipv4 unicast
  maximum-paths 4
 exit-address-family
`,
      );
      dir = mkdtempSync(join(tmpdir(), "lvs-bgpd-ops-"));
      // An echo server: the TCP_CHECK connects, the client's bytes come back.
      rs = d.spawn([
        "node",
        "-e",
        `require("node:net").createServer((s) => s.pipe(s)).listen(8080, "${D1}")`,
      ]);
      await waitFor(async () => (await d.run("ss -Hltn 'sport = :8080'")).includes("8080"), {
        what: "real server listening",
      });
    });
    afterAll(async () => {
      rs?.kill("SIGKILL");
      await topo?.destroy();
      cleanupFrr(frr);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const nextHops = async () =>
      (await frrPaths(frr, "ipv4", `${VIP}/32`)).flatMap((p) => p.nexthops.map((n) => n.ip)).sort();
    const neighbor = async (peer: string) =>
      (await frr.json<Record<string, FrrNeighbor>>(`show bgp neighbors ${peer} json`))[peer] ?? {};
    const lvsctl = async (...args: string[]) => {
      const out = await sh(["ip", "netns", "exec", d.name, "node", BIN, ...args]);
      if (out.code !== 0) throw new Error(`lvsctl ${args.join(" ")} → ${out.code}: ${out.stderr}`);
      return out.stdout;
    };
    const config = (bgp: string, vrrp = "") => `${vrrp}virtualServers:
  - key: { address: ${VIP}, port: 80 }
    protocol: TCP
    delayLoop: 1
    realServers:
      - address: ${D1}
        port: 8080
        checkers:
          - check: { type: tcp, connectTimeout: 1 }
bgp:
  localAs: 65001
  routerId: ${D1}
  holdTime: 9
${bgp}`;
    const peerA = `    - { address: ${R1}, as: 65000, localAddress: ${D1} }\n`;
    const peerB = `    - { address: ${R2}, as: 65000, localAddress: ${D2} }\n`;

    it("reload adds a peer and keeps the untouched session; drain --director withdraws, undrain announces", async () => {
      const file = join(dir, "ops.yaml");
      const socket = join(dir, "ops.sock");
      writeFileSync(file, config(`  peers:\n${peerA}`));
      const lvs = d.spawn(["node", BIN, "up", "-C", "-f", file, "--dataplane", "proxy", "--socket", socket]);
      let client: SpawnedProcess | undefined;
      try {
        await waitFor(async () => (await nextHops()).join() === D1, {
          timeoutMs: 15_000,
          what: `FRR holding ${VIP}/32 via ${D1} (director: ${lvs.output()})`,
        });
        const before = await neighbor(D1);
        expect(before).toMatchObject({ bgpState: "Established", connectionsEstablished: 1 });

        // Reload with a second peer: its session opens, the first one is not touched.
        writeFileSync(file, config(`  peers:\n${peerA}${peerB}`));
        expect(await lvsctl("reload", "--socket", socket)).toMatch(/^reloaded: 1 virtual servers/);
        await waitFor(async () => (await nextHops()).join() === [D1, D2].join(), {
          timeoutMs: 15_000,
          what: `FRR holding ${VIP}/32 via ${D1} and ${D2} (director: ${lvs.output()})`,
        });
        const after = await neighbor(D1);
        expect(after).toMatchObject({
          bgpState: "Established",
          connectionsEstablished: 1,
          connectionsDropped: 0,
        });
        // Its up-time went on (a reset session would start again from 0).
        expect(after.bgpTimerUpMsec).toBeGreaterThanOrEqual(before.bgpTimerUpMsec as number);
        expect(lvs.output()).toMatch(/BGP reload: 1 session\(s\) kept, 1 added, 0 restarted, 0 removed/);

        // A connection established through D (C's own route to it), once the proxy listens.
        await waitFor(async () => (await d.run("ss -Hltn 'sport = :80'")).includes(":80"), {
          what: "the proxy listening on the VIP",
        });
        const cl = c.spawn(
          [
            "node",
            "-e",
            `const s = require("node:net").connect(80, "${VIP}", () => console.log("connected"));
           s.on("data", (b) => process.stdout.write("echo:" + b));
           process.stdin.on("data", (b) => s.write(b));
           s.on("close", () => { console.log("closed"); process.exit(0); });`,
          ],
          { stdio: ["pipe", "pipe", "pipe"] },
        );
        client = cl;
        await waitFor(() => cl.output().includes("connected"), {
          what: `client connected (${cl.output()})`,
        });
        cl.child.stdin?.write("one\n");
        await waitFor(() => cl.output().includes("echo:one"), { what: "echo before the drain" });

        const drained = await lvsctl("drain", "--director", "--socket", socket);
        expect(drained).toBe(
          `director drained: withdrew ${VIP}/32 from 2 BGP peers; established connections keep being served\n`,
        );
        await waitFor(async () => (await nextHops()).length === 0, {
          timeoutMs: 5000,
          what: "withdrawn from FRR",
        });
        expect((await neighbor(D1)).bgpState).toBe("Established");
        expect((await neighbor(D2)).bgpState).toBe("Established");
        // The director still serves what is established.
        cl.child.stdin?.write("two\n");
        await waitFor(() => cl.output().includes("echo:two"), { what: "echo after the drain" });
        const status = await lvsctl("status", "--socket", socket);
        expect(status).toMatch(/Director DRAINED since/);
        expect(status).toMatch(new RegExp(`BGP: withheld ${VIP}/32: the director is drained`));
        expect(status).toMatch(new RegExp(`peer ${R1} AS 65000 Established`));
        const json = await sh([
          "ip",
          "netns",
          "exec",
          d.name,
          "node",
          BIN,
          "status",
          "--json",
          "--socket",
          socket,
        ]);
        expect(JSON.parse(json.stdout).directorDrain).toEqual({ since: expect.any(Number) });
        const api = new DirectorClient({ socketPath: socket });
        const drainedMetrics = await api.metrics();
        for (const peer of [R1, R2]) {
          const labels = `{peer="${peer}",peer_as="65000"}`;
          expect(drainedMetrics).toContain(`lvs_bgp_session_established${labels} 1`);
          expect(drainedMetrics).toContain(`lvs_bgp_session_state${labels} 6`);
          expect(drainedMetrics).toContain(`lvs_bgp_announced_prefixes${labels} 0`);
        }
        expect(drainedMetrics).toMatch(/^lvs_director_drained 1$/m);

        expect(await lvsctl("undrain", "--director", "--socket", socket)).toBe(
          `director undrained: announcing ${VIP}/32 to 2 BGP peers\n`,
        );
        await waitFor(async () => (await nextHops()).join() === [D1, D2].join(), {
          timeoutMs: 5000,
          what: "announced again",
        });
        expect(await neighbor(D1)).toMatchObject({ connectionsEstablished: 1, connectionsDropped: 0 });
        const undrainedMetrics = await api.metrics();
        expect(undrainedMetrics).toContain(`lvs_bgp_announced_prefixes{peer="${R1}",peer_as="65000"} 1`);
        expect(undrainedMetrics).toMatch(/^lvs_director_drained 0$/m);
        // Announce, withdraw, announce again: at least three UPDATEs to the first peer.
        const sent = undrainedMetrics
          .split("\n")
          .find((l) => l.startsWith(`lvs_bgp_updates_sent_total{peer="${R1}",peer_as="65000"} `));
        expect(Number(sent?.split(" ")[1])).toBeGreaterThanOrEqual(3);

        // Reload without the second peer: only its session closes (Cease), the first stays.
        writeFileSync(file, config(`  peers:\n${peerA}`));
        await lvsctl("reload", "--socket", socket);
        await waitFor(async () => (await nextHops()).join() === D1, {
          timeoutMs: 5000,
          what: `only via ${D1}`,
        });
        expect(frr.log()).toMatch(/Cease\/Administrative Shutdown\) "lvs director reload: peer removed"/);
        expect((await neighbor(D2)).bgpState).not.toBe("Established");
        expect(await neighbor(D1)).toMatchObject({ bgpState: "Established", connectionsEstablished: 1 });

        // A changed session parameter (the hold time) restarts the session with the new one.
        writeFileSync(file, config(`  peers:\n${peerA}`).replace("holdTime: 9", "holdTime: 6"));
        await lvsctl("reload", "--socket", socket);
        await waitFor(async () => (await neighbor(D1)).connectionsEstablished === 2, {
          timeoutMs: 10_000,
          what: `the session to ${R1} re-established`,
        });
        await waitFor(async () => (await neighbor(D1)).bgpState === "Established", {
          timeoutMs: 10_000,
          what: "Established",
        });
        expect((await neighbor(D1)).bgpTimerHoldTimeMsecs).toBe(6000);
        await waitFor(async () => (await nextHops()).join() === D1, {
          timeoutMs: 5000,
          what: "announced after the restart",
        });
        expect(lvs.output()).toMatch(/BGP reload: 0 session\(s\) kept, 0 added, 1 restarted, 0 removed/);
      } finally {
        client?.kill("SIGKILL");
        lvs.kill("SIGTERM");
        await lvs.exited;
      }
    }, 60_000);

    it("announceWhenMaster: announced while MASTER, withdrawn as BACKUP (keepalived preempts), back when it stops", async () => {
      const file = join(dir, "gate.yaml");
      const socket = join(dir, "gate.sock");
      const vrrp = `globalDefs: { vrrpVersion: 3 }
vrrpInstances:
  - name: VI_1
    interface: vrrp0
    virtualRouterId: 85
    priority: 100
    advertInt: 0.1
    virtualIpaddress: [{ address: 10.185.3.100, prefix: 24 }]
`;
      writeFileSync(file, config(`  announceWhenMaster: VI_1\n  peers:\n${peerA}`, vrrp));
      // The previous case's route must be gone first, or it would pass for this director's.
      await waitFor(async () => (await nextHops()).length === 0, {
        timeoutMs: 15_000,
        what: "no route left from the previous case",
      });
      const lvs = d.spawn(["node", BIN, "up", "-f", file, "--dataplane", "proxy", "--socket", socket]);
      let ka: SpawnedProcess | undefined;
      try {
        await waitFor(async () => (await nextHops()).join() === D1, {
          timeoutMs: 15_000,
          what: `announced once VI_1 is MASTER (director: ${lvs.output()})`,
        });
        const json = async () =>
          JSON.parse(await lvsctl("status", "--json", "--socket", socket)) as {
            bgpAnnouncement: { withheld: string | null; announceWhenMaster: unknown[] };
          };
        // The announcement can come before the runtime API listens (the API opens last at start).
        await waitFor(async () => existsSync(socket), { timeoutMs: 15_000, what: "the runtime API socket" });
        await waitFor(
          async () =>
            JSON.stringify((await json()).bgpAnnouncement.announceWhenMaster) ===
            JSON.stringify([{ instance: "VI_1", state: "MASTER" }]),
          { timeoutMs: 10_000, what: "status: VI_1 MASTER" },
        );
        expect((await json()).bgpAnnouncement.announceWhenMaster).toEqual([
          { instance: "VI_1", state: "MASTER" },
        ]);

        // keepalived with a higher priority takes over: D goes BACKUP and withdraws.
        const kaConf = join(dir, "ka.conf");
        writeFileSync(
          kaConf,
          `global_defs {\n  router_id ka\n  vrrp_version 3\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface vrrp0\n  virtual_router_id 85\n  priority 200\n  advert_int 0.1\n  virtual_ipaddress {\n    10.185.3.100/24\n  }\n}\n`,
        );
        // -R: no respawn, so the VRRP child stops with keepalived.
        ka = k.spawn(keepalivedArgv({ half: "vrrp", config: kaConf, dir, extra: ["-R"] }));
        await waitFor(async () => (await nextHops()).length === 0, {
          timeoutMs: 10_000,
          what: `withdrawn as BACKUP (keepalived: ${ka.output()})`,
        });
        expect((await neighbor(D1)).bgpState).toBe("Established");
        expect((await json()).bgpAnnouncement.withheld).toBe(
          "announceWhenMaster: VRRP instance VI_1 is BACKUP",
        );

        // keepalived stops (priority 0): D is MASTER again and announces.
        ka.kill("SIGTERM");
        await ka.exited;
        await waitFor(async () => (await nextHops()).join() === D1, {
          timeoutMs: 10_000,
          what: "announced again",
        });
        expect((await json()).bgpAnnouncement.withheld).toBeNull();
      } finally {
        ka?.kill("SIGKILL");
        lvs.kill("SIGTERM");
        await lvs.exited;
      }
    }, 60_000);
  },
);
