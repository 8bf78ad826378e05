// The VRRP side through the daemon (netns tier, host; VRRP needs no IPVS): `lvsctl director run
// --mode vrrp` runs the file's vrrp_instance through @lvs/vrrp; the API shows the instance and
// its state, /metrics has keepalived-exporter's lvs_vrrp_state, SIGTERM removes the VIP.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectorClient } from "../src/client.js";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));

describe.skipIf(!canUseNetns())("director --mode vrrp", () => {
  let topo: Topology;
  let lb: Netns;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lvs-dir-vrrp-"));
    topo = await Topology.create("dvrrp");
    lb = await topo.addNamespace("lb");
    const peer = await topo.addNamespace("peer");
    await topo.link(lb, peer, { a: "10.74.0.1/24", b: "10.74.0.2/24", ifA: "eth0", ifB: "eth0" });
  });
  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs the instance, reports it in /status and /metrics, releases the VIP on SIGTERM", async () => {
    const conf = join(dir, "keepalived.conf");
    writeFileSync(
      conf,
      `global_defs {\n  vrrp_version 3\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 74\n  priority 150\n  advert_int 0.1\n  virtual_ipaddress {\n    10.74.0.100/24\n  }\n}\n`,
    );
    const sock = join(dir, "d.sock");
    const d = lb.spawn([
      "node",
      BIN,
      "director",
      "run",
      "-f",
      conf,
      "--mode",
      "vrrp",
      "--socket",
      sock,
      "--log-format",
      "text",
    ]);
    const api = new DirectorClient({ socketPath: sock });
    await waitFor(async () => (await api.status()).vrrp.instances.some((i) => i.state === "MASTER"), {
      what: "MASTER",
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const st = await api.status();
    expect(st.vrrp.running).toBe(true);
    expect(st.vrrp.instances[0]).toMatchObject({
      name: "VI_1",
      interface: "eth0",
      vrid: 74,
      state: "MASTER",
      priority: 150,
      vips: ["10.74.0.100"],
    });
    expect(await lb.run("ip -4 -o addr show dev eth0")).toContain("10.74.0.100/24");
    const m = await api.metrics();
    expect(m).toContain('lvs_vrrp_state{iname="VI_1",intf="eth0",vrid="74",ip_address="10.74.0.100"} 2');
    expect(m).toMatch(/lvs_vrrp_become_master_total\{iname="VI_1",intf="eth0",vrid="74"\} 1/);
    expect(d.output()).toContain("(VI_1) Entering MASTER STATE");
    d.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    expect(await lb.run("ip -4 -o addr show dev eth0")).not.toContain("10.74.0.100");
  }, 40_000);
});
