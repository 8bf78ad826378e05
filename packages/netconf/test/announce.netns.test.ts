// Netns tier: announcements between real namespaces on a bridge. A VIP moves from "old" to "new";
// an observer that already resolved it to old's MAC follows to new's MAC only because of our
// gratuitous ARP / unsolicited NA (Linux updates an existing neighbour entry from them; it creates
// none unless arp_accept / accept_untracked_na say so). Controls show the entry does not move
// without the announcement, nor with an NA lacking the Override flag. keepalived's own frames,
// captured live, equal ours byte for byte.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ETH_P_ALL, PacketSocket } from "@lvs/sys";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Announcer,
  decodeArpFrame,
  decodeNaFrame,
  encodeGratuitousArp,
  encodeNaFrame,
  encodeUnsolicitedNa,
  formatIp,
  gratuitousForm,
  parseIp,
  parseMac,
  sendGratuitousArp,
  sendUnsolicitedNa,
  tryDecodeArpFrame,
  tryDecodeNaFrame,
} from "../src/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canUseNetns())("gratuitous ARP and unsolicited NA between namespaces", () => {
  let topo: Topology;
  let obs: Netns;
  let oldNs: Netns;
  let newNs: Netns;
  let oldMac: string;
  let newMac: string;
  let tmp: string;

  /** The observer's neighbour entry for `ip` on eth0: lladdr and state, or undefined. */
  async function neigh(ip: string): Promise<{ lladdr?: string; state: string[] } | undefined> {
    const out = JSON.parse(await obs.run(`ip -j neigh show to ${ip} dev eth0`)) as Array<{
      dst: string;
      lladdr?: string;
      state: string[];
    }>;
    return out[0];
  }

  /** Frames of the observer's eth0 as decoded announcements (a packet socket in obs). */
  function capture(): { frames: Buffer[]; stop: () => void } {
    const s = PacketSocket.open({ interface: "eth0", protocol: ETH_P_ALL, netns: obs.name });
    const frames: Buffer[] = [];
    s.onFrame((f, meta) => {
      if (meta.pktType === 4) return; // PACKET_OUTGOING: our own
      const arp = tryDecodeArpFrame(f);
      const na = tryDecodeNaFrame(f);
      if ((arp.ok && gratuitousForm(arp.frame.arp)) || (na.ok && !na.frame.na.solicited)) frames.push(f);
    });
    return { frames, stop: () => s.close() };
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "lvs-netconf-announce-"));
    topo = await Topology.create("nc-garp");
    const lan = await topo.addBridge("lan");
    obs = await topo.addNamespace("obs");
    oldNs = await topo.addNamespace("old");
    newNs = await topo.addNamespace("new");
    await topo.attach(obs, lan, { addr: ["10.63.0.1/24", "fd63::1/64"], ifname: "eth0" });
    await topo.attach(oldNs, lan, { addr: ["10.63.0.2/24", "fd63::2/64"], ifname: "eth0" });
    await topo.attach(newNs, lan, { addr: ["10.63.0.3/24", "fd63::3/64"], ifname: "eth0" });
    oldMac = await oldNs.mac("eth0");
    newMac = await newNs.mac("eth0");
    // The observer is a plain host: unsolicited ARP/NA may only update entries it already has.
    await obs.sysctl("net.ipv4.conf.eth0.arp_accept", 0);
    await obs.sysctl("net.ipv6.conf.eth0.accept_untracked_na", 0);
  });
  afterAll(async () => {
    await topo?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** VIP on old, observer resolves it to old's MAC, VIP moves to new (which says nothing). */
  async function vipMovesFromOldToNew(vip: string): Promise<void> {
    const v6 = vip.includes(":");
    await oldNs.run(`ip addr add ${vip}/${v6 ? 128 : 32} dev eth0 ${v6 ? "nodad" : ""}`);
    await obs.run(`ping ${v6 ? "-6" : ""} -c 1 -W 2 ${vip}`);
    expect((await neigh(vip))?.lladdr).toBe(oldMac);
    await oldNs.run(`ip addr del ${vip}/${v6 ? 128 : 32} dev eth0`);
    await newNs.run(`ip addr add ${vip}/${v6 ? 128 : 32} dev eth0 ${v6 ? "nodad" : ""}`);
  }

  it("a GARP request from the new owner moves the observer's entry to its MAC", async () => {
    const vip = "10.63.0.100";
    await vipMovesFromOldToNew(vip);
    const cap = capture();
    try {
      // Control: nothing else would move it (past the 1 s ARP locktime, too).
      await sleep(1200);
      expect((await neigh(vip))?.lladdr).toBe(oldMac);
      expect(await sendGratuitousArp(vip, { dev: "eth0", netns: newNs.name })).toEqual({ sent: 1 });
      await waitFor(async () => (await neigh(vip))?.lladdr === newMac, {
        what: "entry → new MAC",
        timeoutMs: 5000,
      });
      // What crossed the wire is the RFC 5227 announcement.
      await waitFor(() => cap.frames.length >= 1, { what: "captured GARP", timeoutMs: 2000 });
      const f = decodeArpFrame(cap.frames[0] as Buffer);
      expect(gratuitousForm(f.arp)).toBe("request");
      expect(formatIp(f.arp.senderIp)).toBe(vip);
      expect(hex(f.arp.senderMac)).toBe(hex(parseMac(newMac)));
    } finally {
      cap.stop();
    }
  });

  it("the reply form moves it back (target MAC = sender MAC, as arp_is_garp() requires)", async () => {
    const vip = "10.63.0.100";
    // A fresh resolution starts the 1 s ARP locktime: within it Linux lets only a *gratuitous*
    // reply override the entry (arp_process()), so a reply with the wrong target MAC would fail here.
    await obs.run(`ip neigh flush to ${vip} dev eth0 && ping -c 1 -W 2 ${vip}`);
    expect((await neigh(vip))?.lladdr).toBe(newMac);
    await newNs.run(`ip addr del ${vip}/32 dev eth0 && ip -n ${oldNs.name} addr add ${vip}/32 dev eth0`);
    expect(await sendGratuitousArp([vip], { dev: "eth0", netns: oldNs.name, form: "reply" })).toEqual({
      sent: 1,
    });
    await waitFor(async () => (await neigh(vip))?.lladdr === oldMac, {
      what: "entry → old MAC",
      timeoutMs: 5000,
    });
  });

  it("with arp_accept=1 a GARP creates the entry; with 0 it does not", async () => {
    const vip = "10.63.0.101";
    await newNs.run(`ip addr add ${vip}/32 dev eth0`);
    await sendGratuitousArp(vip, { dev: "eth0", netns: newNs.name });
    await sleep(300);
    expect((await neigh(vip))?.lladdr).toBeUndefined();
    await obs.sysctl("net.ipv4.conf.eth0.arp_accept", 1);
    try {
      await sendGratuitousArp(vip, { dev: "eth0", netns: newNs.name });
      await waitFor(async () => (await neigh(vip))?.lladdr === newMac, {
        what: "entry created",
        timeoutMs: 5000,
      });
    } finally {
      await obs.sysctl("net.ipv4.conf.eth0.arp_accept", 0);
    }
  });

  it("an unsolicited NA (Override set) moves the IPv6 entry; one without Override does not", async () => {
    const vip = "fd63::100";
    await vipMovesFromOldToNew(vip);
    // Control: the same advertisement with O clear leaves the cached address alone (RFC 4861 §7.2.5).
    const noOverride = decodeNaFrame(encodeUnsolicitedNa({ mac: parseMac(newMac), ip: parseIp(vip).bytes }));
    noOverride.na.override = false;
    const tx = PacketSocket.open({ interface: "eth0", protocol: 0, netns: newNs.name });
    try {
      tx.send(encodeNaFrame(noOverride));
    } finally {
      tx.close();
    }
    await sleep(500);
    expect((await neigh(vip))?.lladdr).toBe(oldMac);
    expect(await sendUnsolicitedNa(vip, { dev: "eth0", netns: newNs.name })).toEqual({ sent: 1 });
    await waitFor(async () => (await neigh(vip))?.lladdr === newMac, {
      what: "IPv6 entry → new MAC",
      timeoutMs: 5000,
    });
  });

  it("refuses the wrong family and a missing interface with typed errors", async () => {
    await expect(sendGratuitousArp("fd63::100", { dev: "eth0", netns: newNs.name })).rejects.toMatchObject({
      code: "NETCONF_BAD_ADDRESS",
    });
    await expect(sendUnsolicitedNa("10.63.0.100", { dev: "eth0", netns: newNs.name })).rejects.toMatchObject({
      code: "NETCONF_BAD_ADDRESS",
    });
    await expect(
      sendGratuitousArp("10.63.0.100", { dev: "nosuch0", netns: newNs.name }),
    ).rejects.toMatchObject({
      code: "NETCONF_NO_INTERFACE",
      context: { object: "nosuch0", errnoName: "ENODEV" },
    });
    await expect(
      sendGratuitousArp("10.63.0.100", { dev: "eth0", netns: newNs.name, count: 0 }),
    ).rejects.toMatchObject({
      code: "NETCONF_BAD_OPTION",
    });
  });

  it("Announcer paces many VIPs on one interface and keeps their order; cancel stops the rest", async () => {
    const vips = ["10.63.1.1", "10.63.1.2", "10.63.1.3", "fd63:1::1", "fd63:1::2"];
    const cap = capture();
    const a = new Announcer({ netns: newNs.name, pacingMs: 20 });
    try {
      const t0 = performance.now();
      const r = await a.announce("eth0", vips, { count: 2, form: "both" });
      const elapsed = performance.now() - t0;
      // Per round: 3 IPv4 × 2 forms + 2 IPv6 NAs = 8 frames; two rounds.
      expect(r).toEqual({ sent: 16 });
      // Pacing is a floor: 15 gaps of ≥ 20 ms (a slow machine only adds to it).
      expect(elapsed).toBeGreaterThanOrEqual(15 * 20 * 0.95);
      await waitFor(() => cap.frames.length >= 16, { what: "16 frames", timeoutMs: 5000 });
      const seen = cap.frames.map((f) => {
        const arp = tryDecodeArpFrame(f);
        if (arp.ok) return `${gratuitousForm(arp.frame.arp)} ${formatIp(arp.frame.arp.senderIp)}`;
        const na = decodeNaFrame(f);
        return `na ${formatIp(na.na.target)}`;
      });
      const round = [
        "request 10.63.1.1",
        "reply 10.63.1.1",
        "request 10.63.1.2",
        "reply 10.63.1.2",
        "request 10.63.1.3",
        "reply 10.63.1.3",
        "na fd63:1::1",
        "na fd63:1::2",
      ];
      expect(seen).toEqual([...round, ...round]);

      const slow = a.announce("eth0", vips, { count: 50, intervalMs: 1000 });
      await waitFor(() => cap.frames.length > 16, { what: "the slow call's first frame", timeoutMs: 5000 });
      a.cancel("eth0");
      const res = await slow;
      expect(res.cancelled).toBe(true);
      expect(res.sent).toBeGreaterThan(0);
      expect(res.sent).toBeLessThan(250);
    } finally {
      a.close();
      cap.stop();
    }
  });

  it.skipIf(!hasKeepalived())(
    "keepalived's GARP and NA, captured live, are byte-identical to ours",
    async () => {
      const conf = join(tmp, "keepalived.conf");
      writeFileSync(
        conf,
        `global_defs {
  router_id lvs_netconf_test
  vrrp_garp_master_delay 0
  vrrp_garp_master_repeat 1
}
vrrp_instance V4 {
  state MASTER
  interface eth0
  virtual_router_id 163
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.63.2.200/32
  }
}
vrrp_instance V6 {
  state MASTER
  interface eth0
  virtual_router_id 164
  priority 150
  advert_int 1
  virtual_ipaddress {
    fd63:2::200/128
  }
}
`,
      );
      const cap = capture();
      const ka = newNs.spawn([
        "keepalived",
        "--vrrp",
        "-D",
        "-l",
        "-n",
        "-f",
        conf,
        "-p",
        join(tmp, "ka.pid"),
        "-r",
        join(tmp, "vrrp.pid"),
      ]);
      try {
        const pick = () => {
          const garp = cap.frames.find((f) => {
            const r = tryDecodeArpFrame(f);
            return r.ok && formatIp(r.frame.arp.senderIp) === "10.63.2.200";
          });
          const na = cap.frames.find((f) => {
            const r = tryDecodeNaFrame(f);
            return r.ok && formatIp(r.frame.na.target) === "fd63:2::200";
          });
          return garp && na ? { garp, na } : undefined;
        };
        await waitFor(pick, {
          what: `keepalived's announcements (log: ${ka.output().slice(-300)})`,
          timeoutMs: 20_000,
        });
        const got = pick();
        if (!got) throw new Error("unreachable");
        if (process.env.LVS_NETCONF_CAPTURE) console.log(`garp ${hex(got.garp)}\nna ${hex(got.na)}`);
        const mac = parseMac(newMac);
        expect(hex(got.garp)).toBe(
          hex(encodeGratuitousArp({ mac, ip: parseIp("10.63.2.200").bytes, requestTarget: "broadcast" })),
        );
        expect(hex(got.na)).toBe(
          hex(encodeUnsolicitedNa({ mac, ip: parseIp("fd63:2::200").bytes, router: false })),
        );
      } finally {
        ka.kill("SIGTERM");
        await Promise.race([ka.exited, sleep(3000)]);
        cap.stop();
      }
    },
  );
});

function hasKeepalived(): boolean {
  try {
    execFileSync("sh", ["-c", "command -v keepalived"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
