// Kernel tier: the client's reads and reconciliation on tables that ipvsadm 1.31 shows and
// checks: /proc/net/ip_vs_conn, apply() from empty / in place / partial failure, big tables.
import { readFileSync } from "node:fs";
import { withNetns } from "@lvs/sys";
import { ipvsadm, ipvsNamespace, loadIpvsModules, type Netns, type Topology } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpvsClient, type Operation } from "../src/client.js";
import { parseConnections } from "../src/conn.js";
import { Forward } from "../src/constants.js";
import { apply, type DesiredService, diff } from "../src/diff.js";

let topo: Topology;
let ns: Netns;
let client: IpvsClient;

beforeAll(async () => {
  loadIpvsModules();
  ({ topo, ns } = await ipvsNamespace("ipvs-table"));
  client = await IpvsClient.open({ netns: ns.path, timeoutMs: 60_000 });
});
afterAll(async () => {
  client?.close();
  await topo?.destroy();
});

describe("/proc/net/ip_vs_conn", () => {
  beforeAll(async () => {
    await client.flush();
    await ipvsadm(ns, ["-A", "-t", "10.0.0.1:80", "-s", "rr"]);
    await ipvsadm(ns, ["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80", "-m"]);
    // a connection entry: a SYN from inside the namespace to the virtual service
    await ns.exec(["bash", "-c", "timeout 1 bash -c 'exec 3<>/dev/tcp/10.0.0.1/80' 2>/dev/null; true"]);
  });
  it("/proc/net/ip_vs_conn parses into typed connections", () => {
    const text = withNetns(ns.path, () => readFileSync("/proc/self/net/ip_vs_conn", "utf8"));
    const { connections, malformed } = parseConnections(text);
    expect(malformed).toEqual([]);
    expect(connections.length).toBeGreaterThan(0);
    expect(connections[0]).toMatchObject({
      protocol: "TCP",
      virtualAddress: "10.0.0.1",
      virtualPort: 80,
      af: 2,
    });
  });
});

describe("pool-thread exchanges (@lvs/sys NetlinkExchangeSocket) and the JS-thread socket agree", () => {
  // Every table shape the no-op reconcile must see as equal: TCP/UDP/SCTP/fwmark, IPv4 and IPv6,
  // every scheduler loaded, persistence, port-mapped real servers, each forwarding method.
  const schedulers = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"];
  const desired: DesiredService[] = schedulers.flatMap((scheduler, i) => [
    {
      service: { protocol: [6, 17, 132][i % 3] as number, address: `10.9.${i}.1`, port: 80 + i, scheduler },
      dests: [
        { address: `10.8.${i}.2`, port: 8080 + i, forward: Forward.MASQ, weight: i },
        {
          address: `10.8.${i}.3`,
          port: 80 + i,
          forward: Forward.ROUTE,
          upperThreshold: 10,
          lowerThreshold: 2,
        },
        { address: `10.8.${i}.4`, port: 80 + i, forward: Forward.TUNNEL },
      ],
    },
    {
      service: {
        protocol: 6,
        address: `fd00:9::${i + 1}`,
        port: 443,
        scheduler,
        flags: 1,
        timeout: 300,
        netmask: 128,
      },
      dests: [{ address: `fd00:8::${i + 1}`, port: 8443, forward: Forward.MASQ }],
    },
    { service: { fwmark: 100 + i, scheduler }, dests: [{ address: `10.7.${i}.2`, port: 0, weight: 3 }] },
  ]);

  it("build a mixed table, read it both ways, and find nothing to do", async () => {
    await client.flush();
    const built = await apply(client, desired);
    expect(built.failed.map((f) => f.error?.message)).toEqual([]);
    const socketOnly = await IpvsClient.open({ netns: ns.path, timeoutMs: 60_000, nativeIo: false });
    try {
      const viaPool = await client.table();
      const viaSocket = await socketOnly.table();
      expect(viaPool.length).toBe(desired.length);
      expect(viaPool.reduce((n, t) => n + t.dests.length, 0)).toBe(
        desired.reduce((n, d) => n + d.dests.length, 0),
      );
      // Counters may tick between the reads: compare everything else.
      const strip = (t: typeof viaPool) =>
        t.map(({ service, dests }) => ({
          service: { ...service, stats: undefined, stats64: undefined },
          dests: dests.map((d) => ({ ...d, stats: undefined, stats64: undefined })),
        }));
      expect(strip(viaPool)).toEqual(strip(viaSocket));
      // Without counters (a reconcile's read), on both paths: the same table, no counters at all.
      const lean = await client.table({ counters: false });
      const leanSocket = await socketOnly.table({ counters: false });
      expect(lean).toEqual(strip(viaPool));
      expect(leanSocket).toEqual(strip(viaPool));
      expect(
        lean.some((t) => t.service.stats !== undefined || t.dests.some((d) => d.stats64 !== undefined)),
      ).toBe(false);
      expect(viaPool.every((t) => typeof t.service.stats64?.conns === "bigint")).toBe(true);
      expect((await socketOnly.services()).length).toBe(desired.length);
      expect(diff(desired, viaPool)).toEqual([]);
      expect((await apply(client, desired)).operations).toEqual([]);
      // A refused mutation comes back named, with its errno, on the pool-thread path too.
      const [dup, missing] = await client.batch([
        { op: "addService", service: desired[0]?.service as DesiredService["service"] },
        {
          op: "delDest",
          service: desired[0]?.service as DesiredService["service"],
          dest: { address: "10.6.6.6", port: 1 },
        },
      ]);
      expect(dup?.error).toMatchObject({ code: "IPVS_EEXIST_SERVICE", errno: 17 });
      expect(missing?.error).toMatchObject({ code: "IPVS_ENOENT_DEST", errno: 2 });
      expect(missing?.error?.object).toContain("10.6.6.6");
    } finally {
      socketOnly.close();
      await client.flush();
    }
  });
});

describe("apply: reconcile against the kernel", () => {
  it("from empty, then in place, then a no-op; dry-run sends nothing", async () => {
    await client.flush();
    const svc = { protocol: 6, address: "10.0.0.1", port: 80, scheduler: "rr" };
    const desired: DesiredService[] = [
      {
        service: svc,
        dests: [
          { address: "10.0.0.2", port: 80, forward: Forward.MASQ },
          { address: "10.0.0.3", port: 80, forward: Forward.MASQ },
        ],
      },
      { service: { fwmark: 3, scheduler: "wrr" }, dests: [{ address: "10.0.0.4", port: 0, weight: 2 }] },
    ];
    const dry = await apply(client, desired, { dryRun: true });
    expect(dry.operations).toHaveLength(5);
    expect(await ipvsadm(ns, ["-Sn"])).toBe("");
    const first = await apply(client, desired);
    expect(first.failed).toEqual([]);
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1\n-A -f 3 -s wrr\n-a -f 3 -r 10.0.0.4:0 -g -w 2\n",
    );
    expect(diff(desired, await client.table())).toEqual([]);
    // change weights and scheduler: edits only, nothing deleted
    const changed: DesiredService[] = [
      {
        ...desired[0]!,
        service: { ...svc, scheduler: "wlc" },
        dests: [{ address: "10.0.0.2", port: 80, forward: Forward.MASQ, weight: 5 }],
      },
      desired[1]!,
    ];
    const second = await apply(client, changed);
    expect(second.operations.map((o) => o.op)).toEqual(["editService", "editDest", "delDest"]);
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 5\n-A -f 3 -s wrr\n-a -f 3 -r 10.0.0.4:0 -g -w 2\n",
    );
    expect((await apply(client, changed)).operations).toEqual([]);
  });
  it("a refused operation is reported; what succeeded stays", async () => {
    await client.flush();
    const desired: DesiredService[] = [
      {
        service: { protocol: 6, address: "10.0.0.1", port: 80, scheduler: "rr" },
        dests: [{ address: "10.0.0.2", port: 80 }],
      },
      { service: { protocol: 6, address: "10.0.0.2", port: 80, scheduler: "nosuch" }, dests: [] },
    ];
    const r = await apply(client, desired);
    expect(r.failed.map((f) => [f.operation.op, f.error?.code])).toEqual([
      ["addService", "IPVS_ENOENT_SERVICE"],
    ]);
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n",
    );
  });
});

describe("big tables", () => {
  // Many real servers: GET_DEST answers in many multi-part datagrams. One service with DESTS_ONE
  // real servers (the kernel's dest lookup is a list walk, so this grows as n²), and a table of
  // SERVICES × PER_SERVICE read with table().
  const DESTS_ONE = Number(process.env.LVS_IPVS_BIG_DESTS ?? 5_000);
  const SERVICES = Number(process.env.LVS_IPVS_BIG_SERVICES ?? 100);
  const PER_SERVICE = Number(process.env.LVS_IPVS_BIG_PER_SERVICE ?? 100);
  const rsAddr = (i: number) => `10.1.${1 + (Math.floor(i / 250) % 250)}.${1 + (i % 250)}`;
  it(`dumps ${DESTS_ONE} destinations of one service`, async () => {
    await client.flush();
    const svc = { protocol: 6, address: "10.0.0.1", port: 80 };
    const ops: Operation[] = [{ op: "addService", service: { ...svc, scheduler: "rr" } }];
    for (let i = 0; i < DESTS_ONE; i++)
      ops.push({
        op: "addDest",
        service: svc,
        dest: { address: rsAddr(i), port: 1000 + Math.floor(i / 62500), forward: Forward.ROUTE },
      });
    const t0 = performance.now();
    const results = await client.batch(ops);
    const t1 = performance.now();
    expect(
      results
        .filter((r) => r.error)
        .map((r) => r.error?.message)
        .slice(0, 3),
    ).toEqual([]);
    const dests = await client.dests(svc);
    const t2 = performance.now();
    expect(dests).toHaveLength(DESTS_ONE);
    expect(new Set(dests.map((d) => `${d.address}:${d.port}`)).size).toBe(DESTS_ONE);
    console.log(
      `[ipvs] one service, ${DESTS_ONE} dests: batch add ${(t1 - t0).toFixed(0)} ms, dump ${(t2 - t1).toFixed(0)} ms`,
    );
    await client.flush();
  }, 600_000);
  it(`reads a table of ${SERVICES * PER_SERVICE} destinations in ${SERVICES} services`, async () => {
    await client.flush();
    const ops: Operation[] = [];
    for (let s = 0; s < SERVICES; s++) {
      const svc = { protocol: 6, address: `10.2.${s >> 8}.${s & 0xff}`, port: 80 };
      ops.push({ op: "addService", service: { ...svc, scheduler: "wlc" } });
      for (let i = 0; i < PER_SERVICE; i++)
        ops.push({
          op: "addDest",
          service: svc,
          dest: { address: rsAddr(i), port: 8080, forward: Forward.ROUTE },
        });
    }
    const t0 = performance.now();
    const results = await client.batch(ops);
    const t1 = performance.now();
    expect(results.filter((r) => r.error).length).toBe(0);
    const table = await client.table();
    const t2 = performance.now();
    expect(table).toHaveLength(SERVICES);
    expect(table.reduce((n, t) => n + t.dests.length, 0)).toBe(SERVICES * PER_SERVICE);
    console.log(
      `[ipvs] ${SERVICES} services x ${PER_SERVICE} dests: batch add ${(t1 - t0).toFixed(0)} ms, table() ${(t2 - t1).toFixed(0)} ms`,
    );
    await client.flush();
  }, 600_000);
});
