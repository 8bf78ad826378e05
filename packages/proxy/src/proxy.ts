// createProxy(): the service table (engine.ts) with a listening socket per service (tcp.ts,
// udp.ts), IPVS's operations on top, the estimator and the model refresh on the injected clock.
import { createServer, type Server, type Socket } from "node:net";
import { type Clock, IPPROTO_TCP, systemClock } from "@lvs/inet";
import { TCP_TIMEOUTS_S, UDP_TIMEOUT_S } from "@lvs/scheduler";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_PROXY_HEADER_TIMEOUT_MS,
  ESTIMATOR_TICK_MS,
  PP_V2_DEFAULT_MAX_LENGTH,
  PP_V2_MAX_LENGTH,
} from "./constants.js";
import { MODEL_REFRESH_MS, ServiceState } from "./engine.js";
import { ProxyError } from "./errors.js";
import type {
  ConnectionEntry,
  DestinationConfig,
  DestinationKey,
  Operation,
  OperationResult,
  ServiceConfig,
  ServiceKey,
  ServiceWithDests,
  Stats,
  Timeouts,
} from "./model.js";
import { type ProxyLogger, type Runtime, type RuntimeOptions, type Session, unref } from "./runtime.js";
import { canonicalKey, keyId } from "./settings.js";
import { Counters } from "./stats.js";
import { TcpSession } from "./tcp.js";
import { UdpListener } from "./udp.js";

export interface ProxyOptions {
  /** Time for every timer (idle, connect, estimator); default the system clock. */
  clock?: Clock;
  log?: ProxyLogger;
  /** Time to connect to a real server before it counts as failed (default 5000 ms). */
  connectTimeoutMs?: number;
  /** One retry on another real server after a failed connect (default true; haproxy's redispatch). */
  redispatch?: boolean;
  /** Connections and UDP flows at once over all services (0 = no limit, the default). */
  maxConnections?: number;
  /** Bytes queued towards one side before the other is paused (default 64 KiB). */
  highWaterMark?: number;
  /** Time a client has to send its PROXY header where one is accepted (default 5000 ms). */
  proxyHeaderTimeoutMs?: number;
  /** Largest PROXY v2 header accepted, bytes (default 4096). */
  maxProxyHeaderLength?: number;
  /** Initial idle timeouts, seconds (defaults 900/120/300 as IPVS). */
  timeouts?: Partial<Timeouts>;
  /** A random integer in [0, bound) for the twos scheduler (default Math.random). */
  random?: (bound: number) => number;
}

/** The userspace dataplane: IPVS's table and counters, served by sockets. */
export interface ProxyDataplane {
  /** ipvsadm -A: starts listening on the service's address:port. */
  addService(service: ServiceConfig): Promise<void>;
  /**
   * ipvsadm -E: scheduler, flags, persistence, PROXY acceptance, limit (not the address). Omitted
   * settings take their defaults, as ipvsadm -E sends every field.
   */
  editService(service: ServiceConfig): Promise<void>;
  /** ipvsadm -D: stops listening; its established TCP connections finish on their own. */
  deleteService(service: ServiceKey): Promise<void>;
  addDest(service: ServiceKey, dest: DestinationConfig): Promise<void>;
  /** ipvsadm -e: omitted settings take their defaults (weight 1, no thresholds, no PROXY header). */
  editDest(service: ServiceKey, dest: DestinationConfig): Promise<void>;
  /** ipvsadm -d: no new connections; established ones continue (IPVS keeps them too). */
  deleteDest(service: ServiceKey, dest: DestinationKey): Promise<void>;
  /** ipvsadm -C: deletes every service (their established TCP connections finish on their own). */
  flush(): Promise<void>;
  /** Applies operations in order; each one's error is reported, the rest still run (as a netlink batch). */
  apply(operations: readonly Operation[]): Promise<OperationResult[]>;
  /** The table with counters, real servers in the kernel's list order. */
  listServices(): ServiceWithDests[];
  /** One service, or undefined. */
  getService(service: ServiceKey): ServiceWithDests | undefined;
  /** Totals over every service (IPVS's ip_vs_stats). */
  stats(): Stats;
  /** Connections, UDP flows and persistence templates, as `ipvsadm -Lcn` lists them. */
  connections(): ConnectionEntry[];
  timeouts(): Timeouts;
  /** ipvsadm --set: 0 leaves a value unchanged. */
  setTimeouts(t: Partial<Timeouts>): void;
  /** ipvsadm -Z [service]: counters and rates restart from zero. */
  zeroStats(service?: ServiceKey): void;
  /** Bytes the proxy holds for its connections right now (bounded by the high-water marks). */
  bufferedBytes(): number;
  /** Stops every listener and closes every connection. */
  close(): Promise<void>;
}

interface Listener {
  state: ServiceState;
  tcp?: Server;
  udp?: UdpListener;
}

function positive(v: number | undefined, dflt: number, what: string, max = 2 ** 31 - 1): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new ProxyError("PROXY_BAD_VALUE", `${what} must be an integer 0..${max}, got ${v}`, {
      object: what,
    });
  }
  return v;
}

export function createProxy(opts: ProxyOptions = {}): ProxyDataplane {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? {};
  const options: RuntimeOptions = {
    connectTimeoutMs: positive(opts.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMs"),
    redispatch: opts.redispatch ?? true,
    highWaterMark: positive(opts.highWaterMark, DEFAULT_HIGH_WATER_MARK, "highWaterMark"),
    proxyHeaderTimeoutMs: positive(
      opts.proxyHeaderTimeoutMs,
      DEFAULT_PROXY_HEADER_TIMEOUT_MS,
      "proxyHeaderTimeoutMs",
    ),
    maxProxyHeaderLength: positive(
      opts.maxProxyHeaderLength,
      PP_V2_DEFAULT_MAX_LENGTH,
      "maxProxyHeaderLength",
      PP_V2_MAX_LENGTH,
    ),
    maxConnections: positive(opts.maxConnections, 0, "maxConnections"),
    random: opts.random,
  };
  // ip_vs_proto_tcp.c / ip_vs_proto_udp.c defaults, what `ipvsadm -L --timeout` shows: 900 120 300.
  const timeouts: Timeouts = {
    tcp: TCP_TIMEOUTS_S.ESTABLISHED,
    tcpFin: TCP_TIMEOUTS_S.FIN_WAIT,
    udp: UDP_TIMEOUT_S,
  };
  const rt: Runtime = { clock, log, options, timeouts, total: new Counters(), sessions: new Set<Session>() };
  const listeners = new Map<string, Listener>();
  /** Services deleted while connections still ran: their counters still move. */
  const retired = new Set<ServiceState>();
  let closed = false;

  function setTimeouts(t: Partial<Timeouts>): void {
    for (const k of ["tcp", "tcpFin", "udp"] as const) {
      const v = t[k];
      if (v === undefined || v === 0) continue;
      timeouts[k] = positive(v, 0, `timeouts.${k}`);
    }
  }
  if (opts.timeouts) setTimeouts(opts.timeouts);

  // The estimator (every 2 s) and the model refresh (every 10 s) run while the proxy is open.
  let estTimer: unknown;
  let refreshTimer: unknown;
  const estimate = () => {
    rt.total.tick();
    for (const l of listeners.values()) for (const c of l.state.allCounters()) c.tick();
    for (const s of retired) for (const c of s.allCounters()) c.tick();
    estTimer = unref(clock.setTimeout(estimate, ESTIMATOR_TICK_MS));
  };
  const refresh = () => {
    for (const l of listeners.values()) refreshService(l.state);
    for (const s of retired) {
      refreshService(s);
      if (s.live.size === 0) retired.delete(s);
    }
    refreshTimer = unref(clock.setTimeout(refresh, MODEL_REFRESH_MS));
  };
  const refreshService = (s: ServiceState) => {
    const before = s.modelExpiries;
    s.refresh();
    if (s.modelExpiries > before) {
      log.warn?.(
        { service: s.key.name, entries: s.modelExpiries - before },
        "proxy: scheduler entries expired before their connections (event loop stalled?); counters may be low",
      );
    }
  };
  estTimer = unref(clock.setTimeout(estimate, ESTIMATOR_TICK_MS));
  refreshTimer = unref(clock.setTimeout(refresh, MODEL_REFRESH_MS));

  function open(): void {
    if (closed) throw new ProxyError("PROXY_CLOSED", "the proxy is closed");
  }

  function find(k: ServiceKey): Listener {
    const key = canonicalKey(k);
    const l = listeners.get(keyId(key));
    if (!l) {
      throw new ProxyError("PROXY_NO_SERVICE", `no service ${key.name}`, {
        object: key.name,
        errnoName: "ESRCH",
      });
    }
    return l;
  }

  function admit(state: ServiceState): boolean {
    if (options.maxConnections && rt.sessions.size >= options.maxConnections) return false;
    const max = state.settings.maxConnections;
    return !max || state.live.size < max;
  }

  function onTcpConnection(state: ServiceState, client: Socket): void {
    if (closed || state.deleted) {
      client.destroy();
      return;
    }
    if (!admit(state)) {
      state.counters.refused++;
      state.counters.overLimit++;
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    const session = new TcpSession(rt, state, client);
    rt.sessions.add(session);
    session.start();
  }

  function listenTcp(state: ServiceState): Promise<Server> {
    const { address, port, name } = state.key;
    const server = createServer({
      allowHalfOpen: true,
      pauseOnConnect: true,
      noDelay: true,
      highWaterMark: options.highWaterMark,
    });
    server.on("connection", (c) => onTcpConnection(state, c));
    return new Promise((resolve, reject) => {
      const onError = (e: Error & { code?: string }) => {
        reject(
          new ProxyError("PROXY_BIND_FAILED", `${name}: cannot listen: ${e.message}`, {
            object: name,
            errnoName: e.code,
            cause: e,
          }),
        );
      };
      server.once("error", onError);
      server.listen({ host: address, port, exclusive: true, backlog: 4096 }, () => {
        server.off("error", onError);
        server.on("error", (e) => log.error?.({ service: name, err: e }, "proxy: listener error"));
        resolve(server);
      });
    });
  }

  async function addService(c: ServiceConfig): Promise<void> {
    open();
    const key = canonicalKey(c);
    const id = keyId(key);
    if (listeners.has(id)) {
      throw new ProxyError("PROXY_SERVICE_EXISTS", `service ${key.name} exists`, {
        object: key.name,
        errnoName: "EEXIST",
      });
    }
    const state = new ServiceState(key, c, () => clock.now(), options.random);
    const l: Listener = { state };
    listeners.set(id, l);
    try {
      if (key.protocol === IPPROTO_TCP) l.tcp = await listenTcp(state);
      else {
        l.udp = new UdpListener(rt, state, () => admit(state));
        await l.udp.bind();
      }
    } catch (e) {
      listeners.delete(id);
      throw e;
    }
    if (closed) {
      l.tcp?.close();
      l.udp?.close();
      throw new ProxyError("PROXY_CLOSED", "the proxy was closed while the service was being added");
    }
    log.info?.({ service: key.name, scheduler: state.settings.scheduler }, `proxy: listening on ${key.name}`);
  }

  async function deleteService(k: ServiceKey): Promise<void> {
    open();
    const l = find(k);
    listeners.delete(keyId(l.state.key));
    l.state.deleted = true;
    l.tcp?.close();
    l.udp?.close();
    if (l.state.live.size > 0) retired.add(l.state);
  }

  async function apply(ops: readonly Operation[]): Promise<OperationResult[]> {
    const out: OperationResult[] = [];
    for (const o of ops) {
      try {
        switch (o.op) {
          case "addService":
            await addService(o.service);
            break;
          case "editService":
            await proxy.editService(o.service);
            break;
          case "delService":
            await deleteService(o.service);
            break;
          case "addDest":
            await proxy.addDest(o.service, o.dest);
            break;
          case "editDest":
            await proxy.editDest(o.service, o.dest);
            break;
          case "delDest":
            await proxy.deleteDest(o.service, o.dest);
            break;
          default:
            throw new ProxyError(
              "PROXY_BAD_VALUE",
              `unknown operation ${JSON.stringify((o as { op?: unknown }).op)}`,
            );
        }
        out.push({ operation: o, error: undefined });
      } catch (e) {
        const err =
          e instanceof ProxyError
            ? e
            : new ProxyError("PROXY_BAD_VALUE", e instanceof Error ? e.message : String(e), { cause: e });
        out.push({ operation: o, error: err });
      }
    }
    return out;
  }

  const proxy: ProxyDataplane = {
    addService,
    async editService(c) {
      open();
      find(c).state.edit(c);
    },
    deleteService,
    async addDest(k, d) {
      open();
      find(k).state.addDest(d);
    },
    async editDest(k, d) {
      open();
      find(k).state.editDest(d);
    },
    async deleteDest(k, d) {
      open();
      find(k).state.deleteDest(d.address, d.port);
    },
    apply,
    async flush() {
      open();
      for (const l of [...listeners.values()]) await deleteService(l.state.key);
    },
    listServices() {
      return [...listeners.values()].map((l) => ({
        service: l.state.entry(),
        dests: l.state.dests.map((d) => d.entry()),
      }));
    },
    getService(k) {
      const l = listeners.get(keyId(canonicalKey(k)));
      return l ? { service: l.state.entry(), dests: l.state.dests.map((d) => d.entry()) } : undefined;
    },
    stats() {
      return rt.total.read();
    },
    connections() {
      const now = clock.now();
      const out: ConnectionEntry[] = [];
      for (const s of rt.sessions) {
        const e = s.entry(now);
        if (e) out.push(e);
      }
      for (const l of listeners.values()) out.push(...l.state.templateEntries(now));
      return out;
    },
    bufferedBytes() {
      let n = 0;
      for (const s of rt.sessions) n += s.buffered();
      return n;
    },
    timeouts() {
      return { ...timeouts };
    },
    setTimeouts,
    zeroStats(k) {
      if (k) {
        for (const c of find(k).state.allCounters()) c.reset();
        return;
      }
      rt.total.reset();
      for (const l of listeners.values()) for (const c of l.state.allCounters()) c.reset();
    },
    async close() {
      if (closed) return;
      closed = true;
      clock.clearTimeout(estTimer);
      clock.clearTimeout(refreshTimer);
      const waits: Promise<void>[] = [];
      for (const l of listeners.values()) {
        l.state.deleted = true;
        if (l.tcp) {
          const server = l.tcp;
          waits.push(new Promise((resolve) => server.close(() => resolve())));
        }
        l.udp?.close();
      }
      listeners.clear();
      for (const s of [...rt.sessions]) s.destroy();
      await Promise.all(waits);
    },
  };
  return proxy;
}
