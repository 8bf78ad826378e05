// The README's example, run as written (against the built package) in a fresh namespace.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, Topology } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe.skipIf(!canUseNetns())("README example", () => {
  let topo: Topology;
  let ns: Netns;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "lvs-netconf-readme-"));
    topo = await Topology.create("nc-readme");
    ns = await topo.addNamespace("rs1");
    const peer = await topo.addNamespace("peer");
    await topo.link(ns, peer, { ifA: "eth0", ifB: "eth0" });
  });
  afterAll(async () => {
    await topo?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("prints what the README says", () => {
    const stateFile = join(tmp, "rs1.json");
    const out = execFileSync("node", [fileURLToPath(new URL("./readme.example.mjs", import.meta.url))], {
      encoding: "utf8",
      env: { ...process.env, NETNS: ns.name, STATE_FILE: stateFile },
    });
    expect(out).toBe(
      [
        "realserver dr: dry run, 5 changes would be made",
        "  sysctl net.ipv4.conf.all.arp_ignore: 0 -> 1",
        "  sysctl net.ipv4.conf.all.arp_announce: 0 -> 2",
        "  sysctl net.ipv4.conf.lo.arp_ignore: 0 -> 1",
        "  sysctl net.ipv4.conf.lo.arp_announce: 0 -> 2",
        "  ip address add 192.0.2.10/32 dev lo",
        "  unchanged: lo up",
        "arp_ignore: 1",
        "new 198.51.100.7/32 on eth0",
        "{ sent: 3 }",
        "arp_ignore: 0",
        "",
      ].join("\n"),
    );
    expect(existsSync(stateFile)).toBe(false);
  });
});
