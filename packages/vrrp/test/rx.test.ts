// The receive path on real keepalived adverts (fixtures) and on every way an advert can be wrong:
// each drop lands in keepalived's counter. Fuzz: random and mutated packets never throw.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkAdvert,
  countedAsReceived,
  decodeFrameIp,
  decodeIpv4Packet,
  encodeAdvert,
  encodeIpv4Packet,
  type IpPacket,
  passwordAuthData,
  type RxInstance,
} from "../src/index.js";

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/keepalived-2.2.7-adverts.json", import.meta.url), "utf8"),
) as {
  scenarios: Array<{ name: string; adverts: string[] }>;
};
const captured = (name: string): IpPacket => {
  const sc = fixture.scenarios.find((s) => s.name === name);
  const ip = decodeFrameIp(Buffer.from(sc?.adverts[0] ?? "", "hex"));
  if (!ip) throw new Error(name);
  return ip;
};

const v2pass: RxInstance = {
  name: "VI_52",
  vrid: 52,
  version: 2,
  family: 4,
  addresses: ["10.91.0.100", "10.91.0.101"],
  intervalCs: 100,
  authType: 1,
  authData: passwordAuthData("secret12"),
  unicastPeers: [],
  checkUnicastSource: false,
};
const v3: RxInstance = {
  name: "VI_53",
  vrid: 53,
  version: 3,
  family: 4,
  addresses: ["10.91.0.100", "10.91.0.102"],
  intervalCs: 100,
  authType: 0,
  unicastPeers: [],
  checkUnicastSource: false,
};

/** A copy of a packet with a changed VRRP byte (checksum fixed up unless `keepChecksum`). */
function mutate(pkt: IpPacket, f: (b: Uint8Array) => void): IpPacket {
  const p = Uint8Array.from(pkt.payload);
  f(p);
  return { ...pkt, payload: p };
}

describe("receive path on keepalived's own adverts", () => {
  it("accepts them as keepalived sent them", () => {
    const r = checkAdvert(captured("v2-ipv4-pass-2vips"), v2pass);
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r).toMatchObject({ source: "10.91.0.1", checksum: "message", advert: { priority: 150 } });
    const r3 = checkAdvert(captured("v3-ipv4-2vips"), v3);
    expect(r3.ok && r3.checksum).toBe("pseudo-header");
    const r6 = checkAdvert(captured("v3-ipv6"), { ...v3, vrid: 55, family: 6, addresses: ["fd91::100"] });
    expect(r6.ok).toBe(true);
    const ru = checkAdvert(captured("v3-ipv4-unicast"), {
      ...v3,
      vrid: 56,
      addresses: ["10.91.0.100"],
      unicastPeers: ["10.91.0.1"],
      checkUnicastSource: true,
    });
    expect(ru.ok).toBe(true);
  });

  it.each([
    ["wrong password", { ...v2pass, authData: passwordAuthData("secret13") }, "auth_failure"],
    ["no auth configured", { ...v2pass, authType: 0, authData: undefined }, "authtype_mismatch"],
    ["other interval (v2 MUST match)", { ...v2pass, intervalCs: 200 }, "advert_interval_err"],
    ["version 3 configured", { ...v2pass, version: 3 as const }, "version_err"],
    ["one address fewer configured", { ...v2pass, addresses: ["10.91.0.100"] }, "addr_list_err"],
    ["another address configured", { ...v2pass, addresses: ["10.91.0.100", "10.91.0.199"] }, "addr_list_err"],
    ["unicast instance receiving multicast", { ...v2pass, unicastPeers: ["10.91.0.9"] }, "addr_list_err"],
  ])("%s → %s", (_n, inst, counter) => {
    const r = checkAdvert(captured("v2-ipv4-pass-2vips"), inst);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.counter).toBe(counter);
  });

  it("TTL other than 255 → ip_ttl_err (multicast), accepted for unicast (keepalived)", () => {
    const pkt = { ...captured("v3-ipv4-2vips"), ttl: 254 };
    const r = checkAdvert(pkt, v3);
    expect(!r.ok && r.counter).toBe("ip_ttl_err");
    const u = { ...captured("v3-ipv4-unicast"), ttl: 64 };
    expect(
      checkAdvert(u, { ...v3, vrid: 56, addresses: ["10.91.0.100"], unicastPeers: ["10.91.0.1"] }).ok,
    ).toBe(true);
    // a raw IPv6 socket cannot tell: no check rather than a false drop
    expect(
      checkAdvert(
        { ...captured("v3-ipv6"), ttl: undefined },
        { ...v3, vrid: 55, family: 6, addresses: ["fd91::100"] },
      ).ok,
    ).toBe(true);
  });

  it("bad checksum → checksum_err; unknown peer → unknown_peer (after counting the advert)", () => {
    const bad = mutate(captured("v3-ipv4-2vips"), (b) => {
      b[7] = (b[7] as number) ^ 0xff;
    });
    const r = checkAdvert(bad, v3);
    expect(!r.ok && r.counter).toBe("checksum_err");
    expect(countedAsReceived(r)).toBe(false);
    const peer = checkAdvert(captured("v3-ipv4-unicast"), {
      ...v3,
      vrid: 56,
      addresses: ["10.91.0.100"],
      unicastPeers: ["10.91.0.7"],
      checkUnicastSource: true,
    });
    expect(!peer.ok && peer.counter).toBe("unknown_peer");
    expect(countedAsReceived(peer)).toBe(true);
  });

  it("type, length, IPv4 total length", () => {
    const base = captured("v3-ipv4-2vips");
    // type 2 with a valid checksum
    const t2 = encodeAdvert(
      { version: 3, type: 2, vrid: 53, priority: 200, addresses: [...v3.addresses], intervalCs: 100 },
      {
        family: 4,
        source: base.source,
        destination: base.destination,
      },
    );
    expect(checkAdvert({ ...base, payload: t2 }, v3)).toMatchObject({
      ok: false,
      counter: "invalid_type_rcvd",
    });
    expect(checkAdvert({ ...base, payload: base.payload.subarray(0, 12) }, v3)).toMatchObject({
      ok: false,
      counter: "packet_len_err",
    });
    expect(checkAdvert({ ...base, totalLength: 99 }, v3)).toMatchObject({
      ok: false,
      counter: "packet_len_err",
    });
    expect(checkAdvert({ ...base, payload: base.payload.subarray(0, 5) }, v3)).toMatchObject({
      ok: false,
      interfaceCounter: "malformed",
    });
  });
});

describe("fuzz: the receive path never throws", () => {
  const pkts = fixture.scenarios.flatMap((s) =>
    s.adverts.map((h) => decodeFrameIp(Buffer.from(h, "hex")) as IpPacket),
  );
  const insts: RxInstance[] = [
    v2pass,
    v3,
    { ...v3, family: 6, vrid: 55, addresses: ["fd91::100"] },
    { ...v3, unicastPeers: ["10.91.0.1"] },
  ];

  it("random bytes as an IPv4 packet or a VRRP payload", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(...insts),
        fc.option(fc.nat(255)),
        (bytes, inst, ttl) => {
          let pkt: IpPacket;
          try {
            pkt = decodeIpv4Packet(bytes);
          } catch {
            pkt = {
              family: inst.family,
              source: "10.0.0.1",
              destination: "224.0.0.18",
              ttl: ttl ?? undefined,
              protocol: 112,
              payload: bytes,
            };
          }
          const r = checkAdvert(pkt, inst);
          expect(typeof r.ok).toBe("boolean");
          if (!r.ok) expect(r.counter ?? r.interfaceCounter).toBeDefined();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("captured adverts with random bytes changed, cut or extended", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...pkts),
        fc.array(fc.tuple(fc.nat(300), fc.nat(255)), { maxLength: 6 }),
        fc.integer({ min: -12, max: 12 }),
        fc.constantFrom(...insts),
        (pkt, flips, resize, inst) => {
          let p = Uint8Array.from(pkt.payload);
          for (const [i, v] of flips) if (p.length) p[i % p.length] = v;
          if (resize < 0) p = p.subarray(0, Math.max(0, p.length + resize));
          else if (resize > 0) p = Uint8Array.from([...p, ...new Uint8Array(resize)]);
          const r = checkAdvert({ ...pkt, payload: p }, inst);
          expect(typeof r.ok).toBe("boolean");
          // whatever passes is a well-formed advert matching the instance's version and addresses
          if (r.ok) {
            expect(r.advert.version).toBe(inst.version);
            expect(r.advert.type).toBe(1);
            expect([...r.advert.addresses].sort()).toEqual([...inst.addresses].sort());
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("whole IPv4 packets with mutated headers", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(40), fc.nat(255)), { maxLength: 4 }), (flips) => {
        const payload = encodeAdvert(
          { version: 3, vrid: 53, priority: 200, addresses: [...v3.addresses], intervalCs: 100 },
          {
            family: 4,
            source: "10.91.0.1",
            destination: "224.0.0.18",
          },
        );
        const b = encodeIpv4Packet({ source: "10.91.0.1", destination: "224.0.0.18", payload, id: 1 });
        for (const [i, v] of flips) b[i % b.length] = v;
        let pkt: IpPacket | undefined;
        try {
          pkt = decodeIpv4Packet(b);
        } catch (err) {
          expect((err as Error).name).toBe("VrrpError");
          return;
        }
        expect(() => checkAdvert(pkt as IpPacket, v3)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
