// Kernel tier: `lvsctl ipvs` (runIpvsadm) and ipvsadm 1.31 side by side on the same kernel table.
import { readFileSync } from "node:fs";
import { withNetns } from "@lvs/sys";
import type { Netns, Topology } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpvsClient, type Operation } from "../src/client.js";
import { parseConnections } from "../src/conn.js";
import { Forward } from "../src/constants.js";
import { apply, type DesiredService, diff } from "../src/diff.js";
import { systemNames, systemServiceByName } from "../src/ipvsadm/names.js";
import { runIpvsadm } from "../src/ipvsadm/run.js";
import { ipvsadm, ipvsadmRaw, ipvsNamespace, loadIpvsModules } from "./helpers.js";

let topo: Topology;
let ns: Netns;
let client: IpvsClient;

const env = () => ({
  client,
  names: systemNames(),
  serviceByName: systemServiceByName,
  readConnections: () => withNetns(ns.path, () => readFileSync("/proc/self/net/ip_vs_conn", "utf8")),
});
const ours = (args: string, stdin?: string) =>
  runIpvsadm(args.split(" ").filter(Boolean), {
    ...env(),
    ...(stdin !== undefined ? { stdin: () => stdin } : {}),
  });

const RULES = [
  "-A -t 200.0.0.1:80 -s rr",
  "-a -t 200.0.0.1:80 -r 10.0.0.2:80 -g -w 2",
  "-A -t 10.0.0.1:80 -s wlc -p 120 -M 255.255.255.0",
  "-a -t 10.0.0.1:80 -r 10.0.0.3:8080 -m -w 3 -x 50 -y 5",
  "-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 1",
  "-a -t 10.0.0.1:80 -r 10.0.0.20:8080 -m -w 0",
  "-A -t 10.0.0.1:22 -s sh -b sh-fallback,sh-port",
  "-A -u 10.0.0.5:53 -s lc -p 60 -o",
  "-a -u 10.0.0.5:53 -r 10.0.0.6:53 -m",
  "-A -t [2001:db8::1]:443 -s mh -b mh-port -p 30 -M 64",
  "-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m",
  "-a -t [2001:db8::1]:443 -r [2001:db8::3]:443 -g -w 7",
  "-A -f 7 -s sed",
  "-a -f 7 -r 10.0.0.7:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum",
  "-a -f 7 -r 10.0.0.8:0 -i -w 1 --tun-type gre --tun-nocsum",
  "-a -f 7 -r 10.0.0.9:0 -i -w 1 --tun-type ipip",
  "-A -f 9 -6 -s nq",
  "-A --sctp-service 10.0.0.10:3868 -s dh",
  "-A -t 10.0.0.11:0 -s lblc -p 300",
  "",
].join("\n");

beforeAll(async () => {
  loadIpvsModules();
  ({ topo, ns } = await ipvsNamespace("ipvsadm"));
  client = await IpvsClient.open({ netns: ns.path, timeoutMs: 60_000 });
});
afterAll(async () => {
  client?.close();
  await topo?.destroy();
});

describe("restore files both ways", () => {
  it("our -R and ipvsadm -R of the same file build the same table; each reads the other's -S", async () => {
    await client.flush();
    await ipvsadm(ns, ["-R"], RULES);
    const theirs = await ipvsadm(ns, ["-Sn"]);
    const theirThresholds = await ipvsadm(ns, ["-Ln", "--thresholds"]);
    await client.flush();
    expect(await ours("-R", RULES)).toEqual({ exit: 0, stdout: "", stderr: "" });
    expect(await ipvsadm(ns, ["-Sn"])).toBe(theirs);
    expect(await ipvsadm(ns, ["-Ln", "--thresholds"])).toBe(theirThresholds);
    // ipvsadm -R of our -Sn reproduces the same table, and we restore ipvsadm's -Sn
    const ourSave = (await ours("-Sn")).stdout;
    expect(ourSave).toBe(theirs);
    await client.flush();
    await ipvsadm(ns, ["-R"], ourSave);
    expect(await ipvsadm(ns, ["-Sn"])).toBe(theirs);
    await client.flush();
    await ours("-R", theirs);
    expect((await ours("-Sn")).stdout).toBe(theirs);
  });
});

describe("every -L/-S variant is byte-identical to ipvsadm", () => {
  beforeAll(async () => {
    await client.flush();
    await ipvsadm(ns, ["-R"], RULES);
    await ipvsadm(ns, ["--set", "900", "120", "300"]);
    // a connection entry for -c: a SYN from inside the namespace to a virtual service
    await ns.exec(["bash", "-c", "timeout 1 bash -c 'exec 3<>/dev/tcp/10.0.0.1/80' 2>/dev/null; true"]);
  });
  it.each([
    "-Ln",
    "-L",
    "-l -n",
    "-Ln --stats",
    "-Ln --rate",
    "-Ln --stats --exact",
    "-Ln --thresholds",
    "-Ln --persistent-conn",
    "-Ln --tun-info",
    "-Ln --nosort",
    "-Sn",
    "-S",
    "-Ln -t 10.0.0.1:80",
    "-L -n --tcp-service [2001:db8::1]:443 --stats",
    "-Ln -f 7 --tun-info",
    "-L --timeout",
    "-L --daemon",
    "-Lnc",
  ])("ipvsadm %s", async (args) => {
    const theirs = await ipvsadmRaw(ns, args.split(" "));
    const mine = await ours(args);
    expect(mine.stdout).toBe(theirs.stdout);
    expect(mine.stderr).toBe(theirs.stderr);
    expect(mine.exit).toBe(theirs.code);
  });
  it("-L --daemon with both daemons", async () => {
    await ipvsadm(ns, ["--start-daemon", "master", "--mcast-interface", "dummy0", "--syncid", "4"]);
    await ours("--start-daemon backup --mcast-interface dummy0 --syncid 5 --mcast-port 9000 --mcast-ttl 2");
    try {
      expect((await ours("-L --daemon")).stdout).toBe(await ipvsadm(ns, ["-L", "--daemon"]));
    } finally {
      await ours("--stop-daemon master");
      await ipvsadm(ns, ["--stop-daemon", "backup"]);
    }
  });
  it("kernel refusals print ipvsadm's message and status", async () => {
    for (const args of [
      "-A -t 10.0.0.1:80",
      "-D -t 10.9.9.9:80",
      "-a -t 10.9.9.9:80 -r 10.0.0.2",
      "-d -t 10.0.0.1:80 -r 10.0.0.99",
      "-A -t 10.0.0.77:80 -s nosuch",
      "-L -n -t 10.9.9.9:80",
    ]) {
      const theirs = await ipvsadmRaw(ns, args.split(" "));
      const mine = await ours(args);
      expect([mine.exit, mine.stderr], args).toEqual([theirs.code, theirs.stderr]);
    }
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
