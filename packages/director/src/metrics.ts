// Prometheus metrics (prom-client): the kernel's figures with node_exporter's names
// (metrics-ipvs.ts), then the daemon's own — health, quorum, drains, reconcile passes, drift
// repairs, errors, VRRP (keepalived-exporter style). Kernel values are those of the last passes
// (one read serves both), so a scrape never touches the dataplane.
import type { ServiceWithDests } from "@lvs/ipvs";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BgpSessionStatus } from "./bgp.js";
import type { DataplaneStats } from "./dataplane.js";
import {
  registerBackendStats,
  registerBackends,
  registerServiceStats,
  registerTotals,
  type Table,
} from "./metrics-ipvs.js";
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
  /** The dataplane's totals, when it keeps them (else the table's counters are summed). */
  stats?(): Promise<DataplaneStats | undefined>;
  /** The `bgp:` section's sessions (empty without one). */
  bgp?(): BgpSessionStatus[];
  /** The whole director is drained (`lvsctl drain --director`). */
  directorDrained?(): boolean;
}

/** FSM states as numbers, in RFC 4271's order (bgp_exporter / FRR SNMP style). */
const BGP_STATE_VALUE: Record<string, number> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

/** Each BGP session: its state, what it announces, its message counters. */
function registerBgp(r: Registry, source: MetricsSource): void {
  const sessions = () => source.bgp?.() ?? [];
  const gauge = (name: string, help: string, pick: (s: BgpSessionStatus) => number) =>
    new Gauge<"peer" | "peer_as">({
      name,
      help,
      labelNames: ["peer", "peer_as"],
      registers: [r],
      collect() {
        this.reset();
        for (const s of sessions()) this.set({ peer: s.peer, peer_as: String(s.peerAs) }, pick(s));
      },
    });
  gauge(
    "lvs_bgp_session_state",
    "BGP FSM state of each session (1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established).",
    (s) => BGP_STATE_VALUE[s.state] ?? 0,
  );
  gauge("lvs_bgp_session_established", "1 while the BGP session is Established.", (s) =>
    s.state === "Established" ? 1 : 0,
  );
  gauge(
    "lvs_bgp_announced_prefixes",
    "Prefixes announced to the peer (0 unless Established, while withheld or with no quorum).",
    (s) => (s.state === "Established" ? s.announced.length : 0),
  );
  const counter = (name: string, help: string, pick: (s: BgpSessionStatus) => number) =>
    new Counter<"peer" | "peer_as">({
      name,
      help,
      labelNames: ["peer", "peer_as"],
      registers: [r],
      collect() {
        this.reset();
        for (const s of sessions()) this.inc({ peer: s.peer, peer_as: String(s.peerAs) }, pick(s));
      },
    });
  counter(
    "lvs_bgp_updates_sent_total",
    "UPDATE messages sent (since the session was created).",
    (s) => s.updatesSent,
  );
  counter(
    "lvs_bgp_updates_received_total",
    "UPDATE messages received (since the session was created).",
    (s) => s.updatesReceived,
  );
  counter("lvs_bgp_established_total", "Times the session reached Established.", (s) => s.established);
  new Counter<"peer" | "peer_as" | "direction">({
    name: "lvs_bgp_notifications_total",
    help: "NOTIFICATION messages, by direction (sent, received).",
    labelNames: ["peer", "peer_as", "direction"],
    registers: [r],
    collect() {
      this.reset();
      for (const s of sessions()) {
        const labels = { peer: s.peer, peer_as: String(s.peerAs) };
        this.inc({ ...labels, direction: "sent" }, s.notificationsSent);
        this.inc({ ...labels, direction: "received" }, s.notificationsReceived);
      }
    },
  });
  new Gauge({
    name: "lvs_director_drained",
    help: "1 while the whole director is drained (lvsctl drain --director: nothing announced over BGP).",
    registers: [r],
    collect() {
      this.set(source.directorDrained?.() ? 1 : 0);
    },
  });
}

const VRRP_STATE_VALUE: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

/** Health, weights and runtime state, per configured real server. */
function registerRealServers(r: Registry, source: MetricsSource): void {
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
}

function registerVirtualServers(r: Registry, source: MetricsSource): void {
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
  vsGauge("lvs_virtual_server_live_weight", "Sum of the weights of alive real servers.", (x) => x.liveWeight);
  vsGauge("lvs_virtual_server_sorry_server_active", "1 while the sorry server is the pool.", (x) =>
    x.sorryActive ? 1 : 0,
  );
  vsGauge(
    "lvs_virtual_server_checks_suspended",
    "1 while ha_suspend holds the checks (VIP not local).",
    (x) => (x.suspended ? 1 : 0),
  );
}

/** VRRP, keepalived-exporter style (state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP). */
function registerVrrp(r: Registry, source: MetricsSource): void {
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
}

/** The daemon's own counters. */
function daemonCounters(r: Registry) {
  return {
    passes: new Counter({
      name: "lvs_reconcile_passes_total",
      help: "Reconcile passes (full: whole table; scoped: services an event touched, read first; quick: the summary only; edit: a check's outcome sent without a read).",
      labelNames: ["kind"],
      registers: [r],
    }),
    passDuration: new Histogram({
      name: "lvs_reconcile_duration_seconds",
      help: "Duration of a reconcile pass (read + diff + apply).",
      labelNames: ["kind"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: [r],
    }),
    operations: new Counter({
      name: "lvs_reconcile_operations_total",
      help: "Kernel operations sent, by kind.",
      labelNames: ["op"],
      registers: [r],
    }),
    errors: new Counter({
      name: "lvs_reconcile_errors_total",
      help: "Kernel operations refused, by kind and errno.",
      labelNames: ["op", "errno"],
      registers: [r],
    }),
    readErrors: new Counter({
      name: "lvs_reconcile_read_errors_total",
      help: "Passes that could not read the kernel table.",
      registers: [r],
    }),
    drift: new Counter({
      name: "lvs_drift_repairs_total",
      help: "Services or real servers restored after a change made behind the daemon's back.",
      labelNames: ["object"],
      registers: [r],
    }),
    reloads: new Counter({
      name: "lvs_reloads_total",
      help: "Configuration reloads, by result.",
      labelNames: ["result"],
      registers: [r],
    }),
    transitions: new Counter({
      name: "lvs_health_transitions_total",
      help: "Real server state changes.",
      labelNames: ["transition"],
      registers: [r],
    }),
    scripts: new Counter({
      name: "lvs_scripts_total",
      help: "Notify scripts run, by kind and result.",
      labelNames: ["script", "result"],
      registers: [r],
    }),
    drains: new Counter({
      name: "lvs_drains_completed_total",
      help: "Drains that removed their server, by reason (idle, timeout).",
      labelNames: ["result"],
      registers: [r],
    }),
    stateFileCorrupt: new Counter({
      name: "lvs_state_file_corrupt_total",
      help: "State files found unusable at start and moved aside (<path>.corrupt-<time>).",
      registers: [r],
    }),
  };
}

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
  readonly stateFileCorrupt: Counter;

  constructor(source: MetricsSource) {
    const r = this.registry;
    const table: Table = () => source.table() ?? [];
    registerBackends(r, table);
    registerTotals(r, source.stats?.bind(source), table);
    registerBackendStats(r, table);
    registerServiceStats(r, table);
    registerRealServers(r, source);
    registerVirtualServers(r, source);
    registerVrrp(r, source);
    registerBgp(r, source);
    const c = daemonCounters(r);
    this.passes = c.passes;
    this.passDuration = c.passDuration;
    this.operations = c.operations;
    this.errors = c.errors;
    this.readErrors = c.readErrors;
    this.drift = c.drift;
    this.reloads = c.reloads;
    this.transitions = c.transitions;
    this.scripts = c.scripts;
    this.drains = c.drains;
    this.stateFileCorrupt = c.stateFileCorrupt;
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
