// Micro-benchmark of the table-dump hot path: GET_DEST replies → DestinationEntry.
//   cd packages/ipvs && pnpm exec vitest bench --run bench/dest-decode.bench.ts
// 100,000 replies: every GET_DEST reply the kernel sent in the captures, plus generated ones with
// every attribute and both counter nests (as Linux 6.1 fills them). Divide a run by 100,000 for
// the time per destination.
import { readFileSync } from "node:fs";
import { bench, describe } from "vitest";
import { decodeIpvsMessage, encodeIpvsMessage } from "../src/codec.js";
import * as C from "../src/constants.js";
import { decodeDestEntry } from "../src/fast-dest.js";
import { destEntryFromAttrs } from "../src/model.js";
import { parseNlMsgs, unhex } from "../src/netlink.js";

const N = 100_000;
const captures: Record<string, { received: string[] }> = JSON.parse(
  readFileSync(new URL("../test/fixtures/ipvsadm-netlink.json", import.meta.url), "utf8"),
);
const kernel = Object.values(captures).flatMap((c) =>
  c.received
    .flatMap((h) => parseNlMsgs(unhex(h)))
    .filter((m) => m.type === 0x20 && m.payload[0] === C.IpvsCmd.NEW_DEST)
    .map((m) => m.payload),
);
const counters = (i: number) => ({
  conns: BigInt(i),
  inPkts: BigInt(i * 7),
  outPkts: BigInt(i * 5),
  inBytes: BigInt(i) * 1500n,
  outBytes: BigInt(i) * 900n,
  cps: 1n,
  inPps: 2n,
  outPps: 3n,
  inBps: 4n,
  outBps: 5n,
});
const payloads: Uint8Array[] = [];
for (let i = 0; payloads.length < N; i++) {
  if (i % 10 === 0 && kernel.length) {
    payloads.push(kernel[i % kernel.length] as Uint8Array);
    continue;
  }
  const addr = new Uint8Array(16);
  addr.set([10, 200, (i >> 8) & 0xff, i & 0xff]);
  payloads.push(
    encodeIpvsMessage({
      cmd: C.IpvsCmd.NEW_DEST,
      dest: {
        addr,
        port: 8080,
        fwdMethod: C.IP_VS_CONN_F_MASQ,
        weight: 1,
        uThresh: 0,
        lThresh: 0,
        activeConns: i & 0xff,
        inactConns: i & 0x3f,
        persistConns: 0,
        stats: counters(i),
        addrFamily: C.AF_INET,
        stats64: counters(i),
        tunType: 0,
        tunPort: 0,
        tunFlags: 0,
      },
    }),
  );
}

describe(`${N} GET_DEST replies`, () => {
  bench("decodeDestEntry", () => {
    for (const p of payloads) decodeDestEntry(p, C.AF_INET);
  });
  bench("decodeDestEntry + read stats64", () => {
    for (const p of payloads) decodeDestEntry(p, C.AF_INET)?.stats64;
  });
  bench("lossless codec + destEntryFromAttrs", () => {
    for (const p of payloads) {
      const m = decodeIpvsMessage(p);
      if (m.dest) destEntryFromAttrs(m.dest, C.AF_INET);
    }
  });
});
