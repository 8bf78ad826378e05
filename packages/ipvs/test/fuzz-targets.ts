// The IPVS decoders under the fuzz driver (tools/fuzz.mjs; the unit tier runs fuzz.test.ts):
// mutations of the netlink replies the kernel sent in test/fixtures/ipvsadm-netlink.json.
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { FakeClock } from "@lvs/inet";
import { type FuzzTarget, netlinkMutator } from "@lvs/testkit";
import { IpvsClient, type NetlinkSocketLike } from "../src/client.js";
import { decodeIpvsMessage, type IpvsMessage } from "../src/codec.js";
import * as C from "../src/constants.js";
import { IpvsError } from "../src/errors.js";
import { decodeDestEntry } from "../src/fast-dest.js";
import { daemonFromAttrs, destEntryFromAttrs, infoFromMessage, serviceEntryFromAttrs } from "../src/model.js";
import { parseNlError, parseNlMsgs, splitNlMsgs, unhex } from "../src/netlink.js";

const captures: Record<string, { sent: string[]; received: string[] }> = JSON.parse(
  readFileSync(new URL("./fixtures/ipvsadm-netlink.json", import.meta.url), "utf8"),
);

/** Every datagram of the captures: the kernel's replies, and ipvsadm's requests (same format). */
export const ipvsSeeds: Uint8Array[] = [
  ...new Set(Object.values(captures).flatMap((c) => [...c.received, ...c.sent])),
].map(unhex);

const NLMSG_MIN_TYPE = 0x10;
/** The IPVS family id in the captures: the type of their first generic netlink message. */
const captureFamilyId =
  ipvsSeeds.flatMap((b) => splitNlMsgs(b).messages).find((m) => m.type > C.GENL_ID_CTRL)?.type ?? 0x20;
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

/** A socket that swallows writes: the fuzz input is the only thing it ever delivers. */
class SilentSocket extends EventEmitter {
  send(_buf: Uint8Array, _opts: unknown, cb?: (err?: unknown) => void): void {
    cb?.();
  }
  ref(): void {}
  unref(): void {}
  close(): void {}
}

/**
 * The client's receive path (the socket's "message" handler) on one datagram, with a request
 * pending under every sequence number the datagram's headers carry, so replies reach the ACK,
 * DONE and part branches: it must never throw, and what it drops it counts (a typed drop here).
 */
export function receiveDatagram(buf: Uint8Array, familyId: number): unknown {
  const socket = new SilentSocket();
  const clock = new FakeClock();
  const client = IpvsClient.fromSocket(socket as unknown as NetlinkSocketLike, familyId, { clock });
  const outcomes: unknown[] = [];
  const seqs = new Set(splitNlMsgs(buf).messages.map((m) => m.seq));
  for (const seq of seqs) {
    (client as unknown as { seq: number }).seq = seq === 0 ? 0xfffffffe : seq - 1;
    const request = seq % 2 ? client.services() : client.flush();
    void request.then(
      (r) => outcomes.push(r),
      (e: unknown) => outcomes.push(e),
    );
  }
  socket.emit("message", Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  const malformed = client.stats.malformed;
  client.close();
  if (malformed > 0) {
    return { ok: false, error: new IpvsError("IPVS_BAD_MESSAGE", `${malformed} malformed replies dropped`) };
  }
  return outcomes;
}

/** Lazy counters materialised so two entries compare field by field. */
const plain = (e: object | undefined): object | undefined => (e ? { ...e } : e);

export const fuzzTargets: FuzzTarget[] = [
  {
    // What reaches IpvsClient's socket handler: everything decode-side the client does with a
    // reply (framing, NLMSG_ERROR, DONE, dump parts) must be a drop or an answer, never a throw.
    name: "ipvs/client-rx",
    seeds: ipvsSeeds,
    mutate: netlinkMutator(genlShape),
    decode: (buf) => receiveDatagram(buf, captureFamilyId),
    errorClass: IpvsError,
  },
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
