// Netns tier: `lvsctl bgp announce --netns D` against FRR 8.4 (zebra + bgpd in namespace R):
// the FSM lines it prints, the route FRR installs (next hop, community), and SIGTERM →
// withdrawn, Cease with the signal's name logged by FRR, exit 0.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  canUseNetns,
  cleanupFrr,
  type Frr,
  frrPaths,
  haveFrr,
  kernelNextHops,
  type Netns,
  startFrr,
  Topology,
  waitFor,
} from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));

describe.skipIf(!canUseNetns() || !haveFrr())("lvsctl bgp announce against FRR 8.4 (netns)", () => {
  let topo: Topology;
  let r: Netns;
  let d: Netns;
  let frr: Frr;
  beforeAll(async () => {
    topo = await Topology.create("cli-bgp");
    r = await topo.addNamespace("r");
    d = await topo.addNamespace("d");
    await topo.link(r, d, { a: "10.179.1.1/24", b: "10.179.1.2/24" });
    frr = await startFrr(
      r,
      `frr defaults datacenter
hostname r
log stdout informational
router bgp 65000
 bgp router-id 10.179.1.1
 no bgp ebgp-requires-policy
 neighbor 10.179.1.2 remote-as 4200000001
`,
    );
  });
  afterAll(async () => {
    await topo?.destroy();
    cleanupFrr(frr);
  });

  it("prints each state up to Established, FRR installs the prefix, SIGTERM withdraws it with Cease and exits 0", async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        "bgp",
        "announce",
        "--local-as",
        "4200000001",
        "--peer",
        "10.179.1.1",
        "--peer-as",
        "65000",
        "--local-address",
        "10.179.1.2",
        "--netns",
        d.name,
        "--hold-time",
        "9",
        "--community",
        "65001:42",
        "198.51.100.7",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      out += c;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      await waitFor(() => out.includes("-> Established"), {
        timeoutMs: 10_000,
        what: `Established (output: ${out})`,
      });
      expect(
        out
          .split("\n")
          .filter((l) => l.includes(" -> "))
          .map((l) => /-> (\w+)/.exec(l)?.[1]),
      ).toEqual(["Connect", "OpenSent", "OpenConfirm", "Established"]);
      const [path] = await waitFor(
        async () => {
          const p = await frrPaths(frr, "ipv4", "198.51.100.7/32");
          return p.length ? p : undefined;
        },
        { what: "FRR holding 198.51.100.7/32" },
      );
      expect(path).toMatchObject({ valid: true, path: "4200000001", nexthops: [{ ip: "10.179.1.2" }] });
      const detail = await frr.json<{ paths: { community?: { string: string } }[] }>(
        "show bgp ipv4 unicast 198.51.100.7/32 json",
      );
      expect(detail.paths[0]?.community?.string).toBe("65001:42");
      await waitFor(async () => (await kernelNextHops(r, "198.51.100.7")).join() === "10.179.1.2", {
        what: "kernel route",
      });

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(out).toMatch(/NOTIFICATION sent Cease\/Administrative Shutdown "lvsctl bgp announce: SIGTERM"/);
      expect(out).toMatch(/stopped \(SIGTERM\): withdrawn, Cease sent/);
      await waitFor(
        () => /6\/2 \(Cease\/Administrative Shutdown\) "lvsctl bgp announce: SIGTERM"/.test(frr.log()),
        { what: "FRR logging the Cease" },
      );
      await waitFor(async () => (await frrPaths(frr, "ipv4", "198.51.100.7/32")).length === 0, {
        what: "route withdrawn",
      });
    } finally {
      child.kill("SIGKILL");
    }
  });
});
