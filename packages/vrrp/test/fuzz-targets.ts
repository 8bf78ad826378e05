// The VRRP receive path under the fuzz driver (tools/fuzz.mjs; the unit tier runs fuzz.test.ts):
// keepalived 2.2.7's adverts (fixtures/keepalived-2.2.7-adverts.json, whole Ethernet frames)
// mutated, then decoded as the router does: frame → IP packet → checkAdvert against the instance
// that would receive it. Whatever the bytes: a counted drop or a well-formed advert, never a throw
// other than VrrpError from the IP layer.
import { readFileSync } from "node:fs";
import { type FuzzTarget, type Mutator, mutateBytes, type Rng } from "@lvs/testkit";
import { internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader, passwordAuthData } from "../src/codec.js";
import { VrrpError } from "../src/errors.js";
import { decodeFrameIp } from "../src/ip.js";
import { checkAdvert, type RxInstance } from "../src/rx.js";

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/keepalived-2.2.7-adverts.json", import.meta.url), "utf8"),
) as { scenarios: Array<{ name: string; adverts: string[] }> };

const frames = fixture.scenarios.flatMap((s) => s.adverts.map((h) => new Uint8Array(Buffer.from(h, "hex"))));

const base = {
  version: 3,
  family: 4,
  intervalCs: 100,
  authType: 0,
  unicastPeers: [],
  checkUnicastSource: false,
} as const;
/** The instances of the captured scenarios (their keepalived.conf), by VRID. */
const instances: RxInstance[] = [
  { ...base, name: "VI_0", vrid: 51, version: 2, addresses: ["10.91.0.100"] },
  {
    ...base,
    name: "VI_1",
    vrid: 52,
    version: 2,
    addresses: ["10.91.0.100", "10.91.0.101"],
    authType: 1,
    authData: passwordAuthData("secret12"),
  },
  { ...base, name: "VI_2", vrid: 53, addresses: ["10.91.0.100", "10.91.0.102"] },
  { ...base, name: "VI_3", vrid: 54, addresses: ["10.91.0.100"], intervalCs: 5 },
  { ...base, name: "VI_4", vrid: 55, family: 6, addresses: ["fd91::100"] },
  { ...base, name: "VI_5", vrid: 56, addresses: ["10.91.0.100"], unicastPeers: ["10.91.0.1"] },
  { ...base, name: "VI_6", vrid: 57, version: 2, addresses: ["10.91.0.100"], unicastPeers: ["10.91.0.1"] },
];
const byVrid = new Map(instances.map((i) => [i.vrid, i]));
/** The instance an advert reaches: its VRID's, or (to try the checks on a mismatch) another. */
const instanceFor = (vrid: number): RxInstance =>
  byVrid.get(vrid) ?? (instances[vrid % instances.length] as RxInstance);

const ETH_HLEN = 14;
const IPV6_HLEN = 40;

/**
 * Mutates the VRRP message inside the frame, then (most of the time) makes the IP length fields
 * and both checksums right again, so the mutation reaches the advert's own checks; or mutates the
 * frame as bytes (IP header included).
 */
const vrrpFrameMutator: Mutator = (frame, rng: Rng, corpus) => {
  if (frame.length < ETH_HLEN + 20 || rng.chance(0.25)) return mutateBytes(frame, rng, corpus);
  const first = frame[ETH_HLEN] ?? 0;
  const v4 = first >> 4 === 4;
  const ipLen = v4 ? (first & 0x0f) * 4 : IPV6_HLEN;
  const head = frame.slice(0, ETH_HLEN + ipLen);
  const payload = mutateBytes(frame.subarray(ETH_HLEN + ipLen), rng, corpus);
  if (rng.chance(0.7)) {
    const ip = head.subarray(ETH_HLEN);
    const view = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
    if (v4) {
      view.setUint16(2, ipLen + payload.length);
      view.setUint16(10, 0);
      view.setUint16(10, internetChecksum([ip]));
    } else view.setUint16(4, payload.length);
    if (payload.length >= 8) {
      payload[6] = 0;
      payload[7] = 0;
      const src = (o: number, n: number) => ip.subarray(o, o + n);
      const text = (b: Uint8Array) => (b.length === 4 ? b.join(".") : ipv6Text(b));
      let sum: number;
      if ((payload[0] ?? 0) >> 4 === 2) sum = internetChecksum([payload]);
      else if (v4) {
        sum = internetChecksum([
          ipv4PseudoHeader(text(src(12, 4)), text(src(16, 4)), payload.length),
          payload,
        ]);
      } else {
        sum = internetChecksum([
          ipv6PseudoHeader(text(src(8, 16)), text(src(24, 16)), payload.length),
          payload,
        ]);
      }
      payload[6] = sum >> 8;
      payload[7] = sum & 0xff;
    }
  }
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
};

function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)).toString(16));
  return groups.join(":");
}

export const fuzzTargets: FuzzTarget[] = [
  {
    name: "vrrp/advert",
    seeds: frames,
    mutate: vrrpFrameMutator,
    decode(frame) {
      const pkt = decodeFrameIp(frame);
      if (!pkt) return { ok: false };
      return checkAdvert(pkt, instanceFor(pkt.payload[1] ?? 0));
    },
    errorClass: VrrpError,
    check(result) {
      const r = result as ReturnType<typeof checkAdvert>;
      if (r.ok === false) {
        if (!r.counter && !r.interfaceCounter) throw new Error(`a drop that no counter records: ${r.reason}`);
        return;
      }
      if (r.ok !== true) return;
      // What passes is a well-formed advert for the instance it reached.
      const inst = instanceFor(r.advert.vrid);
      if (r.advert.version !== inst.version || r.advert.type !== 1) {
        throw new Error(`accepted advert ${JSON.stringify(r.advert)} matches no instance`);
      }
      const got = [...r.advert.addresses].sort().join();
      if (got !== [...inst.addresses].sort().join()) throw new Error(`accepted addresses ${got}`);
    },
  },
];
