// lvsctl realserver / director / garp between real namespaces on a bridge:
// - a real server set up by `lvsctl realserver up` holds the VIP but never answers ARP for it,
//   while the director does — seen from a third namespace's neighbour table after traffic; a
//   control namespace holding the VIP without the sysctls does answer (the old "ARP problem");
// - `realserver down` / `director restore` put back every sysctl value exactly;
// - `lvsctl garp` moves a neighbour entry to the sender's MAC.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));

function lvsctl(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("node", [BIN, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!canUseNetns())("lvsctl realserver | director | garp (netns)", () => {
  let topo: Topology;
  let client: Netns;
  let director: Netns;
  let rs: Netns;
  let ctrl: Netns;
  let tmp: string;
  let directorMac: string;
  let ctrlMac: string;
  const VIP = "10.64.0.100";
  const VIP6 = "fd64::100";

  /** Every net.ipv4/ipv6 conf value and ip_forward in a namespace, as sysctl(8) prints them. */
  const confSnapshot = async (ns: Netns): Promise<string> =>
    (await ns.run("sysctl -a 2>/dev/null"))
      .split("\n")
      .filter((l) => /^net\.ipv[46]\.(conf\.|ip_forward )/.test(l))
      .sort()
      .join("\n");

  async function lladdr(ip: string): Promise<string | undefined> {
    const out = JSON.parse(await client.run(`ip -j neigh show to ${ip} dev eth0`)) as Array<{
      lladdr?: string;
    }>;
    return out[0]?.lladdr;
  }

  /** Client traffic to `ip` after forgetting it: who answers the ARP / NS? */
  async function resolve(ip: string): Promise<string | undefined> {
    await client.run(`ip neigh flush to ${ip} dev eth0`);
    await client.exec(["ping", ...(ip.includes(":") ? ["-6"] : []), "-c", "1", "-W", "1", ip]);
    return lladdr(ip);
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "lvs-cli-netconf-"));
    topo = await Topology.create("cli-netconf");
    const lan = await topo.addBridge("lan");
    client = await topo.addNamespace("client");
    director = await topo.addNamespace("director");
    rs = await topo.addNamespace("rs");
    ctrl = await topo.addNamespace("ctrl");
    await topo.attach(client, lan, { addr: ["10.64.0.1/24", "fd64::1/64"], ifname: "eth0" });
    await topo.attach(director, lan, { addr: ["10.64.0.2/24", "fd64::2/64"], ifname: "eth0" });
    await topo.attach(rs, lan, { addr: ["10.64.0.3/24", "fd64::3/64"], ifname: "eth0" });
    await topo.attach(ctrl, lan, { addr: ["10.64.0.4/24", "fd64::4/64"], ifname: "eth0" });
    directorMac = await director.mac("eth0");
    ctrlMac = await ctrl.mac("eth0");
  });
  afterAll(async () => {
    await topo?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("realserver up --dry-run prints the changes and makes none", async () => {
    const before = await confSnapshot(rs);
    const stateFile = join(tmp, "rs-dry.json");
    const r = lvsctl([
      "realserver",
      "up",
      "--vip",
      `${VIP},${VIP6}`,
      "--netns",
      rs.name,
      "--state-file",
      stateFile,
      "--dry-run",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "realserver dr: dry run, 6 changes would be made",
        "  sysctl net.ipv4.conf.all.arp_ignore: 0 -> 1",
        "  sysctl net.ipv4.conf.all.arp_announce: 0 -> 2",
        "  sysctl net.ipv4.conf.lo.arp_ignore: 0 -> 1",
        "  sysctl net.ipv4.conf.lo.arp_announce: 0 -> 2",
        `  ip address add ${VIP}/32 dev lo`,
        `  ip address add ${VIP6}/128 dev lo`,
        "  unchanged: lo up",
        "",
      ].join("\n"),
    );
    expect(await confSnapshot(rs)).toBe(before);
    expect(existsSync(stateFile)).toBe(false);
    expect(await rs.run("ip -br addr show dev lo")).not.toContain(VIP);
  });

  it("the real server holds the VIP but does not answer ARP for it; the director does", async () => {
    const stateFile = join(tmp, "rs.json");
    // A value that is not the default, to see `down` restore it and not some default.
    await rs.sysctl("net.ipv4.conf.lo.arp_announce", 1);
    const before = await confSnapshot(rs);

    const up = lvsctl([
      "realserver",
      "up",
      "--vip",
      `${VIP},${VIP6}`,
      "--netns",
      rs.name,
      "--state-file",
      stateFile,
    ]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/6 changes made/);
    expect(up.stdout).toContain("sysctl net.ipv4.conf.lo.arp_announce: 1 -> 2");
    const lo = await rs.run("ip -br addr show dev lo");
    expect(lo).toContain(`${VIP}/32`);
    expect(lo).toContain(`${VIP6}/128`);
    // It really is the real server's address: it answers what is routed to it.
    expect((await rs.exec(["ping", "-c", "1", "-W", "1", VIP])).code).toBe(0);

    // Only the real server holds the VIP: the client's ARP and NS go unanswered.
    expect(await resolve(VIP)).toBeUndefined();
    expect(await resolve(VIP6)).toBeUndefined();

    // Control: the same VIP on lo without the sysctls (the classic ARP problem) is answered.
    await ctrl.run(`ip addr add ${VIP}/32 dev lo`);
    expect(await resolve(VIP)).toBe(ctrlMac);
    await ctrl.run(`ip addr del ${VIP}/32 dev lo`);

    // The director owns the VIP on its interface: the client resolves it to the director.
    await director.run(`ip addr add ${VIP}/32 dev eth0 && ip addr add ${VIP6}/128 dev eth0 nodad`);
    expect(await resolve(VIP)).toBe(directorMac);
    expect(await resolve(VIP6)).toBe(directorMac);
    // …and keeps it through repeated traffic (no late answer from the real server replaces it).
    for (let i = 0; i < 3; i++) {
      await client.run(`ping -c 1 -W 1 ${VIP}`);
      expect(await lladdr(VIP)).toBe(directorMac);
    }

    // Idempotent: a second `up` changes nothing.
    const again = lvsctl(["realserver", "up", "--vip", VIP, "--netns", rs.name, "--state-file", stateFile]);
    expect(again.stdout).toMatch(/0 changes made/);

    // `down` removes the VIPs and restores every value exactly.
    const down = lvsctl(["realserver", "down", "--netns", rs.name, "--state-file", stateFile]);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain("sysctl net.ipv4.conf.lo.arp_announce: 2 -> 1");
    expect(await confSnapshot(rs)).toBe(before);
    expect(await rs.run("ip -br addr show dev lo")).not.toMatch(/10\.64\.0\.100|fd64::100/);
    expect(existsSync(stateFile)).toBe(false);
    await director.run(`ip addr del ${VIP}/32 dev eth0 && ip addr del ${VIP6}/128 dev eth0`);
  });

  it("realserver down --vip removes only those VIPs and keeps the sysctls while others remain", async () => {
    const stateFile = join(tmp, "rs-partial.json");
    const before = await confSnapshot(rs);
    expect(
      lvsctl([
        "realserver",
        "up",
        "--vip",
        "10.64.0.110,10.64.0.111",
        "--netns",
        rs.name,
        "--state-file",
        stateFile,
      ]).code,
    ).toBe(0);
    const one = lvsctl([
      "realserver",
      "down",
      "--vip",
      "10.64.0.110",
      "--netns",
      rs.name,
      "--state-file",
      stateFile,
    ]);
    expect(one.stdout).toContain("ip address del 10.64.0.110/32 dev lo");
    expect(one.stdout).toMatch(/sysctls and links kept: 1 recorded VIP\(s\) remain \(10\.64\.0\.111\)/);
    expect(await rs.run("sysctl -n net.ipv4.conf.all.arp_ignore")).toBe("1\n");
    const rest = lvsctl([
      "realserver",
      "down",
      "--vip",
      "10.64.0.111",
      "--netns",
      rs.name,
      "--state-file",
      stateFile,
    ]);
    expect(rest.code).toBe(0);
    expect(await confSnapshot(rs)).toBe(before);
  });

  it("director prep: dry run, then apply, then restore the exact values", async () => {
    const stateFile = join(tmp, "director.json");
    const before = await confSnapshot(director);
    const dry = lvsctl([
      "director",
      "prep",
      "--mode",
      "nat",
      "--dev",
      "eth0",
      "--netns",
      director.name,
      "--state-file",
      stateFile,
      "--dry-run",
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("sysctl net.ipv4.ip_forward: 0 -> 1");
    expect(dry.stdout).toContain("sysctl net.ipv4.conf.eth0.send_redirects: 1 -> 0");
    expect(await confSnapshot(director)).toBe(before);

    const prep = lvsctl([
      "director",
      "prep",
      "--mode",
      "nat",
      "--dev",
      "eth0",
      "--netns",
      director.name,
      "--state-file",
      stateFile,
      "--json",
    ]);
    expect(prep.code).toBe(0);
    const report = JSON.parse(prep.stdout) as { changes: Array<{ key: string; to: string }> };
    expect(report.changes.map((c) => `${c.key}=${c.to}`)).toEqual([
      "net.ipv4.ip_forward=1",
      "net.ipv4.conf.all.send_redirects=0",
      "net.ipv4.conf.default.send_redirects=0",
      "net.ipv4.conf.eth0.send_redirects=0",
    ]);
    expect(await director.run("sysctl -n net.ipv4.ip_forward")).toBe("1\n");
    const restore = lvsctl(["director", "restore", "--netns", director.name, "--state-file", stateFile]);
    expect(restore.code).toBe(0);
    expect(await confSnapshot(director)).toBe(before);
  });

  it("lvsctl garp moves the client's entry to the sender's MAC", async () => {
    const ip = "10.64.0.120";
    await ctrl.run(`ip addr add ${ip}/32 dev eth0`);
    expect(await resolve(ip)).toBe(ctrlMac);
    await ctrl.run(`ip addr del ${ip}/32 dev eth0`);
    await director.run(`ip addr add ${ip}/32 dev eth0`);
    const r = lvsctl([
      "garp",
      "--dev",
      "eth0",
      "--ip",
      ip,
      "--count",
      "3",
      "--interval",
      "0.05",
      "--netns",
      director.name,
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("sent 3 frames on eth0\n");
    await waitFor(async () => (await lladdr(ip)) === directorMac, {
      what: "entry → director",
      timeoutMs: 5000,
    });
  });

  it("says what is wrong, with the error code, and exits 1", () => {
    const noDev = lvsctl(["garp", "--dev", "nosuch0", "--ip", VIP, "--netns", director.name]);
    expect(noDev.code).toBe(1);
    expect(noDev.stderr).toMatch(/nosuch0.*\(NETCONF_NO_INTERFACE\)/);
    const badVip = lvsctl(["realserver", "up", "--vip", "10.64.0.300", "--netns", rs.name]);
    expect(badVip.code).not.toBe(0);
    expect(badVip.stderr).toMatch(/not an IPv4 or IPv6 address/);
    const tun = lvsctl([
      "realserver",
      "up",
      "--vip",
      VIP,
      "--mode",
      "tun",
      "--netns",
      rs.name,
      "--state-file",
      join(tmp, "tun.json"),
    ]);
    if (tun.code !== 0) expect(tun.stderr).toMatch(/modprobe ipip.*NETCONF_NO_TUNL0/);
    else lvsctl(["realserver", "down", "--netns", rs.name, "--state-file", join(tmp, "tun.json")]);
  });
});
