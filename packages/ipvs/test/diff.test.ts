import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AF_INET, Forward, IP_VS_SVC_F_HASHED, IP_VS_SVC_F_PERSISTENT } from "../src/constants.js";
import { type DesiredService, diff } from "../src/diff.js";
import { markKernelTable } from "../src/model.js";
import type { Destination, DestinationEntry, Service, ServiceEntry, ServiceWithDests } from "../src/types.js";

/** What the kernel would report for a desired service (defaults filled, HASHED set). */
function asKernel(d: DesiredService): ServiceWithDests {
  const s = d.service;
  const service: ServiceEntry = {
    af: s.af ?? (s.fwmark ? AF_INET : (s.address ?? "").includes(":") ? 10 : AF_INET),
    protocol: s.protocol ?? 0,
    address: s.address ?? "0.0.0.0",
    port: s.port ?? 0,
    fwmark: s.fwmark ?? 0,
    scheduler: s.scheduler ?? "wlc",
    flags: (s.flags ?? 0) | IP_VS_SVC_F_HASHED,
    timeout: s.timeout ?? 0,
    netmask: s.netmask ?? 32,
    peName: s.peName,
    stats: undefined,
    stats64: undefined,
  };
  const dests: DestinationEntry[] = d.dests.map((x: Destination) => ({
    af: AF_INET,
    address: x.address,
    port: x.port,
    forward: x.forward ?? Forward.ROUTE,
    weight: x.weight ?? 1,
    upperThreshold: x.upperThreshold ?? 0,
    lowerThreshold: x.lowerThreshold ?? 0,
    activeConns: 7,
    inactiveConns: 3,
    persistConns: 0,
    tunnelType: 0,
    tunnelPort: 0,
    tunnelFlags: 0,
    stats: undefined,
    stats64: undefined,
  }));
  return { service, dests };
}

const web: Service = { protocol: 6, address: "10.0.0.1", port: 80, scheduler: "rr" };
const rs = (n: number, extra: Partial<Destination> = {}): Destination => ({
  address: `10.1.0.${n}`,
  port: 80,
  forward: Forward.MASQ,
  ...extra,
});

describe("diff", () => {
  it("from empty: services first, then their real servers", () => {
    const ops = diff([{ service: web, dests: [rs(1), rs(2)] }], []);
    expect(ops.map((o) => o.op)).toEqual(["addService", "addDest", "addDest"]);
  });

  it("no-op when the kernel already matches (defaults, HASHED and counters ignored)", () => {
    const desired = [
      { service: web, dests: [rs(1), rs(2)] },
      { service: { fwmark: 5 }, dests: [] },
    ];
    expect(diff(desired, desired.map(asKernel))).toEqual([]);
  });

  it("edits in place instead of delete + recreate", () => {
    const actual = [asKernel({ service: web, dests: [rs(1), rs(2)] })];
    const ops = diff(
      [
        {
          service: { ...web, scheduler: "wlc", flags: IP_VS_SVC_F_PERSISTENT, timeout: 60 },
          dests: [rs(1, { weight: 5 }), rs(2, { upperThreshold: 9 })],
        },
      ],
      actual,
    );
    expect(ops.map((o) => o.op)).toEqual(["editService", "editDest", "editDest"]);
  });

  it("adds capacity before removing it; removes whole services last", () => {
    const actual = [
      asKernel({ service: web, dests: [rs(1)] }),
      asKernel({ service: { protocol: 17, address: "10.0.0.2", port: 53 }, dests: [rs(9)] }),
    ];
    const ops = diff([{ service: web, dests: [rs(2)] }], actual);
    expect(ops).toEqual([
      { op: "addDest", service: web, dest: rs(2) },
      { op: "delDest", service: web, dest: { address: "10.1.0.1", port: 80 } },
      { op: "delService", service: { af: AF_INET, protocol: 17, address: "10.0.0.2", port: 53 } },
    ]);
  });

  it("matches addresses canonically (IPv6 spelling does not matter)", () => {
    const v6: Service = { protocol: 6, address: "2001:db8:0:0:0:0:0:1", port: 443, netmask: 128 };
    const actual = [asKernel({ service: { ...v6, address: "2001:db8::1" }, dests: [] })];
    actual[0]!.service.netmask = 128;
    expect(diff([{ service: v6, dests: [] }], actual)).toEqual([]);
  });

  it("canonicalises a hand-built table's addresses, and takes a table read from the kernel as it is", () => {
    const v6: Service = { protocol: 6, address: "2001:db8::1", port: 443, netmask: 128 };
    const dest = { address: "2001:db8::a", port: 443 };
    const spelledLong = () => [
      asKernel({
        service: { ...v6, address: "2001:DB8:0::1" },
        dests: [{ ...dest, address: "2001:0db8::A" }],
      }),
    ];
    const handBuilt = spelledLong();
    handBuilt[0]!.service.netmask = 128;
    expect(diff([{ service: v6, dests: [dest] }], handBuilt)).toEqual([]);
    // table() marks what it read: addresses the kernel formatted are canonical already, and are
    // compared as they are (a spelling no kernel read produces shows that they are not re-read).
    const marked = markKernelTable(spelledLong());
    marked[0]!.service.netmask = 128;
    expect(diff([{ service: v6, dests: [dest] }], marked).map((o) => o.op)).toEqual([
      "addService",
      "addDest",
      "delService",
    ]);
  });

  it("property: applying the diff's operations to a model of the table yields the desired table", () => {
    const destArb = fc.record({ n: fc.integer({ min: 1, max: 6 }), weight: fc.integer({ min: 0, max: 3 }) });
    const svcArb = fc.record({
      port: fc.integer({ min: 1, max: 4 }),
      scheduler: fc.constantFrom("rr", "wlc"),
      dests: fc.uniqueArray(destArb, { selector: (d) => d.n, maxLength: 4 }),
    });
    const tableArb = fc.uniqueArray(svcArb, { selector: (s) => s.port, maxLength: 4 });
    const toDesired = (
      t: { port: number; scheduler: string; dests: { n: number; weight: number }[] }[],
    ): DesiredService[] =>
      t.map((s) => ({
        service: { protocol: 6, address: "10.0.0.1", port: s.port, scheduler: s.scheduler },
        dests: s.dests.map((d) => rs(d.n, { weight: d.weight })),
      }));
    fc.assert(
      fc.property(tableArb, tableArb, (a, b) => {
        const desired = toDesired(b);
        const model = new Map(
          toDesired(a).map((d) => [
            d.service.port,
            { service: { ...d.service }, dests: new Map(d.dests.map((x) => [x.address, x])) },
          ]),
        );
        const ops = diff(desired, toDesired(a).map(asKernel));
        for (const o of ops) {
          const port = o.service.port as number;
          if (o.op === "addService") {
            expect(model.has(port)).toBe(false);
            model.set(port, { service: { ...o.service } as Service, dests: new Map() });
          } else if (o.op === "editService") model.get(port)!.service = { ...o.service } as Service;
          else if (o.op === "delService") model.delete(port);
          else if (o.op === "addDest") {
            expect(model.get(port)!.dests.has(o.dest.address)).toBe(false);
            model.get(port)!.dests.set(o.dest.address, o.dest as Destination);
          } else if (o.op === "editDest") model.get(port)!.dests.set(o.dest.address, o.dest as Destination);
          else model.get(port)!.dests.delete(o.dest.address);
        }
        const got = [...model.values()].map((m) => ({ service: m.service, dests: [...m.dests.values()] }));
        expect(diff(desired, got.map(asKernel))).toEqual([]);
        expect(new Set(got.map((g) => g.service.port))).toEqual(new Set(desired.map((d) => d.service.port)));
      }),
    );
  });
});

describe("diff compares every setting", () => {
  const base: DesiredService = {
    service: { protocol: 6, address: "10.0.0.1", port: 80, scheduler: "wlc", timeout: 0, netmask: 32 },
    dests: [
      {
        address: "10.1.0.1",
        port: 80,
        weight: 1,
        forward: Forward.TUNNEL,
        tunnelType: 1,
        tunnelPort: 6080,
        tunnelFlags: 1,
      },
    ],
  };
  const serviceChanges: Pick<Service, "scheduler" | "flags" | "timeout" | "netmask" | "peName">[] = [
    { scheduler: "rr" },
    { flags: IP_VS_SVC_F_PERSISTENT },
    { timeout: 300 },
    { netmask: 24 },
    { peName: "sip" },
  ];
  const destChanges: Partial<Destination>[] = [
    { forward: Forward.MASQ },
    { weight: 2 },
    { upperThreshold: 10 },
    { lowerThreshold: 5 },
    { tunnelType: 2 },
    { tunnelPort: 7080 },
    { tunnelFlags: 2 },
  ];
  /** The kernel's view of `base`, tunnel settings included (asKernel leaves them 0). */
  const kernelOfBase = (): ServiceWithDests => {
    const kernel = asKernel(base);
    const d = base.dests[0] as Destination;
    const k = kernel.dests[0] as DestinationEntry;
    k.tunnelType = d.tunnelType ?? 0;
    k.tunnelPort = d.tunnelPort ?? 0;
    k.tunnelFlags = d.tunnelFlags ?? 0;
    return kernel;
  };
  it("the unchanged table diffs to nothing", () => {
    expect(diff([base], [kernelOfBase()])).toEqual([]);
  });
  it.each(serviceChanges)("a service whose %o changed is edited", (change) => {
    const ops = diff([{ ...base, service: { ...base.service, ...change } }], [kernelOfBase()]);
    expect(ops.map((o) => o.op)).toEqual(["editService"]);
  });
  it.each(destChanges)("a real server whose %o changed is edited", (change) => {
    const ops = diff(
      [{ ...base, dests: [{ ...(base.dests[0] as Destination), ...change }] }],
      [kernelOfBase()],
    );
    expect(ops.map((o) => o.op)).toEqual(["editDest"]);
  });
});
