// PING_CHECK across namespaces over a veth pair: echo replies from the other namespace's kernel
// make it UP; the address removed or the link down make it DOWN (no reply within connect_timeout).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IcmpCheck } from "../../src/index.js";
import { type CheckerLab, canRunLab, createCheckerLab, SERVER_IF, SERVER_IP, SERVER_IP6 } from "./lab.js";

describe.skipIf(!canRunLab())("PING_CHECK across namespaces", () => {
  let lab: CheckerLab;
  const ping = (connectIp: string): IcmpCheck => ({ type: "icmp", connectIp, connectTimeout: 1 });

  beforeAll(async () => {
    lab = await createCheckerLab("ping");
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("reachable over IPv4 and IPv6: UP with the echo reply's source", async () => {
    const [v4, v6] = await lab.probe(ping(SERVER_IP), ping(SERVER_IP6));
    expect(v4).toMatchObject({ up: true, reason: `echo reply from ${SERVER_IP}` });
    expect(v6).toMatchObject({ up: true, reason: `echo reply from ${SERVER_IP6}` });
  });

  it("the server's kernel not answering echo requests (icmp_echo_ignore_all): DOWN after connect_timeout", async () => {
    await lab.server.sysctl("net.ipv4.icmp_echo_ignore_all", 1);
    try {
      const [r] = await lab.probe(ping(SERVER_IP));
      expect(r).toMatchObject({ up: false, reason: "timeout after 1000 ms" });
    } finally {
      await lab.server.sysctl("net.ipv4.icmp_echo_ignore_all", 0);
    }
    const [back] = await lab.probe(ping(SERVER_IP));
    expect(back?.up).toBe(true);
  });

  it("the address removed from the server: DOWN; put back: UP", async () => {
    await lab.server.run(`ip addr del ${SERVER_IP}/24 dev ${SERVER_IF}`);
    const [gone] = await lab.probe(ping(SERVER_IP));
    expect(gone?.up).toBe(false);
    // No ARP answer for the address: the kernel reports the host unreachable, or nothing comes back.
    expect(gone?.reason).toMatch(/^(timeout after 1000 ms|EHOSTUNREACH)$/);
    await lab.server.run(`ip addr add ${SERVER_IP}/24 dev ${SERVER_IF}`);
    const [back] = await lab.probe(ping(SERVER_IP));
    expect(back?.up).toBe(true);
  });

  it("the server's link down: DOWN for IPv4 and IPv6", async () => {
    await lab.server.run(`ip link set ${SERVER_IF} down`);
    try {
      const [v4, v6] = await lab.probe(ping(SERVER_IP), ping(SERVER_IP6));
      expect(v4?.up).toBe(false);
      expect(v6?.up).toBe(false);
    } finally {
      await lab.server.run(`ip link set ${SERVER_IF} up`);
    }
  });
});
