/**
 * The io of @lvs/bgp: one BgpSession driven over a real TCP connection to the peer's port 179,
 * optionally from inside a network namespace and from a given local address.
 *
 * The session's effects are carried out here and nowhere else: `connect` opens a socket (the
 * previous one, if any, is dropped and its late events ignored), `send` writes, `close` ends the
 * connection after what was written (a NOTIFICATION, say) has been flushed.
 */
import { existsSync } from "node:fs";
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { type Clock, parseAddress, systemClock } from "@lvs/inet";
import { netnsPath, withNetns } from "@lvs/sys";
import { BGP_PORT } from "./constants.js";
import {
  BgpSession,
  type FsmState,
  type SessionConfig,
  type SessionEffect,
  type SessionStats,
} from "./engine.js";
import { BgpError, fromSystemError } from "./errors.js";
import { parseRoute, type Route, type RouteSpec } from "./routes.js";

export interface SpeakerOptions extends Omit<SessionConfig, "routerId"> {
  /** The peer's address. */
  peer: string;
  /** The peer's TCP port. Default 179. */
  port?: number;
  /** Our BGP Identifier; default `localAddress` or `nextHopSelf.ipv4` when IPv4. */
  routerId?: string;
  /** Local address to bind (and so the next-hop self of its family). */
  localAddress?: string;
  /** Network namespace (name under /run/netns or a path) to open the connection in. */
  netns?: string;
  /** Routes to originate from the start. */
  routes?: readonly RouteSpec[];
  clock?: Clock;
}

/** Options for a TCP connection made inside a namespace: a synchronous lookup keeps every
 * syscall (socket, bind, connect) inside the withNetns() call that opened it. */
const PEER_HOST = "bgp-peer.invalid";

export class BgpSpeaker {
  readonly session: BgpSession;
  private socket: Socket | undefined;
  private readonly listeners = new Set<(e: SessionEffect) => void>();
  private closedWaiters: Array<() => void> = [];
  private readonly port: number;
  /** The last socket-level error (ECONNREFUSED…), for status pages. */
  lastSocketError: BgpError | undefined;

  constructor(private readonly opts: SpeakerOptions) {
    if (isIP(opts.peer) === 0) {
      throw new BgpError("BGP_BAD_CONFIG", `peer ${JSON.stringify(opts.peer)} is not an IP address`, {
        object: "peer",
      });
    }
    if (opts.localAddress !== undefined && isIP(opts.localAddress) === 0) {
      throw new BgpError(
        "BGP_BAD_CONFIG",
        `local address ${JSON.stringify(opts.localAddress)} is not an IP address`,
        { object: "local-address" },
      );
    }
    // A namespace that does not exist is a configuration error, not a connection to retry forever.
    if (opts.netns !== undefined && !existsSync(netnsPath(opts.netns))) {
      throw new BgpError("BGP_BAD_CONFIG", `network namespace ${netnsPath(opts.netns)} does not exist`, {
        object: "netns",
        netns: opts.netns,
      });
    }
    this.port = opts.port ?? BGP_PORT;
    const routerId =
      opts.routerId ??
      (opts.localAddress && isIP(opts.localAddress) === 4 ? opts.localAddress : undefined) ??
      opts.nextHopSelf?.ipv4;
    if (routerId === undefined) {
      throw new BgpError(
        "BGP_BAD_CONFIG",
        "a router id is needed (or an IPv4 local address or next hop to take it from)",
        { object: "router-id" },
      );
    }
    const nextHopSelf = { ...opts.nextHopSelf };
    for (const [family, nh] of Object.entries(nextHopSelf)) {
      const v = nh === undefined ? 0 : isIP(nh);
      if (v !== (family === "ipv4" ? 4 : 6)) {
        throw new BgpError(
          "BGP_BAD_CONFIG",
          `next hop ${JSON.stringify(nh)} is not an ${family === "ipv4" ? "IPv4" : "IPv6"} address`,
          { object: "next-hop" },
        );
      }
    }
    if (opts.localAddress)
      nextHopSelf[isIP(opts.localAddress) === 4 ? "ipv4" : "ipv6"] ??= parseAddress(opts.localAddress).text;
    this.session = new BgpSession({ ...opts, routerId, nextHopSelf }, opts.clock ?? systemClock, (e) =>
      this.effect(e),
    );
    if (opts.routes) this.session.setRoutes(opts.routes.map(parseRoute));
  }

  get state(): FsmState {
    return this.session.state;
  }

  get stats(): SessionStats {
    return this.session.stats;
  }

  /** Every effect and event of the session (state changes, notifications, warnings, sends). */
  on(listener: (e: SessionEffect) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.session.start();
  }

  announce(specs: readonly RouteSpec[]): Route[] {
    const routes = specs.map(parseRoute);
    this.session.announce(routes);
    return routes;
  }

  withdraw(prefixes: readonly string[]): void {
    this.session.withdraw(prefixes.map((p) => parseRoute({ prefix: p }).prefix));
  }

  setRoutes(specs: readonly RouteSpec[]): void {
    this.session.setRoutes(specs.map(parseRoute));
  }

  /** Withdraws, sends Cease, closes; resolves once the socket is closed (at most ~2 s). */
  async stop(text?: string): Promise<void> {
    const closed = this.socket
      ? new Promise<void>((resolve) => this.closedWaiters.push(resolve))
      : Promise.resolve();
    this.session.stop(text);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.socket?.destroy();
    this.socket = undefined;
  }

  /** Resolves when the session reaches `state`; rejects after `timeoutMs`. */
  waitFor(state: FsmState, timeoutMs: number): Promise<void> {
    if (this.state === state) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        off();
        reject(
          new BgpError(
            "BGP_SOCKET",
            `session to ${this.opts.peer} not ${state} within ${timeoutMs} ms (is ${this.state})`,
            { object: this.opts.peer },
          ),
        );
      }, timeoutMs);
      const off = this.on((e) => {
        if (e.type === "state" && e.to === state) {
          clearTimeout(t);
          off();
          resolve();
        }
      });
    });
  }

  private effect(e: SessionEffect): void {
    switch (e.type) {
      case "connect":
        this.openSocket();
        break;
      case "send":
        this.socket?.write(e.bytes);
        break;
      case "close":
        this.closeSocket();
        break;
    }
    for (const l of this.listeners) l(e);
  }

  private openSocket(): void {
    this.closeSocket();
    const family = isIP(this.opts.peer) as 4 | 6;
    let socket: Socket;
    try {
      socket = withNetns(this.opts.netns, () =>
        tcpConnect({
          host: PEER_HOST,
          port: this.port,
          family,
          autoSelectFamily: false,
          ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
          // Answer synchronously so socket(), bind() and connect() all run inside withNetns.
          lookup: (_host, _o, cb) =>
            (cb as (e: null, a: string, f: number) => void)(null, this.opts.peer, family),
        }),
      );
    } catch (err) {
      this.lastSocketError = fromSystemError("BGP_SOCKET", `connect to ${this.opts.peer}`, err, this.ctx());
      queueMicrotask(() => this.session.tcpFailed(this.lastSocketError?.message));
      return;
    }
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on("connect", () => {
      if (this.socket !== socket) return;
      this.lastSocketError = undefined;
      this.session.tcpConnected(socket.localAddress ?? "");
    });
    socket.on("data", (chunk: Buffer) => {
      if (this.socket === socket)
        this.session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    });
    socket.on("error", (err) => {
      if (this.socket === socket)
        this.lastSocketError = fromSystemError(
          "BGP_SOCKET",
          `connection to ${this.opts.peer}`,
          err,
          this.ctx(),
        );
    });
    socket.on("close", () => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.session.tcpFailed(this.lastSocketError?.message ?? "connection closed by peer");
      }
      const waiters = this.closedWaiters;
      this.closedWaiters = [];
      for (const w of waiters) w();
    });
  }

  private closeSocket(): void {
    const s = this.socket;
    if (!s) return;
    this.socket = undefined;
    // end() flushes what was written (the NOTIFICATION) before the FIN; destroy if the peer lingers.
    s.end();
    setTimeout(() => s.destroy(), 1000).unref();
  }

  private ctx(): { object: string; netns?: string } {
    return {
      object: `${this.opts.peer}:${this.port}`,
      ...(this.opts.netns ? { netns: this.opts.netns } : {}),
    };
  }
}
