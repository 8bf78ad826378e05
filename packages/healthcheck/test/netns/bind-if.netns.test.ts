// `bind_if` (keepalived: SO_BINDTODEVICE on every checker socket): probes leave by the named device
// only. Through the device towards the server they reach its kernel (echo replies, RST, ICMP port
// unreachable); through a device that leads nowhere they cannot; an unknown device is DOWN with
// ENODEV. And keepalived's reason for the option: an IPv6 link-local connect_ip needs it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckDefinition } from "../../src/index.js";
import {
  type CheckerLab,
  canRunLab,
  createCheckerLab,
  DIRECTOR_IF,
  SERVER_IP,
  SERVER_IP6,
  SERVER_LL,
  SIDE_IF,
} from "./lab.js";

describe.skipIf(!canRunLab())("bind_if: checker sockets bound to a device", () => {
  let lab: CheckerLab;
  beforeAll(async () => {
    lab = await createCheckerLab("bindif");
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  // Closed ports on the server: the answer (RST / ICMP port unreachable) proves the probe got there.
  const probes = (bindIf: string | undefined, ip = SERVER_IP, connectTimeout = 1): CheckDefinition[] => {
    const b = { connectIp: ip, connectTimeout, ...(bindIf === undefined ? {} : { bindIf }) };
    return [
      { type: "tcp", connectPort: 9, ...b },
      { type: "http", connectPort: 9, url: [{ path: "/" }], ...b },
      { type: "https", connectPort: 9, url: [{ path: "/" }], ...b },
      { type: "smtp", connectPort: 9, ...b },
      { type: "udp", connectPort: 9, ...b },
      { type: "dns", connectPort: 9, ...b },
      { type: "icmp", ...b },
    ];
  };
  const reached = [
    "ECONNREFUSED",
    "ECONNREFUSED",
    "ECONNREFUSED",
    "ECONNREFUSED",
    "ECONNREFUSED",
    "ECONNREFUSED",
  ];

  it("bound to the device towards the server: every checker type reaches the server's kernel", async () => {
    const results = await lab.probe(...probes(DIRECTOR_IF));
    expect(results.slice(0, 6).map((r) => r.reason)).toEqual(reached);
    expect(results[6]).toMatchObject({ up: true, reason: `echo reply from ${SERVER_IP}` });
    const v6 = await lab.probe(...probes(DIRECTOR_IF, SERVER_IP6));
    expect(v6.slice(0, 6).map((r) => r.reason)).toEqual(reached);
    expect(v6[6]).toMatchObject({ up: true, reason: `echo reply from ${SERVER_IP6}` });
  });

  it("bound to a device that leads nowhere: nothing reaches the server", async () => {
    const results = await lab.probe(...probes(SIDE_IF, SERVER_IP, 0.5));
    // The datagrams go out of that device into the void (no neighbour answers): no RST, no port
    // unreachable, no echo reply.
    for (const r of results) expect(r.reason).not.toBe("ECONNREFUSED");
    expect(results.map((r) => r.up)).toEqual([false, false, false, false, true, false, false]);
    // UDP_CHECK without require_reply cannot tell (keepalived check_udp.c): no ICMP error = UP.
    expect(results[4]?.reason).toBe("sent, no ICMP error");
    expect(results[0]?.reason).toMatch(/^(ENETUNREACH|EHOSTUNREACH|timeout after 500 ms)$/);
    const [udpReply] = await lab.probe({
      type: "udp",
      connectIp: SERVER_IP,
      connectPort: 9,
      connectTimeout: 0.5,
      bindIf: SIDE_IF,
      requireReply: true,
    });
    expect(udpReply).toMatchObject({ up: false, reason: "timeout after 500 ms" });
  });

  it("an unknown device: DOWN with ENODEV, for the TCP, UDP and ICMP checkers alike", async () => {
    const results = await lab.probe(...probes("hcnosuch0"));
    expect(results.slice(0, 6).map((r) => r.reason)).toEqual(Array(6).fill("bind_if hcnosuch0: ENODEV"));
    expect(results[6]?.up).toBe(false);
    expect(results[6]?.reason).toMatch(/^bind_if hcnosuch0: /);
  });

  it("an IPv6 link-local connect_ip: reachable with bind_if, not without it (keepalived requires bind_if there)", async () => {
    const [tcp, udp, icmp] = await lab.probe(
      { type: "tcp", connectIp: SERVER_LL, connectPort: 9, connectTimeout: 1, bindIf: DIRECTOR_IF },
      { type: "udp", connectIp: SERVER_LL, connectPort: 9, connectTimeout: 1, bindIf: DIRECTOR_IF },
      { type: "icmp", connectIp: SERVER_LL, connectTimeout: 1, bindIf: DIRECTOR_IF },
    );
    expect(tcp?.reason).toBe("ECONNREFUSED");
    expect(udp?.reason).toBe("ECONNREFUSED");
    expect(icmp).toMatchObject({ up: true, reason: `echo reply from ${SERVER_LL}` });
    const [noIf] = await lab.probe({ type: "tcp", connectIp: SERVER_LL, connectPort: 9, connectTimeout: 1 });
    expect(noIf?.up).toBe(false);
    expect(noIf?.reason).not.toBe("ECONNREFUSED");
  });
});
