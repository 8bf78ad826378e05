// The DNS checker's reply decoder under the fuzz driver (tools/fuzz.mjs; the unit tier runs
// fuzz.test.ts): mutations of replies with compressed names, several sections and records.
import { type FuzzTarget, mutateBytes } from "@lvs/testkit";
import { decodeDnsMessage, encodeDnsMessage, encodeDnsQuery } from "../src/dns-codec.js";
import { HealthcheckError } from "../src/errors.js";

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const record = (name: string, type: number, data: number[]) => ({
  name,
  type,
  class: 1,
  ttl: 60,
  data: new Uint8Array(data),
});

export const dnsSeeds: Uint8Array[] = [
  // example.com A 192.0.2.1, the answer's name a pointer to the question's (0xc00c)
  unhex("123481800001000100000000076578616d706c6503636f6d0000010001c00c000100010000003c0004c0000201"),
  encodeDnsQuery(0x4242, "rs1.example.test", 1),
  encodeDnsMessage({
    id: 7,
    flags: 0x8180,
    questions: [{ name: "www.example.test.", type: 28, class: 1 }],
    answers: [
      record("www.example.test.", 5, [3, 119, 101, 98, 0]),
      record("web.example.test.", 28, new Array(16).fill(1)),
    ],
    authorities: [record("example.test.", 2, [2, 110, 115, 0])],
    additionals: [record("ns.example.test.", 1, [10, 0, 0, 53])],
  }),
];

export const fuzzTargets: FuzzTarget[] = [
  {
    name: "healthcheck/dns",
    seeds: dnsSeeds,
    mutate: mutateBytes,
    decode: decodeDnsMessage,
    errorClass: HealthcheckError,
  },
];
