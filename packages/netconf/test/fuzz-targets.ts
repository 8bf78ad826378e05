// The netconf decoders under the fuzz driver (tools/fuzz.mjs; the unit tier runs fuzz.test.ts):
// mutations of the rtnetlink datagrams the kernel sent to our client and watcher
// (fixtures/rtnl-kernel.json, scripts/capture-rtnl.mjs) and of the announcement frames captured
// from the kernel and keepalived (fixtures/announcements.json).
import { readFileSync } from "node:fs";
import { type FuzzTarget, mutateBytes, netlinkMutator } from "@lvs/testkit";
import { tryDecodeArpFrame } from "../src/codec/arp.js";
import { tryDecodeNaFrame } from "../src/codec/ndisc.js";
import { decodeRtnlDatagram } from "../src/codec/rtnetlink.js";
import {
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
} from "../src/constants.js";
import { NetconfError } from "../src/errors.js";

const rtnl = JSON.parse(readFileSync(new URL("./fixtures/rtnl-kernel.json", import.meta.url), "utf8")) as {
  datagrams: Record<string, string[]>;
};
const announcements = JSON.parse(
  readFileSync(new URL("./fixtures/announcements.json", import.meta.url), "utf8"),
) as { frames: { hex: string }[] };

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
export const rtnlSeeds: Uint8Array[] = Object.values(rtnl.datagrams).flat().map(unhex);

const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
/** struct ifinfomsg / ifaddrmsg before the attributes; NLMSG_ERROR and DONE stay opaque. */
const rtnlShape = {
  familyHeader(type: number): number | undefined {
    if (type === RTM_NEWLINK || type === RTM_DELLINK || type === RTM_GETLINK) return IFINFOMSG_LEN;
    if (type === RTM_NEWADDR || type === RTM_DELADDR || type === RTM_GETADDR) return IFADDRMSG_LEN;
    return undefined;
  },
};

const names = new Map([
  [1, "lo"],
  [2, "veth-a"],
]);

export const fuzzTargets: FuzzTarget[] = [
  {
    name: "netconf/rtnl",
    seeds: rtnlSeeds,
    mutate: netlinkMutator(rtnlShape),
    decode: (b) => decodeRtnlDatagram(b, names),
    errorClass: NetconfError,
  },
  {
    name: "netconf/announce",
    seeds: announcements.frames.map((f) => unhex(f.hex)),
    mutate: mutateBytes,
    decode(b) {
      const arp = tryDecodeArpFrame(b);
      const na = tryDecodeNaFrame(b);
      if (arp.ok || na.ok) return { ok: true, arp, na };
      if (!(arp.error instanceof NetconfError)) return { ok: false, error: arp.error };
      return { ok: false, error: na.error };
    },
    errorClass: NetconfError,
  },
];
