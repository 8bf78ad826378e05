// The reconcile's fast path (src/fast-match.ts, and the read in src/exchange-io.ts that uses it)
// must give exactly the operations of the full decode + diff, in the same order: on generated
// desired tables against kernels that match them, differ from them in every setting, carry extra,
// missing or duplicate real servers, IPv6 in several spellings, firewall marks, port-mapped real
// servers, replies captured from the kernel, and mutated bytes (then both fail the same way).
import { readFileSync } from "node:fs";
import { parseAddress } from "@lvs/inet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DestAttrs, decodeServiceReply, encodeIpvsMessage, type ServiceAttrs } from "../src/codec.js";
import { sameService } from "../src/compare.js";
import * as C from "../src/constants.js";
import { apply, type DesiredService, diff, serviceId } from "../src/diff.js";
import { DEST_DUMP_REQUEST_MAX, readTable, ServiceRows, writeDestDumpRequest } from "../src/exchange-io.js";
import { decodeDestEntry } from "../src/fast-dest.js";
import {
  compileReconcilePlan,
  DEST_DIFFERS,
  desiredServiceKey,
  linkService,
  matchDestPart,
  newServicePart,
  parseServicePart,
  sameServiceInBytes,
  serviceKeyOf,
  type TableRead,
} from "../src/fast-match.js";
import { encodeNetmask, keyOf, markKernelTable, serviceEntryFromAttrs, serviceFamily } from "../src/model.js";
import { parseNlMsgs, unhex } from "../src/netlink.js";
import type { Destination, Service, ServiceEntry, ServiceWithDests } from "../src/types.js";
import { FAKE_FAMILY, type FakeService, type FakeTable, fakeClient, fakeExchange } from "./fake-exchange.js";

// ---------------------------------------------------------------- kernel captures

const captures: Record<string, { received: string[] }> = JSON.parse(
  readFileSync(new URL("./fixtures/ipvsadm-netlink.json", import.meta.url), "utf8"),
);
const captured = (cmd: number) =>
  Object.values(captures).flatMap((c) =>
    c.received
      .flatMap((h) => parseNlMsgs(unhex(h)))
      .filter((m) => m.type === 0x20 && m.payload[0] === cmd)
      .map((m) => m.payload),
  );
const capturedServices = captured(C.IpvsCmd.NEW_SERVICE);
const capturedDests = captured(C.IpvsCmd.NEW_DEST);

// ---------------------------------------------------------------- addresses, several spellings each

const V4_VIPS = ["10.0.0.1", "10.0.0.2"];
const V6_VIPS = [
  ["2001:db8::1", "2001:DB8:0:0:0:0:0:1", "2001:db8:0::1"],
  ["::1", "0:0::1", "0:0:0:0:0:0:0:1"],
  ["::ffff:10.0.0.1", "::FFFF:a00:1", "0:0::ffff:10.0.0.1"],
];
const V4_RIPS = ["10.1.0.1", "10.1.0.2", "10.1.0.3"];
const V6_RIPS = [
  ["2001:db8::a", "2001:0db8:0::A", "2001:db8:0:0:0:0:0:a"],
  ["::1", "0:0::1"],
  ["::ffff:10.1.0.1", "::ffff:a01:1"],
  // IPv4-compatible: its words hash like 10.1.0.1 (the key's family must tell them apart).
  ["::10.1.0.1", "::a01:1"],
];

const bytes16 = (text: string): Uint8Array => {
  const out = new Uint8Array(16);
  out.set(parseAddress(text).bytes);
  return out;
};
const familyOf = (text: string): number => (text.includes(":") ? C.AF_INET6 : C.AF_INET);

// ---------------------------------------------------------------- desired tables

const maybe = <T>(...values: T[]) => fc.constantFrom<T | undefined>(undefined, ...values);

const serviceArb: fc.Arbitrary<Service> = fc
  .record({
    identity: fc.oneof(
      fc.record({
        kind: fc.constant("v4" as const),
        vip: fc.nat(V4_VIPS.length - 1),
        protocol: fc.constantFrom(6, 17, 132),
        port: fc.constantFrom(80, 443, 0),
        explicitAf: fc.constantFrom(false, false, true),
      }),
      fc.record({
        kind: fc.constant("v6" as const),
        vip: fc.nat(V6_VIPS.length - 1),
        spelling: fc.nat(2),
        protocol: fc.constantFrom(6, 17),
        port: fc.constantFrom(80, 443),
        explicitAf: fc.constantFrom(false, true),
      }),
      fc.record({
        kind: fc.constant("fwm" as const),
        fwmark: fc.integer({ min: 1, max: 3 }),
        af: fc.constantFrom(C.AF_INET, C.AF_INET6, undefined),
      }),
    ),
    scheduler: maybe("wlc", "rr"),
    flags: maybe(0, C.IP_VS_SVC_F_PERSISTENT, C.IP_VS_SVC_F_PERSISTENT | C.IP_VS_SVC_F_ONEPACKET),
    timeout: maybe(0, 300),
    netmask: maybe(24, 32, 64, 128),
    peName: maybe("", "sip"),
  })
  .map(({ identity, ...settings }) => {
    const s: Record<string, unknown> = {};
    if (identity.kind === "fwm") {
      s.fwmark = identity.fwmark;
      if (identity.af !== undefined) s.af = identity.af;
    } else {
      const v6 = identity.kind === "v6";
      s.protocol = identity.protocol;
      s.address = v6
        ? (V6_VIPS[identity.vip] as string[])[identity.spelling % (V6_VIPS[identity.vip] as string[]).length]
        : V4_VIPS[identity.vip];
      s.port = identity.port;
      if (identity.explicitAf) s.af = v6 ? C.AF_INET6 : C.AF_INET;
    }
    for (const [k, v] of Object.entries(settings)) if (v !== undefined) s[k] = v;
    return s as unknown as Service;
  });

const destArb: fc.Arbitrary<Destination> = fc
  .record({
    address: fc.oneof(
      fc.constantFrom(...V4_RIPS),
      fc.tuple(fc.nat(V6_RIPS.length - 1), fc.nat(2)).map(([i, s]) => {
        const spellings = V6_RIPS[i] as string[];
        return spellings[s % spellings.length] as string;
      }),
    ),
    port: fc.constantFrom(80, 8080),
    forward: maybe(0, 1, 2, 3, 4),
    weight: maybe(0, 1, 5),
    upperThreshold: maybe(0, 10),
    lowerThreshold: maybe(0, 5),
    tunnelType: maybe(0, 1, 2),
    tunnelPort: maybe(0, 6080),
    tunnelFlags: maybe(0, 1, 3),
  })
  .map((d) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(d)) if (v !== undefined) out[k] = v;
    return out as unknown as Destination;
  });

const desiredArb: fc.Arbitrary<DesiredService[]> = fc.array(
  fc.record({ service: serviceArb, dests: fc.array(destArb, { maxLength: 5 }) }),
  { maxLength: 6 },
);

// ---------------------------------------------------------------- the kernel's image of them

/** Counters, as the kernel appends them to every reply (a read without counters skips them). */
const COUNTERS = { conns: 3n, inPkts: 10n, outPkts: 9n, inBytes: 1500n, outBytes: 900n };
/** An attribute no decoder knows (a newer kernel's). */
const UNKNOWN = [{ type: 99, flagBits: 0, data: new Uint8Array([1, 2, 3, 4]) }];

interface ServiceImage {
  attrs: ServiceAttrs;
  dests: DestAttrs[];
}

function serviceImage(d: DesiredService): ServiceImage {
  const s = d.service;
  const af = serviceFamily(s);
  const attrs: ServiceAttrs = { af };
  if (s.fwmark) attrs.fwmark = s.fwmark;
  else {
    attrs.protocol = s.protocol;
    attrs.addr = bytes16(s.address as string);
    attrs.port = s.port;
  }
  const prefix = af === C.AF_INET6 ? (s.netmask ?? 128) : Math.min(s.netmask ?? 32, 32);
  Object.assign(attrs, {
    schedName: s.scheduler ?? "wlc",
    flags: { flags: (s.flags ?? 0) | C.IP_VS_SVC_F_HASHED, mask: 0xffffffff },
    timeout: s.timeout ?? 0,
    netmask: encodeNetmask(af, prefix),
  });
  if (s.peName) attrs.peName = s.peName;
  // The kernel has each real server once.
  const seen = new Set<string>();
  const dests: DestAttrs[] = [];
  for (const x of d.dests) {
    const key = `${parseAddress(x.address).text}/${x.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    dests.push({
      addr: bytes16(x.address),
      port: x.port,
      fwdMethod: x.forward ?? C.IP_VS_CONN_F_DROUTE,
      weight: x.weight ?? 1,
      uThresh: x.upperThreshold ?? 0,
      lThresh: x.lowerThreshold ?? 0,
      activeConns: 7,
      inactConns: 2,
      persistConns: 0,
      addrFamily: familyOf(x.address),
      tunType: x.tunnelType ?? 0,
      tunPort: x.tunnelPort ?? 0,
      tunFlags: x.tunnelFlags ?? 0,
    });
  }
  return { attrs, dests };
}

type DestChange = "weight" | "fwd" | "uThresh" | "lThresh" | "tunType" | "tunPort" | "tunFlags";
const destMutationArb = fc.record({
  drop: fc.constantFrom(false, false, false, false, false, true),
  duplicate: fc.constantFrom(false, false, false, false, false, false, false, true),
  change: fc.constantFrom<DestChange | undefined>(
    ...Array<undefined>(14).fill(undefined),
    "weight",
    "fwd",
    "uThresh",
    "lThresh",
    "tunType",
    "tunPort",
    "tunFlags",
  ),
  noAddrFamily: fc.constantFrom(false, false, false, false, true),
  otherFamily: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  counters: fc.boolean(),
  unknown: fc.constantFrom(false, false, false, true),
});
type ServiceChange = "scheduler" | "flags" | "timeout" | "netmask" | "pe" | "noAf";
const serviceMutationArb = fc.record({
  present: fc.constantFrom(true, true, true, true, true, false),
  change: fc.constantFrom<ServiceChange | undefined>(
    ...Array<undefined>(12).fill(undefined),
    "scheduler",
    "flags",
    "timeout",
    "netmask",
    "pe",
    "noAf",
  ),
  counters: fc.boolean(),
  unknown: fc.constantFrom(false, false, false, true),
  dests: fc.array(destMutationArb, { minLength: 6, maxLength: 6 }),
  extraDests: fc.array(destArb, { maxLength: 1 }),
  destErrno: fc.constantFrom<number | undefined>(
    ...Array<undefined>(20).fill(undefined),
    C.Errno.ESRCH,
    C.Errno.ENOMEM,
  ),
  destInterrupted: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
});

type DestMutation = typeof destMutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutateDest(a: DestAttrs, m: DestMutation): DestAttrs[] {
  if (m.drop) return [];
  const d: DestAttrs = { ...a };
  switch (m.change) {
    case "weight":
      d.weight = (d.weight ?? 0) + 1;
      break;
    case "fwd":
      d.fwdMethod = ((d.fwdMethod ?? 0) + 1) % 5;
      break;
    case "uThresh":
      d.uThresh = (d.uThresh ?? 0) + 1;
      break;
    case "lThresh":
      d.lThresh = (d.lThresh ?? 0) + 1;
      break;
    case "tunType":
      d.tunType = ((d.tunType ?? 0) + 1) % 3;
      break;
    case "tunPort":
      d.tunPort = (d.tunPort ?? 0) + 1;
      break;
    case "tunFlags":
      d.tunFlags = (d.tunFlags ?? 0) ^ 2;
      break;
  }
  if (m.noAddrFamily) delete d.addrFamily;
  else if (m.otherFamily) d.addrFamily = d.addrFamily === C.AF_INET ? C.AF_INET6 : C.AF_INET;
  if (m.counters) {
    d.stats = COUNTERS;
    d.stats64 = COUNTERS;
  }
  if (m.unknown) d.$layout = { order: [], unknown: UNKNOWN };
  return m.duplicate ? [d, { ...d }] : [d];
}

type ServiceMutation = typeof serviceMutationArb extends fc.Arbitrary<infer M> ? M : never;

function fakeService(image: ServiceImage, m: ServiceMutation): FakeService {
  const attrs: ServiceAttrs = { ...image.attrs };
  const af = attrs.af as number;
  switch (m.change) {
    case "scheduler":
      attrs.schedName = attrs.schedName === "rr" ? "wlc" : "rr";
      break;
    case "flags":
      attrs.flags = { flags: (attrs.flags?.flags ?? 0) ^ C.IP_VS_SVC_F_ONEPACKET, mask: 0xffffffff };
      break;
    case "timeout":
      attrs.timeout = (attrs.timeout ?? 0) + 1;
      break;
    case "netmask":
      attrs.netmask = encodeNetmask(af, af === C.AF_INET6 ? 96 : 16);
      break;
    case "pe":
      attrs.peName = attrs.peName ? undefined : "sip";
      break;
    case "noAf":
      delete attrs.af;
      break;
  }
  if (m.counters) {
    attrs.stats = COUNTERS;
    attrs.stats64 = COUNTERS;
  }
  if (m.unknown) attrs.$layout = { order: [], unknown: UNKNOWN };
  const dests = image.dests.flatMap((d, i) => mutateDest(d, m.dests[i % m.dests.length] as DestMutation));
  for (const x of m.extraDests) dests.push(...serviceImage({ service: { fwmark: 1 }, dests: [x] }).dests);
  return {
    payload: encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_SERVICE, service: attrs }),
    key: {
      af,
      fwmark: image.attrs.fwmark ?? 0,
      protocol: image.attrs.protocol ?? 0,
      addr: image.attrs.addr ?? new Uint8Array(16),
      port: image.attrs.port ?? 0,
    },
    dests: dests.map((d) => encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_DEST, dest: d })),
    ...(m.destErrno !== undefined ? { destErrno: m.destErrno } : {}),
    destInterrupted: m.destInterrupted,
  };
}

/** A service the kernel has, read back from one of its captured replies, with captured real servers. */
function capturedService(index: number, dests: number[]): { fake: FakeService; desired: DesiredService } {
  const payload = capturedServices[index % capturedServices.length] as Uint8Array;
  const e = serviceEntryFromAttrs(decodeServiceReply(payload) as ServiceAttrs);
  const destPayloads = dests.map((i) => capturedDests[i % capturedDests.length] as Uint8Array);
  const service: Service = e.fwmark
    ? { af: e.af, fwmark: e.fwmark }
    : { af: e.af, protocol: e.protocol, address: e.address, port: e.port };
  Object.assign(service, {
    scheduler: e.scheduler,
    flags: e.flags & ~C.IP_VS_SVC_F_HASHED,
    timeout: e.timeout,
    netmask: e.netmask,
    ...(e.peName ? { peName: e.peName } : {}),
  });
  const entries = destPayloads.map(
    (p) => decodeDestEntry(p, e.af) as NonNullable<ReturnType<typeof decodeDestEntry>>,
  );
  return {
    fake: {
      payload,
      key: {
        af: e.af,
        fwmark: e.fwmark,
        protocol: e.protocol,
        addr: e.fwmark ? new Uint8Array(16) : bytes16(e.address),
        port: e.port,
      },
      dests: destPayloads,
    },
    desired: {
      service,
      dests: entries.map((x) => ({
        address: x.address,
        port: x.port,
        forward: x.forward,
        weight: x.weight,
        upperThreshold: x.upperThreshold,
        lowerThreshold: x.lowerThreshold,
        tunnelType: x.tunnelType,
        tunnelPort: x.tunnelPort,
        tunnelFlags: x.tunnelFlags,
      })),
    },
  };
}

const scenarioArb = fc
  .record({
    desired: desiredArb,
    mutations: fc.array(serviceMutationArb, { minLength: 6, maxLength: 6 }),
    extra: fc.array(fc.record({ service: serviceArb, dests: fc.array(destArb, { maxLength: 3 }) }), {
      maxLength: 2,
    }),
    captured: fc.array(fc.tuple(fc.nat(), fc.array(fc.nat(), { maxLength: 3 }), fc.boolean()), {
      maxLength: 2,
    }),
    order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    servicesInterrupted: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
    flips: fc.oneof(
      { weight: 9, arbitrary: fc.constant<[number, number, number][]>([]) },
      {
        weight: 1,
        arbitrary: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 2 }),
      },
    ),
  })
  .map(({ desired, mutations, extra, captured: caps, order, servicesInterrupted, flips }) => {
    const desiredAll = [...desired];
    const services: FakeService[] = desired.flatMap((d, i) => {
      const m = mutations[i % mutations.length] as ServiceMutation;
      return m.present ? [fakeService(serviceImage(d), m)] : [];
    });
    const plain = mutations[0] as ServiceMutation;
    const none: ServiceMutation = {
      ...plain,
      present: true,
      change: undefined,
      dests: plain.dests.map((x) => ({ ...x, drop: false, duplicate: false, change: undefined })),
      extraDests: [],
      destErrno: undefined,
      destInterrupted: false,
    };
    for (const x of extra) services.push(fakeService(serviceImage(x), none));
    for (const [s, ds, wanted] of caps) {
      const c = capturedService(s, ds);
      services.push(c.fake);
      if (wanted) desiredAll.push(c.desired);
    }
    // The kernel lists services in its hash order, not ours.
    for (let i = services.length - 1; i > 0; i--) {
      const j = (order[i % order.length] as number) % (i + 1);
      [services[i], services[j]] = [services[j] as FakeService, services[i] as FakeService];
    }
    // Now and then a reply with bytes the decoders must refuse, or must not be fooled by.
    for (const [s, p, b] of flips) {
      const f = services[s % Math.max(1, services.length)];
      if (!f) continue;
      const target = p % (f.dests.length + 1);
      const bytes = Uint8Array.from(target === 0 ? f.payload : (f.dests[target - 1] as Uint8Array));
      bytes[1 + ((s * 7 + p) % (bytes.length - 1))] = b;
      if (target === 0) f.payload = bytes;
      else f.dests[target - 1] = bytes;
    }
    const table: FakeTable = { services, servicesInterrupted };
    return { desired: desiredAll, table };
  });

// ---------------------------------------------------------------- the two paths

/** Today's reconcile: diff(desired, table({ counters: false })) over the same replies. */
async function reference(desired: DesiredService[], table: FakeTable) {
  const { ctx, redo } = fakeExchange(table);
  const read = await readTable(ctx, false, redo);
  const t: ServiceWithDests[] = read.services.map((s, i) => ({
    service: s as ServiceEntry,
    dests: read.dests[i] as NonNullable<(typeof read.dests)[number]>,
  }));
  return diff(desired, markKernelTable(t));
}

/**
 * apply()'s dry run over a client (its socket and exchange sockets in front of `table`) whose
 * readForDiff reads with the plan; the reads it made are pushed to `reads`.
 */
async function fast(desired: DesiredService[], table: FakeTable, reads: TableRead[] = []) {
  const client = fakeClient(table, 1 + (table.services.length % 4));
  const read = client.readForDiff.bind(client);
  client.readForDiff = async (plan) => {
    const r = await read(plan);
    reads.push(r);
    return r;
  };
  return (await apply(client, desired, { dryRun: true })).operations;
}

const errorOf = (e: unknown) => {
  const err = e as Error & { code?: string };
  return { name: err.name, code: err.code, message: err.message };
};

async function outcome<T>(f: () => Promise<T>): Promise<{ ok: T } | { err: unknown }> {
  try {
    return { ok: await f() };
  } catch (err) {
    return { err };
  }
}

describe("the reconcile's fast path gives the full diff's operations", () => {
  it("on generated desired tables and kernels (property)", async () => {
    let linked = 0;
    let matched = 0;
    let rows = 0;
    // Reads where every kernel service linked (the diff then makes no identity string), and
    // those of them with desired services left to add.
    let allLinked = 0;
    let allLinkedWithAdds = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ desired, table }) => {
        const want = await outcome(() => reference(desired, table));
        const reads: TableRead[] = [];
        const got = await outcome(() => fast(desired, table, reads));
        if ("err" in want) {
          expect("err" in got).toBe(true);
          expect(errorOf((got as { err: unknown }).err)).toEqual(errorOf(want.err));
          return;
        }
        expect(got).toEqual(want);
        // The same objects the desired table holds, in the same places (a removal names the
        // kernel's service).
        const ops = (got as { ok: typeof want.ok }).ok;
        ops.forEach((o, i) => {
          if (o.op !== "delService") expect(o.service).toBe((want.ok[i] as (typeof want.ok)[number]).service);
        });
        for (const r of reads) {
          if (r.services.length && r.linked?.every((k) => k >= 0)) {
            allLinked++;
            if (desired.length > r.services.length) allLinkedWithAdds++;
          }
          rows += r.services.length;
          for (let i = 0; i < r.services.length; i++) {
            if ((r.linked?.[i] ?? -1) >= 0) linked++;
            if ((r.linked?.[i] ?? -1) >= 0 && r.dests[i] === undefined) matched++;
          }
        }
      }),
      { numRuns: 1500 },
    );
    // The fast path is taken, not only the fallback.
    expect(linked / rows).toBeGreaterThan(0.3);
    expect(matched / rows).toBeGreaterThan(0.1);
    expect(allLinked).toBeGreaterThan(50);
    expect(allLinkedWithAdds).toBeGreaterThan(20);
  });

  it("a table that matches is read without decoding a single entry", async () => {
    const desired: DesiredService[] = [];
    for (let s = 0; s < 300; s++) {
      const v6 = s % 3 === 0;
      desired.push({
        service: v6
          ? {
              protocol: 6,
              address: `2001:db8::${(s + 1).toString(16)}`,
              port: 443,
              scheduler: "mh",
              flags: 8,
            }
          : s % 7 === 0
            ? { fwmark: s + 1, scheduler: "rr" }
            : { protocol: 17, address: `10.0.${s >> 8}.${s & 0xff}`, port: 53, timeout: 0 },
        dests: Array.from({ length: s % 20 === 0 ? 40 : 4 }, (_, d) => ({
          address: v6
            ? `2001:DB8:0::${(d + 1).toString(16)}:${(s + 1).toString(16)}`
            : `10.1.${s & 0xff}.${d + 1}`,
          port: 8000 + d,
          forward: d % 2 ? C.IP_VS_CONN_F_MASQ : C.IP_VS_CONN_F_TUNNEL,
          weight: d,
          ...(d % 2 ? {} : { tunnelType: C.IP_VS_CONN_F_TUNNEL_TYPE_GUE, tunnelPort: 6080 }),
        })),
      });
    }
    const none = fc.sample(serviceMutationArb, { numRuns: 1, seed: 1 })[0] as ServiceMutation;
    const plain: ServiceMutation = {
      ...none,
      change: undefined,
      unknown: false,
      dests: none.dests.map((x) => ({
        ...x,
        drop: false,
        duplicate: false,
        change: undefined,
        noAddrFamily: false,
        otherFamily: false,
        unknown: false,
      })),
      extraDests: [],
      destErrno: undefined,
      destInterrupted: false,
    };
    const table: FakeTable = { services: desired.map((d) => fakeService(serviceImage(d), plain)) };
    const reads: TableRead[] = [];
    expect(await fast(desired, table, reads)).toEqual([]);
    const read = reads[0] as TableRead;
    expect(read.services.every((s) => s === undefined)).toBe(true);
    expect(read.dests.every((d) => d === undefined)).toBe(true);

    // One weight changed: that service's real servers are decoded, nothing else; one edit.
    const changed = desired.map((d, i) =>
      i === 100 ? { ...d, dests: d.dests.map((x, j) => (j === 2 ? { ...x, weight: 9 } : x)) } : d,
    );
    reads.length = 0;
    const ops = await fast(changed, table, reads);
    expect(ops).toEqual(await reference(changed, table));
    expect(ops.map((o) => o.op)).toEqual(["editDest"]);
    const again = reads[0] as TableRead;
    expect(again.dests.filter((d) => d !== undefined)).toHaveLength(1);
    expect(again.services.every((s) => s === undefined)).toBe(true);
  });
});

// ---------------------------------------------------------------- the pure comparisons

describe("parseServicePart / sameServiceInBytes / keys (fast-match.ts)", () => {
  const serviceReplyArb = fc.tuple(desiredArb, fc.array(serviceMutationArb, { minLength: 6, maxLength: 6 }));

  it("links only where identities are equal, and answers sameService as the decoded entry does", () => {
    fc.assert(
      fc.property(serviceReplyArb, desiredArb, ([kernel, mutations], desired) => {
        const fakes = kernel.map((d, i) => fakeService(serviceImage(d), mutations[i] as ServiceMutation));
        const payloads = [...fakes.map((f) => f.payload), ...capturedServices];
        for (const payload of payloads) {
          const part = newServicePart();
          const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
          if (!parseServicePart(view, 0, payload.length, part)) continue;
          // What parses here decodes without error there.
          const entry = serviceEntryFromAttrs(decodeServiceReply(payload, false) as ServiceAttrs);
          for (const want of [...desired, ...kernel]) {
            const af = serviceFamily(want.service);
            expect(sameServiceInBytes(want.service, af, part, payload)).toBe(
              sameService(want.service, entry, af),
            );
            const mine = desiredServiceKey(want.service, af);
            const theirs = serviceKeyOf(part, view);
            if (mine !== undefined && theirs !== undefined) {
              expect(mine === theirs).toBe(serviceId(want.service) === serviceId(entry));
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never parses what the decoder refuses (mutated kernel replies)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...capturedServices),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        (payload, flips) => {
          const bytes = Uint8Array.from(payload);
          for (const [at, v] of flips) bytes[1 + (at % (bytes.length - 1))] = v;
          const view = new DataView(bytes.buffer);
          if (!parseServicePart(view, 0, bytes.length, newServicePart())) return;
          const a = decodeServiceReply(bytes, false);
          expect(a).toBeDefined();
          serviceEntryFromAttrs(a as ServiceAttrs);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("a second kernel service with a linked key is not linked (the diff compares it decoded)", () => {
    const desired: DesiredService[] = [
      { service: { protocol: 6, address: "10.0.0.1", port: 80 }, dests: [] },
    ];
    const plan = compileReconcilePlan(
      desired,
      [C.AF_INET],
      desired.map((d) => serviceId(d.service)),
    );
    const payload = encodeIpvsMessage({
      cmd: C.IpvsCmd.NEW_SERVICE,
      service: { af: C.AF_INET, protocol: 6, addr: bytes16("10.0.0.1"), port: 80, schedName: "wlc" },
    });
    const part = newServicePart();
    const view = new DataView(payload.buffer);
    expect(parseServicePart(view, 0, payload.length, part)).toBe(true);
    expect(linkService(plan, part, view)).toBe(0);
    expect(linkService(plan, part, view)).toBe(-1);
  });

  it("desired services that share an identity (one keyless) link to nothing", () => {
    const desired: DesiredService[] = [
      { service: { fwmark: 5 }, dests: [] },
      { service: { fwmark: "5" as unknown as number }, dests: [] },
      { service: { protocol: 6, address: "2001:db8::1", port: 80 }, dests: [] },
      { service: { protocol: 6, address: "2001:DB8:0::1", port: 80 }, dests: [] },
    ];
    const afs = desired.map((d) => serviceFamily(d.service));
    const plan = compileReconcilePlan(
      desired,
      afs,
      desired.map((d) => serviceId(d.service)),
    );
    expect([...plan.byKey.values()]).toEqual([-1, -1]);
  });
});

describe("matchDestPart (fast-match.ts)", () => {
  it("matches exactly when the decoded diff finds nothing to do, and never accepts what the decoder refuses", () => {
    fc.assert(
      fc.property(
        fc.record({ service: serviceArb, dests: fc.array(destArb, { maxLength: 5 }) }),
        serviceMutationArb,
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(255)), { maxLength: 1 }),
        (want, m, flips) => {
          // The real servers vary; the service is the desired one as the kernel reports it.
          const f = fakeService(serviceImage(want), { ...m, change: undefined, destErrno: undefined });
          for (const [p, at, v] of flips) {
            if (!f.dests.length) break;
            const i = p % f.dests.length;
            const bytes = Uint8Array.from(f.dests[i] as Uint8Array);
            bytes[1 + (at % (bytes.length - 1))] = v;
            f.dests[i] = bytes;
          }
          const af = serviceFamily(want.service);
          const plan = compileReconcilePlan([want], [af], [serviceId(want.service)]);
          let total = 0;
          let differs = false;
          for (const p of f.dests) {
            const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
            const n =
              (plan.slotStart[0] as number) >= 0
                ? matchDestPart(plan, 0, af, view, 0, p.length)
                : DEST_DIFFERS;
            if (n === DEST_DIFFERS) {
              differs = true;
              break;
            }
            // Accepted here: the decoder reads it without error.
            decodeDestEntry(p, af, false);
            total += n;
          }
          const all = !differs && total === plan.slotCount[0];
          let decoded: ReturnType<typeof decodeDestEntry>[] | undefined;
          try {
            decoded = f.dests.map((p) => decodeDestEntry(p, af, false));
          } catch {
            expect(all).toBe(false);
            return;
          }
          // The full diff of this one service against its decoded real servers.
          const entry: ServiceEntry = {
            ...serviceEntryFromAttrs(decodeServiceReply(f.payload, false) as ServiceAttrs),
          };
          const ops = diff(
            [{ service: entry as unknown as Service, dests: want.dests }],
            markKernelTable([{ service: entry, dests: decoded.filter((d) => d !== undefined) }]),
          );
          if (all) expect(ops).toEqual([]);
          // Where the full diff finds nothing to do on a plain kernel image of the desired real
          // servers, they match here too (the fast path is taken, not only its fallback).
          const plainImage =
            !m.dests.some((x) => x.drop || x.duplicate || x.change || x.otherFamily || x.noAddrFamily) &&
            m.extraDests.length === 0 &&
            !flips.length &&
            new Set(want.dests.map((d) => `${parseAddress(d.address).text}/${d.port}`)).size ===
              want.dests.length;
          if (plainImage && ops.length === 0 && plan.slotStart[0] !== -1) expect(all).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("keys of different families never match", () => {
  // ::10.1.0.1's words hash to 10.1.0.1's number: only the family tells the two keys apart.
  it.each([
    ["::10.1.0.1", "10.1.0.1", C.AF_INET],
    ["10.1.0.1", "::10.1.0.1", C.AF_INET6],
    ["::a01:1", "10.1.0.1", C.AF_INET],
  ])("desired %s, kernel %s", (wanted, kernel, af) => {
    const want: DesiredService = { service: { fwmark: 1 }, dests: [{ address: wanted, port: 80 }] };
    const plan = compileReconcilePlan([want], [C.AF_INET], [serviceId(want.service)]);
    const dest = serviceImage({ service: want.service, dests: [{ address: kernel, port: 80 }] })
      .dests[0] as DestAttrs;
    const payload = encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_DEST, dest: { ...dest, addrFamily: af } });
    const view = new DataView(payload.buffer);
    expect(matchDestPart(plan, 0, C.AF_INET, view, 0, payload.length)).toBe(DEST_DIFFERS);
  });
});

describe("replies with two nests", () => {
  // The decoders read every nest of a part and keep the last: a malformed first one fails them.
  const nest = (type: number, inner: Uint8Array) => {
    const out = new Uint8Array(4 + ((inner.length + 3) & ~3));
    new DataView(out.buffer).setUint16(0, 4 + inner.length, true);
    new DataView(out.buffer).setUint16(2, type | C.NLA_F_NESTED, true);
    out.set(inner, 4);
    return out;
  };
  const innerOf = (payload: Uint8Array) => payload.subarray(8);
  // A u32 attribute two bytes long: what the decoders refuse.
  const short = (type: number) => Uint8Array.of(6, 0, type, 0, 0, 0, 0, 0);
  const twice = (type: number, first: Uint8Array, second: Uint8Array) =>
    Uint8Array.from([...[C.IpvsCmd.NEW_DEST, 1, 0, 0], ...nest(type, first), ...nest(type, second)]);

  it("a real server: not matched, decoded (and refused there)", () => {
    const want: DesiredService = { service: { fwmark: 1 }, dests: [{ address: "10.1.0.1", port: 80 }] };
    const plan = compileReconcilePlan([want], [C.AF_INET], [serviceId(want.service)]);
    const good = innerOf(encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_DEST, dest: serviceImage(want).dests[0] }));
    for (const payload of [
      twice(C.IPVS_CMD_ATTR_DEST, short(C.IPVS_DEST_ATTR_WEIGHT), good),
      twice(C.IPVS_CMD_ATTR_DEST, good, good),
    ]) {
      const view = new DataView(payload.buffer);
      expect(matchDestPart(plan, 0, C.AF_INET, view, 0, payload.length)).toBe(DEST_DIFFERS);
    }
    expect(() =>
      decodeDestEntry(twice(C.IPVS_CMD_ATTR_DEST, short(C.IPVS_DEST_ATTR_WEIGHT), good), C.AF_INET, false),
    ).toThrow();
  });

  it("a service: not parsed, decoded (and refused there)", () => {
    const good = innerOf(
      encodeIpvsMessage({
        cmd: C.IpvsCmd.NEW_SERVICE,
        service: { af: C.AF_INET, fwmark: 1, schedName: "wlc", flags: { flags: 0, mask: 0 }, timeout: 0 },
      }),
    );
    for (const payload of [
      twice(C.IPVS_CMD_ATTR_SERVICE, short(C.IPVS_SVC_ATTR_TIMEOUT), good),
      twice(C.IPVS_CMD_ATTR_SERVICE, good, good),
    ]) {
      expect(parseServicePart(new DataView(payload.buffer), 0, payload.length, newServicePart())).toBe(false);
    }
    expect(() =>
      decodeServiceReply(twice(C.IPVS_CMD_ATTR_SERVICE, short(C.IPVS_SVC_ATTR_TIMEOUT), good), false),
    ).toThrow();
  });
});

describe("the GET_DEST request of a linked service", () => {
  it("is the request written for its decoded entry, byte for byte", () => {
    fc.assert(
      fc.property(desiredArb, fc.nat(0xffffffff), (kernel, seq) => {
        for (const d of kernel) {
          const payload = encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_SERVICE, service: serviceImage(d).attrs });
          const view = new DataView(payload.buffer);
          const part = newServicePart();
          if (!parseServicePart(view, 0, payload.length, part)) continue;
          const linked = new ServiceRows(false);
          linked.pushLinked(0, true, part, payload, view, 0, payload.length);
          const entry = linked.entry(0);
          const a = new Uint8Array(DEST_DUMP_REQUEST_MAX);
          const b = new Uint8Array(DEST_DUMP_REQUEST_MAX);
          const fresh = new ServiceRows(false);
          fresh.pushLinked(0, true, part, payload, view, 0, payload.length);
          const n = fresh.writeRequest(a, new DataView(a.buffer), 0, 0, FAKE_FAMILY, seq);
          const m = writeDestDumpRequest(b, new DataView(b.buffer), 0, entry, FAKE_FAMILY, seq);
          expect(n).toBe(m);
          expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
          // And the entry decoded on demand is the one a full read decodes.
          expect({ ...entry }).toEqual(
            serviceEntryFromAttrs(decodeServiceReply(payload, false) as ServiceAttrs),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("ServiceRows", () => {
  it("keeps every row's columns as its typed arrays grow from a capacity of one", () => {
    fc.assert(
      fc.property(
        desiredArb,
        fc.array(fc.boolean(), { minLength: 1 }),
        fc.nat(0xffff),
        (kernel, kinds, seq) => {
          // One reply holding every service's part, as a services dump does.
          const payloads = kernel.map((d) =>
            encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_SERVICE, service: serviceImage(d).attrs }),
          );
          const reply = new Uint8Array(payloads.reduce((n, p) => n + p.length, 0));
          const view = new DataView(reply.buffer);
          const rows = new ServiceRows(false, 1);
          const want: { entry: ServiceEntry; k: number; same: boolean }[] = [];
          let at = 0;
          payloads.forEach((payload, i) => {
            reply.set(payload, at);
            const entry = serviceEntryFromAttrs(decodeServiceReply(payload, false) as ServiceAttrs);
            const part = newServicePart();
            const linked =
              (kinds[i % kinds.length] as boolean) && parseServicePart(view, at, payload.length, part);
            if (linked) rows.pushLinked(i, i % 3 === 0, part, reply, view, at, payload.length);
            else rows.pushEntry(entry);
            want.push({ entry, k: linked ? i : -1, same: linked && i % 3 === 0 });
            at += payload.length;
          });
          expect(rows.length).toBe(want.length);
          want.forEach((w, i) => {
            expect(rows.linked[i]).toBe(w.k);
            expect(rows.same[i]).toBe(w.same ? 1 : 0);
            expect(rows.af(i)).toBe(w.entry.af ?? serviceFamily(keyOf(w.entry)));
            // The request first: a linked row's is written from its columns until entry() decodes it.
            const a = new Uint8Array(DEST_DUMP_REQUEST_MAX);
            const b = new Uint8Array(DEST_DUMP_REQUEST_MAX);
            const n = rows.writeRequest(a, new DataView(a.buffer), 0, i, FAKE_FAMILY, seq + i);
            expect(n).toBe(writeDestDumpRequest(b, new DataView(b.buffer), 0, w.entry, FAKE_FAMILY, seq + i));
            expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
            expect({ ...rows.entry(i) }).toEqual({ ...w.entry });
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses a linked row from a second reply (its rows keep one reply, not one per row)", () => {
    const payload = encodeIpvsMessage({
      cmd: C.IpvsCmd.NEW_SERVICE,
      service: { af: C.AF_INET, fwmark: 7, schedName: "wlc", flags: { flags: 0, mask: 0 }, timeout: 0 },
    });
    const rows = new ServiceRows(false);
    const part = newServicePart();
    const first = new DataView(payload.buffer);
    expect(parseServicePart(first, 0, payload.length, part)).toBe(true);
    rows.pushLinked(0, true, part, payload, first, 0, payload.length);
    const other = payload.slice();
    expect(() => rows.pushLinked(0, true, part, other, new DataView(other.buffer), 0, other.length)).toThrow(
      expect.objectContaining({ code: "IPVS_BAD_ARGUMENT" }),
    );
    expect(rows.length).toBe(1);
  });
});
