// UDP through the proxy: flows per client address:port, scheduled like IPVS's UDP entries,
// counted inactive, ended by the udp timeout; one-packet scheduling; an unreachable real server.
import { createSocket, type Socket } from "node:dgram";
import { FakeClock } from "@lvs/inet";
import { IP_VS_SVC_F_ONEPACKET } from "@lvs/scheduler";
import { afterEach, describe, expect, it } from "vitest";
import { createProxy, formatConnectionTable, type ProxyDataplane, type ProxyOptions } from "../src/index.js";
import { freePort, waitFor } from "./peers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A UDP real server answering each datagram with `NAME:` and the datagram. */
async function echo(name: string): Promise<number> {
  const s = createSocket("udp4");
  s.on("message", (m, r) => s.send(Buffer.concat([Buffer.from(`${name}:`), m]), r.port, r.address));
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s.address().port;
}

async function client(
  from: string,
): Promise<{ sock: Socket; ask(port: number, text: string): Promise<string> }> {
  const sock = createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, from, () => r()));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return {
    sock,
    ask: (port, text) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer to ${text}`)), 2000);
        sock.once("message", (m) => {
          clearTimeout(t);
          resolve(String(m));
        });
        sock.send(text, port, "127.0.0.1");
      }),
  };
}

async function udpService(
  flags = 0,
  opts: ProxyOptions = {},
  names = ["u0", "u1", "u2"],
): Promise<{ proxy: ProxyDataplane; port: number; ports: number[] }> {
  const ports = await Promise.all(names.map(echo));
  const proxy = createProxy(opts);
  cleanups.push(() => proxy.close());
  const port = await freePort();
  const key = { protocol: "udp" as const, address: "127.0.0.1", port, scheduler: "rr", flags };
  await proxy.addService(key);
  for (let i = ports.length - 1; i >= 0; i--)
    await proxy.addDest(key, { address: "127.0.0.1", port: ports[i]! });
  return { proxy, port, ports };
}

describe("UDP", () => {
  it("each client address:port is one flow, on one real server, counted inactive as IPVS counts UDP", async () => {
    const { proxy, port } = await udpService(0, { clock: new FakeClock(0) });
    const answers: string[][] = [];
    for (const from of ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]) {
      const c = await client(from);
      const got: string[] = [];
      for (const q of ["a", "b", "c"]) got.push(await c.ask(port, q));
      answers.push(got);
    }
    expect(answers).toEqual([
      ["u0:a", "u0:b", "u0:c"],
      ["u1:a", "u1:b", "u1:c"],
      ["u2:a", "u2:b", "u2:c"],
      ["u0:a", "u0:b", "u0:c"],
    ]);
    const s = proxy.listServices()[0]!;
    expect(s.dests.map((d) => [d.activeConns, d.inactiveConns])).toEqual([
      [0, 2],
      [0, 1],
      [0, 1],
    ]);
    expect(s.service.stats64).toMatchObject({
      conns: 4n,
      inPkts: 12n,
      outPkts: 12n,
      inBytes: 12n,
      outBytes: 48n,
    });
    const table = formatConnectionTable(proxy.connections());
    expect(table.split("\n").filter((l) => l.startsWith("UDP 05:00  UDP "))).toHaveLength(4);
  });

  it("a flow ends after the udp timeout; the client's next datagram is scheduled anew", async () => {
    const clock = new FakeClock(0);
    const { proxy, port, ports } = await udpService(0, { clock, timeouts: { udp: 30 } });
    const c = await client("127.0.0.2");
    expect(await c.ask(port, "x")).toBe("u0:x");
    clock.advance(20_000);
    expect(await c.ask(port, "y")).toBe("u0:y"); // the same flow, its timer restarted
    clock.advance(29_000);
    expect(proxy.connections()).toHaveLength(1);
    clock.advance(2_000);
    expect(proxy.connections()).toEqual([]);
    expect(proxy.listServices()[0]!.dests.find((d) => d.port === ports[0])!.counters.idleTimeouts).toBe(1);
    expect(await c.ask(port, "z")).toBe("u1:z"); // a new flow: rr has moved on
  });

  it("one-packet scheduling (-o) schedules every datagram by itself", async () => {
    const { proxy, port } = await udpService(IP_VS_SVC_F_ONEPACKET);
    const c = await client("127.0.0.2");
    const got: string[] = [];
    for (const q of ["1", "2", "3", "4"]) got.push(await c.ask(port, q));
    expect(got).toEqual(["u0:1", "u1:2", "u2:3", "u0:4"]);
    expect(await waitFor(() => proxy.connections().length === 0)).toBe(true);
    expect(proxy.listServices()[0]!.dests.map((d) => d.inactiveConns)).toEqual([0, 0, 0]);
  });

  it("a real server whose port is closed: ICMP unreachable is counted against it", async () => {
    const dead = await freePort();
    const proxy = createProxy();
    cleanups.push(() => proxy.close());
    const port = await freePort();
    const key = { protocol: "udp" as const, address: "127.0.0.1", port };
    await proxy.addService(key);
    await proxy.addDest(key, { address: "127.0.0.1", port: dead });
    const c = await client("127.0.0.2");
    c.sock.send("hello?", port, "127.0.0.1");
    expect(await waitFor(() => proxy.listServices()[0]!.dests[0]!.counters.connectFailures === 1)).toBe(true);
    expect(proxy.connections()).toEqual([]);
  });

  it("a PROXY header is refused for UDP real servers", async () => {
    const proxy = createProxy();
    cleanups.push(() => proxy.close());
    const key = { protocol: "udp" as const, address: "127.0.0.1", port: await freePort() };
    await proxy.addService(key);
    await expect(
      proxy.addDest(key, { address: "127.0.0.1", port: 53, proxyProtocol: "v2" }),
    ).rejects.toMatchObject({
      code: "PROXY_UNSUPPORTED",
    });
  });
});
