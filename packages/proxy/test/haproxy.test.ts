// haproxy 2.6 as the peer: it reads our PROXY headers (`accept-proxy`, answering with the client
// address it saw), it sends us its own (`send-proxy-v2`), and its bytes equal our encoder's.
import { request } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProxy, encodeProxyHeader, type ProxyDataplane, proxyHeaderFor } from "../src/index.js";
import { freePort, type Haproxy, haproxyVersion, startHaproxy, waitFor } from "./peers.js";

const version = haproxyVersion();

/** GET / through `port` from `from`; haproxy's answer is the client address it saw. */
function get(port: number, from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", localAddress: from, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    });
    req.on("error", reject);
    req.end();
  });
}

describe.skipIf(!version)("haproxy 2.6 as the peer", () => {
  it("is haproxy 2.6", () => {
    expect(version).toMatch(/^HAProxy version 2\.6\./);
  });

  let haproxy: Haproxy;
  let proxy: ProxyDataplane;
  const p = {} as Record<
    "echoV1" | "echoV2" | "front" | "sendV1" | "sendV2" | "rec" | "ours" | "oursPP",
    number
  >;
  const recorded: Buffer[] = [];
  let recorder: ReturnType<typeof createServer>;

  beforeAll(async () => {
    for (const k of ["echoV1", "echoV2", "front", "sendV1", "sendV2", "rec", "ours", "oursPP"] as const) {
      p[k] = await freePort();
    }
    recorder = createServer((s: Socket) => {
      const parts: Buffer[] = [];
      s.on("data", (d: Buffer) => {
        parts.push(d);
        const all = Buffer.concat(parts);
        if (all.includes("hello")) {
          recorded.push(all.subarray(0, all.indexOf("hello")));
          s.destroy();
        }
      });
      s.on("error", () => {});
    });
    await new Promise<void>((r) => recorder.listen(p.rec, "127.0.0.1", () => r()));
    // Two HTTP frontends that take a PROXY header (v1 or v2: accept-proxy reads both) and answer
    // with the source address they were given; a TCP frontend that sends v2 to our listener; two
    // that send v1/v2 to a recorder, for a byte comparison.
    const config = `
global
  maxconn 1000
defaults
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend echo_v1
  mode http
  bind 127.0.0.1:${p.echoV1} accept-proxy
  http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port]"
frontend echo_v2
  mode http
  bind 127.0.0.1:${p.echoV2} accept-proxy
  http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port]"
listen front
  mode tcp
  bind 127.0.0.1:${p.front}
  server ours 127.0.0.1:${p.oursPP} send-proxy-v2
listen send_v1
  mode tcp
  bind 127.0.0.1:${p.sendV1}
  server rec 127.0.0.1:${p.rec} send-proxy
listen send_v2
  mode tcp
  bind 127.0.0.1:${p.sendV2}
  server rec 127.0.0.1:${p.rec} send-proxy-v2
`;
    haproxy = await startHaproxy(
      config,
      [p.echoV1, p.echoV2, p.front, p.sendV1, p.sendV2].map((port) => ({ host: "127.0.0.1", port })),
    );
    proxy = createProxy();
    // Our service with two real servers: haproxy's v1 and v2 frontends.
    const ours = { protocol: "tcp" as const, address: "127.0.0.1", port: p.ours, scheduler: "rr" };
    await proxy.addService(ours);
    await proxy.addDest(ours, { address: "127.0.0.1", port: p.echoV2, proxyProtocol: "v2" });
    await proxy.addDest(ours, { address: "127.0.0.1", port: p.echoV1, proxyProtocol: "v1" });
    // Our listener that takes haproxy's send-proxy-v2, scheduling by the client it names.
    const oursPP = {
      protocol: "tcp" as const,
      address: "127.0.0.1",
      port: p.oursPP,
      acceptProxyProtocol: true,
    };
    await proxy.addService(oursPP);
    await proxy.addDest(oursPP, { address: "127.0.0.1", port: p.echoV1, proxyProtocol: "v1" });
  });

  afterAll(async () => {
    await proxy?.close();
    await haproxy?.stop();
    recorder?.close();
  });

  it("haproxy (accept-proxy) sees the real client through our v1 and v2 headers", async () => {
    const seen = [await get(p.ours, "127.0.0.21"), await get(p.ours, "127.0.0.22")];
    // rr: the first request went to the v1 frontend (list head), the second to the v2 one.
    expect(seen[0]).toMatch(/^200 127\.0\.0\.21:\d+$/);
    expect(seen[1]).toMatch(/^200 127\.0\.0\.22:\d+$/);
    const dests = proxy.getService({ protocol: "tcp", address: "127.0.0.1", port: p.ours })!.dests;
    expect(dests.map((d) => [d.proxyProtocol, Number(d.stats64.conns)])).toEqual([
      ["v1", 1],
      ["v2", 1],
    ]);
  });

  it("our listener accepts haproxy's send-proxy-v2 and passes the client it names onwards", async () => {
    // A raw client kept open, so the connection table can be read while it lives.
    const c = connect({ host: "127.0.0.1", port: p.front, localAddress: "127.0.0.23" });
    await new Promise((r) => c.once("connect", r));
    const body = new Promise<string>((resolve) => {
      let text = "";
      c.on("data", (d) => {
        text += d;
        if (text.includes("\r\n\r\n") && /127\.0\.0\.23:\d+$/.test(text)) resolve(text);
      });
    });
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const text = await body;
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.endsWith(`127.0.0.23:${c.localPort}`)).toBe(true);
    // haproxy may hold other connections to the same listener (its own, from 127.0.0.1): the one
    // that matters is the client its PROXY header names.
    const entries = proxy
      .connections()
      .filter((e) => e.virtualPort === p.oursPP && e.clientAddress === "127.0.0.23");
    expect(entries).toEqual([
      expect.objectContaining({ clientAddress: "127.0.0.23", clientPort: c.localPort, state: "ESTABLISHED" }),
    ]);
    c.destroy();
    const svc = proxy.getService({ protocol: "tcp", address: "127.0.0.1", port: p.oursPP })!;
    expect(svc.service.counters.badProxyHeader).toBe(0);
  });

  it("haproxy's send-proxy and send-proxy-v2 bytes equal our encoder's for the same connection", async () => {
    for (const [port, version] of [
      [p.sendV1, 1],
      [p.sendV2, 2],
    ] as const) {
      recorded.length = 0;
      const c = connect({ host: "127.0.0.1", port, localAddress: "127.0.0.24" });
      await new Promise((r) => c.once("connect", r));
      const localPort = c.localPort!;
      c.write("hello");
      expect(await waitFor(() => recorded.length === 1)).toBe(true);
      const ours = encodeProxyHeader(
        proxyHeaderFor(version, { address: "127.0.0.24", port: localPort }, { address: "127.0.0.1", port }),
      );
      expect(recorded[0]!.toString("hex")).toBe(Buffer.from(ours).toString("hex"));
      c.destroy();
    }
  });
});
