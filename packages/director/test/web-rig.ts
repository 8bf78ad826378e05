// A director on the userspace proxy dataplane (no root) with real HTTP backends on loopback and
// its API on a TCP port with a token: what the status page's tests look at.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Director, ProxyDirectorDataplane, type VrrpComponent } from "../src/index.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, child: () => silent };

export async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Backend {
  name: string;
  port: number;
  /** Stop answering (the check sees ECONNREFUSED). */
  kill(): Promise<void>;
}

export interface Rig {
  /** `http://127.0.0.1:PORT` of the API's TCP listener. */
  base: string;
  token: string;
  vport: number;
  vsKey: string;
  backends: Backend[];
  dataplane: ProxyDirectorDataplane;
  director: Director;
  stop(): Promise<void>;
}

async function backend(name: string): Promise<{ server: Server; backend: Backend }> {
  const server = createServer((_q, r) => r.end(name));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const kill = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  };
  return { server, backend: { name, port, kill } };
}

export async function startRig(
  opts: { vrrp?: VrrpComponent; backends?: number; algo?: string } = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "lvs-web-"));
  const made: Awaited<ReturnType<typeof backend>>[] = [];
  for (let i = 1; i <= (opts.backends ?? 3); i++) made.push(await backend(`rs${i}`));
  const vport = await freePort();
  const apiPort = await freePort();
  const rs = made
    .map(
      ({ backend: b }) => `  real_server 127.0.0.1 ${b.port} {
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
  lb_algo ${opts.algo ?? "wrr"}
  lb_kind NAT
  protocol TCP
${rs}
}
`,
  );
  const token = "page-test-token";
  const dataplane = new ProxyDirectorDataplane();
  const director = new Director({
    configPath: join(dir, "keepalived.conf"),
    socketPath: join(dir, "d.sock"),
    listen: `127.0.0.1:${apiPort}`,
    token,
    mode: opts.vrrp ? "all" : "check",
    dataplane,
    ...(opts.vrrp ? { vrrp: opts.vrrp } : {}),
    log: silent as never,
  });
  await director.start();
  return {
    base: `http://127.0.0.1:${apiPort}`,
    token,
    vport,
    vsKey: `TCP/127.0.0.1:${vport}`,
    backends: made.map((m) => m.backend),
    dataplane,
    director,
    stop: async () => {
      await director.stop();
      dataplane.close();
      for (const m of made) await m.backend.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(
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
