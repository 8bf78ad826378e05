// VrrpRouter with its I/O replaced by doubles (a simulated LAN, a fake netconf, fake scripts) and
// a fake clock: the wiring of tracking, scripts, notify scripts, the FIFO, sync groups and
// shutdown. The real sockets, addresses and keepalived are exercised in *.netns.test.ts.
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseKeepalivedConf } from "@lvs/config";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  FakeClock,
  Notifier,
  NotifyFifo,
  routeInterface,
  routerOptionsFromConfig,
  VrrpError,
  VrrpRouter,
  type VrrpRouterOptions,
} from "../src/index.js";
import { conf, FakeNet, MemoryLan, node, run } from "./router-doubles.js";

describe("VrrpRouter wiring (simulated LAN, fake clock)", () => {
  it("unicast_ttl sets the IPv4 TTL of unicast adverts (multicast stays 255)", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const u = node(lan, clock, conf(150, { unicastPeers: ["10.0.0.2"], unicastTtl: 10 }), "10.0.0.1");
    await u.router.start();
    await run(clock, 5000);
    expect(u.router.status().instances[0]?.state).toBe("master");
    const sent = u.transport.sent.filter((p) => p.destination === "10.0.0.2");
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((p) => p.ttl === 10)).toBe(true);
    const lan2 = new MemoryLan();
    const m = node(lan2, clock, conf(150, { unicastTtl: 10 }), "10.0.0.1");
    await m.router.start();
    await run(clock, 5000);
    expect(m.transport.sent.length).toBeGreaterThan(0);
    expect(m.transport.sent.every((p) => p.ttl === undefined)).toBe(true);
    await u.router.stop();
    await m.router.stop();
  });

  it("vrrp_startup_delay: the instances start that long after the router, silent until then", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const warnings: string[] = [];
    const a = node(lan, clock, { ...conf(150), startupDelay: 5 }, "10.0.0.1");
    a.router.on("warning", (m: string) => warnings.push(m));
    await a.router.start();
    // Without the delay it is MASTER after Master_Down_Interval (3 × 1 s + skew): not yet.
    await run(clock, 4900);
    expect(a.router.status().instances[0]?.state).toBe("init");
    expect(a.transport.sent).toEqual([]);
    expect(warnings).toContain("Delaying startup for 5 seconds (vrrp_startup_delay)");
    await run(clock, 5000);
    expect(a.router.status().instances[0]?.state).toBe("master");
    expect(a.transport.sent.length).toBeGreaterThan(0);
    await a.router.stop();
  });

  it("vrrp_startup_delay: a stop during the delay starts nothing and sends nothing", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, { ...conf(150), startupDelay: 5 }, "10.0.0.1");
    await a.router.start();
    await run(clock, 1000);
    await a.router.stop();
    await run(clock, 10_000);
    expect(a.transport.sent).toEqual([]);
    expect(a.net.has("10.0.0.100")).toBe(false);
  });

  it("vrrp_startup_delay reaches the router from keepalived.conf", () => {
    const text = `global_defs {\n  vrrp_startup_delay 2.5\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n`;
    const { config, sources } = parseKeepalivedConf(text, { lookupUser: () => ({ uid: 0, gid: 0 }) });
    expect(routerOptionsFromConfig(config, { sources }).options.startupDelay).toBe(2.5);
  });

  it("elects one master: its VIPs, GARP ×5, notify_master then notify with INSTANCE VI_1 MASTER 150", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(100), "10.0.0.1");
    const b = node(lan, clock, conf(150), "10.0.0.2");
    await a.router.start();
    await b.router.start();
    await run(clock, 5000);
    expect(b.router.status().instances[0]?.state).toBe("master");
    expect(a.router.status().instances[0]?.state).toBe("backup");
    expect(b.net.has("10.0.0.100")).toBe(true);
    expect(a.net.has("10.0.0.100")).toBe(false);
    expect(b.net.announced[0]).toEqual({ dev: "eth0", addresses: ["10.0.0.100"], count: 5 });
    expect(b.ran).toEqual([
      ["/bin/notify", "arg", "INSTANCE", "VI_1", "BACKUP", "150"],
      ["/bin/notify-master"],
      ["/bin/notify", "arg", "INSTANCE", "VI_1", "MASTER", "150"],
    ]);
    // a counted b's adverts; both sent theirs from their primary address
    expect(a.router.status().instances[0]?.stats.advert_rcvd).toBeGreaterThan(0);
    expect(b.transport.sent.at(-1)?.source).toBe("10.0.0.2");
    expect(b.transport.sent.at(-1)?.destination).toBe("224.0.0.18");
  });

  it("interface down → FAULT (priority 0 sent, VIPs removed); up → BACKUP → MASTER", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(150), "10.0.0.1");
    await a.router.start();
    await run(clock, 4000);
    expect(a.router.status().instances[0]?.state).toBe("master");
    a.net.setLink(false);
    await run(clock, 20);
    expect(a.router.status().instances[0]?.state).toBe("fault");
    expect(a.net.has("10.0.0.100")).toBe(false);
    expect(a.router.status().instances[0]?.stats.pri_zero_sent).toBe(1);
    a.net.setLink(true);
    await run(clock, 20);
    expect(a.router.status().instances[0]?.state).toBe("backup");
    await run(clock, 4000);
    expect(a.states.filter((s) => s.kind === "INSTANCE").map((s) => s.to)).toEqual([
      "backup",
      "master",
      "fault",
      "backup",
      "master",
    ]);
  });

  it("track_script with weight: a failing script (fall 2) lowers the priority and the other router preempts", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const scripts = { "/bin/check": true };
    const opts: VrrpRouterOptions = {
      ...conf(150, { trackScripts: [{ name: "chk" }] }),
      scripts: [{ name: "chk", argv: ["/bin/check"], interval: 1, weight: -60, fall: 2, rise: 2 }],
    };
    const a = node(lan, clock, opts, "10.0.0.1", scripts);
    const b = node(lan, clock, conf(120), "10.0.0.2");
    await a.router.start();
    await b.router.start();
    await run(clock, 6000);
    expect(a.router.status().instances[0]?.state).toBe("master");
    scripts["/bin/check"] = false;
    await run(clock, 1500);
    expect(a.router.status().instances[0]?.effectivePriority).toBe(150); // one failure: fall is 2
    await run(clock, 1000);
    expect(a.router.status().instances[0]?.effectivePriority).toBe(90);
    await run(clock, 5000);
    expect(b.router.status().instances[0]?.state).toBe("master");
    expect(a.router.status().instances[0]?.state).toBe("backup");
    expect(a.router.status().scripts[0]).toMatchObject({ name: "chk", state: "down" });
  });

  it("a weightless failing script puts the instance in FAULT", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const scripts = { "/bin/maint": false };
    const a = node(
      lan,
      clock,
      {
        ...conf(150, { trackScripts: [{ name: "maint" }] }),
        scripts: [{ name: "maint", argv: ["/bin/maint"] }],
      },
      "10.0.0.1",
      scripts,
    );
    await a.router.start();
    await run(clock, 5000);
    expect(a.router.status().instances[0]?.state).toBe("fault");
    scripts["/bin/maint"] = true;
    await run(clock, 1100);
    expect(a.router.status().instances[0]?.state).toBe("backup");
  });

  it("sync group: members move together; GROUP notify with priority 0", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const opts: VrrpRouterOptions = {
      instances: [
        { name: "VI_1", interface: "eth0", vrid: 1, priority: 100, virtualAddresses: ["10.0.0.101"] },
        { name: "VI_2", interface: "eth0", vrid: 2, priority: 200, virtualAddresses: ["10.0.0.102"] },
      ],
      syncGroups: [{ name: "G1", members: ["VI_1", "VI_2"], notify: { any: { argv: ["/bin/g"] } } }],
    };
    const a = node(lan, clock, opts, "10.0.0.1");
    await a.router.start();
    await run(clock, 5000);
    expect(a.router.status().instances.map((i) => i.state)).toEqual(["master", "master"]);
    expect(a.router.status().groups[0]).toEqual({ name: "G1", state: "master", members: ["VI_1", "VI_2"] });
    expect(a.ran).toContainEqual(["/bin/g", "GROUP", "G1", "MASTER", "0"]);
    await a.router.stop();
    expect(a.ran).toContainEqual(["/bin/g", "GROUP", "G1", "STOP", "0"]);
    expect(a.net.has("10.0.0.101") || a.net.has("10.0.0.102")).toBe(false);
  });

  it("stop: priority-0 advert, VIPs removed, STOP", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(150), "10.0.0.1");
    await a.router.start();
    await run(clock, 4000);
    await a.router.stop();
    const last = a.transport.sent.at(-1);
    expect(last?.payload[2]).toBe(0); // priority byte
    expect(a.net.has("10.0.0.100")).toBe(false);
    expect(a.states.at(-1)?.to).toBe("stop");
    expect(a.ran.at(-1)).toEqual(["/bin/notify", "arg", "INSTANCE", "VI_1", "STOP", "150"]);
  });

  it("removes its VIPs left by a previous (killed) run at start", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(100), "10.0.0.1");
    await a.net.addAddress({ dev: "eth0", address: "10.0.0.100", prefixLength: 24, family: 4 });
    await a.router.start();
    expect(a.net.has("10.0.0.100")).toBe(false);
  });

  it("fuzz: whatever arrives on the socket, the router's receive path never throws and counts it", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(100, { authentication: { type: "PASS", password: "pw" } }), "10.0.0.1");
    await a.router.start();
    await run(clock, 4000); // master: the state that handles the most
    const deliver = lan.ports[0]?.handler;
    if (!deliver) throw new Error("no port");
    let n = 0;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.constantFrom(51, 52),
        fc.option(fc.nat(255), { nil: undefined }),
        fc.constantFrom("10.0.0.9", "", "224.0.0.18"),
        (bytes, vrid, ttl, source) => {
          const payload = Uint8Array.from(bytes);
          if (payload.length > 1) payload[1] = vrid;
          deliver("eth0", { family: 4, source, destination: "224.0.0.18", ttl, protocol: 112, payload });
          n++;
        },
      ),
      { numRuns: 2000 },
    );
    const st = a.router.status();
    expect(st.interfaces[0]?.stats.received).toBe(n);
    expect(st.instances[0]?.state).toBe("master");
  });

  it("no address to send from → the instance waits in FAULT", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(150), "10.0.0.1");
    a.net.addrs = [];
    await a.router.start();
    await run(clock, 5000);
    expect(a.router.status().instances[0]?.state).toBe("fault");
    expect(a.transport.sent).toHaveLength(0);
  });
});

describe("track_src_ip and unicast_fault_no_peer (keepalived.conf(5))", () => {
  it("track_src_ip: FAULT while the configured source address is not on the interface (priority 0 sent), back when it returns", async () => {
    const lan = new MemoryLan();
    const clock = new FakeClock();
    const a = node(lan, clock, conf(150, { mcastSourceIp: "10.0.1.1", trackSourceIp: true }), "10.0.0.1");
    a.net.addrs.push({ dev: "eth0", family: 4, address: "10.0.1.1", prefixLength: 24, scope: 0, flags: 0 });
    await a.router.start();
    await run(clock, 4000);
    expect(a.router.status().instances[0]?.state).toBe("master");
    expect(a.transport.sent.at(-1)?.source).toBe("10.0.1.1");
    a.net.addrs = a.net.addrs.filter((x) => x.address !== "10.0.1.1");
    a.net.setLink(true); // an address event: the router reads links and addresses again
    await run(clock, 20);
    expect(a.router.status().instances[0]?.state).toBe("fault");
    expect(a.net.has("10.0.0.100")).toBe(false);
    expect(a.router.status().instances[0]?.stats.pri_zero_sent).toBe(1);
    a.net.addrs.push({ dev: "eth0", family: 4, address: "10.0.1.1", prefixLength: 24, scope: 0, flags: 0 });
    a.net.setLink(true);
    await run(clock, 4000);
    expect(a.router.status().instances[0]?.state).toBe("master");
  });

  it("track_src_ip: absent at start → FAULT; without track_src_ip the same router runs (sends from the configured address)", async () => {
    const clock = new FakeClock();
    const tracked = node(
      new MemoryLan(),
      clock,
      conf(150, { mcastSourceIp: "10.0.1.1", trackSourceIp: true }),
      "10.0.0.1",
    );
    const plain = node(new MemoryLan(), clock, conf(150, { mcastSourceIp: "10.0.1.1" }), "10.0.0.1");
    await tracked.router.start();
    await plain.router.start();
    await run(clock, 5000);
    expect(tracked.router.status().instances[0]?.state).toBe("fault");
    expect(tracked.transport.sent).toHaveLength(0);
    expect(plain.router.status().instances[0]?.state).toBe("master");
    expect(plain.transport.sent.at(-1)?.source).toBe("10.0.1.1");
  });

  it("unicast_fault_no_peer without peers: FAULT, nothing sent, a warning; with a peer it runs unicast", async () => {
    const clock = new FakeClock();
    const warnings: string[] = [];
    const lone = node(new MemoryLan(), clock, conf(150, { unicastFaultNoPeer: true }), "10.0.0.1");
    lone.router.on("warning", (m: string) => warnings.push(m));
    const peered = node(
      new MemoryLan(),
      clock,
      conf(150, { unicastFaultNoPeer: true, unicastPeers: ["10.0.0.2"] }),
      "10.0.0.1",
    );
    await lone.router.start();
    await peered.router.start();
    await run(clock, 5000);
    expect(lone.router.status().instances[0]?.state).toBe("fault");
    expect(lone.transport.sent).toHaveLength(0);
    expect(lone.states.map((s) => s.to)).toEqual(["fault"]);
    expect(peered.router.status().instances[0]?.state).toBe("master");
    expect(peered.transport.sent.at(-1)?.destination).toBe("10.0.0.2");
  });

  it("keepalived.conf: both keywords reach the options; track_src_ip without a source is named at load, a unicast keyword without peers when the router starts", async () => {
    const text = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  unicast_fault_no_peer
  mcast_src_ip 10.0.0.9
  track_src_ip
  virtual_ipaddress { 10.0.0.100 }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  unicast_src_ip 10.0.0.1
  track_src_ip
  virtual_ipaddress { 10.0.0.101 }
}
vrrp_instance VI_3 {
  interface eth0
  virtual_router_id 53
  track_src_ip
  virtual_ipaddress { 10.0.0.102 }
}
`;
    const { config, sources } = parseKeepalivedConf(text, { file: "k.conf" });
    const { options, warnings } = routerOptionsFromConfig(config, { sources });
    expect(options.instances[0]).toMatchObject({ unicastFaultNoPeer: true, trackSourceIp: true });
    expect(options.instances[1]).toMatchObject({ trackSourceIp: true, unicastSourceIp: "10.0.0.1" });
    expect(options.instances[1]?.unicastFaultNoPeer).toBeUndefined();
    const named = warnings.map((w) => `${w.position} ${w.message}`);
    expect(named).toEqual([
      expect.stringMatching(
        /^k\.conf:19:3 vrrp_instance VI_3: track_src_ip without unicast_src_ip or mcast_src_ip/,
      ),
    ]);
    // the deprecated multicast fallback is applied, so it is said when the router runs, not at load
    const clock = new FakeClock();
    const { router, states } = node(new MemoryLan(), clock, options, "10.0.0.1");
    const said: string[] = [];
    router.on("warning", (m: string) => said.push(m));
    await router.start();
    await run(clock, 5000);
    expect(said).toEqual([
      expect.stringMatching(/^VI_1: unicast_fault_no_peer and no unicast_peer: .* going to FAULT state$/),
      expect.stringMatching(/^VI_2: unicast_src_ip without any unicast_peer: using multicast/),
    ]);
    // VI_1 in FAULT (and its source 10.0.0.9 is missing too); VI_2 runs multicast from 10.0.0.1
    expect(states.filter((s) => s.name === "VI_1").map((s) => s.to)).toEqual(["fault"]);
    expect(router.status().instances.map((i) => i.state)).toEqual(["fault", "master", "master"]);
    await router.stop();
  });
});

describe("notify FIFO", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("writes keepalived's lines to a FIFO it creates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-fifo-"));
    dirs.push(dir);
    const path = join(dir, "notify.fifo");
    const fifo = new NotifyFifo(path);
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const lan = new MemoryLan();
      const clock = new FakeClock();
      const net = new FakeNet("10.0.0.1");
      const router = new VrrpRouter(conf(150, { notify: {} }), {
        clock,
        net,
        transport: lan.transport(),
        notifier: new Notifier({
          fifos: [fifo],
          run: async () => ({ ok: true, code: 0, signal: null, timedOut: false }),
        }),
      });
      await router.start();
      await run(clock, 4000);
      await router.stop();
      const buf = Buffer.alloc(4096);
      const n = readSync(reader, buf);
      expect(buf.subarray(0, n).toString()).toBe(
        'INSTANCE "VI_1" BACKUP 150\nINSTANCE "VI_1" MASTER 150\nINSTANCE "VI_1" STOP 150\n',
      );
    } finally {
      closeSync(reader);
      fifo.close();
    }
  });

  it("refuses a path that is not a FIFO", () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-fifo-"));
    dirs.push(dir);
    expect(() => new NotifyFifo(dir)).toThrowError(/not a FIFO/);
  });
});

describe("keepalived.conf → router options (@lvs/config)", () => {
  const text = `global_defs {
  vrrp_version 3
  vrrp_garp_master_delay 2
}
vrrp_script chk_down {
  script "/usr/bin/test ! -e /etc/lvs/down"
  interval 2
  weight -20
  fall 2
  rise 1
}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_6
  }
  notify "/usr/local/bin/notify.sh group"
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 0.05
  nopreempt
  virtual_ipaddress {
    10.0.0.100/24 dev eth1 label eth1:vip
  }
  virtual_ipaddress_excluded {
    fd00::100/64
  }
  track_script {
    chk_down
  }
  notify_master "/usr/local/bin/master.sh VI_1"
}
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 52
  virtual_ipaddress {
    fd00::1/64
  }
  unicast_peer {
    fd00::2
  }
  use_vmac
}
`;
  it("maps instances, scripts (argv, no shell), groups; warns about what lvs does not do", () => {
    const { config, sources } = parseKeepalivedConf(text, {
      file: "keepalived.conf",
      lookupUser: () => ({ uid: 0, gid: 0 }),
    });
    const { options, warnings } = routerOptionsFromConfig(config, { sources });
    expect(options.instances[0]).toMatchObject({
      name: "VI_1",
      interface: "eth0",
      vrid: 51,
      priority: 150,
      state: "MASTER",
      version: 3,
      advertInterval: 0.05,
      nopreempt: true,
      virtualAddresses: [{ address: "10.0.0.100", prefixLength: 24, dev: "eth1", label: "eth1:vip" }],
      excludedAddresses: [{ address: "fd00::100", prefixLength: 64 }],
      trackScripts: [{ name: "chk_down" }],
      notify: { master: { argv: ["/usr/local/bin/master.sh", "VI_1"] } },
    });
    expect(options.scripts?.[0]).toMatchObject({
      name: "chk_down",
      argv: ["/usr/bin/test", "!", "-e", "/etc/lvs/down"],
      interval: 2,
      weight: -20,
      fall: 2,
    });
    expect(options.syncGroups?.[0]).toMatchObject({
      name: "G1",
      members: ["VI_1", "VI_6"],
      notify: { any: { argv: ["/usr/local/bin/notify.sh", "group"] } },
    });
    expect(options.garpMasterDelay).toBe(2);
    expect(warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/use_vmac is not supported/));
    expect(warnings.find((w) => /use_vmac/.test(w.message))?.position).toMatch(/^keepalived\.conf:\d+:\d+$/);
    // the resolved router: VI_1 is IPv4 (first VIP), its IPv6 VIP is installed but not advertised
    const router = new VrrpRouter(options, {
      transport: new MemoryLan().transport(),
      net: new FakeNet("10.0.0.1"),
    });
    const st = router.status().instances;
    expect(st[0]).toMatchObject({ family: 4, version: 3, addresses: ["10.0.0.100/24"] });
    expect(st[1]).toMatchObject({ family: 6, unicastPeers: ["fd00::2"] });
  });

  it("an instance without interface: the route to its first unicast peer, else default_interface, else refused", () => {
    const conf = (globals: string, peer: string) =>
      parseKeepalivedConf(
        `global_defs {\n${globals}}\nvrrp_instance VI_1 {\n  virtual_router_id 1\n  virtual_ipaddress {\n    10.0.0.1\n  }\n${peer}}\n`,
        { file: "ka.conf" },
      );
    const routes: Record<string, string> = { "10.9.0.2": "ens7" };
    const interfaceFor = (a: string) => routes[a];
    const peer = "  unicast_peer {\n    10.9.0.2\n  }\n";
    const a = conf("  default_interface bond0\n", peer);
    expect(
      routerOptionsFromConfig(a.config, { sources: a.sources, interfaceFor }).options.instances[0]!.interface,
    ).toBe("ens7");
    const b = conf("  default_interface bond0\n", "");
    expect(
      routerOptionsFromConfig(b.config, { sources: b.sources, interfaceFor }).options.instances[0]!.interface,
    ).toBe("bond0");
    const c = conf("", "  unicast_peer {\n    10.99.0.2\n  }\n");
    expect(() => routerOptionsFromConfig(c.config, { sources: c.sources, interfaceFor })).toThrow(
      /no `interface`, no route to a unicast peer and no `default_interface`/,
    );
  });

  it("routeInterface asks the kernel: loopback routes through lo", () => {
    expect(routeInterface("127.0.0.1")).toBe("lo");
  });

  it("auth_type AH is refused with the position and what to write instead", () => {
    const { config, sources } = parseKeepalivedConf(
      `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  authentication {
    auth_type AH
    auth_pass x
  }
  virtual_ipaddress {
    10.0.0.1
  }
}
`,
      { file: "ka.conf" },
    );
    try {
      routerOptionsFromConfig(config, { sources });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(VrrpError);
      expect((err as VrrpError).code).toBe("VRRP_AUTH_UNSUPPORTED");
      expect((err as VrrpError).context.position).toMatch(/^ka\.conf:4:/);
      expect((err as VrrpError).message).toMatch(/auth_type PASS/);
    }
  });

  it("configuration errors name the instance", () => {
    expect(
      () =>
        new VrrpRouter(conf(100, { vrid: 0 }), {
          transport: new MemoryLan().transport(),
          net: new FakeNet("10.0.0.1"),
        }),
    ).toThrowError(/VI_1: virtual_router_id 0/);
    expect(
      () =>
        new VrrpRouter(
          {
            instances: [
              ...conf(100).instances,
              { ...(conf(100).instances[0] as VrrpRouterOptions["instances"][number]), name: "VI_2" },
            ],
          },
          { transport: new MemoryLan().transport(), net: new FakeNet("10.0.0.1") },
        ),
    ).toThrowError(/already used by VI_1/);
  });
});
