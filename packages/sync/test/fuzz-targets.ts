// The sync-protocol decoder under the fuzz driver (tools/fuzz.mjs; the unit tier runs
// fuzz.test.ts): mutations of the kernel's own sync datagrams (fixtures/kernel-6.1-sync.json, v0,
// v1, IPv6) and of encoded ones carrying options, with the size field kept consistent half the
// time so the mutation reaches the connection entries.
import { readFileSync } from "node:fs";
import { type FuzzTarget, type Mutator, mutateBytes } from "@lvs/testkit";
import { decodeMessage, encodeMessages, type SyncConnection, tryDecodeMessage } from "../src/codec.js";
import { AF_INET, IP_VS_CONN_F_IN_SEQ, IP_VS_CONN_F_INACTIVE } from "../src/constants.js";
import { SyncError } from "../src/errors.js";

const kernel = JSON.parse(
  readFileSync(new URL("./fixtures/kernel-6.1-sync.json", import.meta.url), "utf8"),
) as {
  v0: string;
  v1: string;
  v1IPv6: string;
};
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const conn: SyncConnection = {
  af: AF_INET,
  protocol: 6,
  clientAddress: "10.1.0.5",
  clientPort: 40001,
  virtualAddress: "10.0.0.1",
  virtualPort: 80,
  destAddress: "10.0.2.11",
  destPort: 8080,
  flags: IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_IN_SEQ,
  state: 1,
  timeout: 900,
  fwmark: 7,
  peData: new Uint8Array([1, 2, 3]),
  peName: "sip",
  inSeq: { initSeq: 1, delta: 2, previousDelta: 3 },
  outSeq: { initSeq: 4, delta: 5, previousDelta: 6 },
};

export const syncSeeds: Uint8Array[] = [
  unhex(kernel.v1),
  unhex(kernel.v0),
  unhex(kernel.v1IPv6),
  ...encodeMessages([conn, { ...conn, clientPort: 40002, peName: undefined, peData: undefined }], {
    version: 1,
  }),
];

/** Byte mutations; half the time the v1 header's size field (bytes 2-3) then matches the length. */
const syncMutator: Mutator = (input, rng, corpus) => {
  const b = mutateBytes(input, rng, corpus);
  if (b.length >= 4 && rng.chance(0.5)) {
    b[2] = (b.length >> 8) & 0xff;
    b[3] = b.length & 0xff;
  }
  return b;
};

export const fuzzTargets: FuzzTarget[] = [
  {
    name: "sync/message",
    seeds: syncSeeds,
    mutate: syncMutator,
    decode(b) {
      const r = tryDecodeMessage(b);
      // The throwing form must agree: same verdict, SyncError only.
      let thrown: unknown;
      try {
        decodeMessage(b);
      } catch (err) {
        thrown = err;
      }
      if ((thrown === undefined) !== r.ok) throw new Error("tryDecodeMessage and decodeMessage disagree");
      return r;
    },
    errorClass: SyncError,
  },
];
