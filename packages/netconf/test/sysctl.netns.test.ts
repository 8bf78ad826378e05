// Netns tier: sysctls read and written through /proc/sys inside a namespace really are that
// namespace's (checked with `ip netns exec … sysctl -n`), and a recorded set reverts to the exact
// previous values — also from another process after the first one was killed.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, Topology } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applySysctls, NetconfError, readSysctl, revertRecorded, writeSysctl } from "../src/index.js";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe.skipIf(!canUseNetns())("sysctls inside a network namespace", () => {
  let topo: Topology;
  let a: Netns;
  let b: Netns;
  let tmp: string;
  const viaIp = (ns: Netns, key: string) =>
    execFileSync("ip", ["netns", "exec", ns.name, "sysctl", "-n", key], { encoding: "utf8" }).replace(
      /\n$/,
      "",
    );
  const host = (key: string) =>
    readFileSync(`/proc/sys/${key.replaceAll(".", "/")}`, "utf8").replace(/\n$/, "");

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "lvs-netconf-sysctl-"));
    topo = await Topology.create("nc-sysctl");
    a = await topo.addNamespace("a");
    b = await topo.addNamespace("b");
    await topo.link(a, b, { ifA: "eth0", ifB: "eth0" });
  });
  afterAll(async () => {
    await topo?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("reads and writes the chosen namespace's values, not the caller's", async () => {
    const key = "net.ipv4.conf.all.arp_ignore";
    const hostBefore = host(key);
    await writeSysctl(key, 2, { netns: a.name });
    await writeSysctl(key, 1, { netns: b.name });
    await writeSysctl("net.ipv4.conf.eth0.arp_announce", 2, { netns: a.name });
    expect(viaIp(a, key)).toBe("2");
    expect(viaIp(b, key)).toBe("1");
    expect(viaIp(a, "net.ipv4.conf.eth0.arp_announce")).toBe("2");
    expect(viaIp(b, "net.ipv4.conf.eth0.arp_announce")).toBe("0");
    expect(await readSysctl(key, { netns: a.name })).toBe("2");
    expect(await readSysctl(key, { netns: b.name })).toBe("1");
    expect(host(key)).toBe(hostBefore);
    for (const k of [
      "net.ipv4.ip_forward",
      "net.ipv4.ip_local_port_range",
      "net.ipv6.conf.eth0.forwarding",
    ]) {
      expect(await readSysctl(k, { netns: a.name })).toBe(viaIp(a, k));
    }
    expect(await readSysctl("net.ipv4.conf.nosuch0.arp_ignore", { netns: a.name })).toBeUndefined();
  });

  it("names the key, namespace and errno when a write fails", async () => {
    await expect(writeSysctl("net.ipv4.conf.nosuch0.arp_ignore", 1, { netns: a.name })).rejects.toMatchObject(
      {
        code: "NETCONF_SYSCTL_MISSING",
        context: { object: "net.ipv4.conf.nosuch0.arp_ignore", netns: a.name, errnoName: "ENOENT" },
      },
    );
    try {
      await writeSysctl("net.ipv4.ip_forward", "yes", { netns: a.name });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(NetconfError);
      expect((err as NetconfError).code).toBe("NETCONF_SYSCTL_WRITE");
      expect((err as NetconfError).context).toMatchObject({ errno: 22, errnoName: "EINVAL", netns: a.name });
    }
  });

  it("applies a set and reverts to the exact previous values, tabs and all", async () => {
    const stateFile = join(tmp, "set.json");
    const keys = ["net.ipv4.ip_local_port_range", "net.ipv4.conf.eth0.rp_filter", "net.ipv4.ip_forward"];
    await writeSysctl("net.ipv4.conf.eth0.rp_filter", 2, { netns: a.name });
    const before = keys.map((k) => viaIp(a, k));
    const r = await applySysctls(
      "test",
      {
        "net.ipv4.ip_local_port_range": "20000 30000",
        "net.ipv4.conf.eth0.rp_filter": 1,
        "net.ipv4.ip_forward": 1,
      },
      { netns: a.name, stateFile },
    );
    expect(r.changes).toHaveLength(3);
    expect(keys.map((k) => viaIp(a, k))).toEqual(["20000\t30000", "1", "1"]);
    // Applying again changes nothing and keeps the first previous values.
    expect(
      (await applySysctls("test", { "net.ipv4.ip_forward": 1 }, { netns: a.name, stateFile })).changes,
    ).toEqual([]);
    const back = await revertRecorded("test", { netns: a.name, stateFile });
    expect(back.changes).toHaveLength(3);
    expect(keys.map((k) => viaIp(a, k))).toEqual(before);
    expect(existsSync(stateFile)).toBe(false);
  });

  it("a failure midway undoes what the call changed and leaves no record", async () => {
    const stateFile = join(tmp, "fail.json");
    const before = viaIp(a, "net.ipv4.conf.all.arp_announce");
    await expect(
      applySysctls(
        "test",
        { "net.ipv4.conf.all.arp_announce": before === "2" ? 1 : 2, "net.ipv4.ip_forward": "yes" },
        { netns: a.name, stateFile },
      ),
    ).rejects.toMatchObject({ code: "NETCONF_SYSCTL_WRITE" });
    expect(viaIp(a, "net.ipv4.conf.all.arp_announce")).toBe(before);
    expect(existsSync(stateFile)).toBe(false);
  });

  it("a process killed after applying can be reverted by the next one from its state file", async () => {
    const stateFile = join(tmp, "crash.json");
    const before = viaIp(b, "net.ipv4.conf.eth0.arp_ignore");
    const script = `
      import { applySysctls } from ${JSON.stringify(DIST)};
      await applySysctls("test", { "net.ipv4.conf.eth0.arp_ignore": 8 }, { netns: ${JSON.stringify(b.name)}, stateFile: ${JSON.stringify(stateFile)} });
      process.kill(process.pid, "SIGKILL");`;
    const child = spawnSync("node", ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.signal).toBe("SIGKILL");
    expect(viaIp(b, "net.ipv4.conf.eth0.arp_ignore")).toBe("8");
    await revertRecorded("test", { netns: b.name, stateFile });
    expect(viaIp(b, "net.ipv4.conf.eth0.arp_ignore")).toBe(before);
  });
});
