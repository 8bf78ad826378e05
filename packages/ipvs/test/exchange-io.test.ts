// The table read's GET_DEST request writer (src/exchange-io.ts) must send the very bytes the
// codec's encoder sends for the same service: for every kind of service key, at any offset of a
// shared block, with whatever was in the block before. And a table read sends each dump on the
// socket meant for it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeIpvsMessage, encodeIpvsRequest, type ServiceAttrs } from "../src/codec.js";
import * as C from "../src/constants.js";
import {
  DEST_DUMP_REQUEST_MAX,
  dumpServiceRows,
  readTable,
  writeDestDumpRequest,
} from "../src/exchange-io.js";
import { keyOf, Msg } from "../src/model.js";
import type { ServiceEntry } from "../src/types.js";
import { type FakeService, fakeExchange } from "./fake-exchange.js";

const FAMILY = 0x24;
const codec = (s: ServiceEntry, seq: number) =>
  encodeIpvsRequest(Msg.dumpDests(keyOf(s)), FAMILY, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);

function written(s: ServiceEntry, seq: number, offset = 0, fill = 0): Uint8Array {
  const block = new Uint8Array(offset + DEST_DUMP_REQUEST_MAX).fill(fill);
  // The writer expects zeroes where it writes; the block before `offset` may hold anything.
  block.fill(0, offset);
  const end = writeDestDumpRequest(block, new DataView(block.buffer), offset, s, FAMILY, seq);
  expect(end).toBeGreaterThan(offset);
  return block.subarray(offset, end);
}

const entry = (over: Partial<ServiceEntry>): ServiceEntry =>
  ({ af: C.AF_INET, protocol: 6, address: "10.0.0.1", port: 80, fwmark: 0, ...over }) as ServiceEntry;

describe("writeDestDumpRequest", () => {
  it("writes the codec's bytes for TCP, UDP, SCTP, IPv6 and fwmark services", () => {
    const cases = [
      entry({}),
      entry({ protocol: 17, address: "192.168.255.254", port: 53 }),
      entry({ protocol: 132, address: "0.0.0.0", port: 65535 }),
      entry({ af: C.AF_INET6, address: "2001:db8::1", port: 443 }),
      entry({ af: C.AF_INET6, address: "::ffff:10.1.2.3", port: 8080 }),
      entry({ fwmark: 7, address: "", port: 0, protocol: 0 }),
      entry({ af: C.AF_INET6, fwmark: 0xffffffff, address: "", port: 0, protocol: 0 }),
    ];
    for (const [i, s] of cases.entries()) {
      expect(Buffer.from(written(s, 1000 + i)).toString("hex")).toBe(
        Buffer.from(codec(s, 1000 + i)).toString("hex"),
      );
    }
  });

  it("writes the codec's bytes for generated services at any offset", () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
    const v6 = fc.ipV6();
    const service = fc.oneof(
      fc.record({
        af: fc.constant(C.AF_INET),
        protocol: fc.constantFrom(6, 17, 132),
        address: v4,
        port: fc.nat(65535),
        fwmark: fc.constant(0),
      }),
      fc.record({
        af: fc.constant(C.AF_INET6),
        protocol: fc.constantFrom(6, 17, 132),
        address: v6,
        port: fc.nat(65535),
        fwmark: fc.constant(0),
      }),
      fc.record({
        af: fc.constantFrom(C.AF_INET, C.AF_INET6),
        protocol: fc.constant(0),
        address: fc.constant(""),
        port: fc.constant(0),
        fwmark: fc.integer({ min: 1, max: 0xffffffff }),
      }),
    );
    fc.assert(
      fc.property(service, fc.nat(0xffffffff), fc.nat(200), fc.nat(255), (s, seq, offset, fill) => {
        const ours = written(s as ServiceEntry, seq, offset, fill);
        expect(Buffer.from(ours).equals(Buffer.from(codec(s as ServiceEntry, seq)))).toBe(true);
      }),
    );
  });

  it("leaves an address it cannot write to the codec (-1), which names it", () => {
    const s = entry({ address: "10.0.0.256" });
    const block = new Uint8Array(DEST_DUMP_REQUEST_MAX);
    expect(writeDestDumpRequest(block, new DataView(block.buffer), 0, s, FAMILY, 1)).toBe(-1);
    expect(() => codec(s, 1)).toThrow(/10\.0\.0\.256/);
  });
});

/** `n` kernel services 10.0.x.y:80, two real servers each. */
function fakeServices(n: number): FakeService[] {
  const services: FakeService[] = [];
  for (let s = 1; s <= n; s++) {
    const addr = new Uint8Array(16);
    addr.set([10, 0, s >> 8, s & 0xff]);
    const service: ServiceAttrs = {
      af: C.AF_INET,
      protocol: 6,
      addr,
      port: 80,
      schedName: "wlc",
      flags: { flags: C.IP_VS_SVC_F_HASHED, mask: 0xffffffff },
      timeout: 0,
      netmask: 0xffffffff,
    };
    services.push({
      payload: encodeIpvsMessage({ cmd: C.IpvsCmd.NEW_SERVICE, service }),
      key: { af: C.AF_INET, fwmark: 0, protocol: 6, addr, port: 80 },
      dests: [1, 2].map((d) =>
        encodeIpvsMessage({
          cmd: C.IpvsCmd.NEW_DEST,
          dest: {
            addr: Uint8Array.from([10, 1, s & 0xff, d, ...new Array(12).fill(0)]),
            port: 8080,
            fwdMethod: C.IP_VS_CONN_F_MASQ,
            weight: 1,
            uThresh: 0,
            lThresh: 0,
            activeConns: 0,
            inactConns: 0,
            persistConns: 0,
            addrFamily: C.AF_INET,
          },
        }),
      ),
    });
  }
  return services;
}

describe("readTable's sockets", () => {
  it("sends the services dump on the services socket and the real servers' dumps on the others", async () => {
    const services = fakeServices(9);
    const { ctx, redo, sent } = fakeExchange({ services }, 3, undefined, true);
    const read = await readTable(ctx, false, redo);
    expect(read.services.map((s) => s?.address)).toEqual(services.map((_, i) => `10.0.0.${i + 1}`));
    expect(read.dests.map((d) => d?.map((x) => x.address))).toEqual(
      services.map((_, i) => [`10.1.${i + 1}.1`, `10.1.${i + 1}.2`]),
    );
    expect(sent.filter((x) => x.cmd === C.IpvsCmd.GET_SERVICE).map((x) => x.socket)).toEqual([-1]);
    const destSockets = sent.filter((x) => x.cmd === C.IpvsCmd.GET_DEST).map((x) => x.socket);
    expect(destSockets).toHaveLength(9);
    expect(destSockets.every((i) => i >= 0 && i < 3)).toBe(true);
  });

  it("starts real servers' dumps 64 services at a time while the services reply is read", async () => {
    const { ctx, sent } = fakeExchange({ services: fakeServices(200) }, 3, undefined, true);
    const seen: number[] = [];
    const rows = await dumpServiceRows(ctx, false, undefined, (sofar) => {
      seen.push(sofar.length);
      // Nothing was asked of the real-server sockets yet: progress comes before the read ends.
      expect(sent.filter((x) => x.cmd === C.IpvsCmd.GET_DEST)).toHaveLength(0);
    });
    expect(rows?.length).toBe(200);
    expect(seen).toEqual([64, 128, 192]);
    // After an NLM_F_DUMP_INTR part nothing more is started: the read is redone.
    const interrupted = fakeExchange(
      { services: fakeServices(200), servicesInterrupted: 1 },
      3,
      undefined,
      true,
    );
    const late: number[] = [];
    expect(await dumpServiceRows(interrupted.ctx, false, undefined, (r) => late.push(r.length))).toBeNull();
    expect(late).toEqual([]);
  });
});
