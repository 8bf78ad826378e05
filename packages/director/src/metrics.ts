// Prometheus metrics (prom-client). Kernel figures use node_exporter's IPVS collector names and
// labels under an `lvs_` prefix (`lvs_backend_connections_active{local_address,local_port,
// remote_address,remote_port,proto,local_mark}`, `lvs_connections_total`…), so dashboards built
// for node_exporter carry over; the daemon's own figures (health, quorum, drains, reconcile
// passes, drift repairs, errors, VRRP) come next to them. Kernel values are those of the last
// full reconcile pass (one dump serves both), so a scrape never touches the kernel.
import { readFile } from "node:fs/promises";
import type { ServiceWithDests, Stats } from "@lvs/ipvs";
import { PROTOCOL_NAMES } from "@lvs/ipvs";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { VrrpInstanceStatus } from "./vrrp.js";

/** One configured real server as the metrics see it. */
export interface RealServerMetric {
  virtualServer: string;
  realServer: string;
  alive: boolean;
  effectiveWeight: number;
  /** 0 none, 1 draining, 2 drained. */
  drain: number;
  disabled: boolean;
  checks: Array<{ check: string; up: boolean; latencyMs: number | undefined }>;
}

/** What the daemon tells the metrics at scrape time. */
export interface MetricsSource {
  /** The last table read (every service, ours or not), undefined before the first pass. */
  table(): readonly ServiceWithDests[] | undefined;
  realServers(): RealServerMetric[];
  virtualServers(): Array<{
    virtualServer: string;
    quorumUp: boolean;
    liveWeight: number;
    sorryActive: boolean;
    suspended: boolean;
  }>;
  vrrp(): VrrpInstanceStatus[];
}

const BACKEND_LABELS = [
  "local_address",
  "local_port",
  "remote_address",
  "remote_port",
  "proto",
  "local_mark",
] as const;
const SERVICE_LABELS = ["local_address", "local_port", "proto", "local_mark"] as const;
type BackendLabel = (typeof BACKEND_LABELS)[number];
type ServiceLabel = (typeof SERVICE_LABELS)[number];

const n = (v: bigint | number | undefined): number => (v === undefined ? 0 : Number(v));

function serviceLabels(s: ServiceWithDests["service"]): Record<ServiceLabel, string> {
  if (s.fwmark) return { local_address: "", local_port: "0", proto: "FWM", local_mark: String(s.fwmark) };
  return {
    local_address: s.address,
    local_port: String(s.port),
    proto: PROTOCOL_NAMES[s.protocol] ?? String(s.protocol),
    local_mark: "",
  };
}

/** /proc/net/ip_vs_stats: the kernel's totals (hex), as node_exporter reads them. */
export function parseIpvsStats(
  text: string,
): { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number } | undefined {
  const lines = text.split("\n");
  const row = lines[2]?.trim().split(/\s+/);
  if (!row || row.length < 5) return undefined;
  const v = row.map((h) => Number.parseInt(h, 16));
  if (v.some((x) => !Number.isFinite(x))) return undefined;
  return {
    conns: v[0] as number,
    inPkts: v[1] as number,
    outPkts: v[2] as number,
    inBytes: v[3] as number,
    outBytes: v[4] as number,
  };
}

const VRRP_STATE_VALUE: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

export class DirectorMetrics {
  readonly registry = new Registry();
  readonly passes: Counter<"kind">;
  readonly passDuration: Histogram<"kind">;
  readonly operations: Counter<"op">;
  readonly errors: Counter<"op" | "errno">;
  readonly drift: Counter<"object">;
  readonly reloads: Counter<"result">;
  readonly transitions: Counter<"transition">;
  readonly scripts: Counter<"script" | "result">;
  readonly drains: Counter<"result">;
  readonly readErrors: Counter;

  constructor(source: MetricsSource, statsPath = "/proc/net/ip_vs_stats") {
    const r = this.registry;
    const table = () => source.table() ?? [];

    const backendGauge = (
      name: string,
      help: string,
      pick: (d: ServiceWithDests["dests"][number]) => number,
    ) =>
      new Gauge<BackendLabel>({
        name,
        help,
        labelNames: [...BACKEND_LABELS],
        registers: [r],
        collect() {
          this.reset();
          for (const { service, dests } of table()) {
            const sl = serviceLabels(service);
            for (const d of dests) {
              this.set({ ...sl, remote_address: d.address, remote_port: String(d.port) }, pick(d));
            }
          }
        },
      });
    const backendCounter = (name: string, help: string, pick: (s: Stats) => bigint) =>
      new Counter<BackendLabel>({
        name,
        help,
        labelNames: [...BACKEND_LABELS],
        registers: [r],
        collect() {
          this.reset();
          for (const { service, dests } of table()) {
            const sl = serviceLabels(service);
            for (const d of dests) {
              const st = d.stats64 ?? d.stats;
              this.inc(
                { ...sl, remote_address: d.address, remote_port: String(d.port) },
                st ? n(pick(st)) : 0,
              );
            }
          }
        },
      });
    const serviceCounter = (name: string, help: string, pick: (s: Stats) => bigint) =>
      new Counter<ServiceLabel>({
        name,
        help,
        labelNames: [...SERVICE_LABELS],
        registers: [r],
        collect() {
          this.reset();
          for (const { service } of table()) {
            const st = service.stats64 ?? service.stats;
            this.inc(serviceLabels(service), st ? n(pick(st)) : 0);
          }
        },
      });
    const serviceGauge = (name: string, help: string, pick: (s: Stats) => bigint) =>
      new Gauge<ServiceLabel>({
        name,
        help,
        labelNames: [...SERVICE_LABELS],
        registers: [r],
        collect() {
          this.reset();
          for (const { service } of table()) {
            const st = service.stats64 ?? service.stats;
            this.set(serviceLabels(service), st ? n(pick(st)) : 0);
          }
        },
      });

    // node_exporter's IPVS collector, same names after the prefix.
    backendGauge(
      "lvs_backend_connections_active",
      "The current active connections by local and remote address.",
      (d) => d.activeConns,
    );
    backendGauge(
      "lvs_backend_connections_inactive",
      "The current inactive connections by local and remote address.",
      (d) => d.inactiveConns,
    );
    backendGauge(
      "lvs_backend_weight",
      "The current backend weight by local and remote address.",
      (d) => d.weight,
    );
    const statsPath2 = statsPath;
    const totals = async () => {
      try {
        const t = parseIpvsStats(await readFile(statsPath2, "utf8"));
        if (t) return t;
      } catch {
        // not in this namespace / no IPVS: sum what the dump has
      }
      const sum = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
      for (const { service } of table()) {
        const st = service.stats64 ?? service.stats;
        if (!st) continue;
        sum.conns += n(st.conns);
        sum.inPkts += n(st.inPkts);
        sum.outPkts += n(st.outPkts);
        sum.inBytes += n(st.inBytes);
        sum.outBytes += n(st.outBytes);
      }
      return sum;
    };
    const total = (
      name: string,
      help: string,
      key: "conns" | "inPkts" | "outPkts" | "inBytes" | "outBytes",
    ) =>
      new Counter({
        name,
        help,
        registers: [r],
        async collect() {
          this.reset();
          this.inc((await totals())[key]);
        },
      });
    total("lvs_connections_total", "The total number of connections made.", "conns");
    total("lvs_incoming_packets_total", "The total number of incoming packets.", "inPkts");
    total("lvs_outgoing_packets_total", "The total number of outgoing packets.", "outPkts");
    total("lvs_incoming_bytes_total", "The total amount of incoming data.", "inBytes");
    total("lvs_outgoing_bytes_total", "The total amount of outgoing data.", "outBytes");

    // Per backend and per service counters and rates (the kernel's stats64).
    backendCounter("lvs_backend_connections_total", "Connections scheduled to the backend.", (s) => s.conns);
    backendCounter(
      "lvs_backend_incoming_packets_total",
      "Packets from clients to the backend.",
      (s) => s.inPkts,
    );
    backendCounter(
      "lvs_backend_outgoing_packets_total",
      "Packets from the backend to clients.",
      (s) => s.outPkts,
    );
    backendCounter(
      "lvs_backend_incoming_bytes_total",
      "Bytes from clients to the backend.",
      (s) => s.inBytes,
    );
    backendCounter(
      "lvs_backend_outgoing_bytes_total",
      "Bytes from the backend to clients.",
      (s) => s.outBytes,
    );
    backendGauge("lvs_backend_connections_per_second", "Connection rate (kernel estimator, 2 s).", (d) =>
      n((d.stats64 ?? d.stats)?.cps),
    );
    backendGauge("lvs_backend_incoming_bytes_per_second", "Incoming byte rate (kernel estimator).", (d) =>
      n((d.stats64 ?? d.stats)?.inBps),
    );
    backendGauge("lvs_backend_outgoing_bytes_per_second", "Outgoing byte rate (kernel estimator).", (d) =>
      n((d.stats64 ?? d.stats)?.outBps),
    );
    backendGauge(
      "lvs_backend_connections_persistent",
      "Persistence templates pointing at the backend.",
      (d) => d.persistConns,
    );
    serviceCounter("lvs_service_connections_total", "Connections scheduled by the service.", (s) => s.conns);
    serviceCounter(
      "lvs_service_incoming_packets_total",
      "Packets from clients to the service.",
      (s) => s.inPkts,
    );
    serviceCounter(
      "lvs_service_outgoing_packets_total",
      "Packets from the service to clients.",
      (s) => s.outPkts,
    );
    serviceCounter(
      "lvs_service_incoming_bytes_total",
      "Bytes from clients to the service.",
      (s) => s.inBytes,
    );
    serviceCounter(
      "lvs_service_outgoing_bytes_total",
      "Bytes from the service to clients.",
      (s) => s.outBytes,
    );
    serviceGauge(
      "lvs_service_connections_per_second",
      "Connection rate of the service (kernel estimator).",
      (s) => s.cps,
    );
    serviceGauge(
      "lvs_service_incoming_packets_per_second",
      "Incoming packet rate of the service.",
      (s) => s.inPps,
    );
    serviceGauge(
      "lvs_service_outgoing_packets_per_second",
      "Outgoing packet rate of the service.",
      (s) => s.outPps,
    );

    // Health, weights and runtime state, per configured virtual/real server.
    const rsGauge = (name: string, help: string, pick: (x: RealServerMetric) => number) =>
      new Gauge<"virtual_server" | "real_server">({
        name,
        help,
        labelNames: ["virtual_server", "real_server"],
        registers: [r],
        collect() {
          this.reset();
          for (const x of source.realServers())
            this.set({ virtual_server: x.virtualServer, real_server: x.realServer }, pick(x));
        },
      });
    rsGauge("lvs_real_server_up", "1 when every health check of the real server passes.", (x) =>
      x.alive ? 1 : 0,
    );
    rsGauge(
      "lvs_real_server_weight",
      "Weight from config, runtime changes and checks (before drain/inhibit).",
      (x) => x.effectiveWeight,
    );
    rsGauge(
      "lvs_real_server_drain",
      "0 serving, 1 draining (weight 0, waiting for connections to end), 2 drained (removed).",
      (x) => x.drain,
    );
    rsGauge("lvs_real_server_disabled", "1 when disabled through the API.", (x) => (x.disabled ? 1 : 0));
    new Gauge<"virtual_server" | "real_server" | "check">({
      name: "lvs_health_check_up",
      help: "Health check state (1 up).",
      labelNames: ["virtual_server", "real_server", "check"],
      registers: [r],
      collect() {
        this.reset();
        for (const x of source.realServers())
          for (const c of x.checks)
            this.set(
              { virtual_server: x.virtualServer, real_server: x.realServer, check: c.check },
              c.up ? 1 : 0,
            );
      },
    });
    new Gauge<"virtual_server" | "real_server" | "check">({
      name: "lvs_health_check_latency_seconds",
      help: "Duration of the last probe.",
      labelNames: ["virtual_server", "real_server", "check"],
      registers: [r],
      collect() {
        this.reset();
        for (const x of source.realServers())
          for (const c of x.checks)
            if (c.latencyMs !== undefined)
              this.set(
                { virtual_server: x.virtualServer, real_server: x.realServer, check: c.check },
                c.latencyMs / 1000,
              );
      },
    });
    const vsGauge = (
      name: string,
      help: string,
      pick: (x: ReturnType<MetricsSource["virtualServers"]>[number]) => number,
    ) =>
      new Gauge<"virtual_server">({
        name,
        help,
        labelNames: ["virtual_server"],
        registers: [r],
        collect() {
          this.reset();
          for (const x of source.virtualServers()) this.set({ virtual_server: x.virtualServer }, pick(x));
        },
      });
    vsGauge("lvs_virtual_server_quorum_up", "1 while the live weight meets quorum (with hysteresis).", (x) =>
      x.quorumUp ? 1 : 0,
    );
    vsGauge(
      "lvs_virtual_server_live_weight",
      "Sum of the weights of alive real servers.",
      (x) => x.liveWeight,
    );
    vsGauge("lvs_virtual_server_sorry_server_active", "1 while the sorry server is the pool.", (x) =>
      x.sorryActive ? 1 : 0,
    );
    vsGauge(
      "lvs_virtual_server_checks_suspended",
      "1 while ha_suspend holds the checks (VIP not local).",
      (x) => (x.suspended ? 1 : 0),
    );

    // VRRP, keepalived-exporter style (state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP).
    new Gauge<"iname" | "intf" | "vrid" | "ip_address">({
      name: "lvs_vrrp_state",
      help: "State of each VRRP instance and VIP (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP).",
      labelNames: ["iname", "intf", "vrid", "ip_address"],
      registers: [r],
      collect() {
        this.reset();
        for (const v of source.vrrp()) {
          for (const ip of v.vips.length ? v.vips : [""]) {
            this.set(
              { iname: v.name, intf: v.interface, vrid: String(v.vrid), ip_address: ip },
              VRRP_STATE_VALUE[v.state] ?? 0,
            );
          }
        }
      },
    });
    for (const k of [
      "advert_rcvd",
      "advert_sent",
      "become_master",
      "release_master",
      "ip_ttl_err",
      "auth_failure",
      "pri_zero_rcvd",
      "pri_zero_sent",
    ] as const) {
      new Counter<"iname" | "intf" | "vrid">({
        name: `lvs_vrrp_${k}_total`,
        help: `keepalived's ${k} counter of each VRRP instance.`,
        labelNames: ["iname", "intf", "vrid"],
        registers: [r],
        collect() {
          this.reset();
          for (const v of source.vrrp()) {
            const c = v.counters?.[k];
            if (c !== undefined) this.inc({ iname: v.name, intf: v.interface, vrid: String(v.vrid) }, c);
          }
        },
      });
    }

    // The daemon itself.
    this.passes = new Counter({
      name: "lvs_reconcile_passes_total",
      help: "Reconcile passes (full: whole table; scoped: services an event touched).",
      labelNames: ["kind"],
      registers: [r],
    });
    this.passDuration = new Histogram({
      name: "lvs_reconcile_duration_seconds",
      help: "Duration of a reconcile pass (read + diff + apply).",
      labelNames: ["kind"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: [r],
    });
    this.operations = new Counter({
      name: "lvs_reconcile_operations_total",
      help: "Kernel operations sent, by kind.",
      labelNames: ["op"],
      registers: [r],
    });
    this.errors = new Counter({
      name: "lvs_reconcile_errors_total",
      help: "Kernel operations refused, by kind and errno.",
      labelNames: ["op", "errno"],
      registers: [r],
    });
    this.readErrors = new Counter({
      name: "lvs_reconcile_read_errors_total",
      help: "Passes that could not read the kernel table.",
      registers: [r],
    });
    this.drift = new Counter({
      name: "lvs_drift_repairs_total",
      help: "Services or real servers restored after a change made behind the daemon's back.",
      labelNames: ["object"],
      registers: [r],
    });
    this.reloads = new Counter({
      name: "lvs_reloads_total",
      help: "Configuration reloads, by result.",
      labelNames: ["result"],
      registers: [r],
    });
    this.transitions = new Counter({
      name: "lvs_health_transitions_total",
      help: "Real server state changes.",
      labelNames: ["transition"],
      registers: [r],
    });
    this.scripts = new Counter({
      name: "lvs_scripts_total",
      help: "Notify scripts run, by kind and result.",
      labelNames: ["script", "result"],
      registers: [r],
    });
    this.drains = new Counter({
      name: "lvs_drains_completed_total",
      help: "Drains that removed their server, by reason (idle, timeout).",
      labelNames: ["result"],
      registers: [r],
    });
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
