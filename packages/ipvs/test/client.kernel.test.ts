// Kernel tier: our client against the kernel's IPVS, checked both ways with ipvsadm 1.31.
import type { Netns, Topology } from "@lvs/testkit";
import { ipvsadm, ipvsNamespace, loadIpvsModules } from "@lvs/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { IpvsClient } from "../src/client.js";
import {
  AF_INET6,
  DaemonState,
  Errno,
  Forward,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  TunnelFlag,
  TunnelType,
} from "../src/constants.js";
import { IpvsError } from "../src/errors.js";

let topo: Topology;
let ns: Netns;
let client: IpvsClient;

beforeAll(async () => {
  loadIpvsModules();
  ({ topo, ns } = await ipvsNamespace("ipvscl"));
  client = await IpvsClient.open({ netns: ns.path, timeoutMs: 20_000 });
});
afterAll(async () => {
  client?.close();
  await topo?.destroy();
});
beforeEach(async () => {
  await client.flush();
});

const TCP = 6;
const UDP = 17;

describe("we write, ipvsadm shows exactly", () => {
  it("services and real servers of every kind, IPv4 and IPv6, in -Sn", async () => {
    await client.addService({ protocol: TCP, address: "10.0.0.1", port: 80, scheduler: "rr" });
    await client.addDest(
      { protocol: TCP, address: "10.0.0.1", port: 80 },
      { address: "10.0.0.2", port: 8080, forward: Forward.MASQ, weight: 3 },
    );
    await client.addDest(
      { protocol: TCP, address: "10.0.0.1", port: 80 },
      { address: "10.0.0.3", port: 80, forward: Forward.ROUTE, weight: 0 },
    );
    await client.addDest(
      { protocol: TCP, address: "10.0.0.1", port: 80 },
      { address: "10.0.0.4", port: 80, forward: Forward.TUNNEL, tunnelType: TunnelType.IPIP },
    );
    await client.addService({
      protocol: UDP,
      address: "2001:db8::1",
      port: 53,
      scheduler: "wlc",
      flags: IP_VS_SVC_F_PERSISTENT,
      timeout: 600,
      netmask: 64,
    });
    await client.addDest(
      { protocol: UDP, address: "2001:db8::1", port: 53 },
      { address: "2001:db8::2", port: 5353, forward: Forward.MASQ, weight: 2 },
    );
    await client.addService({
      fwmark: 7,
      scheduler: "sh",
      flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2,
      timeout: 300,
      netmask: 24,
    });
    await client.addDest(
      { fwmark: 7 },
      {
        address: "10.0.0.5",
        port: 0,
        forward: Forward.TUNNEL,
        tunnelType: TunnelType.GUE,
        tunnelPort: 6080,
        tunnelFlags: TunnelFlag.CSUM,
      },
    );
    await client.addDest(
      { fwmark: 7 },
      {
        address: "10.0.0.6",
        port: 0,
        forward: Forward.TUNNEL,
        tunnelType: TunnelType.GRE,
        tunnelFlags: TunnelFlag.NOCSUM,
      },
    );
    await client.addService({ fwmark: 9, af: AF_INET6, scheduler: "mh", flags: IP_VS_SVC_F_SCHED1 });
    await client.addService({
      protocol: UDP,
      address: "10.0.0.7",
      port: 0,
      scheduler: "wrr",
      flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET,
      timeout: 60,
    });
    await client.addService({ protocol: 132, address: "10.0.0.8", port: 3868, scheduler: "lc" });
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      [
        "-A -t 10.0.0.1:80 -s rr",
        "-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3",
        "-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 0",
        "-a -t 10.0.0.1:80 -r 10.0.0.4:80 -i -w 1 --tun-type ipip",
        "-A -u 10.0.0.7:0 -s wrr -p 60 -o",
        "-A --sctp-service 10.0.0.8:3868 -s lc",
        "-A -u [2001:db8::1]:53 -s wlc -p 600 -M 64",
        "-a -u [2001:db8::1]:53 -r [2001:db8::2]:5353 -m -w 2",
        "-A -f 7 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port",
        "-a -f 7 -r 10.0.0.5:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum",
        "-a -f 7 -r 10.0.0.6:0 -i -w 1 --tun-type gre --tun-nocsum",
        "-A -f 9 -6 -s mh -b mh-fallback",
        "",
      ].join("\n"),
    );
  });

  it("a persistence engine (--pe sip)", async () => {
    await client.addService({
      protocol: UDP,
      address: "10.0.0.1",
      port: 5060,
      flags: IP_VS_SVC_F_PERSISTENT,
      timeout: 60,
      peName: "sip",
    });
    expect(await ipvsadm(ns, ["-Sn"])).toBe("-A -u 10.0.0.1:5060 -s wlc -p 60 --pe sip\n");
    expect((await client.service({ protocol: UDP, address: "10.0.0.1", port: 5060 })).peName).toBe("sip");
  });

  it("edits in place: scheduler, flags, weight, thresholds", async () => {
    const svc = { protocol: TCP, address: "10.0.0.1", port: 80 };
    await client.addService({ ...svc, scheduler: "rr" });
    await client.addDest(svc, { address: "10.0.0.2", port: 80, forward: Forward.MASQ });
    await client.editService({ ...svc, scheduler: "wlc", flags: IP_VS_SVC_F_PERSISTENT, timeout: 30 });
    await client.editDest(svc, {
      address: "10.0.0.2",
      port: 80,
      forward: Forward.MASQ,
      weight: 9,
      upperThreshold: 100,
      lowerThreshold: 5,
    });
    expect(await ipvsadm(ns, ["-Ln", "--thresholds"])).toContain(
      "  -> 10.0.0.2:80                  100        5          0          0         \n",
    );
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      "-A -t 10.0.0.1:80 -s wlc -p 30\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 9\n",
    );
  });

  it("timeouts (--set / --timeout) and the sync daemon (--daemon)", async () => {
    await client.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
    expect(await ipvsadm(ns, ["-L", "--timeout"])).toBe("Timeout (tcp tcpfin udp): 901 121 301\n");
    await client.startDaemon({
      state: DaemonState.BACKUP,
      mcastIfn: "dummy0",
      syncId: 9,
      mcastGroup: "224.0.0.82",
      mcastPort: 8849,
      mcastTtl: 3,
      syncMaxLen: 1200,
    });
    try {
      expect(await ipvsadm(ns, ["-L", "--daemon"])).toBe(
        "backup sync daemon (mcast=dummy0, syncid=9, maxlen=1200, group=224.0.0.82, port=8849, ttl=3)\n",
      );
      expect(await client.daemons()).toEqual([
        {
          state: DaemonState.BACKUP,
          mcastIfn: "dummy0",
          syncId: 9,
          syncMaxLen: 1200,
          mcastGroup: "224.0.0.82",
          mcastPort: 8849,
          mcastTtl: 3,
        },
      ]);
    } finally {
      await client.stopDaemon(DaemonState.BACKUP);
    }
    expect(await client.daemons()).toEqual([]);
  });
});

describe("ipvsadm writes, we read back", () => {
  it("a restore file of every kind", async () => {
    const rules = [
      "-A -t 10.0.0.1:80 -s wrr -p 120 -M 255.255.0.0",
      "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 4",
      "-A -u [2001:db8::1]:0 -s sed -p 30",
      "-a -u [2001:db8::1]:0 -r [2001:db8::3]:0 -g -w 1",
      "-A -f 3 -s rr",
      "-a -f 3 -r 10.0.0.9:0 -i -w 2 --tun-type gue --tun-port 5555 --tun-remcsum",
      "",
    ].join("\n");
    await ipvsadm(ns, ["-R"], rules);
    const table = await client.table();
    const byName = Object.fromEntries(
      table.map((t) => [t.service.fwmark ? `fwm${t.service.fwmark}` : t.service.address, t]),
    );
    expect(byName["10.0.0.1"]?.service).toMatchObject({
      protocol: TCP,
      port: 80,
      scheduler: "wrr",
      timeout: 120,
      netmask: 16,
    });
    expect((byName["10.0.0.1"]?.service.flags ?? 0) & IP_VS_SVC_F_PERSISTENT).toBe(IP_VS_SVC_F_PERSISTENT);
    expect(byName["10.0.0.1"]?.dests).toMatchObject([
      { address: "10.0.0.2", port: 80, forward: Forward.ROUTE, weight: 4 },
    ]);
    expect(byName["2001:db8::1"]?.service).toMatchObject({
      af: AF_INET6,
      protocol: UDP,
      port: 0,
      scheduler: "sed",
      netmask: 128,
    });
    expect(byName["2001:db8::1"]?.dests).toMatchObject([{ af: AF_INET6, address: "2001:db8::3", port: 0 }]);
    expect(byName.fwm3?.dests).toMatchObject([
      {
        address: "10.0.0.9",
        forward: Forward.TUNNEL,
        weight: 2,
        tunnelType: TunnelType.GUE,
        tunnelPort: 5555,
        tunnelFlags: TunnelFlag.REMCSUM,
      },
    ]);
    expect((await client.service({ protocol: TCP, address: "10.0.0.1", port: 80 })).scheduler).toBe("wrr");
    const info = await client.info();
    expect(info.version).toBe(0x010201);
    expect(info.connTabSize).toBeGreaterThan(0);
  });
});

describe("errors name the object and keep the errno", () => {
  const svc = { protocol: TCP, address: "10.0.0.1", port: 80 };
  it("duplicate service → EEXIST", async () => {
    await client.addService({ ...svc, scheduler: "rr" });
    const err = await client.addService({ ...svc, scheduler: "rr" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsError);
    expect(err).toMatchObject({
      code: "IPVS_EEXIST_SERVICE",
      errno: Errno.EEXIST,
      errnoName: "EEXIST",
      object: "TCP 10.0.0.1:80",
    });
  });
  it("missing service → ESRCH (the kernel's errno for it), missing dest → ENOENT", async () => {
    await expect(client.delService(svc)).rejects.toMatchObject({
      code: "IPVS_ESRCH_SERVICE",
      errno: Errno.ESRCH,
    });
    await client.addService({ ...svc, scheduler: "rr" });
    await expect(client.delDest(svc, { address: "10.0.0.2", port: 80 })).rejects.toMatchObject({
      code: "IPVS_ENOENT_DEST",
      errno: Errno.ENOENT,
      object: "TCP 10.0.0.1:80 -> 10.0.0.2:80",
    });
    await client.addDest(svc, { address: "10.0.0.2", port: 80 });
    await expect(client.addDest(svc, { address: "10.0.0.2", port: 80 })).rejects.toMatchObject({
      code: "IPVS_EEXIST_DEST",
    });
  });
  it("unknown scheduler → ENOENT naming it", async () => {
    const err = (await client
      .addService({ ...svc, scheduler: "nosuch" })
      .catch((e: unknown) => e)) as IpvsError;
    expect(err.code).toBe("IPVS_ENOENT_SERVICE");
    expect(err.message).toContain('scheduler "nosuch"');
  });
  it("batch: failures reported one by one, successes stay", async () => {
    const results = await client.batch([
      { op: "addService", service: { ...svc, scheduler: "rr" } },
      { op: "addService", service: { ...svc, scheduler: "rr" } },
      { op: "addDest", service: svc, dest: { address: "10.0.0.2", port: 80 } },
      {
        op: "addDest",
        service: { protocol: TCP, address: "10.0.0.99", port: 80 },
        dest: { address: "10.0.0.2", port: 80 },
      },
    ]);
    expect(results.map((r) => r.error?.code)).toEqual([
      undefined,
      "IPVS_EEXIST_SERVICE",
      undefined,
      "IPVS_ESRCH_DEST",
    ]);
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n",
    );
  });
});

describe("the README example", () => {
  it("programs a service in ten lines", async () => {
    await client.flush();
    const { programWebService } = await import("../examples/program-a-service.js");
    expect((await programWebService(ns.path)).sort()).toEqual([
      "10.0.0.2:8080 weight 2",
      "10.0.0.3:8080 weight 1",
    ]);
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 2\n-a -t 10.0.0.1:80 -r 10.0.0.3:8080 -m -w 1\n",
    );
  });

  it("applies a description: only the real server that is not described goes", async () => {
    // beforeEach flushed the table: start from the first example's service and its two servers.
    const { programWebService } = await import("../examples/program-a-service.js");
    await programWebService(ns.path);
    const { applyWebService } = await import("../examples/apply-desired.js");
    // the example imports the built package; this client is the source one: the same class
    const report = await applyWebService(client as unknown as Parameters<typeof applyWebService>[0]);
    expect(report.failed).toEqual([]);
    const ops = report.operations.map((o) => o.op);
    expect(ops).toContain("delDest");
    expect(ops).not.toContain("delService"); // edited in place, never recreated
    expect(await ipvsadm(ns, ["-Sn"])).toBe(
      "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 2\n",
    );
  });
});
