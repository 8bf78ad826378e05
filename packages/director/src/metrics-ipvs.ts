// Kernel figures in Prometheus form, with node_exporter's IPVS collector names and labels under an
// `lvs_` prefix (`lvs_backend_connections_active{local_address,local_port,remote_address,
// remote_port,proto,local_mark}`, `lvs_connections_total`…), so dashboards built for node_exporter
// carry over. Values come from the table the last passes saw (a scrape never reads the dataplane)
// and from the dataplane's totals.
import type { ServiceWithDests, Stats } from "@lvs/ipvs";
import { PROTOCOL_NAMES } from "@lvs/ipvs";
import { Counter, Gauge, type Registry } from "prom-client";
import type { DataplaneStats } from "./dataplane.js";

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

export type Table = () => readonly ServiceWithDests[];

function backendGauge(
  r: Registry,
  table: Table,
  name: string,
  help: string,
  pick: (d: ServiceWithDests["dests"][number]) => number,
) {
  return new Gauge<BackendLabel>({
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
}

function backendCounter(r: Registry, table: Table, name: string, help: string, pick: (s: Stats) => bigint) {
  return new Counter<BackendLabel>({
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
          this.inc({ ...sl, remote_address: d.address, remote_port: String(d.port) }, st ? n(pick(st)) : 0);
        }
      }
    },
  });
}

function serviceCounter(r: Registry, table: Table, name: string, help: string, pick: (s: Stats) => bigint) {
  return new Counter<ServiceLabel>({
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
}

function serviceGauge(r: Registry, table: Table, name: string, help: string, pick: (s: Stats) => bigint) {
  return new Gauge<ServiceLabel>({
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
}

/** node_exporter's IPVS collector, same names after the prefix. */
export function registerBackends(r: Registry, table: Table): void {
  backendGauge(
    r,
    table,
    "lvs_backend_connections_active",
    "The current active connections by local and remote address.",
    (d) => d.activeConns,
  );
  backendGauge(
    r,
    table,
    "lvs_backend_connections_inactive",
    "The current inactive connections by local and remote address.",
    (d) => d.inactiveConns,
  );
  backendGauge(
    r,
    table,
    "lvs_backend_weight",
    "The current backend weight by local and remote address.",
    (d) => d.weight,
  );
}

/** Totals: the dataplane's own (/proc/net/ip_vs_stats), else the table's counters summed. */
export function registerTotals(
  r: Registry,
  stats: (() => Promise<DataplaneStats | undefined>) | undefined,
  table: Table,
): void {
  const totals = async () => {
    const t = await stats?.();
    if (t) return t;
    // No totals of its own (another namespace, an in-memory table): sum what the dump has.
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
  const total = (name: string, help: string, key: "conns" | "inPkts" | "outPkts" | "inBytes" | "outBytes") =>
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
}

/** Per backend counters and rates (the kernel's stats64). */
export function registerBackendStats(r: Registry, table: Table): void {
  backendCounter(
    r,
    table,
    "lvs_backend_connections_total",
    "Connections scheduled to the backend.",
    (s) => s.conns,
  );
  backendCounter(
    r,
    table,
    "lvs_backend_incoming_packets_total",
    "Packets from clients to the backend.",
    (s) => s.inPkts,
  );
  backendCounter(
    r,
    table,
    "lvs_backend_outgoing_packets_total",
    "Packets from the backend to clients.",
    (s) => s.outPkts,
  );
  backendCounter(
    r,
    table,
    "lvs_backend_incoming_bytes_total",
    "Bytes from clients to the backend.",
    (s) => s.inBytes,
  );
  backendCounter(
    r,
    table,
    "lvs_backend_outgoing_bytes_total",
    "Bytes from the backend to clients.",
    (s) => s.outBytes,
  );
  backendGauge(
    r,
    table,
    "lvs_backend_connections_per_second",
    "Connection rate (kernel estimator, 2 s).",
    (d) => n((d.stats64 ?? d.stats)?.cps),
  );
  backendGauge(
    r,
    table,
    "lvs_backend_incoming_bytes_per_second",
    "Incoming byte rate (kernel estimator).",
    (d) => n((d.stats64 ?? d.stats)?.inBps),
  );
  backendGauge(
    r,
    table,
    "lvs_backend_outgoing_bytes_per_second",
    "Outgoing byte rate (kernel estimator).",
    (d) => n((d.stats64 ?? d.stats)?.outBps),
  );
  backendGauge(
    r,
    table,
    "lvs_backend_connections_persistent",
    "Persistence templates pointing at the backend.",
    (d) => d.persistConns,
  );
}

/** Per service counters and rates. */
export function registerServiceStats(r: Registry, table: Table): void {
  serviceCounter(
    r,
    table,
    "lvs_service_connections_total",
    "Connections scheduled by the service.",
    (s) => s.conns,
  );
  serviceCounter(
    r,
    table,
    "lvs_service_incoming_packets_total",
    "Packets from clients to the service.",
    (s) => s.inPkts,
  );
  serviceCounter(
    r,
    table,
    "lvs_service_outgoing_packets_total",
    "Packets from the service to clients.",
    (s) => s.outPkts,
  );
  serviceCounter(
    r,
    table,
    "lvs_service_incoming_bytes_total",
    "Bytes from clients to the service.",
    (s) => s.inBytes,
  );
  serviceCounter(
    r,
    table,
    "lvs_service_outgoing_bytes_total",
    "Bytes from the service to clients.",
    (s) => s.outBytes,
  );
  serviceGauge(
    r,
    table,
    "lvs_service_connections_per_second",
    "Connection rate of the service (kernel estimator).",
    (s) => s.cps,
  );
  serviceGauge(
    r,
    table,
    "lvs_service_incoming_packets_per_second",
    "Incoming packet rate of the service.",
    (s) => s.inPps,
  );
  serviceGauge(
    r,
    table,
    "lvs_service_outgoing_packets_per_second",
    "Outgoing packet rate of the service.",
    (s) => s.outPps,
  );
}
