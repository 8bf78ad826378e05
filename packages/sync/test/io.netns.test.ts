// Real multicast between network namespaces on a bridge: our sender in one, our listener in another.
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PEER = fileURLToPath(new URL("./peers/peer.mjs", import.meta.url));

interface Line {
  kind: string;
  version?: number;
  syncId?: number;
  connections?: Array<Record<string, unknown>>;
  code?: string;
  stats?: Record<string, unknown>;
  length?: number;
}

describe.skipIf(!canUseNetns())("sync over real multicast (netns)", () => {
  let topo: Topology;
  let master: Netns;
  let backup: Netns;

  beforeAll(async () => {
    topo = await Topology.create("sync-io");
    const br = await topo.addBridge();
    master = await topo.addNamespace("master");
    backup = await topo.addNamespace("backup");
    await topo.attach(master, br, { addr: ["192.168.50.1/24", "fd50::1/64"], ifname: "eth0" });
    await topo.attach(backup, br, { addr: ["192.168.50.2/24", "fd50::2/64"], ifname: "eth0" });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  async function listen(opts: Record<string, unknown>): Promise<SpawnedProcess> {
    const p = backup.spawn(["node", PEER, "listen", JSON.stringify({ interface: "eth0", ...opts })]);
    await waitFor(() => p.output().includes("ready"), { what: "listener ready", timeoutMs: 10_000 });
    return p;
  }
  async function send(opts: Record<string, unknown>): Promise<{ datagrams: number }> {
    const r = await master.exec(["node", PEER, "send", JSON.stringify({ interface: "eth0", ...opts })]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { datagrams: number };
  }
  async function lines(p: SpawnedProcess): Promise<Line[]> {
    const code = await p.exited;
    expect(code, p.output()).toBe(0);
    return p
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Line);
  }

  const conns4 = Array.from(
    { length: 100 },
    (_, i) =>
      `TCP 10.1.${i >> 8}.${(i & 255) + 1}:${40000 + i} 10.0.0.1:80 10.0.2.11:8080 ${i % 3 ? "ESTABLISHED" : "FIN_WAIT"}`,
  );

  it.each([
    1, 0,
  ] as const)("protocol v%i, IPv4 group: 100 connections in MTU-sized messages, all received", async (version) => {
    const rx = await listen({ syncId: 7, count: 100 });
    const sent = await send({ syncId: 7, version, lines: conns4 });
    expect(sent.datagrams).toBe(version === 1 ? 3 : 2); // 40 × 36 B per 1472 B (v1); 61 × 24 B (v0)
    const got = await lines(rx);
    const accepted = got.filter((l) => l.kind === "accepted");
    expect(accepted.every((l) => l.version === version && l.syncId === 7)).toBe(true);
    expect(Math.max(...accepted.map((l) => l.length ?? 0))).toBeLessThanOrEqual(1472);
    const text = accepted
      .flatMap((l) => l.connections ?? [])
      .map(
        (c) =>
          `${c.protocol} ${c.clientAddress}:${c.clientPort} ${c.virtualAddress}:${c.virtualPort} ${c.destAddress}:${c.destPort} ${c.state}`,
      );
    expect(text).toEqual(conns4);
  });

  it("IPv6 group and IPv6 connections (v1, 72-byte entries)", async () => {
    const conns6 = Array.from(
      { length: 30 },
      (_, i) =>
        `TCP [2001:db8::${(i + 1).toString(16)}]:${50000 + i} [2001:db8::100]:443 [2001:db8:2::b]:8443 ESTABLISHED`,
    );
    const rx = await listen({ group: "ff02::8848", syncId: 1, count: 30 });
    const sent = await send({ group: "ff02::8848", syncId: 1, lines: conns6 });
    expect(sent.datagrams).toBe(2); // (1452 - 8) / 72 = 20 per message
    const got = (await lines(rx)).filter((l) => l.kind === "accepted");
    const clients = got.flatMap((l) => l.connections ?? []).map((c) => c.clientAddress);
    expect(clients).toEqual(conns6.map((_, i) => `2001:db8::${(i + 1).toString(16)}`));
  });

  it("other syncids are ignored and malformed datagrams dropped and counted, the good one still arrives", async () => {
    const rx = await listen({ syncId: 7, count: 1 });
    await send({ syncId: 8, lines: [conns4[0]] }); // another syncid
    await send({ syncId: 7, raw: ["00070009ff", "0007000c0101000000060024"], lines: [conns4[1]] });
    const got = await lines(rx);
    expect(got.map((l) => l.kind)).toEqual(["other-syncid", "dropped", "dropped", "accepted", "stats"]);
    expect(got.filter((l) => l.kind === "dropped").map((l) => l.code)).toEqual([
      "SYNC_SIZE_MISMATCH",
      "SYNC_TRUNCATED_CONN",
    ]);
    expect(got.at(-1)?.stats).toMatchObject({
      datagrams: 4,
      accepted: 1,
      otherSyncId: 1,
      dropped: 2,
      connections: 1,
    });
  });
});
