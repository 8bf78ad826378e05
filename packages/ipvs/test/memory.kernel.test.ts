// Kernel tier: MemoryIpvs, the in-memory double, against the kernel's IPVS. The same batches go to
// both; every refusal must carry the same code, errno and object, and the tables read back must
// hold the same services and real servers with the same settings.
import { ipvsNamespace, loadIpvsModules, type Netns, type Topology } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpvsClient, type Operation } from "../src/client.js";
import { Forward, IP_VS_SVC_F_HASHED, IP_VS_SVC_F_PERSISTENT } from "../src/constants.js";
import { serviceId } from "../src/diff.js";
import { MemoryIpvs } from "../src/memory.js";
import type { ServiceWithDests } from "../src/types.js";

let topo: Topology;
let ns: Netns;
let client: IpvsClient;

beforeAll(async () => {
  loadIpvsModules();
  ({ topo, ns } = await ipvsNamespace("ipvsmem"));
  client = await IpvsClient.open({ netns: ns.path, timeoutMs: 20_000 });
});
afterAll(async () => {
  client?.close();
  await topo?.destroy();
});

const web = { protocol: 6, address: "10.0.0.1", port: 80 };
const dns6 = { protocol: 17, address: "2001:db8::1", port: 53 };
const mark = { fwmark: 7 };

/** Settings only: what both report, without counters or the kernel's HASHED bookkeeping bit. */
const settings = (t: ServiceWithDests[]) =>
  t
    .map(({ service: s, dests }) => ({
      id: serviceId(s),
      service: [s.af, s.protocol, s.address, s.port, s.fwmark, s.scheduler, s.flags & ~IP_VS_SVC_F_HASHED]
        .concat(s.flags & IP_VS_SVC_F_PERSISTENT ? [s.timeout, s.netmask] : [])
        .join(" "),
      dests: dests
        .map((d) =>
          [d.af, d.address, d.port, d.forward, d.weight, d.upperThreshold, d.lowerThreshold].join(" "),
        )
        .sort(),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));

const outcome = (r: Awaited<ReturnType<IpvsClient["batch"]>>) =>
  r.map((x) =>
    x.error ? `${x.operation.op} ${x.error.code} ${x.error.errno} ${x.error.object}` : `${x.operation.op} ok`,
  );

describe("MemoryIpvs against the kernel's IPVS", () => {
  it("the same batches: the same refusals (code, errno, object) and the same table", async () => {
    const mem = new MemoryIpvs();
    const batches: Operation[][] = [
      [
        { op: "addService", service: { ...web, scheduler: "rr" } },
        {
          op: "addService",
          service: { ...dns6, scheduler: "wlc", flags: IP_VS_SVC_F_PERSISTENT, timeout: 60 },
        },
        { op: "addService", service: { ...mark, scheduler: "sh" } },
        {
          op: "addDest",
          service: web,
          dest: { address: "10.0.0.2", port: 8080, forward: Forward.MASQ, weight: 3 },
        },
        {
          op: "addDest",
          service: web,
          dest: { address: "10.0.0.3", port: 80, forward: Forward.ROUTE, weight: 0 },
        },
        { op: "addDest", service: dns6, dest: { address: "2001:db8::2", port: 53, forward: Forward.MASQ } },
        { op: "addDest", service: mark, dest: { address: "10.0.0.4", port: 0, forward: Forward.ROUTE } },
      ],
      [
        // Refusals in the middle of a batch: the rest goes on, in both.
        { op: "addService", service: { ...web, scheduler: "wlc" } },
        { op: "addDest", service: web, dest: { address: "10.0.0.2", port: 8080, forward: Forward.MASQ } },
        { op: "editDest", service: web, dest: { address: "10.0.0.9", port: 80, forward: Forward.ROUTE } },
        { op: "delDest", service: web, dest: { address: "10.0.0.9", port: 80 } },
        { op: "addDest", service: { ...web, port: 81 }, dest: { address: "10.0.0.2", port: 81 } },
        { op: "editService", service: { ...web, port: 81, scheduler: "rr" } },
        { op: "delService", service: { fwmark: 8 } },
        {
          op: "editDest",
          service: web,
          dest: { address: "10.0.0.3", port: 80, forward: Forward.ROUTE, weight: 5 },
        },
        { op: "editService", service: { ...web, scheduler: "wrr" } },
      ],
      [
        { op: "delDest", service: web, dest: { address: "10.0.0.2", port: 8080 } },
        { op: "delService", service: mark },
        { op: "delService", service: mark },
      ],
    ];
    for (const ops of batches) {
      expect(outcome(await mem.batch(ops))).toEqual(outcome(await client.batch(ops)));
      expect(settings(await mem.table())).toEqual(settings(await client.table()));
    }
    await expect(mem.service({ ...web, port: 99 })).rejects.toMatchObject({ code: "IPVS_ESRCH_SERVICE" });
    await expect(client.service({ ...web, port: 99 })).rejects.toMatchObject({ code: "IPVS_ESRCH_SERVICE" });
    await client.flush();
  });

  it("timeouts: the same defaults, and 0 leaves a value as it is", async () => {
    const mem = new MemoryIpvs();
    expect(await mem.timeouts()).toEqual(await client.timeouts());
    const t = { tcp: 77, tcpFin: 0, udp: 33 };
    await mem.setTimeouts(t);
    await client.setTimeouts(t);
    expect(await mem.timeouts()).toEqual(await client.timeouts());
  });
});
