// The BGP receive path under the fuzz driver (tools/fuzz.mjs; the unit tier runs fuzz.test.ts),
// seeded with FRR 8.4's captured messages and ours:
// - bgp/message: decodeMessage on one frame. A decoded message re-encodes to the very same bytes
//   (lossless); a refused one is a BgpError carrying the NOTIFICATION to send.
// - bgp/session: an Established session fed the bytes as a TCP stream. It never throws: every
//   fault becomes a NOTIFICATION + Idle, or a counted treat-as-withdraw.
import { readFileSync } from "node:fs";
import { FakeClock } from "@lvs/inet";
import { type FuzzTarget, type Mutator, mutateBytes } from "@lvs/testkit";
import { decodeMessage, encodeMessage } from "../src/codec.js";
import { BgpSession } from "../src/engine.js";
import { BgpError } from "../src/errors.js";
import {
  buildAnnouncements,
  buildOpen,
  buildWithdrawals,
  ceaseNotification,
  parseRoute,
} from "../src/routes.js";

const frr = JSON.parse(
  readFileSync(new URL("./fixtures/frr-8.4-messages.json", import.meta.url), "utf8"),
) as {
  messages: { hex: string }[];
};
const ctx = { localAs: 65001, ibgp: false, as4: true, selfNextHop: { ipv4: "10.0.0.2" } };
const routes = [
  parseRoute({ prefix: "192.0.2.10/32", communities: ["65001:100"] }),
  parseRoute({ prefix: "2001:db8::/48", nextHop: "fd00::2", communities: ["graceful-shutdown"] }),
];
const ours = [
  encodeMessage(
    buildOpen({ localAs: 4_200_000_001, holdTime: 9, routerId: "10.0.0.2", families: ["ipv4", "ipv6"] }),
  ),
  ...buildAnnouncements(routes, ctx).map((u) => encodeMessage(u)),
  ...buildWithdrawals(routes).map((u) => encodeMessage(u)),
  encodeMessage(ceaseNotification(2, "maintenance")),
  encodeMessage({ type: "ROUTE_REFRESH", afi: 2, safi: 1 }),
];
const messages = [...frr.messages.map((m) => new Uint8Array(Buffer.from(m.hex, "hex"))), ...ours];

/** Mutates after the header and (most of the time) puts the length field right again, so the
 * mutation reaches the body's own checks; or mutates the whole message as bytes. */
const bgpMutator: Mutator = (msg, rng, corpus) => {
  if (msg.length < 19 || rng.chance(0.25)) return mutateBytes(msg, rng, corpus);
  const body = mutateBytes(msg.subarray(19), rng, corpus);
  const out = new Uint8Array(19 + body.length);
  out.set(msg.subarray(0, 19));
  out.set(body, 19);
  if (rng.chance(0.8)) {
    out[16] = (out.length >> 8) & 0xff;
    out[17] = out.length & 0xff;
  }
  return out;
};

/** Several messages back to back, as a TCP stream carries them. */
const streams = [0, 1, 2, 3].map((i) => Buffer.concat(messages.slice(i * 3, i * 3 + 4)));

function established(): BgpSession {
  const s = new BgpSession(
    { localAs: 65001, peerAs: 65000, routerId: "10.0.0.2", holdTime: 9 },
    new FakeClock(),
    () => {},
  );
  s.setRoutes(routes);
  s.start();
  s.tcpConnected("10.0.0.2");
  s.receive(messages[0] as Uint8Array); // FRR's OPEN
  s.receive(encodeMessage({ type: "KEEPALIVE" }));
  if (s.state !== "Established") throw new Error(`fuzz harness: session is ${s.state}`);
  return s;
}

export const fuzzTargets: FuzzTarget[] = [
  {
    name: "bgp/message",
    seeds: messages,
    mutate: bgpMutator,
    decode(frame) {
      try {
        return decodeMessage(frame);
      } catch (err) {
        if (err instanceof BgpError && !err.context.notification) {
          throw new Error(`a decode error without its NOTIFICATION: ${err.message}`);
        }
        throw err;
      }
    },
    errorClass: BgpError,
    check(result, input) {
      const again = encodeMessage(result as ReturnType<typeof decodeMessage>);
      if (!Buffer.from(again).equals(Buffer.from(input))) {
        throw new Error(`decode → encode is not lossless: ${Buffer.from(again).toString("hex")}`);
      }
    },
  },
  {
    name: "bgp/session",
    seeds: streams,
    mutate: (input, rng, corpus) => mutateBytes(input, rng, corpus),
    decode(stream) {
      const s = established();
      s.receive(stream);
      return { state: s.state, stats: { ...s.stats } };
    },
    errorClass: BgpError,
  },
];
