// keepalived.conf → plan: every virtual_server form, methods, persistence, groups and the
// corrections keepalived 2.2.7 makes (check_data.c validate_check_config, ipvswrapper.c).
import {
  AF_INET,
  AF_INET6,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import { compilePlan, DirectorEngine, destFor, granularityPrefix } from "../src/index.js";
import { conf, vsBlock } from "./helpers.js";

const plan = (text: string) => compilePlan(conf(text));

describe("compilePlan: virtual_server forms", () => {
  it("IP PORT: one TCP service, scheduler, persistence with granularity and engine", () => {
    const p = plan(
      vsBlock(
        "10.0.0.1 80",
        `lb_algo rr\n lb_kind NAT\n persistence_timeout 300\n persistence_granularity 255.255.255.0\n persistence_engine sip\n real_server 10.1.0.1 8080 { weight 3 }`,
      ),
    );
    const vs = p.virtualServers[0]!;
    expect(vs.key).toBe("TCP/10.0.0.1:80");
    expect(vs.label).toBe("[10.0.0.1]:tcp:80");
    expect(vs.services).toHaveLength(1);
    expect(vs.services[0]!.service).toEqual({
      protocol: IPPROTO_TCP,
      address: "10.0.0.1",
      port: 80,
      scheduler: "rr",
      flags: IP_VS_SVC_F_PERSISTENT,
      timeout: 300,
      netmask: 24,
      peName: "sip",
    });
    const rs = vs.realServers[0]!;
    expect(rs.key).toBe("10.1.0.1:8080");
    expect(rs.weight).toBe(3);
    expect(destFor(vs.services[0]!, rs, 3)).toMatchObject({
      address: "10.1.0.1",
      port: 8080,
      forward: IP_VS_CONN_F_MASQ,
      weight: 3,
    });
  });

  it("DR: a real server takes the virtual server's port (keepalived resets a mismatch)", () => {
    const p = plan(
      vsBlock("10.0.0.1 80", `lb_kind DR\n real_server 10.1.0.1 8080 { }\n real_server 10.1.0.2 { }`),
    );
    const vs = p.virtualServers[0]!;
    expect(vs.realServers.map((r) => r.key)).toEqual(["10.1.0.1:80", "10.1.0.2:80"]);
    expect(destFor(vs.services[0]!, vs.realServers[0]!, 1)).toMatchObject({
      port: 80,
      forward: IP_VS_CONN_F_DROUTE,
    });
    expect(p.warnings.some((w) => w.includes("8080 doesn't match - resetting"))).toBe(true);
  });

  it("TUN with gue, port and checksum per real server", () => {
    const p = plan(
      vsBlock(
        "10.0.0.1 80",
        `lb_kind TUN\n real_server 10.1.0.1 80 { lvs_method TUN type gue port 6080 csum }\n real_server 10.1.0.2 80 { lvs_method TUN type gre }`,
      ),
    );
    const [a, b] = p.virtualServers[0]!.realServers;
    const svc = p.virtualServers[0]!.services[0]!;
    expect(destFor(svc, a!, 1)).toMatchObject({
      forward: IP_VS_CONN_F_TUNNEL,
      tunnelType: 1,
      tunnelPort: 6080,
      tunnelFlags: 1,
    });
    expect(destFor(svc, b!, 1)).toMatchObject({
      forward: IP_VS_CONN_F_TUNNEL,
      tunnelType: 2,
      tunnelPort: 0,
      tunnelFlags: 0,
    });
  });

  it("fwmark: no protocol, family from the real servers, DR dests on port 0, NAT keeps its port", () => {
    const p = plan(
      `virtual_server fwmark 5 {\n delay_loop 1\n lb_kind DR\n persistence_timeout 60\n real_server 10.1.0.1 80 { }\n real_server 10.1.0.2 8080 { lvs_method NAT }\n}\n`,
    );
    const vs = p.virtualServers[0]!;
    expect(vs.key).toBe("FWM/5");
    expect(vs.services[0]!.service).toMatchObject({
      af: AF_INET,
      fwmark: 5,
      flags: IP_VS_SVC_F_PERSISTENT,
      timeout: 60,
    });
    expect(vs.services[0]!.service.protocol).toBeUndefined();
    expect(destFor(vs.services[0]!, vs.realServers[0]!, 1).port).toBe(0);
    expect(destFor(vs.services[0]!, vs.realServers[1]!, 1).port).toBe(8080);
    const v6 = plan(`virtual_server fwmark 6 {\n delay_loop 1\n lb_kind DR\n real_server fd00::1 { }\n}\n`);
    expect(v6.virtualServers[0]!.key).toBe("FWM/6/inet6");
    expect(v6.virtualServers[0]!.services[0]!.service.af).toBe(AF_INET6);
  });

  it("group: address ranges and fwmarks expand into services; granularity doesn't reach groups", () => {
    const p = plan(
      `virtual_server_group WEB {\n 10.0.0.1-3 80\n 10.0.1.10 443\n fwmark 9\n fd00::1-2 80\n}\n` +
        `virtual_server group WEB {\n protocol TCP\n delay_loop 1\n lb_kind NAT\n persistence_timeout 30\n persistence_granularity 255.255.0.0\n real_server 10.1.0.1 8080 { }\n}\n`,
    );
    const vs = p.virtualServers[0]!;
    expect(vs.key).toBe("GROUP/WEB/TCP");
    expect(vs.label).toBe("[WEB]:0");
    const names = vs.services.map((s) =>
      s.service.fwmark ? `fwm ${s.service.fwmark}` : `${s.service.address}:${s.service.port}`,
    );
    expect(names).toEqual([
      "10.0.0.1:80",
      "10.0.0.2:80",
      "10.0.0.3:80",
      "10.0.1.10:443",
      "fwm 9",
      "fd00::1:80",
      "fd00::2:80",
    ]);
    // ipvs_group_range_cmd resets the netmask to a full one: no -M for groups.
    for (const s of vs.services) {
      expect(s.service.netmask).toBeUndefined();
      expect(s.service.flags).toBe(IP_VS_SVC_F_PERSISTENT);
      expect(s.service.timeout).toBe(30);
    }
    expect(vs.services[4]!.service.af).toBe(AF_INET);
  });

  it("ops only for UDP (reset with a warning for TCP); sh-port/sh-fallback flags", () => {
    const udp = plan(
      `virtual_server 10.0.0.1 53 {\n protocol UDP\n delay_loop 1\n lb_algo sh\n sh-port\n sh-fallback\n ops\n real_server 10.1.0.1 53 { }\n}\n`,
    );
    expect(udp.virtualServers[0]!.services[0]!.service).toMatchObject({
      protocol: IPPROTO_UDP,
      scheduler: "sh",
      flags: IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2,
    });
    // @lvs/config refuses this file; a model built otherwise gets keepalived's correction.
    const model = conf(
      `virtual_server 10.0.0.1 80 {\n protocol UDP\n delay_loop 1\n ops\n real_server 10.1.0.1 80 { }\n}\n`,
    );
    model.virtualServers[0]!.protocol = "TCP";
    const tcp = compilePlan(model);
    expect(tcp.virtualServers[0]!.services[0]!.service.flags).toBe(0);
    expect(tcp.warnings.join("\n")).toContain("one packet scheduling requires UDP");
  });

  it("sorry server: port rules, method default and inhibit", () => {
    const p = plan(
      vsBlock(
        "10.0.0.1 80",
        "lb_kind DR\n sorry_server 10.9.0.1 8080\n sorry_server_inhibit\n real_server 10.1.0.1 80 { }",
      ),
    );
    const s = p.virtualServers[0]!.sorry!;
    expect(s.key).toBe("10.9.0.1:80");
    expect(s.inhibit).toBe(true);
    expect(s.fwd.forward).toBe(IP_VS_CONN_F_DROUTE);
    const nat = plan(
      vsBlock(
        "10.0.0.1 80",
        "lb_kind DR\n sorry_server 10.9.0.1 8080\n sorry_server_lvs_method NAT\n real_server 10.1.0.1 80 { }",
      ),
    );
    expect(nat.virtualServers[0]!.sorry!.key).toBe("10.9.0.1:8080");
    expect(nat.virtualServers[0]!.sorry!.fwd.forward).toBe(IP_VS_CONN_F_MASQ);
  });

  it("quorum above the total weight and hysteresis >= quorum are reduced", () => {
    const p = plan(
      vsBlock(
        "10.0.0.1 80",
        "quorum 10\n hysteresis 12\n real_server 10.1.0.1 80 { weight 2 }\n real_server 10.1.0.2 80 { weight 3 }",
      ),
    );
    expect(p.virtualServers[0]!.quorum).toBe(5);
    expect(p.virtualServers[0]!.hysteresis).toBe(4);
  });

  it("ha_suspend is refused with fwmarks; VIPs of address services are watched", () => {
    const p = plan(vsBlock("10.0.0.1 80", "ha_suspend\n real_server 10.1.0.1 80 { }"));
    expect(p.virtualServers[0]!.haSuspend).toBe(true);
    expect(p.virtualServers[0]!.vips).toEqual(["10.0.0.1"]);
    const f = plan(
      `virtual_server fwmark 3 {\n delay_loop 1\n ha_suspend\n real_server 10.1.0.1 80 { }\n}\n`,
    );
    expect(f.virtualServers[0]!.haSuspend).toBe(false);
  });

  it("check targets: stable ids, healthcheck shape, virtualhost from the virtual server", () => {
    const text = vsBlock(
      "10.0.0.1 80",
      "virtualhost www.example.com\n real_server 10.1.0.1 80 {\n  HTTP_GET { url { path /h\n } connect_timeout 1 }\n  TCP_CHECK { connect_timeout 1 }\n }",
    );
    const a = plan(text);
    const b = plan(text);
    const checks = a.virtualServers[0]!.realServers[0]!.checks;
    expect(checks.map((c) => c.kind)).toEqual(["HTTP_GET", "TCP_CHECK"]);
    expect(checks.map((c) => c.id)).toEqual(b.virtualServers[0]!.realServers[0]!.checks.map((c) => c.id));
    expect(checks[0]!.id.startsWith("TCP/10.0.0.1:80 10.1.0.1:80 HTTP_GET:")).toBe(true);
    expect(checks[0]!.target.check).toMatchObject({
      type: "http",
      connectIp: "10.1.0.1",
      virtualhost: "www.example.com",
    });
    expect(checks[1]!.target.policy).toMatchObject({ delayLoop: 1 });
  });

  it("UDP_CHECK min/max_reply_length reach the healthcheck probe; smtp_alert falls back rs → vs", () => {
    const p = plan(
      vsBlock(
        "10.0.0.1 53",
        "smtp_alert\n real_server 10.1.0.1 53 {\n  UDP_CHECK { require_reply\n min_reply_length 12\n max_reply_length 512 }\n }\n real_server 10.1.0.2 53 {\n  smtp_alert off\n }",
      ).replace("protocol TCP", "protocol UDP"),
    );
    const [a, b] = p.virtualServers[0]!.realServers;
    expect(a!.checks[0]!.target.check).toMatchObject({
      type: "udp",
      minReplyLength: 12,
      maxReplyLength: 512,
    });
    expect(a!.smtpAlert).toBe(true);
    expect(b!.smtpAlert).toBe(false);
  });

  it("bind_if reaches the healthcheck probe of every checker type that has a socket", () => {
    const p = plan(
      vsBlock(
        "10.0.0.1 80",
        " real_server 10.1.0.1 80 {\n  TCP_CHECK { bind_if eth1\n }\n  SSL_GET { url { path / }\n bind_if eth2\n }\n  PING_CHECK { bind_if eth3\n }\n  TCP_CHECK { connect_port 81\n }\n }",
      ),
    );
    const checks = p.virtualServers[0]!.realServers[0]!.checks.map((c) => c.target.check);
    expect(checks.map((c) => ("bindIf" in c ? c.bindIf : undefined))).toEqual([
      "eth1",
      "eth2",
      "eth3",
      undefined,
    ]);
  });

  it("log_all_failures on the checker, else checker_log_all_failures from global_defs", () => {
    const body =
      " real_server 10.1.0.1 80 {\n  TCP_CHECK { log_all_failures\n }\n  HTTP_GET { url { path / }\n }\n  HTTP_GET { url { path /x }\n log_all_failures off\n }\n }";
    const checks = (text: string) =>
      plan(text).virtualServers[0]!.realServers[0]!.checks.map((c) => c.logAllFailures ?? false);
    expect(checks(vsBlock("10.0.0.1 80", body))).toEqual([true, false, false]);
    expect(checks(`global_defs {\n checker_log_all_failures\n}\n${vsBlock("10.0.0.1 80", body)}`)).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("granularity: dotted masks and prefixes, non-contiguous refused", () => {
    expect(granularityPrefix("255.255.255.0", AF_INET)).toBe(24);
    expect(granularityPrefix("255.255.255.255", AF_INET)).toBe(32);
    expect(granularityPrefix("0.0.0.0", AF_INET)).toBe(0);
    expect(granularityPrefix("255.0.255.0", AF_INET)).toBeUndefined();
    expect(granularityPrefix("64", AF_INET6)).toBe(64);
    expect(granularityPrefix("129", AF_INET6)).toBeUndefined();
  });

  it("a zero port without persistence becomes persistent 360 (keepalived's correction)", () => {
    // @lvs/config refuses this file; a model built otherwise gets keepalived's correction.
    const model = conf(
      vsBlock("10.0.0.1 0", "lb_kind DR\n persistence_timeout 10\n real_server 10.1.0.1 0 { }"),
    );
    delete model.virtualServers[0]!.persistenceTimeout;
    const p = compilePlan(model);
    expect(p.virtualServers[0]!.services[0]!.service).toMatchObject({
      port: 0,
      flags: IP_VS_SVC_F_PERSISTENT,
      timeout: 360,
    });
  });

  it("the engine answers the same table for the same plan (pure)", () => {
    const p = plan(vsBlock("10.0.0.1 80", "real_server 10.1.0.1 80 { }\n real_server 10.1.0.2 80 { }"));
    const e1 = new DirectorEngine(() => 0);
    const e2 = new DirectorEngine(() => 0);
    e1.load(p);
    e2.load(p);
    expect(e1.desired()).toEqual(e2.desired());
  });
});
