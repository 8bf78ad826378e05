// UDP: one flow per client address:port (IPVS's UDP connection entry), each with its own socket
// connected to the real server the model picked; replies go back from the service's socket.
// A flow ends after the udp timeout without datagrams either way.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { AF_INET6 } from "@lvs/inet";
import { IP_VS_SVC_F_ONEPACKET } from "@lvs/scheduler";
import type { Binding, Endpoint, ServiceState } from "./engine.js";
import { ProxyError } from "./errors.js";
import type { ConnectionEntry } from "./model.js";
import { type Runtime, type Session, unref } from "./runtime.js";

/** Datagrams a new flow holds while its socket connects (more are dropped, as a full queue does). */
const MAX_QUEUED = 64;

interface NodeError extends Error {
  code?: string;
}

export class UdpListener {
  readonly socket: Socket;
  private readonly flows = new Map<string, UdpFlow>();

  constructor(
    private readonly rt: Runtime,
    private readonly svc: ServiceState,
    /** Whether one more connection may start (the proxy's and the service's limits). */
    private readonly admit: () => boolean,
  ) {
    this.socket = createSocket({ type: svc.key.af === AF_INET6 ? "udp6" : "udp4" });
    this.socket.on("message", (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket.on("error", (e) =>
      rt.log.warn?.({ service: svc.key.name, err: e }, "proxy: UDP socket error"),
    );
  }

  bind(): Promise<void> {
    const { address, port, name } = this.svc.key;
    return new Promise((resolve, reject) => {
      const onError = (e: NodeError) => {
        reject(
          new ProxyError("PROXY_BIND_FAILED", `${name}: cannot listen: ${e.message}`, {
            object: name,
            errnoName: e.code,
            cause: e,
          }),
        );
      };
      this.socket.once("error", onError);
      this.socket.bind({ address, port, exclusive: true }, () => {
        this.socket.off("error", onError);
        resolve();
      });
    });
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const oneShot = (this.svc.settings.flags & IP_VS_SVC_F_ONEPACKET) !== 0;
    const key = `${rinfo.address}|${rinfo.port}`;
    let f = oneShot ? undefined : this.flows.get(key);
    if (!f) {
      const svc = this.svc;
      if (svc.deleted) return;
      if (!this.admit()) {
        svc.counters.refused++;
        svc.counters.overLimit++;
        return;
      }
      const client = { address: rinfo.address, port: rinfo.port };
      const b = svc.pick(client);
      if (!b) {
        svc.counters.refused++;
        return;
      }
      svc.stats.conns++;
      b.dest.stats.conns++;
      this.rt.total.conns++;
      f = new UdpFlow(this.rt, this, client, b, oneShot);
      if (!oneShot) this.flows.set(key, f);
      this.rt.sessions.add(f);
    }
    f.send(msg);
  }

  /** A reply from a real server, sent to the client from the service's address. */
  reply(client: Endpoint, msg: Buffer): void {
    try {
      this.socket.send(msg, client.port, client.address);
    } catch {
      // the service's socket is closed (deleted): the reply has no way out
    }
  }

  forget(f: UdpFlow, client: Endpoint): void {
    const key = `${client.address}|${client.port}`;
    if (this.flows.get(key) === f) this.flows.delete(key);
  }

  get service(): ServiceState {
    return this.svc;
  }

  /** Stops receiving; the flows end with it (their replies would have no socket to leave by). */
  close(): void {
    for (const f of [...this.flows.values()]) f.destroy();
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

class UdpFlow implements Session {
  private readonly sock: Socket;
  private connected = false;
  private queue: Buffer[] = [];
  private last: number;
  private timer: unknown;
  private closed = false;

  constructor(
    private readonly rt: Runtime,
    private readonly listener: UdpListener,
    private readonly client: Endpoint,
    private readonly binding: Binding,
    private readonly oneShot: boolean,
  ) {
    this.last = rt.clock.now();
    const d = binding.dest;
    this.sock = createSocket({ type: d.settings.af === AF_INET6 ? "udp6" : "udp4" });
    this.sock.on("message", (msg) => this.onReply(msg));
    this.sock.on("error", (e: NodeError) => {
      // ICMP port/host unreachable comes back as ECONNREFUSED on the connected socket.
      d.counters.connectFailures++;
      rt.log.debug?.({ dest: d.endpoint, code: e.code }, "proxy: UDP real server error");
      this.destroy();
    });
    this.sock.connect(d.settings.port, d.settings.address, () => {
      if (this.closed) return;
      this.connected = true;
      for (const m of this.queue) this.sock.send(m);
      this.queue = [];
    });
    this.arm();
  }

  send(msg: Buffer): void {
    if (this.closed) return;
    const n = msg.length;
    const d = this.binding.dest.stats;
    const v = this.listener.service.stats;
    const t = this.rt.total;
    d.inPkts++;
    v.inPkts++;
    t.inPkts++;
    d.inBytes += n;
    v.inBytes += n;
    t.inBytes += n;
    this.last = this.rt.clock.now();
    if (this.connected) this.sock.send(msg);
    else if (this.queue.length < MAX_QUEUED) this.queue.push(msg);
  }

  private onReply(msg: Buffer): void {
    if (this.closed) return;
    const n = msg.length;
    const d = this.binding.dest.stats;
    const v = this.listener.service.stats;
    const t = this.rt.total;
    d.outPkts++;
    v.outPkts++;
    t.outPkts++;
    d.outBytes += n;
    v.outBytes += n;
    t.outBytes += n;
    this.last = this.rt.clock.now();
    this.listener.reply(this.client, msg);
    // One-packet scheduling (-o): the entry is done once the real server has answered.
    if (this.oneShot) this.destroy();
  }

  private timeoutMs(): number {
    return this.rt.timeouts.udp * 1000;
  }

  private arm(): void {
    const clock = this.rt.clock;
    clock.clearTimeout(this.timer);
    const wait = this.last + this.timeoutMs() - clock.now();
    this.timer = unref(clock.setTimeout(() => this.check(), Math.max(0, wait)));
  }

  private check(): void {
    if (this.closed) return;
    if (this.rt.clock.now() - this.last < this.timeoutMs()) {
      this.arm();
      return;
    }
    this.binding.dest.counters.idleTimeouts++;
    this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.rt.clock.clearTimeout(this.timer);
    try {
      this.sock.close();
    } catch {
      // already closed
    }
    this.binding.close();
    this.listener.forget(this, this.client);
    this.rt.sessions.delete(this);
  }

  buffered(): number {
    let n = 0;
    for (const m of this.queue) n += m.length;
    return n;
  }

  entry(now: number): ConnectionEntry | undefined {
    if (this.closed) return undefined;
    const k = this.listener.service.key;
    const d = this.binding.dest.settings;
    return {
      protocol: "UDP",
      af: k.af,
      clientAddress: this.client.address,
      clientPort: this.client.port,
      virtualAddress: k.address,
      virtualPort: k.port,
      destAf: d.af,
      destAddress: d.address,
      destPort: d.port,
      state: "UDP",
      expires: Math.max(0, Math.floor((this.last + this.timeoutMs() - now) / 1000)),
      peName: undefined,
      peData: undefined,
    };
  }
}
