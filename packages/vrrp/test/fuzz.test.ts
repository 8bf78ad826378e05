// Unit tier of the fuzz driver: every decoder of test/fuzz-targets.ts on 2,000 mutated inputs
// with a fixed seed (`pnpm fuzz` at the root runs 1,000,000 over all packages), and the inputs it
// once found wrong (fixtures/fuzz-regressions.json) replayed.
import { readFileSync } from "node:fs";
import { CI_FUZZ_CASES, CI_FUZZ_SEED, replayInputs, runFuzz } from "@lvs/testkit";
import { describe, expect, it } from "vitest";
import { decodeFrameIp, type IpPacket } from "../src/ip.js";
import { checkAdvert } from "../src/rx.js";
import { fuzzTargets } from "./fuzz-targets.js";

const regressions = JSON.parse(
  readFileSync(new URL("./fixtures/fuzz-regressions.json", import.meta.url), "utf8"),
) as { inputs: { target: string; hex: string }[] };

describe(`fuzz: ${CI_FUZZ_CASES} mutated inputs per decoder, seed ${CI_FUZZ_SEED.toString(16)}`, () => {
  it.each(fuzzTargets.map((t) => [t.name, t] as const))(
    "%s",
    (_name, target) => {
      const r = runFuzz(target, { seed: CI_FUZZ_SEED, cases: CI_FUZZ_CASES });
      expect(r.failures).toEqual([]);
      expect(r.cases).toBe(CI_FUZZ_CASES);
      // The mutations reach both sides: some inputs decode, some are refused.
      expect(r.rejected).toBeGreaterThan(0);
      expect(r.rejected).toBeLessThan(r.cases);
    },
    120_000,
  ); // a generous bound for a loaded host

  it("replays the inputs it once found wrong", () => {
    for (const t of fuzzTargets) {
      const inputs = regressions.inputs.filter((i) => i.target === t.name);
      expect(
        replayInputs(
          t,
          inputs.map((i) => new Uint8Array(Buffer.from(i.hex, "hex"))),
        ),
      ).toEqual([]);
    }
  });

  it("an advert repeating one VIP in place of another is dropped (addr_list_err), as keepalived does", () => {
    const hex = regressions.inputs[0]?.hex ?? "";
    const pkt = decodeFrameIp(Buffer.from(hex, "hex")) as IpPacket;
    const inst = {
      name: "VI_1",
      vrid: 52,
      version: 2 as const,
      family: 4 as const,
      addresses: ["10.91.0.100", "10.91.0.101"],
      intervalCs: 100,
      authType: 1,
      authData: new Uint8Array(Buffer.from("secret12")),
      unicastPeers: [],
      checkUnicastSource: false,
    };
    expect(checkAdvert(pkt, inst)).toMatchObject({ ok: false, counter: "addr_list_err", counted: true });
    // The same advert with both VIPs passes (so the drop is about the repeat).
    const fixed = Uint8Array.from(pkt.payload);
    fixed.set([10, 91, 0, 100], 8);
    fixed[6] = 0;
    fixed[7] = 0;
    let sum = 0;
    for (let i = 0; i < fixed.length; i += 2) sum += ((fixed[i] ?? 0) << 8) | (fixed[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    fixed[6] = (~sum >> 8) & 0xff;
    fixed[7] = ~sum & 0xff;
    expect(checkAdvert({ ...pkt, payload: fixed }, inst).ok).toBe(true);
  });
});
