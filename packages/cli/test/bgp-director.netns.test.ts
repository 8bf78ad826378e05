// Netns tier: the director's `bgp:` section end to end. `lvsctl up -C --dataplane proxy` runs in a
// director namespace D with one virtual server (VIP 192.0.2.60:80 on D's loopback) whose only real
// server is a TCP server in D; FRR 8.4 is the router in R. While the real server passes its
// TCP_CHECK the service has quorum and FRR holds 192.0.2.60/32 via D (with the section's
// community); killing the real server loses quorum → withdrawn; back → announced again; SIGTERM
// of the director → withdrawn with Cease. `lvsctl status --json` shows the session.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  canUseNetns,
  cleanupFrr,
  type Frr,
  frrPaths,
  haveFrr,
  type Netns,
  type SpawnedProcess,
  sh,
  startFrr,
  Topology,
  waitFor,
} from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const D = "10.184.1.2";
const VIP = "192.0.2.60";

describe.skipIf(!canUseNetns() || !haveFrr())("director `bgp:` section against FRR 8.4 (netns)", () => {
  let topo: Topology;
  let r: Netns;
  let d: Netns;
  let frr: Frr;
  let dir: string;
  beforeAll(async () => {
    topo = await Topology.create("bgp-dir");
    r = await topo.addNamespace("r");
    d = await topo.addNamespace("d");
    await topo.link(r, d, { a: "10.184.1.1/24", b: `${D}/24` });
    await d.addAddress("lo", `${VIP}/32`);
    frr = await startFrr(
      r,
      `frr defaults datacenter
hostname r
log stdout informational
router bgp 65000
 bgp router-id 10.184.1.1
 no bgp ebgp-requires-policy
 neighbor ${D} remote-as 65001
`,
    );
    dir = mkdtempSync(join(tmpdir(), "lvs-bgp-dir-"));
  });
  afterAll(async () => {
    await topo?.destroy();
    cleanupFrr(frr);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const realServer = (): SpawnedProcess =>
    d.spawn(["node", "-e", `require("node:net").createServer((s) => s.end("rs")).listen(8080, "${D}")`]);
  const held = async () => (await frrPaths(frr, "ipv4", `${VIP}/32`)).length > 0;

  it("announces the VIP while the service has quorum, withdraws on quorum loss and on SIGTERM", async () => {
    writeFileSync(
      join(dir, "lvs.yaml"),
      `virtualServers:
  - key: { address: ${VIP}, port: 80 }
    protocol: TCP
    delayLoop: 1
    lvsSched: rr
    realServers:
      - address: ${D}
        port: 8080
        checkers:
          - check: { type: tcp, connectTimeout: 1 }
            policy: { retry: 1, delayBeforeRetry: 0.2 }
bgp:
  localAs: 65001
  holdTime: 9
  communities: ["65001:60"]
  peers:
    - address: 10.184.1.1
      as: 65000
      localAddress: ${D}
`,
    );
    let rs = realServer();
    // The real server listens before the director starts, so its first check passes.
    await waitFor(async () => (await d.run("ss -Hltn 'sport = :8080'")).includes("8080"), {
      what: "real server listening",
    });
    const socket = join(dir, "d.sock");
    const lvs = d.spawn([
      "node",
      BIN,
      "up",
      "-C",
      "-f",
      join(dir, "lvs.yaml"),
      "--dataplane",
      "proxy",
      "--socket",
      socket,
    ]);
    try {
      await waitFor(held, { timeoutMs: 15_000, what: `FRR holding ${VIP}/32 (director: ${lvs.output()})` });
      const [path] = await frrPaths(frr, "ipv4", `${VIP}/32`);
      expect(path).toMatchObject({ valid: true, path: "65001", nexthops: [{ ip: D }] });
      const detail = await frr.json<{ paths: { community?: { string: string } }[] }>(
        `show bgp ipv4 unicast ${VIP}/32 json`,
      );
      expect(detail.paths[0]?.community?.string).toBe("65001:60");
      const status = JSON.parse((await sh(["node", BIN, "status", "--json", "--socket", socket])).stdout) as {
        bgp?: { peer: string; state: string; announced: string[] }[];
      };
      expect(status.bgp).toEqual([
        expect.objectContaining({
          peer: "10.184.1.1",
          peerAs: 65000,
          state: "Established",
          announced: [`${VIP}/32`],
        }),
      ]);

      // The only real server dies: its check fails, quorum is lost, the VIP is withdrawn.
      rs.kill("SIGKILL");
      await waitFor(async () => !(await held()), { timeoutMs: 10_000, what: "withdrawn on quorum loss" });
      expect(lvs.output()).toMatch(/Lost quorum/);
      // It comes back: quorum regained, announced again.
      rs = realServer();
      await waitFor(held, { timeoutMs: 10_000, what: "announced again" });

      lvs.kill("SIGTERM");
      await lvs.exited;
      await waitFor(async () => !(await held()), { timeoutMs: 5000, what: "withdrawn at SIGTERM" });
      expect(frr.log()).toMatch(/6\/2 \(Cease\/Administrative Shutdown\) "lvs director stopping"/);
    } finally {
      lvs.kill("SIGKILL");
      rs.kill("SIGKILL");
    }
  }, 60_000);
});
