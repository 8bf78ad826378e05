// The director on @lvs/proxy (the userspace dataplane), host tier, no root: a keepalived.conf
// with three real HTTP servers on loopback, real connections through the proxy, a killed server
// taken out by its TCP_CHECK, a drain over the runtime API. Plus the `auto` choice's reasons.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  chooseDataplane,
  Director,
  DirectorClient,
  hasNetAdmin,
  ProxyDirectorDataplane,
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

    // A drain over the runtime API: weight 0 on the dataplane at once, removed once idle.
    const api = new DirectorClient({ socketPath: join(dir, "d.sock") });
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
    expect(stats.conns).toBe(16);
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
});
