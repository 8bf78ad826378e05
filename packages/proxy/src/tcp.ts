// TCP: one client connection, proxied to the real server the model picks. Pipe semantics
// (a side is paused while the other cannot take more), half-close and RST passed through, a
// connect timeout with one retry elsewhere, the idle timeouts of IPVS's tcp/tcpfin.
import { connect, type NetConnectOpts, type Socket } from "node:net";
import type { Binding, Endpoint, ServiceState } from "./engine.js";
import type { ConnectionEntry } from "./model.js";
import {
  encodeProxyHeader,
  ProxyHeaderReader,
  proxiedDestination,
  proxiedSource,
  proxyHeaderFor,
} from "./proxy-protocol.js";
import { type Runtime, type Session, unref } from "./runtime.js";

type State = "HEADER" | "CONNECTING" | "ESTABLISHED" | "FIN_WAIT" | "CLOSED";

interface NodeError extends Error {
  code?: string;
}

/** Errors that mean the peer reset the connection (its RST, or our write after it). */
function isReset(e: NodeError): boolean {
  return e.code === "ECONNRESET" || e.code === "EPIPE";
}

export class TcpSession implements Session {
  private state: State = "CONNECTING";
  private server: Socket | undefined;
  private binding: Binding | undefined;
  private retried = false;
  private aborted = false;
  private clientClosed = false;
  private serverClosed = false;
  private last: number;
  private idleTimer: unknown;
  private connectTimer: unknown;
  private headerTimer: unknown;
  /** Client bytes read along with its PROXY header, sent on first. */
  private pending: Uint8Array | undefined;
  /** The client (the socket's peer, or what its PROXY header says) and the address it reached. */
  private src: Endpoint;
  /** Read lazily (getsockname is a syscall): only a PROXY header to a real server needs it. */
  private dstFromHeader: Endpoint | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly svc: ServiceState,
    private readonly client: Socket,
  ) {
    this.last = rt.clock.now();
    this.src = { address: client.remoteAddress ?? "", port: client.remotePort ?? 0 };
  }

  private get dst(): Endpoint {
    if (this.dstFromHeader) return this.dstFromHeader;
    const c = this.client;
    return { address: c.localAddress ?? this.svc.key.address, port: c.localPort ?? this.svc.key.port };
  }

  start(): void {
    const c = this.client;
    c.on("error", (e: NodeError) => this.onError("client", e));
    c.on("close", () => {
      this.clientClosed = true;
      this.onClosed("client");
    });
    if (this.svc.settings.acceptProxyProtocol) this.readHeader();
    else this.schedule();
  }

  // ---------------------------------------------------------------- PROXY header from the client

  private readHeader(): void {
    this.state = "HEADER";
    const c = this.client;
    const reader = new ProxyHeaderReader({ maxV2Length: this.rt.options.maxProxyHeaderLength });
    const refuse = (why: string) => {
      this.svc.counters.refused++;
      this.svc.counters.badProxyHeader++;
      this.rt.log.debug?.({ service: this.svc.key.name, client: this.src, why }, "proxy: bad PROXY header");
      this.abort();
    };
    const onData = (chunk: Buffer) => {
      const r = reader.push(chunk);
      if (r.status === "incomplete") return;
      c.off("data", onData);
      c.off("end", onEnd);
      c.pause();
      this.rt.clock.clearTimeout(this.headerTimer);
      if (r.status === "error") {
        refuse(`${r.code}: ${r.message}`);
        return;
      }
      // LOCAL (a health check from the proxy in front) keeps the connection's own addresses.
      this.src = proxiedSource(r.header) ?? this.src;
      this.dstFromHeader = proxiedDestination(r.header);
      if (r.rest.length > 0) this.pending = r.rest;
      this.schedule();
    };
    const onEnd = () => refuse("connection ended before its PROXY header");
    c.on("data", onData);
    c.on("end", onEnd);
    this.headerTimer = unref(
      this.rt.clock.setTimeout(() => {
        if (this.state === "HEADER" && !this.aborted) refuse("no PROXY header in time");
      }, this.rt.options.proxyHeaderTimeoutMs),
    );
    c.resume();
  }

  // ---------------------------------------------------------------- scheduling and connecting

  private schedule(): void {
    const svc = this.svc;
    const b = svc.deleted ? undefined : svc.pick(this.src);
    if (!b) {
      svc.counters.refused++;
      this.rt.log.debug?.({ service: svc.key.name, client: this.src }, "proxy: no real server available");
      this.abort();
      return;
    }
    svc.stats.conns++;
    this.rt.total.conns++;
    this.connect(b);
  }

  private connect(b: Binding): void {
    this.binding = b;
    this.state = "CONNECTING";
    const d = b.dest;
    d.stats.conns++;
    const hwm = this.rt.options.highWaterMark;
    // net.Socket passes highWaterMark to both halves (Node >= 18.17; the types lag behind).
    const s = connect({
      host: d.settings.address,
      port: d.settings.port,
      allowHalfOpen: true,
      noDelay: true,
      highWaterMark: hwm,
    } as NetConnectOpts);
    this.server = s;
    s.on("close", () => {
      if (this.server !== s) return;
      this.serverClosed = true;
      this.onClosed("server");
    });
    const onConnectError = (e: NodeError) => this.connectFailed(s, b, e.code ?? "ERROR", false);
    s.once("error", onConnectError);
    this.connectTimer = unref(
      this.rt.clock.setTimeout(
        () => this.connectFailed(s, b, "ETIMEDOUT", true),
        this.rt.options.connectTimeoutMs,
      ),
    );
    s.once("connect", () => {
      this.rt.clock.clearTimeout(this.connectTimer);
      s.off("error", onConnectError);
      if (this.aborted) {
        s.destroy();
        return;
      }
      this.established(s, b);
    });
  }

  private connectFailed(s: Socket, b: Binding, code: string, timedOut: boolean): void {
    if (this.server !== s || this.state !== "CONNECTING") return;
    this.rt.clock.clearTimeout(this.connectTimer);
    s.removeAllListeners();
    s.on("error", () => {});
    s.destroy();
    this.server = undefined;
    if (this.aborted) {
      // The client left while we were connecting: nothing to count against the real server.
      b.close();
      this.maybeFinish();
      return;
    }
    const d = b.dest;
    d.counters.connectFailures++;
    if (timedOut) d.counters.connectTimeouts++;
    this.rt.log.debug?.(
      { service: this.svc.key.name, dest: d.endpoint, code },
      "proxy: connect to real server failed",
    );
    if (!this.retried && this.rt.options.redispatch && !this.svc.deleted) {
      this.retried = true;
      const next = this.svc.repick(this.src, b);
      if (next) {
        d.counters.retries++;
        this.svc.counters.retries++;
        this.connect(next);
        return;
      }
    } else {
      b.close();
    }
    this.svc.counters.refused++;
    this.abort();
  }

  private established(s: Socket, b: Binding): void {
    this.state = "ESTABLISHED";
    const c = this.client;
    const d = b.dest.stats;
    const v = this.svc.stats;
    const t = this.rt.total;
    const clock = this.rt.clock;
    const pp = b.dest.settings.proxyProtocol;
    if (pp) s.write(encodeProxyHeader(proxyHeaderFor(pp === "v1" ? 1 : 2, this.src, this.dst)));
    if (this.pending) {
      const n = this.pending.length;
      d.inPkts++;
      v.inPkts++;
      t.inPkts++;
      d.inBytes += n;
      v.inBytes += n;
      t.inBytes += n;
      s.write(this.pending);
      this.pending = undefined;
    }
    c.on("data", (chunk: Buffer) => {
      const n = chunk.length;
      d.inPkts++;
      v.inPkts++;
      t.inPkts++;
      d.inBytes += n;
      v.inBytes += n;
      t.inBytes += n;
      this.last = clock.now();
      if (!s.write(chunk)) c.pause();
    });
    s.on("data", (chunk: Buffer) => {
      const n = chunk.length;
      d.outPkts++;
      v.outPkts++;
      t.outPkts++;
      d.outBytes += n;
      v.outBytes += n;
      t.outBytes += n;
      this.last = clock.now();
      if (!c.write(chunk)) s.pause();
    });
    // Pipe semantics: the reader resumes once the slow side's queue has drained.
    s.on("drain", () => c.resume());
    c.on("drain", () => s.resume());
    // Half-close: a FIN from one side becomes a FIN to the other once its data is written.
    c.on("end", () => {
      s.end();
      this.halfClosed();
    });
    s.on("end", () => {
      c.end();
      this.halfClosed();
    });
    s.on("error", (e: NodeError) => this.onError("server", e));
    this.last = clock.now();
    this.armIdle();
    c.resume();
  }

  private halfClosed(): void {
    if (this.state !== "ESTABLISHED") return;
    this.state = "FIN_WAIT";
    this.binding?.halfClose();
    this.armIdle();
  }

  // ---------------------------------------------------------------- errors, close, timeouts

  private onError(side: "client" | "server", e: NodeError): void {
    const other = side === "client" ? this.server : this.client;
    if (isReset(e) && this.binding && this.state !== "CONNECTING") this.binding.dest.counters.resets++;
    // An abortive close is passed on as one: the other side gets an RST, not a FIN.
    if (other && !other.destroyed) {
      if (other.connecting) other.destroy();
      else other.resetAndDestroy();
    }
    if (side === "client") this.aborted = true;
  }

  private onClosed(side: "client" | "server"): void {
    const x = side === "client" ? this.client : this.server;
    const y = side === "client" ? this.server : this.client;
    // A side that closed without finishing both directions (destroyed, reset) takes the other
    // along; one that closed cleanly leaves the other to flush what it still has to write.
    if (y && !y.destroyed && x && !(x.readableEnded && x.writableFinished)) y.destroy();
    if (side === "client" && this.state === "CONNECTING") this.aborted = true;
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.state === "CLOSED") return;
    if (!this.clientClosed) return;
    if (this.server && !this.serverClosed) return;
    this.state = "CLOSED";
    const clock = this.rt.clock;
    clock.clearTimeout(this.idleTimer);
    clock.clearTimeout(this.connectTimer);
    clock.clearTimeout(this.headerTimer);
    this.binding?.close();
    this.rt.sessions.delete(this);
  }

  private timeoutMs(): number {
    const t = this.rt.timeouts;
    return (this.state === "FIN_WAIT" ? t.tcpFin : t.tcp) * 1000;
  }

  private armIdle(): void {
    const clock = this.rt.clock;
    clock.clearTimeout(this.idleTimer);
    const wait = this.last + this.timeoutMs() - clock.now();
    this.idleTimer = unref(clock.setTimeout(() => this.idleCheck(), Math.max(0, wait)));
  }

  /** Timers are not moved on every segment: the check looks at the last activity and re-arms. */
  private idleCheck(): void {
    if (this.state === "CLOSED") return;
    if (this.rt.clock.now() - this.last < this.timeoutMs()) {
      this.armIdle();
      return;
    }
    if (this.binding) this.binding.dest.counters.idleTimeouts++;
    this.destroy();
  }

  /** Refuses the client with an RST (no real server, a bad header, the connect failed). */
  private abort(): void {
    this.aborted = true;
    const c = this.client;
    if (!c.destroyed) c.resetAndDestroy();
    if (this.server && !this.server.destroyed) this.server.destroy();
    this.maybeFinish();
  }

  destroy(): void {
    this.aborted = true;
    this.client.destroy();
    this.server?.destroy();
  }

  buffered(): number {
    const c = this.client;
    const s = this.server;
    return (
      c.writableLength +
      c.readableLength +
      (s ? s.writableLength + s.readableLength : 0) +
      (this.pending?.length ?? 0)
    );
  }

  entry(now: number): ConnectionEntry | undefined {
    const b = this.binding;
    if (!b || this.state === "CLOSED" || this.state === "HEADER") return undefined;
    const k = this.svc.key;
    const expires =
      this.state === "CONNECTING"
        ? this.rt.options.connectTimeoutMs / 1000
        : Math.max(0, Math.floor((this.last + this.timeoutMs() - now) / 1000));
    return {
      protocol: "TCP",
      af: k.af,
      clientAddress: this.src.address,
      clientPort: this.src.port,
      virtualAddress: k.address,
      virtualPort: k.port,
      destAf: b.dest.settings.af,
      destAddress: b.dest.settings.address,
      destPort: b.dest.settings.port,
      state: this.state === "CONNECTING" ? "SYN_RECV" : this.state,
      expires: Math.floor(expires),
      peName: undefined,
      peData: undefined,
    };
  }
}
