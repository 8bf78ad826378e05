// Real peers for the tests: haproxy 2.6 (Debian's package) started in the foreground with a
// config written to a temporary directory, and small loopback servers and clients.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const HAPROXY = "/usr/sbin/haproxy";

/** haproxy's version line, or undefined when it is not installed (tools/host-deps installs it). */
export function haproxyVersion(): string | undefined {
  try {
    return execFileSync(HAPROXY, ["-v"], { encoding: "utf8" }).split("\n")[0];
  } catch {
    return undefined;
  }
}

export interface Haproxy {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `haproxy -db -f cfg` and waits until every `ports` entry accepts connections. */
export async function startHaproxy(
  config: string,
  ports: { host: string; port: number }[],
): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), "lvs-proxy-haproxy-"));
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(cfg, config);
  const proc = spawn(HAPROXY, ["-db", "-f", cfg], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => {
    out += d;
  });
  proc.stderr!.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (const p of ports) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) {
        await stop();
        throw new Error(`haproxy exited: ${out}`);
      }
      if (await canConnect(p.host, p.port)) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`haproxy did not listen on ${p.host}:${p.port}: ${out}`);
      }
      await sleep(50);
    }
  }
  return { proc, output: () => out, stop };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns true (or a deadline: then the last value is returned for the assertion). */
export async function waitFor(fn: () => boolean, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
}

/** A port nobody listens on right now (listen on 0, close). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Backend {
  name: string;
  server: Server;
  port: number;
  /** Connections accepted, open now. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/**
 * A real server that greets each connection with `NAME\n`, echoes what it reads (ending its side
 * on `quit`) and, by default, ends its side when the client ends its own.
 */
export async function startBackend(
  name: string,
  opts: { host?: string; endOnEnd?: boolean; onConnection?: (s: Socket) => void } = {},
): Promise<Backend> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    if (opts.onConnection) {
      opts.onConnection(s);
      return;
    }
    s.write(`${name}\n`);
    s.on("data", (d: Buffer) => {
      if (d.includes("quit")) s.end();
      else s.write(d);
    });
    s.on("end", () => {
      if (opts.endOnEnd !== false) s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, opts.host ?? "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    name,
    server,
    port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Client {
  socket: Socket;
  /** The first line the real server sent (its name). */
  banner: string;
}

/** Connects from `localAddress` and reads the first line. */
export async function connectClient(port: number, localAddress: string, host = "127.0.0.1"): Promise<Client> {
  const r = await tryConnectClient(port, localAddress, host);
  if (r.banner === undefined) throw new Error(`no banner: ${r.error}`);
  return { socket: r.socket, banner: r.banner };
}

/**
 * As connectClient, but a refusal (the proxy's RST) is an answer: `banner` undefined, `error` set.
 * The client binds a port of its own choosing first, so its port is known even when the RST
 * arrives before the connect completes (sh/mh with -b *-port hash it).
 */
export async function tryConnectClient(
  port: number,
  localAddress: string,
  host = "127.0.0.1",
): Promise<{ socket: Socket; localPort: number; banner?: string; error?: string }> {
  for (let attempt = 0; ; attempt++) {
    const localPort = 20_000 + Math.floor(Math.random() * 40_000);
    const r = await connectOnce(port, localAddress, localPort, host);
    if (r.error !== "EADDRINUSE" || attempt > 20) return r;
  }
}

function connectOnce(
  port: number,
  localAddress: string,
  localPort: number,
  host: string,
): Promise<{ socket: Socket; localPort: number; banner?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, localAddress, localPort, allowHalfOpen: true });
    let buf = "";
    let error = "closed";
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        socket.off("data", onData);
        socket.off("close", onClose);
        socket.pause();
        resolve({ socket, localPort, banner: buf.slice(0, nl) });
      }
    };
    const onClose = () => resolve({ socket, localPort, error });
    socket.on("data", onData);
    socket.on("error", (e: Error & { code?: string }) => {
      error = e.code ?? e.message;
    });
    socket.once("close", onClose);
  });
}

/** The next chunk a (paused) client socket receives, as text; it is paused again after. */
export function nextData(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once("data", (d: Buffer) => {
      socket.pause();
      resolve(d.toString("latin1"));
    });
    socket.resume();
  });
}

/**
 * Reads a socket to its end (then ends its own side, for a half-open client); resolves with
 * everything and, when it ended by a reset, the error code.
 */
export function readAll(socket: Socket): Promise<{ data: Buffer; error: string | undefined }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let error: string | undefined;
    socket.on("data", (d: Buffer) => parts.push(d));
    socket.on("end", () => socket.end());
    socket.on("error", (e: Error & { code?: string }) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => resolve({ data: Buffer.concat(parts), error }));
    socket.resume();
  });
}
