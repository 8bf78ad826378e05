// DNS_CHECK and UDP_CHECK against unbound (Debian) in a namespace: answers from a local zone (its
// namespace has no route out), a name it does not have, UDP payload/require_reply on its port 53, and
// a closed port whose ICMP port unreachable makes UDP_CHECK DOWN.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DnsCheck, UdpCheck } from "../../src/index.js";
import {
  type CheckerLab,
  canRunLab,
  createCheckerLab,
  DIRECTOR_IF,
  SERVER_IP,
  SERVER_IP6,
  serverListens,
} from "./lab.js";

const UNBOUND = "/usr/sbin/unbound";
const ready = canRunLab() && existsSync(UNBOUND);

function unboundConf(dir: string): string {
  // A static local zone answers from local-data and says NXDOMAIN for any other name in it;
  // no trust anchor, no remote control; its namespace has no route out, so recursion fails fast.
  return `server:
  interface: ${SERVER_IP}
  interface: ${SERVER_IP6}
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  module-config: "iterator"
  local-zone: "hc.test." static
  local-data: "hc.test. 60 IN SOA ns.hc.test. admin.hc.test. 1 3600 600 86400 60"
  local-data: "hc.test. 60 IN NS ns.hc.test."
  local-data: "hc.test. 60 IN MX 10 mail.hc.test."
  local-data: "hc.test. 60 IN TXT \\"lvs healthcheck\\""
  local-data: "ns.hc.test. 60 IN A ${SERVER_IP}"
  local-data: "www.hc.test. 60 IN A 10.77.0.80"
  local-data: "www.hc.test. 60 IN AAAA fd77::80"
  local-data: "web.hc.test. 60 IN CNAME www.hc.test."
remote-control:
  control-enable: no
`;
}

/** The DNS query `www.hc.test IN A`, id 0x1234, RD set (RFC 1035 §4.1), as UDP_CHECK's hex payload. */
const QUERY_WWW_A = "1234 0100 0001 0000 0000 0000 03777777 026863 0474657374 00 0001 0001";

describe.skipIf(!ready)("DNS_CHECK / UDP_CHECK against unbound in a namespace", () => {
  let lab: CheckerLab;
  const dns = (over: Partial<DnsCheck>): DnsCheck => ({
    type: "dns",
    connectIp: SERVER_IP,
    connectTimeout: 2,
    ...over,
  });
  const udp = (over: Partial<UdpCheck>): UdpCheck => ({
    type: "udp",
    connectIp: SERVER_IP,
    connectPort: 53,
    connectTimeout: 1,
    ...over,
  });

  beforeAll(async () => {
    lab = await createCheckerLab("dns");
    writeFileSync(join(lab.dir, "unbound.conf"), unboundConf(lab.dir));
    await lab.startDaemon(
      [UNBOUND, "-d", "-c", join(lab.dir, "unbound.conf")],
      () => serverListens(lab.server, "udp", 53),
      "unbound",
    );
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("the record types keepalived's DNS_CHECK asks for, over IPv4 and IPv6", async () => {
    const types = ["A", "AAAA", "NS", "SOA", "MX", "TXT", "CNAME"] as const;
    const names: Record<(typeof types)[number], string> = {
      A: "www.hc.test",
      AAAA: "www.hc.test",
      NS: "hc.test",
      SOA: "hc.test",
      MX: "hc.test",
      TXT: "hc.test",
      CNAME: "web.hc.test",
    };
    const v4 = await lab.probe(...types.map((queryType) => dns({ queryType, name: names[queryType] })));
    expect(v4.map((r) => r.reason)).toEqual(types.map(() => "NOERROR, 1 answer(s)"));
    expect(v4.every((r) => r.up)).toBe(true);
    const [v6] = await lab.probe(dns({ connectIp: SERVER_IP6, queryType: "AAAA", name: "www.hc.test" }));
    expect(v6).toMatchObject({ up: true, reason: "NOERROR, 1 answer(s)" });
    // RRSIG and DNSKEY (keepalived asks for them too): an unsigned zone has none, NOERROR all the same.
    const dnssec = await lab.probe(
      dns({ queryType: "RRSIG", name: "hc.test" }),
      dns({ queryType: "DNSKEY", name: "hc.test" }),
    );
    expect(dnssec).toMatchObject([
      { up: true, reason: "NOERROR, 0 answer(s)" },
      { up: true, reason: "NOERROR, 0 answer(s)" },
    ]);
  });

  it("a name the server does not have: NXDOMAIN → DOWN; a type it lacks (NODATA) is still NOERROR → UP, as keepalived", async () => {
    const [missing, nodata] = await lab.probe(
      dns({ name: "nosuch.hc.test" }),
      dns({ name: "www.hc.test", queryType: "MX" }),
    );
    expect(missing).toMatchObject({ up: false, reason: "rcode NXDOMAIN" });
    // keepalived check_dns.c judges only the RCODE: an empty NOERROR answer passes.
    expect(nodata).toMatchObject({ up: true, reason: "NOERROR, 0 answer(s)" });
  });

  it("a name outside its zone: unbound cannot recurse (its namespace has no route out) → SERVFAIL → DOWN", async () => {
    const [r] = await lab.probe(dns({ name: "example.org", connectTimeout: 3 }));
    expect(r).toMatchObject({ up: false, reason: "rcode SERVFAIL" });
  });

  it("UDP_CHECK with a DNS query as payload: require_reply patterns (with ?? wildcards) and reply lengths", async () => {
    const [anyReply, idMatches, idDiffers, tooShort, longEnough, tooLong] = await lab.probe(
      udp({ payload: QUERY_WWW_A, requireReply: true }),
      // id 1234, QR set: the first byte of the flags 0x81 or 0x85 (AA) — both match "??" below.
      udp({ payload: QUERY_WWW_A, requireReply: "1234 ?? ?? 0001 0001" }),
      udp({ payload: QUERY_WWW_A, requireReply: "4321" }),
      // Lengths are judged when require_reply gives bytes (keepalived check_udp.c).
      udp({ payload: QUERY_WWW_A, requireReply: "1234", minReplyLength: 200 }),
      udp({ payload: QUERY_WWW_A, requireReply: "1234", minReplyLength: 29, maxReplyLength: 512 }),
      udp({ payload: QUERY_WWW_A, requireReply: "1234", maxReplyLength: 20 }),
    );
    expect(anyReply?.up).toBe(true);
    const size = Number(/^reply (\d+) bytes$/.exec(anyReply?.reason ?? "")?.[1]);
    // Header 12 + question 17 + one A record 16 (name compressed): unbound's answer.
    expect(size).toBe(45);
    expect(idMatches).toMatchObject({ up: true, reason: `reply ${size} bytes` });
    expect(idDiffers?.up).toBe(false);
    expect(idDiffers?.reason).toMatch(/^reply 1234[0-9a-f]+ does not match require_reply$/);
    expect(tooShort).toMatchObject({
      up: false,
      reason: `reply ${size} bytes, outside min_reply_length 200 / max_reply_length 255`,
    });
    expect(longEnough?.up).toBe(true);
    expect(tooLong?.up).toBe(false);
  });

  it("bind_if: DNS_CHECK and UDP_CHECK with require_reply through the device towards unbound are UP", async () => {
    const [dnsThrough, udpThrough] = await lab.probe(
      dns({ bindIf: DIRECTOR_IF, queryType: "A", name: "www.hc.test" }),
      udp({ bindIf: DIRECTOR_IF, payload: QUERY_WWW_A, requireReply: "1234" }),
    );
    expect(dnsThrough).toMatchObject({ up: true, reason: "NOERROR, 1 answer(s)" });
    expect(udpThrough).toMatchObject({ up: true, reason: "reply 45 bytes" });
  });

  it("UDP_CHECK: an open port that drops the datagram is UP without require_reply, DOWN with it", async () => {
    // keepalived's default payload (one byte) is not a DNS message: unbound drops it silently.
    const [noReplyNeeded, replyNeeded] = await lab.probe(udp({}), udp({ requireReply: true }));
    expect(noReplyNeeded).toMatchObject({ up: true, reason: "sent, no ICMP error" });
    expect(replyNeeded).toMatchObject({ up: false, reason: "timeout after 1000 ms" });
  });

  it("UDP_CHECK on a closed port: the server's ICMP port unreachable makes it DOWN, with or without require_reply", async () => {
    const [plain, withReply, v6] = await lab.probe(
      udp({ connectPort: 5353 }),
      udp({ connectPort: 5353, requireReply: true }),
      udp({ connectIp: SERVER_IP6, connectPort: 5353 }),
    );
    expect(plain).toMatchObject({ up: false, reason: "ECONNREFUSED" });
    expect(withReply).toMatchObject({ up: false, reason: "ECONNREFUSED" });
    expect(v6).toMatchObject({ up: false, reason: "ECONNREFUSED" });
  });
});
