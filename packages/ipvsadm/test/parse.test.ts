import { readFileSync } from "node:fs";
import { Forward, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1 } from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import { isExit, type ParsedIpvsadm, parseIpvsadm } from "../src/parse.js";

// ipvsadm 1.31's own stderr/exit for each line, captured in the VM by scripts/capture-errors.sh.
const cases: { args: string; code: number; stderr: string }[] = JSON.parse(
  readFileSync(new URL("./fixtures/ipvsadm-errors.json", import.meta.url), "utf8"),
);

describe("wrong arguments: ipvsadm's exact message and exit status", () => {
  it.each(cases.map((c) => [c.args, c] as const))("ipvsadm %s", (_a, c) => {
    const r = parseIpvsadm(c.args.split(" "));
    if (!isExit(r)) {
      // parsed fine: ipvsadm's complaint came from the kernel (no such service in that VM)
      expect(c.stderr).toBe("Service not defined\n");
      return;
    }
    expect(r.stderr).toBe(c.stderr);
    expect(r.exit).toBe(c.code);
  });
});

const ok = (args: string): ParsedIpvsadm => {
  const r = parseIpvsadm(args.split(" "));
  if (isExit(r)) throw new Error(r.stderr);
  return r;
};

describe("what ipvsadm command lines mean", () => {
  it("-A with defaults: wlc, /32", () => {
    expect(ok("-A -t 10.0.0.1:80").service).toMatchObject({
      protocol: 6,
      address: "10.0.0.1",
      port: 80,
      scheduler: "wlc",
      netmask: 32,
      flags: 0,
    });
  });
  it("clusters, long options, --opt=value, optional -p", () => {
    const p = ok("-A --udp-service=10.0.0.1:53 -s rr -p -o -M 255.255.255.0");
    expect(p.service).toMatchObject({
      protocol: 17,
      scheduler: "rr",
      timeout: 300,
      netmask: 24,
      flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET,
    });
    expect(ok("-Ln").format).toBe(1);
    expect(ok("-A -t10.0.0.1:80 -p60").service.timeout).toBe(60);
  });
  it("-r without a port takes the service's; -g (default) forces it", () => {
    expect(ok("-a -t 10.0.0.1:80 -r 10.0.0.2 -m").dest).toMatchObject({
      address: "10.0.0.2",
      port: 80,
      forward: Forward.MASQ,
      weight: 1,
    });
    expect(ok("-a -t 10.0.0.1:80 -r 10.0.0.2:8080").dest).toMatchObject({ port: 80, forward: Forward.ROUTE });
    expect(ok("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m").dest.port).toBe(8080);
  });
  it("fwmark IPv6, sched flags, tunnels, IPv6 services", () => {
    expect(ok("-A -f 5 -6 -s mh -b mh-fallback").service).toMatchObject({
      af: 10,
      fwmark: 5,
      netmask: 128,
      flags: IP_VS_SVC_F_SCHED1,
    });
    expect(ok("-a -f 5 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-remcsum").dest).toMatchObject({
      forward: Forward.TUNNEL,
      tunnelType: 1,
      tunnelPort: 6080,
      tunnelFlags: 2,
    });
    expect(ok("-A -t [2001:db8::1]:443 -p 30 -M 64").service).toMatchObject({
      af: 10,
      address: "2001:db8::1",
      port: 443,
      netmask: 64,
    });
  });
  it("--set, daemons, -Z, -C", () => {
    expect(ok("--set 900 120 300").timeouts).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(
      ok("--start-daemon backup --mcast-interface eth1 --syncid 7 --mcast-group ff02::1:2").daemon,
    ).toMatchObject({ state: 2, mcastIfn: "eth1", syncId: 7, mcastGroup: "ff02::1:2" });
    expect(ok("--start-daemon master").daemon.mcastIfn).toBe("eth0");
    expect(ok("-Z").command).toBe("ZERO");
    expect(ok("-C").command).toBe("FLUSH");
  });
});
