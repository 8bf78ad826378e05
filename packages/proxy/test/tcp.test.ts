// The TCP dataplane against real loopback sockets: half-close, resets, backpressure, quiescing,
// redispatch, the connect timeout, limits, idle timeouts, persistence, the connection table.
import { spawn } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { FakeClock } from "@lvs/inet";
import { IP_VS_SVC_F_PERSISTENT } from "@lvs/scheduler";
import { afterEach, describe, expect, it } from "vitest";
import {
  createProxy,
  encodeProxyHeader,
  formatConnectionTable,
  type ProxyDataplane,
  type ProxyOptions,
  proxyHeaderFor,
  type ServiceConfig,
} from "../src/index.js";
import {
  type Backend,
  connectClient,
  freePort,
  nextData,
  readAll,
  sleep,
  startBackend,
  tryConnectClient,
  waitFor,
} from "./peers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  backends: Backend[],
  svc: Partial<ServiceConfig> = {},
  opts: ProxyOptions = {},
  dest: { weight?: number; proxyProtocol?: "v1" | "v2" }[] = [],
): Promise<{ proxy: ProxyDataplane; port: number; key: ServiceConfig }> {
  const proxy = createProxy(opts);
  cleanups.push(() => proxy.close());
  const port = await freePort();
  const key: ServiceConfig = { protocol: "tcp", address: "127.0.0.1", port, scheduler: "rr", ...svc };
  await proxy.addService(key);
  // Added in reverse so the kernel's list (newest first) and rr start with backends[0].
  for (let i = backends.length - 1; i >= 0; i--) {
    await proxy.addDest(key, { address: "127.0.0.1", port: backends[i]!.port, ...dest[i] });
  }
  return { proxy, port, key };
}

async function backend(name: string, opts: Parameters<typeof startBackend>[1] = {}): Promise<Backend> {
  const b = await startBackend(name, opts);
  cleanups.push(() => b.close());
  return b;
}

const destOf = (p: ProxyDataplane, port: number) => p.listServices()[0]!.dests.find((d) => d.port === port)!;

describe("half-close", () => {
  it("a client's FIN reaches the real server, which still answers on its open half", async () => {
    let serverSaw = "";
    const b = await backend("rs", {
      onConnection: (s) => {
        s.on("data", (d) => {
          serverSaw += d;
        });
        // Only after the client's FIN does the server answer, then close its own half.
        s.on("end", () => setTimeout(() => s.end(`got ${serverSaw.length} bytes`), 100));
      },
    });
    const { proxy, port } = await setup([b]);
    const c = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const all = readAll(c);
    c.end("x".repeat(100_000));
    // While the server holds its half open, the connection is half-closed: FIN_WAIT, inactive.
    expect(await waitFor(() => proxy.connections()[0]?.state === "FIN_WAIT")).toBe(true);
    expect(destOf(proxy, b.port)).toMatchObject({ activeConns: 0, inactiveConns: 1 });
    const r = await all;
    expect(r.error).toBeUndefined();
    expect(r.data.toString()).toBe("got 100000 bytes");
    expect(await waitFor(() => proxy.connections().length === 0)).toBe(true);
    expect(destOf(proxy, b.port)).toMatchObject({ activeConns: 0, inactiveConns: 0 });
  });

  it("a server's FIN reaches the client, which can still send", async () => {
    const b = await backend("rs", {
      onConnection: (s) => {
        let got = "";
        s.end("bye\n"); // server closes its half first
        s.on("data", (d) => {
          got += d;
        });
        s.on("end", () => {
          // the client's late data arrived after the server's FIN
          b.server.emit("late", got);
        });
      },
    });
    const late = new Promise<string>((r) => b.server.once("late", r));
    const { port } = await setup([b]);
    const c = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const ended = new Promise<void>((r) => c.once("end", () => r()));
    c.resume();
    await ended;
    c.end("after your FIN");
    expect(await late).toBe("after your FIN");
  });
});

describe("resets", () => {
  it("a client's RST is given to the real server as an RST, and counted", async () => {
    let serverSide!: Promise<{ error: string | undefined }>;
    const b = await backend("rs", {
      onConnection: (s) => {
        s.write("hi\n");
        serverSide = readAll(s);
      },
    });
    const { proxy, port } = await setup([b]);
    const c = await connectClient(port, "127.0.0.2");
    c.socket.resetAndDestroy();
    expect((await serverSide).error).toBe("ECONNRESET");
    expect(await waitFor(() => destOf(proxy, b.port).counters.resets === 1)).toBe(true);
  });

  it("a real server's RST is given to the client as an RST", async () => {
    const b = await backend("rs", {
      onConnection: (s) => {
        s.write("hi\n");
        setTimeout(() => s.resetAndDestroy(), 50);
      },
    });
    const { proxy, port } = await setup([b]);
    const c = await connectClient(port, "127.0.0.2");
    const r = await readAll(c.socket);
    expect(r.error).toBe("ECONNRESET");
    expect(destOf(proxy, b.port).counters.resets).toBe(1);
  });
});

describe("backpressure", () => {
  it("a slow reader holds the proxy's buffers at the high-water mark while the server is stopped", async () => {
    const TOTAL = 48 * 1024 * 1024;
    let written = 0;
    const b = await backend("rs", {
      onConnection: (s) => {
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          while (written < TOTAL) {
            written += chunk.length;
            if (!s.write(chunk)) {
              s.once("drain", pump);
              return;
            }
          }
          s.end();
        };
        pump();
      },
    });
    const hwm = 64 * 1024;
    const { proxy, port } = await setup([b], {}, { highWaterMark: hwm });
    const c = connect({ host: "127.0.0.1", port });
    c.pause(); // the client reads nothing for now
    await new Promise((r) => c.once("connect", r));
    // Let the pipe fill: kernel buffers on both legs, then the proxy must stop reading.
    let maxBuffered = 0;
    let lastWritten = -1;
    for (let i = 0; i < 100 && written !== lastWritten; i++) {
      lastWritten = written;
      for (let j = 0; j < 10; j++) {
        maxBuffered = Math.max(maxBuffered, proxy.bufferedBytes());
        await sleep(10);
      }
    }
    expect(written).toBeLessThan(TOTAL / 2); // the server is held back…
    // …and what the proxy holds stays near its marks (two sockets per direction, a read chunk each).
    expect(maxBuffered).toBeLessThanOrEqual(4 * hwm + 2 * 65536);
    // Reading resumes: every byte arrives, in order, none lost.
    let got = 0;
    let bad = false;
    c.on("data", (d: Buffer) => {
      got += d.length;
      if (d[0] !== 0x61 || d[d.length - 1] !== 0x61) bad = true;
    });
    c.resume();
    await new Promise((r) => c.once("end", r));
    expect(got).toBe(TOTAL);
    expect(bad).toBe(false);
    expect(proxy.listServices()[0]!.service.stats64.outBytes).toBe(BigInt(TOTAL));
  }, 60_000);
});

describe("quiesce, delete, redispatch", () => {
  it("weight 0 takes no new connections, its established ones carry on", async () => {
    const a = await backend("a");
    const b = await backend("b");
    const { proxy, port, key } = await setup([a, b]);
    const first = await connectClient(port, "127.0.0.2");
    expect(first.banner).toBe("a");
    await proxy.editDest(key, { address: "127.0.0.1", port: a.port, weight: 0 });
    const banners: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await connectClient(port, "127.0.0.3");
      banners.push(c.banner);
      c.socket.destroy();
    }
    expect(banners).toEqual(["b", "b", "b", "b"]);
    // The quiesced server's connection still works both ways.
    first.socket.write("still here\n");
    expect(await nextData(first.socket)).toBe("still here\n");
    expect(destOf(proxy, a.port)).toMatchObject({ weight: 0, activeConns: 1 });
    first.socket.destroy();
  });

  it("a deleted real server's connections carry on; a deleted service stops listening but keeps them", async () => {
    const a = await backend("a");
    const b = await backend("b");
    const { proxy, port, key } = await setup([a, b]);
    const c = await connectClient(port, "127.0.0.2");
    await proxy.deleteDest(key, { address: "127.0.0.1", port: a.port });
    expect((await connectClient(port, "127.0.0.3")).banner).toBe("b");
    await proxy.deleteService(key);
    expect((await tryConnectClient(port, "127.0.0.4")).error).toBe("ECONNREFUSED");
    c.socket.write("ping\n");
    expect(await nextData(c.socket)).toBe("ping\n");
    c.socket.destroy();
  });

  it("a real server whose port is closed: one retry on another, counted (option redispatch)", async () => {
    const good = await backend("good");
    const deadPort = await freePort();
    const proxy = createProxy();
    cleanups.push(() => proxy.close());
    const port = await freePort();
    const key = { protocol: "tcp" as const, address: "127.0.0.1", port, scheduler: "rr" };
    await proxy.addService(key);
    await proxy.addDest(key, { address: "127.0.0.1", port: good.port });
    await proxy.addDest(key, { address: "127.0.0.1", port: deadPort }); // rr starts here (list head)
    const banners: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await connectClient(port, "127.0.0.2");
      banners.push(c.banner);
      c.socket.destroy();
    }
    expect(banners).toEqual(["good", "good", "good", "good"]);
    const svc = proxy.listServices()[0]!;
    const dead = svc.dests.find((d) => d.port === deadPort)!;
    // rr moves on at every pick, the retry's included: each new connection comes back round to
    // the dead server first, then is retried on the good one.
    expect(dead.counters).toMatchObject({ connectFailures: 4, retries: 4, connectTimeouts: 0 });
    expect(svc.service.counters).toMatchObject({ retries: 4, refused: 0 });
    expect(dead.stats64.conns).toBe(4n);
    expect(svc.dests.find((d) => d.port === good.port)!.stats64.conns).toBe(4n);
    expect(svc.service.stats64.conns).toBe(4n);
  });

  it("without redispatch, or with nowhere else to go, the client is refused with an RST", async () => {
    const deadPort = await freePort();
    const proxy = createProxy({ redispatch: false });
    cleanups.push(() => proxy.close());
    const port = await freePort();
    const key = { protocol: "tcp" as const, address: "127.0.0.1", port };
    await proxy.addService(key);
    await proxy.addDest(key, { address: "127.0.0.1", port: deadPort });
    const r = await tryConnectClient(port, "127.0.0.2");
    expect(r.error).toBe("ECONNRESET");
    await waitFor(() => proxy.listServices()[0]!.service.counters.refused === 1);
    expect(proxy.listServices()[0]!.service.counters).toMatchObject({ refused: 1, retries: 0 });
    expect(proxy.listServices()[0]!.dests[0]!.counters.connectFailures).toBe(1);
    expect(proxy.connections()).toEqual([]);
  });

  it("a real server that never answers the SYN hits the connect timeout, then the retry", async () => {
    // A listener whose accept queue (backlog 1) is full and whose process never accepts: the
    // kernel drops further SYNs, so a connect hangs.
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const s=require("net").createServer().listen({port:0,host:"127.0.0.1",backlog:1},()=>{
           console.log(s.address().port);setTimeout(()=>{for(;;){}},50)})`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    cleanups.push(() => {
      child.kill("SIGKILL");
    });
    const blackPort = Number(
      await new Promise<string>((r) => child.stdout!.once("data", (d) => r(String(d)))),
    );
    await sleep(200);
    const fillers: Socket[] = [];
    cleanups.push(() => {
      for (const s of fillers) s.destroy();
    });
    for (let i = 0; i < 4; i++) {
      const s = connect({ host: "127.0.0.1", port: blackPort });
      s.on("error", () => {});
      fillers.push(s);
    }
    await sleep(300);
    const good = await backend("good");
    const proxy = createProxy({ connectTimeoutMs: 300 });
    cleanups.push(() => proxy.close());
    const port = await freePort();
    const key = { protocol: "tcp" as const, address: "127.0.0.1", port, scheduler: "rr" };
    await proxy.addService(key);
    await proxy.addDest(key, { address: "127.0.0.1", port: good.port });
    await proxy.addDest(key, { address: "127.0.0.1", port: blackPort });
    const started = Date.now();
    const c = await connectClient(port, "127.0.0.2");
    expect(c.banner).toBe("good");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const black = proxy.listServices()[0]!.dests.find((d) => d.port === blackPort)!;
    expect(black.counters).toMatchObject({ connectFailures: 1, connectTimeouts: 1, retries: 1 });
    c.socket.destroy();
  });
});

describe("a PROXY header from the client (acceptProxyProtocol)", () => {
  it("schedules by the address it names, keeps the bytes that follow it, passes LOCAL through", async () => {
    const b = await backend("rs");
    const { proxy, port } = await setup([b], { acceptProxyProtocol: true, scheduler: "sh" });
    const c = connect({ host: "127.0.0.1", port, localAddress: "127.0.0.2" });
    const all = readAll(c);
    // The header and the first data in one segment, as haproxy sends them.
    c.write(
      Buffer.concat([
        encodeProxyHeader(
          proxyHeaderFor(2, { address: "192.0.2.77", port: 4321 }, { address: "198.51.100.1", port: 80 }),
        ),
        Buffer.from("first bytes\n"),
      ]),
    );
    expect(await waitFor(() => proxy.listServices()[0]!.service.stats64.outBytes >= 15n)).toBe(true);
    expect(proxy.connections()[0]).toMatchObject({ clientAddress: "192.0.2.77", clientPort: 4321 });
    c.end("quit\n");
    expect((await all).data.toString()).toBe("rs\nfirst bytes\n");
    // haproxy's health checks send LOCAL: the connection's own address is used.
    const local = connect({ host: "127.0.0.1", port, localAddress: "127.0.0.3" });
    const localAll = readAll(local);
    local.write(Buffer.from("0d0a0d0a000d0a515549540a20000000", "hex"));
    expect(await waitFor(() => proxy.connections().some((e) => e.clientAddress === "127.0.0.3"))).toBe(true);
    local.end("quit\n");
    expect((await localAll).data.toString()).toBe("rs\n");
    expect(proxy.listServices()[0]!.service.counters.badProxyHeader).toBe(0);
  });

  it("refuses a connection without a valid header, or whose header does not come in time", async () => {
    const clock = new FakeClock(0);
    const b = await backend("rs");
    const { proxy, port } = await setup(
      [b],
      { acceptProxyProtocol: true },
      { clock, proxyHeaderTimeoutMs: 3000 },
    );
    const c = connect({ host: "127.0.0.1", port });
    const r = readAll(c);
    c.write("GET / HTTP/1.1\r\n\r\n");
    expect((await r).error).toBe("ECONNRESET");
    const slow = connect({ host: "127.0.0.1", port });
    const slowAll = readAll(slow);
    await new Promise((res) => slow.once("connect", res));
    slow.write("PROXY TCP4 "); // a start, then nothing
    await sleep(50);
    expect(proxy.listServices()[0]!.service.counters.refused).toBe(1);
    clock.advance(3001);
    expect((await slowAll).error).toBe("ECONNRESET");
    expect(proxy.listServices()[0]!.service.counters).toMatchObject({ refused: 2, badProxyHeader: 2 });
    expect(b.sockets.size).toBe(0); // the real server never saw either
  });
});

describe("changes while connections are open", () => {
  it("300 idle connections survive a batch that edits the service and its real servers", async () => {
    const a = await backend("a");
    const b = await backend("b");
    const { proxy, port, key } = await setup([a, b]);
    const clients = [];
    for (let i = 0; i < 300; i++)
      clients.push(await connectClient(port, `127.0.${1 + (i % 3)}.${2 + (i % 200)}`));
    const c = await backend("c");
    const results = await proxy.apply([
      { op: "editService", service: { ...key, scheduler: "wlc" } },
      { op: "editDest", service: key, dest: { address: "127.0.0.1", port: a.port, weight: 5 } },
      { op: "addDest", service: key, dest: { address: "127.0.0.1", port: c.port } },
      { op: "delDest", service: key, dest: { address: "127.0.0.1", port: b.port } },
    ]);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined]);
    const echoes = await Promise.all(
      clients.map((cl, i) => {
        cl.socket.write(`${i}\n`);
        return nextData(cl.socket);
      }),
    );
    expect(echoes).toEqual(clients.map((_, i) => `${i}\n`));
    expect(proxy.listServices()[0]!.service.connections).toBe(300);
    for (const cl of clients) cl.socket.destroy();
  });
});

describe("limits", () => {
  it("maxConnections refuses the connection over the limit with an RST, and counts it", async () => {
    const b = await backend("rs");
    const { proxy, port } = await setup([b], { maxConnections: 2 });
    const c1 = await connectClient(port, "127.0.0.2");
    const c2 = await connectClient(port, "127.0.0.3");
    const r = await tryConnectClient(port, "127.0.0.4");
    expect(r.error).toBe("ECONNRESET");
    expect(proxy.listServices()[0]!.service.counters).toMatchObject({ refused: 1, overLimit: 1 });
    c1.socket.destroy();
    await waitFor(() => proxy.listServices()[0]!.service.connections === 1);
    expect((await connectClient(port, "127.0.0.5")).banner).toBe("rs");
    c2.socket.destroy();
  });

  it("the proxy-wide limit counts every service", async () => {
    const b = await backend("rs");
    const { proxy, port } = await setup([b], {}, { maxConnections: 1 });
    const other = { protocol: "tcp" as const, address: "127.0.0.1", port: await freePort() };
    await proxy.addService(other);
    await proxy.addDest(other, { address: "127.0.0.1", port: b.port });
    const c1 = await connectClient(port, "127.0.0.2");
    expect((await tryConnectClient(other.port, "127.0.0.3")).error).toBe("ECONNRESET");
    expect(proxy.getService(other)!.service.counters).toMatchObject({ refused: 1, overLimit: 1 });
    c1.socket.destroy();
  });
});

describe("idle timeouts (IPVS's tcp / tcpfin, on an injected clock)", () => {
  it("an established connection idle for `tcp` seconds is closed; traffic keeps it alive", async () => {
    const clock = new FakeClock(1_000);
    const b = await backend("rs");
    const { proxy, port } = await setup([b], {}, { clock, timeouts: { tcp: 60 } });
    expect(proxy.timeouts()).toEqual({ tcp: 60, tcpFin: 120, udp: 300 });
    const c = await connectClient(port, "127.0.0.2");
    const closed = readAll(c.socket);
    expect(proxy.connections()[0]).toMatchObject({ state: "ESTABLISHED", expires: 60 });
    clock.advance(40_000);
    c.socket.write("keepalive\n");
    await waitFor(() => proxy.listServices()[0]!.service.stats64.outBytes > 3n);
    clock.advance(40_000); // 80 s since connect, 40 s since the last segment
    expect(proxy.connections()).toHaveLength(1);
    expect(proxy.connections()[0]!.expires).toBe(20);
    clock.advance(21_000);
    const r = await closed;
    expect(r.data.toString()).toBe("keepalive\n");
    expect(destOf(proxy, b.port).counters.idleTimeouts).toBe(1);
    expect(await waitFor(() => proxy.connections().length === 0)).toBe(true);
  });

  it("a half-closed connection gets `tcpFin`, and ipvsadm --set reaches live connections", async () => {
    const clock = new FakeClock(0);
    const b = await backend("rs", { endOnEnd: false });
    const { proxy, port } = await setup([b], {}, { clock });
    const c = await connectClient(port, "127.0.0.2");
    const closed = readAll(c.socket);
    proxy.setTimeouts({ tcp: 0, tcpFin: 30, udp: 0 }); // 0 leaves a value as it is
    expect(proxy.timeouts()).toEqual({ tcp: 900, tcpFin: 30, udp: 300 });
    c.socket.end();
    expect(await waitFor(() => proxy.connections()[0]?.state === "FIN_WAIT")).toBe(true);
    expect(proxy.connections()[0]!.expires).toBe(30);
    clock.advance(31_000);
    await closed;
    expect(destOf(proxy, b.port).counters.idleTimeouts).toBe(1);
  });
});

describe("persistence (-p, -M)", () => {
  it("a client network sticks to its real server; the template is listed and expires", async () => {
    const clock = new FakeClock(0);
    const a = await backend("a");
    const b = await backend("b");
    const { proxy, port } = await setup(
      [a, b],
      { flags: IP_VS_SVC_F_PERSISTENT, timeout: 60, netmask: 24 },
      { clock },
    );
    const seen: string[] = [];
    for (const from of ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.9"]) {
      const c = await connectClient(port, from);
      seen.push(c.banner);
      c.socket.end("quit\n");
      c.socket.resume();
    }
    // Without persistence rr would alternate; the /24 template holds them all on one server.
    expect(new Set(seen).size).toBe(1);
    await waitFor(() => proxy.listServices()[0]!.service.connections === 0);
    const table = proxy.connections();
    expect(table).toEqual([
      expect.objectContaining({
        protocol: "TCP",
        clientAddress: "127.0.0.0",
        clientPort: 0,
        state: "NONE",
        expires: 60,
        virtualPort: port,
      }),
    ]);
    expect(formatConnectionTable(table)).toMatch(/^TCP 01:00 {2}NONE {8}127\.0\.0\.0:0 {8}/m);
    expect(proxy.listServices()[0]!.dests.find((d) => d.persistConns === 1)).toBeDefined();
    clock.advance(61_000);
    expect(proxy.connections()).toEqual([]);
    // The template is gone: rr moves on.
    const next = await connectClient(port, "127.0.0.2");
    expect(next.banner).not.toBe(seen[0]);
    next.socket.destroy();
  });
});

describe("the table and the counters", () => {
  it("lists connections as ipvsadm -Lcn and counts bytes and segments both ways", async () => {
    const b = await backend("rs");
    const { proxy, port } = await setup([b], {}, { clock: new FakeClock(0) });
    const c = await connectClient(port, "127.0.0.7");
    c.socket.write("hello\n");
    expect(await nextData(c.socket)).toBe("hello\n");
    const text = formatConnectionTable(proxy.connections());
    const lines = text.split("\n");
    expect(lines[0]).toBe("IPVS connection entries");
    expect(lines[1]).toBe("pro expire state       source             virtual            destination");
    const src = `127.0.0.7:${c.socket.localPort}`.padEnd(18);
    expect(lines[2]).toBe(
      `TCP 15:00  ESTABLISHED ${src} ${`127.0.0.1:${port}`.padEnd(18)} 127.0.0.1:${b.port}`,
    );
    const s = proxy.listServices()[0]!;
    expect(s.service.stats64).toMatchObject({ conns: 1n, inBytes: 6n, outBytes: 9n });
    expect(s.dests[0]!.stats64).toMatchObject({ conns: 1n, inBytes: 6n, outBytes: 9n });
    expect(s.service.stats64.inPkts).toBe(1n);
    expect(s.service.stats64.outPkts).toBeGreaterThanOrEqual(1n);
    expect(proxy.stats()).toMatchObject({ conns: 1n, inBytes: 6n, outBytes: 9n });
    proxy.zeroStats();
    expect(proxy.stats()).toMatchObject({ conns: 0n, inBytes: 0n });
    c.socket.destroy();
  });

  it("IPv6: a service on ::1, its real server, the table with bracketed addresses", async () => {
    const b = await backend("v6", { host: "::1" });
    const proxy = createProxy({ clock: new FakeClock(0) });
    cleanups.push(() => proxy.close());
    const port = await freePort("::1");
    const key = { protocol: "tcp" as const, address: "0:0:0:0:0:0:0:1", port, scheduler: "sh" };
    await proxy.addService(key);
    await proxy.addDest(key, { address: "::1", port: b.port });
    const c = await connectClient(port, "::1", "::1");
    expect(c.banner).toBe("v6");
    const [s] = proxy.listServices();
    expect(s!.service).toMatchObject({ af: 10, address: "::1", netmask: 128 });
    expect(formatConnectionTable(proxy.connections()).split("\n")[2]).toBe(
      `TCP 15:00  ESTABLISHED ${`[::1]:${c.socket.localPort}`.padEnd(18)} ${`[::1]:${port}`.padEnd(18)} [::1]:${b.port}`,
    );
    c.socket.destroy();
  });

  it("rates come from the kernel's estimator: 2 s ticks, 1/4 weight", async () => {
    const clock = new FakeClock(0);
    const b = await backend("rs");
    const { proxy, port } = await setup([b], {}, { clock });
    for (let i = 0; i < 10; i++) (await connectClient(port, "127.0.0.2")).socket.destroy();
    clock.advance(2_000);
    // cps = ((10 << 9) >> 2 + 0x1FF) >> 10 = (1280 + 511) >> 10 = 1
    expect(proxy.stats().cps).toBe(1n);
    clock.advance(2_000); // no new connections: 1280 + ((0 - 1280) >> 2) = 960 → 1
    expect(proxy.stats().cps).toBe(1n);
    clock.advance(4_000); // 720, then 540 → (540 + 511) >> 10 = 1
    clock.advance(2_000); // 405 → 0
    expect(proxy.stats().cps).toBe(0n);
  });
});

describe("bad input", () => {
  it("refuses fwmark, port 0, SCTP, engines and bad fields with a code and the object", async () => {
    const proxy = createProxy();
    cleanups.push(() => proxy.close());
    const port = await freePort();
    const t = { protocol: "tcp" as const, address: "127.0.0.1", port };
    await expect(proxy.addService({ ...t, fwmark: 7 })).rejects.toMatchObject({
      code: "PROXY_FWMARK_UNSUPPORTED",
      object: "FWM 7",
    });
    await expect(proxy.addService({ ...t, port: 0 })).rejects.toMatchObject({ code: "PROXY_UNSUPPORTED" });
    await expect(proxy.addService({ ...t, protocol: 132 as 6 })).rejects.toMatchObject({
      code: "PROXY_UNSUPPORTED",
    });
    await expect(proxy.addService({ ...t, peName: "sip" })).rejects.toMatchObject({
      code: "PROXY_UNSUPPORTED",
    });
    await expect(proxy.addService({ ...t, address: "10.0.0.300" })).rejects.toMatchObject({
      code: "PROXY_BAD_VALUE",
    });
    await expect(proxy.addService({ ...t, scheduler: "nope" })).rejects.toMatchObject({
      code: "PROXY_UNKNOWN_SCHEDULER",
      errnoName: "ENOENT",
      errno: 2,
    });
    await proxy.addService(t);
    await expect(proxy.addService(t)).rejects.toMatchObject({
      code: "PROXY_SERVICE_EXISTS",
      errnoName: "EEXIST",
    });
    await expect(
      proxy.addDest(t, { address: "127.0.0.1", port: 1, upperThreshold: 1, lowerThreshold: 2 }),
    ).rejects.toMatchObject({ code: "PROXY_BAD_THRESHOLD", errnoName: "ERANGE" });
    await expect(proxy.addDest(t, { address: "::1", port: 1 })).rejects.toMatchObject({
      code: "PROXY_BAD_VALUE",
    });
    await expect(proxy.editDest(t, { address: "127.0.0.1", port: 1 })).rejects.toMatchObject({
      code: "PROXY_NO_DEST",
      errnoName: "ENOENT",
    });
    await expect(proxy.deleteService({ ...t, port: port + 1 })).rejects.toMatchObject({
      code: "PROXY_NO_SERVICE",
      errnoName: "ESRCH",
    });
    // Nothing was lost: the service is there, with no real server.
    expect(proxy.listServices()).toHaveLength(1);
    expect(proxy.listServices()[0]!.dests).toEqual([]);
    await proxy.flush();
    expect(proxy.listServices()).toEqual([]);
    await proxy.addService(t); // its port is free again
  });

  it("a port in use is a bind error with its errno; apply() reports each operation", async () => {
    const holder = createServer();
    const port = await freePort();
    await new Promise<void>((r) => holder.listen(port, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
    const proxy = createProxy();
    cleanups.push(() => proxy.close());
    const free = await freePort();
    const results = await proxy.apply([
      { op: "addService", service: { protocol: 6, address: "127.0.0.1", port } },
      { op: "addService", service: { protocol: 6, address: "127.0.0.1", port: free, scheduler: "wrr" } },
      {
        op: "addDest",
        service: { protocol: 6, address: "127.0.0.1", port: free },
        dest: { address: "127.0.0.1", port: 9, weight: 2 },
      },
      { op: "editService", service: { protocol: 6, address: "127.0.0.1", port: free, scheduler: "lc" } },
    ]);
    expect(results.map((r) => r.error?.code)).toEqual(["PROXY_BIND_FAILED", undefined, undefined, undefined]);
    expect(results[0]!.error).toMatchObject({ errnoName: "EADDRINUSE", object: `TCP 127.0.0.1:${port}` });
    const [s] = proxy.listServices();
    expect(s!.service).toMatchObject({ af: 2, protocol: 6, port: free, scheduler: "lc", fwmark: 0 });
    expect(s!.dests[0]).toMatchObject({ address: "127.0.0.1", port: 9, weight: 2, forward: 0 });
  });
});
