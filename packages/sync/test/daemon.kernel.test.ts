// Kernel tier: the kernel's sync daemon started, listed and stopped through @lvs/ipvs's netlink
// client; ipvsadm -L --daemon (1.31) must print exactly what formatSyncDaemon() prints.
import { execFileSync } from "node:child_process";
import { IpvsClient } from "@lvs/ipvs";
import { type Netns, Topology } from "@lvs/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { formatSyncDaemon, startSyncDaemon, stopSyncDaemon, syncDaemonStatus } from "../src/index.js";

let topo: Topology;
let ns: Netns;
let client: IpvsClient;

beforeAll(async () => {
  for (const m of ["dummy", "ip_vs"]) execFileSync("modprobe", [m]);
  topo = await Topology.create("sync-d");
  ns = await topo.addNamespace("d");
  await ns.run(
    "ip link add sync0 type dummy && ip link set sync0 up && ip addr add 192.168.95.1/24 dev sync0",
  );
  client = await IpvsClient.open({ netns: ns.path, timeoutMs: 20_000 });
});
afterAll(async () => {
  client?.close();
  await topo?.destroy();
});

it("start master and backup (all options), status matches ipvsadm -L --daemon, stop", async () => {
  await startSyncDaemon(client, {
    role: "master",
    interface: "sync0",
    syncId: 9,
    maxLength: 1400,
    group: "224.0.0.82",
    port: 8860,
    ttl: 3,
  });
  await startSyncDaemon(client, { role: "backup", interface: "sync0", syncId: 4 });
  const status = await syncDaemonStatus(client);
  expect(status.find((d) => d.role === "master")).toEqual({
    role: "master",
    interface: "sync0",
    syncId: 9,
    maxLength: 1400,
    group: "224.0.0.82",
    port: 8860,
    ttl: 3,
  });
  // The kernel fills in the backup's defaults (start_sync_thread()): group, port, ttl, maxlen from the MTU.
  expect(status.find((d) => d.role === "backup")).toMatchObject({
    role: "backup",
    interface: "sync0",
    syncId: 4,
    group: "224.0.0.81",
    port: 8848,
    ttl: 1,
  });
  const shown = (await ns.run("ipvsadm -L --daemon")).trim().split("\n").sort();
  expect(status.map(formatSyncDaemon).sort()).toEqual(shown);
  await stopSyncDaemon(client, "master");
  await stopSyncDaemon(client, "backup");
  expect(await syncDaemonStatus(client)).toEqual([]);
  expect((await ns.run("ipvsadm -L --daemon")).trim()).toBe("");
});
