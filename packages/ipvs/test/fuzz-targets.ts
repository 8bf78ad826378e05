// The IPVS decoders under the fuzz driver (tools/fuzz.mjs; the unit tier runs fuzz.test.ts):
// mutations of the netlink replies the kernel sent in test/fixtures/ipvsadm-netlink.json.
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { type FuzzTarget, netlinkMutator } from "@lvs/testkit";
import { decodeIpvsMessage, type IpvsMessage } from "../src/codec.js";
import * as C from "../src/constants.js";
import { IpvsError } from "../src/errors.js";
import { decodeDestEntry } from "../src/fast-dest.js";
import { daemonFromAttrs, destEntryFromAttrs, infoFromMessage, serviceEntryFromAttrs } from "../src/model.js";
import { parseNlError, parseNlMsgs, unhex } from "../src/netlink.js";

const captures: Record<string, { sent: string[]; received: string[] }> = JSON.parse(
  readFileSync(new URL("./fixtures/ipvsadm-netlink.json", import.meta.url), "utf8"),
);

/** Every datagram of the captures: the kernel's replies, and ipvsadm's requests (same format). */
export const ipvsSeeds: Uint8Array[] = [
  ...new Set(Object.values(captures).flatMap((c) => [...c.received, ...c.sent])),
].map(unhex);

const NLMSG_MIN_TYPE = 0x10;
/** genlmsghdr after nlmsghdr for IPVS and ctrl messages; NLMSG_ERROR / DONE stay opaque. */
const genlShape = { familyHeader: (type: number) => (type >= NLMSG_MIN_TYPE ? C.GENL_HDRLEN : undefined) };

/**
 * A reply datagram decoded as IpvsClient reads one: framing, NLMSG_ERROR / DONE, each IPVS message
 * through the codec and on to the typed entries the client returns.
 */
export function decodeReplyDatagram(buf: Uint8Array): unknown[] {
  const out: unknown[] = [];
  for (const m of parseNlMsgs(buf)) {
    if (m.type === C.NLMSG_ERROR) out.push(parseNlError(m));
    else if (m.type >= NLMSG_MIN_TYPE) {
      const msg: IpvsMessage = decodeIpvsMessage(m.payload);
      const af = msg.service?.af ?? C.AF_INET;
      out.push(
        msg,
        msg.service && serviceEntryFromAttrs(msg.service),
        msg.dest && destEntryFromAttrs(msg.dest, af),
        msg.daemon && daemonFromAttrs(msg.daemon),
        msg.info && infoFromMessage(msg),
      );
    }
  }
  return out;
}

/** Lazy counters materialised so two entries compare field by field. */
const plain = (e: object | undefined): object | undefined => (e ? { ...e } : e);

export const fuzzTargets: FuzzTarget[] = [
  {
    name: "ipvs/genl",
    seeds: ipvsSeeds,
    mutate: netlinkMutator(genlShape),
    decode: decodeReplyDatagram,
    errorClass: IpvsError,
  },
  {
    // The table-dump fast path: where the lossless codec accepts a GET_DEST reply, the fast
    // decoder accepts it too and gives the same entry (it may refuse more: it never throws else).
    name: "ipvs/fast-dest",
    seeds: ipvsSeeds,
    mutate: netlinkMutator(genlShape),
    decode(buf) {
      const out: unknown[] = [];
      for (const m of parseNlMsgs(buf)) {
        // INFO replies reuse the command-level attribute numbers: never fed to the fast path.
        const cmd = m.payload[0];
        if (m.type < NLMSG_MIN_TYPE || cmd === C.IpvsCmd.GET_INFO || cmd === C.IpvsCmd.SET_INFO) continue;
        let ref: unknown;
        try {
          const msg = decodeIpvsMessage(m.payload);
          ref = plain(msg.dest && destEntryFromAttrs(msg.dest, C.AF_INET));
        } catch {
          // the codec refuses: the fast path may refuse too (IpvsError only) or accept
          out.push(plain(decodeDestEntry(m.payload, C.AF_INET)));
          continue;
        }
        let fast: unknown;
        try {
          fast = plain(decodeDestEntry(m.payload, C.AF_INET));
        } catch (err) {
          throw new Error(`the fast path refused what the codec accepts: ${(err as Error).message}`);
        }
        if (!isDeepStrictEqual(fast, ref)) {
          throw new Error(`fast path ${JSON.stringify(fast, big)} ≠ codec ${JSON.stringify(ref, big)}`);
        }
        out.push(fast);
      }
      return out;
    },
    errorClass: IpvsError,
  },
];

function big(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v;
}
