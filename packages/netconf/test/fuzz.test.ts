// Unit tier of the fuzz driver: every decoder of test/fuzz-targets.ts on 2,000 mutated inputs
// with a fixed seed (`pnpm fuzz` at the root runs 1,000,000 over all packages), the inputs it once
// found wrong (fixtures/fuzz-regressions.json) replayed, and the kernel's captured messages
// decoded to what the capture did.
import { readFileSync } from "node:fs";
import { CI_FUZZ_CASES, CI_FUZZ_SEED, replayInputs, runFuzz } from "@lvs/testkit";
import { describe, expect, it } from "vitest";
import { decodeRtnlDatagram } from "../src/codec/rtnetlink.js";
import { NetconfError } from "../src/errors.js";
import { fuzzTargets } from "./fuzz-targets.js";

const regressions = JSON.parse(
  readFileSync(new URL("./fixtures/fuzz-regressions.json", import.meta.url), "utf8"),
) as { inputs: { target: string; hex: string }[] };
const kernel = JSON.parse(readFileSync(new URL("./fixtures/rtnl-kernel.json", import.meta.url), "utf8")) as {
  datagrams: Record<string, string[]>;
};
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const decodeAll = (name: string) =>
  (kernel.datagrams[name] ?? []).flatMap((h) => decodeRtnlDatagram(unhex(h), new Map()));

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

  it("replays the inputs it once found wrong: NetconfError or a typed item, nothing else", () => {
    for (const t of fuzzTargets) {
      const inputs = regressions.inputs.filter((i) => i.target === t.name).map((i) => unhex(i.hex));
      expect(replayInputs(t, inputs)).toEqual([]);
    }
    const [shortError, badAddress] = regressions.inputs.map((i) => unhex(i.hex));
    expect(decodeRtnlDatagram(shortError as Uint8Array, new Map())).toEqual([{ kind: "error", errno: 17 }]);
    expect(() => decodeRtnlDatagram(badAddress as Uint8Array, new Map())).toThrow(NetconfError);
  });
});

describe("rtnetlink messages captured from the kernel (fixtures/rtnl-kernel.json)", () => {
  it("link dump: lo, the veth pair end, the bridge and its port with master and kind", () => {
    const links = decodeAll("links_dump").flatMap((i) => (i.kind === "link" ? [i.link] : []));
    const byName = new Map(links.map((l) => [l.name, l]));
    expect([...byName.keys()].sort()).toEqual(["br0", "lo", "veth-a", "veth-c", "veth-d"]);
    expect(byName.get("lo")).toMatchObject({ linkType: "LOOPBACK", mtu: 65536 });
    expect(byName.get("br0")).toMatchObject({ kind: "bridge", up: true });
    expect(byName.get("veth-c")).toMatchObject({ kind: "veth", master: byName.get("br0")?.index });
    expect(byName.get("veth-a")?.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(decodeAll("links_dump").at(-1)).toEqual({ kind: "done" });
  });

  it("address dump, ACKs and the kernel's refusals", () => {
    const addresses = decodeAll("addresses_dump").flatMap((i) => (i.kind === "address" ? [i.address] : []));
    expect(addresses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ address: "10.61.9.1", prefixLength: 32, label: "lo:vip" }),
        expect.objectContaining({ address: "10.61.0.1", prefixLength: 24 }),
        expect.objectContaining({ address: "fd61::9", prefixLength: 128, family: 6 }),
      ]),
    );
    expect(decodeAll("address_add_ack")).toContainEqual({ kind: "error", errno: 0 });
    expect(decodeAll("address_add_exists")).toEqual([{ kind: "error", errno: 17 }]); // EEXIST
    expect(decodeAll("address_remove_missing")).toEqual([{ kind: "error", errno: 99 }]); // EADDRNOTAVAIL
    expect(decodeAll("link_get_missing")).toEqual([{ kind: "error", errno: 19 }]); // ENODEV
  });

  it("notifications: the address added then removed, the link down, up and deleted", () => {
    const ev = decodeAll("events_address").map((i) =>
      i.kind === "address" ? [i.type, i.address.address] : i,
    );
    expect(ev).toEqual([
      [20, "10.61.9.3"],
      [21, "10.61.9.3"],
    ]);
    const links = decodeAll("events_link").flatMap((i) => (i.kind === "link" ? [[i.type, i.link.name]] : []));
    expect(links).toContainEqual([17, "veth-c"]); // RTM_DELLINK
    expect(links.filter(([, n]) => n === "veth-a").length).toBeGreaterThanOrEqual(2);
  });
});
