import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeIpvsMessage, encodeIpvsMessage, type IpvsMessage } from "../src/codec.js";
import {
  AF_INET,
  AF_INET6,
  Errno,
  Forward,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IpvsCmd,
  NLMSG_DONE,
  NLMSG_ERROR,
  TunnelFlag,
  TunnelType,
} from "../src/constants.js";
import { daemonFromAttrs, destEntryFromAttrs, Msg, serviceEntryFromAttrs } from "../src/model.js";
import { hex, parseNlError, parseNlMsgs, unhex } from "../src/netlink.js";

// Captured in the VM (Linux 6.1, ipvsadm 1.31) by scripts/capture-ipvsadm.sh.
type Capture = { sent: string[]; received: string[] };
const captures: Record<string, Capture> = JSON.parse(
  readFileSync(new URL("./fixtures/ipvsadm-netlink.json", import.meta.url), "utf8"),
);
const IPVS_FAMILY = 0x20; // the id nlctrl gave IPVS in that boot

/** The genl payloads of every IPVS-family message in a capture direction. */
function ipvsPayloads(hexes: string[]): { flags: number; payload: Uint8Array }[] {
  return hexes.flatMap((h) => parseNlMsgs(unhex(h)).filter((m) => m.type === IPVS_FAMILY));
}
/** The command ipvsadm sent (its last IPVS message; the first is GET_INFO from ipvs_init). */
function sentCommand(name: string): Uint8Array {
  const c = captures[name];
  if (!c) throw new Error(`no capture ${name}`);
  const all = ipvsPayloads(c.sent);
  return (all[all.length - 1] as { payload: Uint8Array }).payload;
}

describe("golden bytes: every captured message round-trips byte for byte", () => {
  const cases: [string, string, Uint8Array][] = [];
  for (const [name, c] of Object.entries(captures)) {
    for (const [i, m] of ipvsPayloads(c.sent).entries()) cases.push([name, `sent#${i}`, m.payload]);
    for (const [i, m] of ipvsPayloads(c.received).entries()) cases.push([name, `received#${i}`, m.payload]);
  }
  it("has captures of every command kind", () => {
    const cmds = new Set(cases.map(([, , p]) => p[0]));
    for (const c of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]) expect(cmds).toContain(c);
  });
  it.each(cases)("%s %s", (_name, _dir, payload) => {
    expect(hex(encodeIpvsMessage(decodeIpvsMessage(payload)))).toBe(hex(payload));
  });
});

describe("golden bytes: our builders produce what ipvsadm sends", () => {
  const same = (ours: IpvsMessage, name: string) =>
    expect(hex(encodeIpvsMessage(ours))).toBe(hex(sentCommand(name)));

  it("NEW_SERVICE tcp", () =>
    same(Msg.newService({ protocol: 6, address: "10.0.0.1", port: 80, scheduler: "rr" }), "new_service_tcp"));
  it("NEW_SERVICE udp6 persistent /64", () =>
    same(
      Msg.newService({
        protocol: 17,
        address: "2001:db8::1",
        port: 53,
        scheduler: "wlc",
        flags: IP_VS_SVC_F_PERSISTENT,
        timeout: 600,
        netmask: 64,
      }),
      "new_service_udp6_persistent",
    ));
  it("NEW_SERVICE fwmark with sched flags and a /24 mask", () =>
    same(
      Msg.newService({
        fwmark: 7,
        scheduler: "sh",
        flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2,
        timeout: 300,
        netmask: 24,
      }),
      "new_service_fwmark_flags",
    ));
  it("SET_SERVICE", () =>
    same(
      Msg.setService({
        protocol: 6,
        address: "10.0.0.1",
        port: 80,
        scheduler: "wlc",
        flags: IP_VS_SVC_F_PERSISTENT,
        timeout: 120,
      }),
      "set_service",
    ));
  it("SET_CONFIG", () => same(Msg.setConfig({ tcp: 900, tcpFin: 120, udp: 300 }), "set_config"));
  it("NEW_DAEMON", () =>
    same(
      Msg.newDaemon({
        state: 1,
        mcastIfn: "dummy0",
        syncId: 5,
        syncMaxLen: 1400,
        mcastGroup: "224.0.0.81",
        mcastPort: 8848,
        mcastTtl: 2,
      }),
      "new_daemon",
    ));
  it("DEL_DAEMON", () => same(Msg.delDaemon(1), "del_daemon"));
  it("ZERO all, FLUSH, GET_CONFIG", () => {
    same(Msg.zero(), "zero_all");
    same(Msg.flush(), "flush");
    same(Msg.getConfig(), "get_config");
  });
  // ipvsadm sends the whole service entry with dest commands; the kernel needs only its identity
  // (ip_vs_genl_set_cmd parses it with full_entry = false), so compare the dest nest.
  const destNest = (m: IpvsMessage) => hex(encodeIpvsMessage({ cmd: m.cmd, dest: m.dest ?? {} })).slice(8);
  it.each([
    [
      "new_dest_masq",
      Msg.newDest(
        { protocol: 6, address: "10.0.0.1", port: 80 },
        {
          address: "10.0.0.2",
          port: 8080,
          forward: Forward.MASQ,
          weight: 3,
          upperThreshold: 100,
          lowerThreshold: 10,
        },
      ),
    ],
    [
      "new_dest_route",
      Msg.newDest(
        { protocol: 6, address: "10.0.0.1", port: 80 },
        { address: "10.0.0.3", port: 80, forward: Forward.ROUTE, weight: 0 },
      ),
    ],
    [
      "new_dest_gue",
      Msg.newDest(
        { fwmark: 7 },
        {
          address: "10.0.0.4",
          port: 0,
          forward: Forward.TUNNEL,
          tunnelType: TunnelType.GUE,
          tunnelPort: 6080,
          tunnelFlags: TunnelFlag.REMCSUM,
        },
      ),
    ],
    [
      "new_dest6",
      Msg.newDest(
        { protocol: 17, address: "2001:db8::1", port: 53 },
        { address: "2001:db8::2", port: 53, forward: Forward.MASQ },
      ),
    ],
    [
      "set_dest",
      Msg.setDest(
        { protocol: 6, address: "10.0.0.1", port: 80 },
        { address: "10.0.0.2", port: 8080, forward: Forward.MASQ, weight: 5 },
      ),
    ],
  ] as const)("%s dest nest", (name, ours) => {
    expect(hex(sentCommand(name))).toContain(destNest(ours));
    const theirs = decodeIpvsMessage(sentCommand(name));
    expect(theirs.cmd).toBe(ours.cmd);
  });
});

describe("kernel replies decode into typed objects", () => {
  it("dump_all: four services, then each one's destinations", () => {
    const parts = ipvsPayloads(captures.dump_all?.received ?? []).map((m) => decodeIpvsMessage(m.payload));
    const services = parts
      .filter((p) => p.cmd === IpvsCmd.NEW_SERVICE)
      .map((p) => serviceEntryFromAttrs(p.service ?? {}));
    expect(services.map((s) => [s.protocol, s.address, s.port, s.fwmark, s.scheduler])).toEqual([
      [17, "10.0.0.5", 0, 0, "rr"],
      [6, "10.0.0.1", 80, 0, "wlc"],
      [17, "2001:db8::1", 53, 0, "wlc"],
      [0, "0.0.0.0", 0, 7, "sh"],
    ]);
    const fwm = services[3];
    expect(fwm?.netmask).toBe(24);
    expect((fwm?.flags ?? 0) & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2)).toBe(
      IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2,
    );
    expect(services[2]?.netmask).toBe(64);
    expect(services[2]?.af).toBe(AF_INET6);
    expect(services[0]?.stats64?.conns).toBe(0n);
    const dests = parts
      .filter((p) => p.cmd === IpvsCmd.NEW_DEST)
      .map((p) => destEntryFromAttrs(p.dest ?? {}, AF_INET));
    expect(dests.map((d) => [d.address, d.port, d.forward, d.weight])).toEqual([
      ["10.0.0.3", 80, Forward.ROUTE, 0],
      ["10.0.0.2", 8080, Forward.MASQ, 5],
      ["2001:db8::2", 53, Forward.MASQ, 1],
      ["10.0.0.4", 0, Forward.TUNNEL, 1],
    ]);
    const gue = dests[3];
    expect([gue?.tunnelType, gue?.tunnelPort, gue?.tunnelFlags]).toEqual([
      TunnelType.GUE,
      6080,
      TunnelFlag.REMCSUM,
    ]);
  });

  it("GET_INFO reply (SET_INFO): version 1.2.1, table size 4096", () => {
    const info = ipvsPayloads(captures.new_service_tcp?.received ?? []).map((m) =>
      decodeIpvsMessage(m.payload),
    )[0];
    expect(info?.cmd).toBe(IpvsCmd.SET_INFO);
    expect(info?.info).toMatchObject({ version: 0x010201, connTabSize: 4096 });
  });

  it("GET_CONFIG reply and GET_DAEMON dump", () => {
    const cfg = ipvsPayloads(captures.get_config?.received ?? []).map((m) => decodeIpvsMessage(m.payload));
    expect(cfg.at(-1)).toMatchObject({ timeoutTcp: 900, timeoutTcpFin: 120, timeoutUdp: 300 });
    const d = ipvsPayloads(captures.get_daemon?.received ?? [])
      .map((m) => decodeIpvsMessage(m.payload))
      .filter((m) => m.daemon);
    expect(daemonFromAttrs(d[0]?.daemon ?? {})).toEqual({
      state: 1,
      mcastIfn: "dummy0",
      syncId: 5,
      syncMaxLen: 1400,
      mcastGroup: "224.0.0.81",
      mcastPort: 8848,
      mcastTtl: 2,
    });
  });

  it.each([
    ["err_exists", Errno.EEXIST],
    ["err_no_service", Errno.ESRCH],
    ["err_no_sched", Errno.ENOENT],
  ])("%s: NLMSG_ERROR carries errno %i", (name, errno) => {
    const msgs = (captures[name]?.received ?? []).flatMap((h) => parseNlMsgs(unhex(h)));
    const last = msgs.at(-1);
    expect(last?.type).toBe(NLMSG_ERROR);
    expect(last && parseNlError(last).errno).toBe(errno);
  });

  it("dump ends with NLMSG_DONE", () => {
    const msgs = (captures.dump_all?.received ?? []).flatMap((h) => parseNlMsgs(unhex(h)));
    expect(msgs.filter((m) => m.type === NLMSG_DONE)).toHaveLength(5);
  });
});

describe("lossless and robust decode", () => {
  it("keeps unknown attributes (a newer kernel's) through decode → encode", () => {
    const base = encodeIpvsMessage(Msg.newService({ protocol: 6, address: "10.0.0.1", port: 80 }));
    // Append an unknown attribute type 42 inside the service nest and one at the top level.
    const msg = decodeIpvsMessage(base);
    msg.service?.$layout?.unknown.push({ type: 42, flagBits: 0, data: new Uint8Array([1, 2, 3, 4]) });
    msg.$layout?.unknown.push({ type: 99, flagBits: 0, data: new Uint8Array([9, 9]) });
    const bytes = encodeIpvsMessage(msg);
    const again = decodeIpvsMessage(bytes);
    expect(again.service?.$layout?.unknown.map((u) => u.type)).toEqual([42]);
    expect(again.$layout?.unknown.map((u) => [...u.data])).toEqual([[9, 9]]);
    expect(hex(encodeIpvsMessage(again))).toBe(hex(bytes));
  });

  it("property: typed services round-trip through the codec", () => {
    const svc = fc.record({
      protocol: fc.constantFrom(6, 17, 132),
      address: fc.oneof(fc.ipV4(), fc.constantFrom("2001:db8::1", "::1", "fe80::1:2")),
      port: fc.integer({ min: 0, max: 65535 }),
      scheduler: fc.constantFrom("rr", "wlc", "mh", "sh"),
      flags: fc.integer({ min: 0, max: 0x3d }),
      timeout: fc.integer({ min: 0, max: 86400 * 31 }),
    });
    fc.assert(
      fc.property(svc, (s) => {
        const netmask = s.address.includes(":") ? 128 : 32;
        const m = decodeIpvsMessage(encodeIpvsMessage(Msg.newService({ ...s, netmask })));
        const e = serviceEntryFromAttrs(m.service ?? {});
        expect([e.protocol, e.port, e.scheduler, e.flags, e.timeout, e.netmask]).toEqual([
          s.protocol,
          s.port,
          s.scheduler,
          s.flags,
          s.timeout,
          netmask,
        ]);
      }),
    );
  });

  it("property: fuzzed bytes never throw anything but IpvsError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (b) => {
        try {
          decodeIpvsMessage(b);
        } catch (err) {
          expect((err as Error).name).toBe("IpvsError");
        }
      }),
    );
  });
});
