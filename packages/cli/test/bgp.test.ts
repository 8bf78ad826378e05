// lvsctl bgp announce through the built binary: its help, and bad input refused with exit 2 and
// a message naming what is wrong (before any connection is attempted).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const lvsctl = (args: string[]) =>
  spawnSync(process.execPath, [bin, "bgp", "announce", ...args], { encoding: "utf8", timeout: 20_000 });
const base = ["--local-as", "65001", "--peer", "192.0.2.1", "--peer-as", "65000", "--router-id", "192.0.2.2"];

describe("lvsctl bgp announce", () => {
  it("--help documents every option and the SIGTERM behaviour", () => {
    const r = lvsctl(["--help"]);
    expect(r.status).toBe(0);
    for (const opt of [
      "--local-as",
      "--peer",
      "--peer-as",
      "--router-id",
      "--hold-time",
      "--next-hop",
      "--community",
      "--netns",
      "--local-address",
    ]) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stdout).toMatch(/SIGTERM or SIGINT withdraws the prefixes, sends Cease/);
  });

  it.each([
    [
      ["--local-as", "65001", "--peer", "192.0.2.1", "--peer-as", "65000", "192.0.2.10/32"],
      /router id is needed/,
    ],
    [[...base, "192.0.2.300/32"], /prefix "192\.0\.2\.300\/32"/],
    [[...base, "--hold-time", "2", "192.0.2.10/32"], /--hold-time must be 0 or at least 3/],
    [[...base, "--community", "65536:1", "192.0.2.10/32"], /community "65536:1"/],
    [[...base, "--next-hop", "not-an-ip", "192.0.2.10/32"], /next hop "not-an-ip"/],
    [
      [...base, "--netns", "lvs-no-such-netns", "192.0.2.10/32"],
      /network namespace \/run\/netns\/lvs-no-such-netns does not exist/,
    ],
    [
      ["--local-as", "0", "--peer", "192.0.2.1", "--peer-as", "65000", "192.0.2.10/32"],
      /--local-as must be an integer 1\.\.4294967295/,
    ],
    [
      [
        ...base.slice(0, 2),
        "--peer",
        "router1",
        "--peer-as",
        "65000",
        "--router-id",
        "192.0.2.2",
        "192.0.2.10/32",
      ],
      /peer "router1" is not an IP address/,
    ],
  ])("refuses %j", (args, message) => {
    const r = lvsctl(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
