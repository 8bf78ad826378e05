// lvsctl sync relay: two links joined only by a routed path; what is multicast on link A arrives
// as multicast on link B; a forged datagram on the relay port changes nothing and is counted.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));

describe.skipIf(!canUseNetns())("lvsctl sync relay across L3 (netns)", () => {
  let topo: Topology;
  let master: Netns;
  let relayA: Netns;
  let router: Netns;
  let relayB: Netns;
  let backup: Netns;
  let dir: string;
  let procA: SpawnedProcess;
  let procB: SpawnedProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lvs-relay-"));
    writeFileSync(join(dir, "key"), `${"5a".repeat(32)}\n`, { mode: 0o600 });
    topo = await Topology.create("relay");
    const brA = await topo.addBridge("a");
    const brB = await topo.addBridge("b");
    master = await topo.addNamespace("m");
    relayA = await topo.addNamespace("ra");
    router = await topo.addNamespace("rt");
    relayB = await topo.addNamespace("rb");
    backup = await topo.addNamespace("bk");
    await topo.attach(master, brA, { addr: "192.168.71.1/24", ifname: "eth0" });
    await topo.attach(relayA, brA, { addr: "192.168.71.2/24", ifname: "eth0" });
    await topo.attach(relayB, brB, { addr: "192.168.72.2/24", ifname: "eth0" });
    await topo.attach(backup, brB, { addr: "192.168.72.1/24", ifname: "eth0" });
    await topo.link(relayA, router, { a: "10.99.0.1/24", b: "10.99.0.2/24", ifA: "wan0", ifB: "eth0" });
    await topo.link(router, relayB, { a: "10.98.0.2/24", b: "10.98.0.1/24", ifA: "eth1", ifB: "wan0" });
    await router.sysctl("net.ipv4.ip_forward", 1);
    await relayA.addRoute("10.98.0.0/24 via 10.99.0.2");
    await relayB.addRoute("10.99.0.0/24 via 10.98.0.2");
    const relay = (ns: Netns, listen: string, peer: string) =>
      ns.spawn([
        "node",
        BIN,
        "sync",
        "relay",
        "--mcast-interface",
        "eth0",
        "--syncid",
        "0",
        "--listen",
        listen,
        "--peer",
        peer,
        "--key-file",
        join(dir, "key"),
      ]);
    procA = relay(relayA, "10.99.0.1", "10.98.0.1");
    procB = relay(relayB, "10.98.0.1", "10.99.0.1");
    await waitFor(() => procA.output().includes("relaying") && procB.output().includes("relaying"), {
      what: "relays up",
      timeoutMs: 10_000,
    });
  });
  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function listen(extra: string[]): Promise<SpawnedProcess> {
    const p = backup.spawn([
      "node",
      BIN,
      "sync",
      "listen",
      "--mcast-interface",
      "eth0",
      "--syncid",
      "0",
      ...extra,
    ]);
    await waitFor(() => p.output().includes("listening on eth0"), { what: "listener", timeoutMs: 10_000 });
    return p;
  }

  it("connections multicast on link A are multicast on link B; forged datagrams are dropped and counted", async () => {
    const lines = [
      "TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED",
      "TCP 10.1.0.6:40002 10.0.0.1:80 10.0.2.12:8080 SYN_RECV",
      "UDP 10.1.0.7:5353 10.0.0.1:53 10.0.2.11:53 UDP",
    ];
    const rx = await listen(["--count", "3", "--timeout", "20"]);
    const tx = await master.exec(
      ["node", BIN, "sync", "send", "--mcast-interface", "eth0", "--syncid", "3"],
      { input: lines.join("\n") },
    );
    expect(tx.code, tx.stderr).toBe(0);
    expect(await rx.exited, rx.output()).toBe(0);
    expect(
      rx
        .output()
        .split("\n")
        .filter((l) => /^(TCP|UDP) /.test(l)),
    ).toEqual(lines);

    // A forged envelope (right magic, wrong MAC) around a valid sync message, from the routed path.
    const quiet = await listen(["--timeout", "2"]);
    const forge = `
      const dgram = require("node:dgram");
      const msg = Buffer.from("0005002c01010000000600240000000000019c4100501f90000000000000038401020304050607080a00020b", "hex");
      const env = Buffer.concat([Buffer.from("4c5653520100000000000001000000000000000100000001", "hex"), msg, Buffer.alloc(32, 1)]);
      const s = dgram.createSocket("udp4");
      s.send(env, 8850, "10.98.0.1", () => s.send(Buffer.from("junk"), 8850, "10.98.0.1", () => s.close()));`;
    const f = await router.exec(["node", "-e", forge]);
    expect(f.code, f.stderr).toBe(0);
    expect(await quiet.exited).toBe(0);
    expect(quiet.output()).toMatch(/^0 connections/m);

    procB.kill("SIGTERM");
    expect(await procB.exited).toBe(0);
    const stats = JSON.parse(
      procB
        .output()
        .split("\n")
        .find((l) => l.startsWith("{")) ?? "{}",
    );
    expect(stats).toMatchObject({
      remulticast: 1,
      auth: { accepted: 1, dropped: 2, droppedByCode: { SYNC_AUTH_BAD_MAC: 1, SYNC_AUTH_SHORT: 1 } },
    });
    procA.kill("SIGTERM");
    expect(await procA.exited).toBe(0);
    const statsA = JSON.parse(
      procA
        .output()
        .split("\n")
        .find((l) => l.startsWith("{")) ?? "{}",
    );
    expect(statsA).toMatchObject({ forwarded: 1, link: { accepted: 1, connections: 3 } });
  });
});
