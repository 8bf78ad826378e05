// The director on @lvs/proxy (the userspace dataplane), host tier, no root: a keepalived.conf
// with three real HTTP servers on loopback, real connections through the proxy, a killed server
// taken out by its TCP_CHECK, a drain over the runtime API. Plus the `auto` choice's reasons.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryIpvs } from "@lvs/ipvs";
import { afterEach, describe, expect, it } from "vitest";
import {
  chooseDataplane,
  Director,
  DirectorClient,
  defaultSocketPath,
  defaultStatePathFor,
  hasNetAdmin,
  IpvsDataplane,
  ProxyDirectorDataplane,
  runDaemon,
  runtimeDir,
} from "../src/index.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, child: () => silent };

async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

async function waitFor(
  cond: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("the director on the userspace proxy dataplane", () => {
  it("balances real connections, removes a killed server on its check, drains over the API", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-proxy-dp-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const servers: Server[] = [];
    const ports: number[] = [];
    for (const name of ["rs1", "rs2", "rs3"]) {
      const s = createServer((_q, r) => r.end(name));
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
      servers.push(s);
      ports.push((s.address() as AddressInfo).port);
      cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    }
    const vport = await freePort();
    const rs = ports
      .map(
        (p) => `  real_server 127.0.0.1 ${p} {
    weight 1
    TCP_CHECK {
      connect_timeout 1
    }
  }`,
      )
      .join("\n");
    writeFileSync(
      join(dir, "keepalived.conf"),
      `virtual_server 127.0.0.1 ${vport} {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${rs}
}
`,
    );
    const dataplane = new ProxyDirectorDataplane();
    const director = new Director({
      configPath: join(dir, "keepalived.conf"),
      socketPath: join(dir, "d.sock"),
      mode: "check",
      dataplane,
      log: silent as never,
    });
    await director.start();
    cleanups.push(() => director.stop());
    cleanups.push(() => dataplane.close());

    // rr over three healthy servers: each of six sequential connections goes round once, twice.
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await get(vport));
    expect(seen.filter((s) => s === "rs1")).toHaveLength(2);
    expect(seen.filter((s) => s === "rs2")).toHaveLength(2);
    expect(seen.filter((s) => s === "rs3")).toHaveLength(2);

    // Kill rs3: its TCP_CHECK fails and the director takes it out of the proxy's table.
    await new Promise<void>((r) => servers[2]?.close(() => r()));
    servers[2]?.closeAllConnections();
    await waitFor(async () => {
      const [svc] = await dataplane.read();
      return svc !== undefined && !svc.dests.some((d) => d.port === ports[2]);
    }, "rs3 removed from the proxy's table");
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await get(vport));
    expect(new Set(after)).toEqual(new Set(["rs1", "rs2"]));

    // The connection table over the API (GET /connections): a connection held open is listed
    // with its client port, the VIP and the real server it went to, as ipvsadm -Lcn lists them.
    const api = new DirectorClient({ socketPath: join(dir, "d.sock") });
    const held = connect(vport, "127.0.0.1");
    cleanups.push(() => void held.destroy());
    await new Promise<void>((r) => held.once("connect", () => r()));
    let table = await api.connections();
    await waitFor(async () => {
      table = await api.connections();
      return table.connections.some((c) => c.clientPort === held.localPort && c.state === "ESTABLISHED");
    }, "the held connection listed");
    expect(table.dataplane).toBe("proxy");
    const mine = table.connections.find((c) => c.clientPort === held.localPort);
    expect(mine).toMatchObject({
      protocol: "TCP",
      clientAddress: "127.0.0.1",
      virtualAddress: "127.0.0.1",
      virtualPort: vport,
      destAddress: "127.0.0.1",
    });
    expect(ports.slice(0, 2)).toContain(mine?.destPort);
    held.destroy();

    // A drain over the runtime API: weight 0 on the dataplane at once, removed once idle.
    await api.drain(`127.0.0.1:${vport}`, `127.0.0.1:${ports[0]}`, 30);
    await waitFor(async () => {
      const [svc] = await dataplane.read();
      const d = svc?.dests.find((x) => x.port === ports[0]);
      return d === undefined || d.weight === 0;
    }, "rs1 drained on the proxy");
    const drained: string[] = [];
    for (let i = 0; i < 4; i++) drained.push(await get(vport));
    expect(new Set(drained)).toEqual(new Set(["rs2"]));

    // Counters come from the proxy's own sockets, in IPVS's shape.
    const stats = await dataplane.stats();
    expect(stats.conns).toBe(17);
    expect(stats.inBytes).toBeGreaterThan(0);
  }, 60_000);

  it("`auto` picks the proxy without IPVS or without CAP_NET_ADMIN, and says why", async () => {
    expect(await chooseDataplane("auto", undefined, { ipvsPresent: false, netAdmin: true })).toEqual({
      kind: "proxy",
      why: expect.stringContaining("no IPVS"),
    });
    expect(await chooseDataplane("auto", undefined, { ipvsPresent: true, netAdmin: false })).toEqual({
      kind: "proxy",
      why: expect.stringContaining("CAP_NET_ADMIN"),
    });
    expect((await chooseDataplane("auto", undefined, { ipvsPresent: true, netAdmin: true })).kind).toBe(
      "ipvs",
    );
    expect((await chooseDataplane("proxy", undefined, { ipvsPresent: true, netAdmin: true })).kind).toBe(
      "proxy",
    );
    // CapEff with bit 12 set (root's full set) and without it.
    expect(hasNetAdmin("Name:\tnode\nCapEff:\t000001ffffffffff\n")).toBe(true);
    expect(hasNetAdmin("Name:\tnode\nCapEff:\t0000000000000000\n")).toBe(false);
    expect(hasNetAdmin("Name:\tnode\n")).toBeUndefined();
  });

  it("the configuration's limits on the proxy: fwmark refused at file:line, NAT/DR/TUN one warning, no 'IPVS cmd'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-proxy-cfg-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const vport = await freePort();
    const conf = join(dir, "keepalived.conf");
    const body = (extra: string) => `virtual_server 127.0.0.1 ${vport} {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 127.0.0.1 9 {
  }
}
virtual_server 127.0.0.1 ${vport + 1} {
  lb_algo rr
  lb_kind TUN
  protocol TCP
  real_server 127.0.0.1 9 {
  }
}
virtual_server 127.0.0.1 ${vport + 2} {
  lb_kind NAT
  protocol SCTP
  real_server 127.0.0.1 9 {
  }
}
${extra}`;
    const fwmark = `virtual_server fwmark 7 {
  lb_kind NAT
  real_server 127.0.0.1 9 {
  }
}
`;
    // A fwmark service: refused before anything runs, at its file:line.
    writeFileSync(conf, body(fwmark));
    const fwLine = body(fwmark).split("\n").indexOf("virtual_server fwmark 7 {") + 1;
    const lines: string[] = [];
    const run = (vrrpSkipped?: string) =>
      runDaemon({
        configPath: conf,
        socketPath: null,
        mode: "check",
        dataplane: "proxy",
        signals: false,
        logFormat: "text",
        logDestination: { write: (s: string) => lines.push(s) },
        ...(vrrpSkipped ? { vrrpSkipped } : {}),
        onStarted: (d) => cleanups.push(() => d.stop()),
      });
    await expect(run()).rejects.toMatchObject({
      code: "DIRECTOR_PROXY_FWMARK",
      message: expect.stringContaining(
        `${conf}:${fwLine}: virtual_server fwmark 7: the proxy dataplane can't serve fwmark services`,
      ),
    });

    // Without it: three services, one warning naming the methods; the SCTP one refused by the
    // proxy, logged as the proxy's, never as an "IPVS cmd".
    writeFileSync(conf, body(""));
    lines.length = 0;
    void run();
    await waitFor(() => lines.some((l) => l.includes("addService error")), "the SCTP refusal logged");
    const text = lines.join("");
    expect(text.match(/all mean full proxy/g)).toHaveLength(1);
    expect(text).toContain(
      "lb_kind DR, TUN, NAT: on the proxy dataplane NAT, DR and TUN all mean full proxy",
    );
    expect(text).toMatch(/proxy operation addService error: \S+/);
    expect(text).not.toContain("IPVS cmd");
  }, 30_000);

  it("a user that isn't root gets a private runtime directory for the socket and, if needed, the state file", () => {
    expect(runtimeDir({}, 0).dir).toBe("/run/lvs");
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000)).toBe(
      "/run/user/1000/lvs/director.sock",
    );
    expect(defaultSocketPath({}, 1000)).toBe(join(tmpdir(), "lvs-1000", "director.sock"));
    // Next to the configuration when its directory is writable (this test's own directory)…
    const dir = mkdtempSync(join(tmpdir(), "lvs-state-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    expect(defaultStatePathFor(join(dir, "a.conf"), {}, 4242).path).toBe(join(dir, "a.conf.state.json"));
    // …else in the runtime directory, named after the configuration's full path.
    const elsewhere = defaultStatePathFor(
      "/nonexistent-lvs-dir/a.conf",
      { XDG_RUNTIME_DIR: "/run/user/4242" },
      4242,
    );
    expect(elsewhere.path).toMatch(/^\/run\/user\/4242\/lvs\/a\.conf-[0-9a-f]{8}\.state\.json$/);
    expect(elsewhere.why).toContain("not writable");
  });

  it("on IPVS the connection table is /proc/net/ip_vs_conn's (kernel-captured text)", async () => {
    const text = readFileSync(new URL("../../ipvs/test/fixtures/ip_vs_conn.txt", import.meta.url), "utf8");
    const dp = new IpvsDataplane(new MemoryIpvs(), { readConnections: async () => text });
    expect(dp.kind).toBe("ipvs");
    expect(await dp.connectionTable()).toMatchObject([
      {
        protocol: "TCP",
        clientAddress: "10.0.0.254",
        clientPort: 0x9882,
        virtualAddress: "10.0.0.1",
        virtualPort: 80,
        destAddress: "10.0.0.2",
        destPort: 80,
        state: "SYN_RECV",
        expires: 52,
      },
    ]);
    // Without a file to read (another namespace's client given by a test): an empty table.
    expect(await new IpvsDataplane(new MemoryIpvs()).connectionTable()).toEqual([]);
  });
});
