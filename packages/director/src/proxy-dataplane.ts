// The Dataplane over @lvs/proxy: the userspace L4 proxy serves the director's table where the
// kernel has no IPVS (or we lack CAP_NET_ADMIN). Operations and entries already have IPVS's shape
// (@lvs/proxy mirrors @lvs/ipvs's field names), so this only narrows types and answers reads;
// a fwmark service or an SCTP one is refused by the proxy with a code, per operation.
import type { Clock } from "@lvs/inet";
import {
  type Connection,
  canonicalAddress,
  keyOf,
  type Operation,
  type ServiceKey,
  type ServiceWithDests,
  serviceId,
  type Timeouts,
} from "@lvs/ipvs";
import {
  createProxy,
  type ProxyDataplane,
  type ProxyLogger,
  type Operation as ProxyOperation,
  type ServiceWithDests as ProxyServiceWithDests,
} from "@lvs/proxy";
import type {
  Dataplane,
  DataplaneResult,
  DataplaneStats,
  DestConnections,
  DestinationOption,
} from "./dataplane.js";

export interface ProxyDirectorDataplaneOptions {
  clock?: Clock;
  log?: ProxyLogger;
  /** An existing proxy (tests); default: a new one with @lvs/proxy's defaults. */
  proxy?: ProxyDataplane;
}

/** A proxy table entry in @lvs/ipvs's model (the proxy's extra fields stay, harmlessly). */
const asIpvs = (entry: ProxyServiceWithDests): ServiceWithDests => entry as unknown as ServiceWithDests;

/** One destination of one service, as the header map keys it. */
function destId(service: ServiceKey, dest: { address: string; port: number }): string {
  return `${serviceId(service)} ${canonicalAddress(dest.address)} ${dest.port}`;
}

export class ProxyDirectorDataplane implements Dataplane {
  /** `proxy_protocol` per destination (destId → version), from the last configuration. */
  private headers = new Map<string, "v1" | "v2">();
  readonly proxy: ProxyDataplane;
  /** What status and logs call this dataplane. */
  readonly kind = "proxy" as const;

  constructor(opts: ProxyDirectorDataplaneOptions = {}) {
    this.proxy =
      opts.proxy ??
      createProxy({
        ...(opts.clock ? { clock: opts.clock } : {}),
        ...(opts.log ? { log: opts.log } : {}),
      });
  }

  async read(keys?: readonly ServiceKey[]): Promise<ServiceWithDests[]> {
    if (!keys) return this.proxy.listServices().map(asIpvs);
    const out: ServiceWithDests[] = [];
    for (const key of keys) {
      if (key.fwmark !== undefined) continue; // never present: the proxy refuses fwmark services
      const entry = this.proxy.getService(key as never);
      if (entry) out.push(asIpvs(entry));
    }
    return out;
  }

  async apply(operations: readonly Operation[]): Promise<DataplaneResult[]> {
    // The configuration's PROXY header rides on each destination the director adds or edits.
    const ops = operations.map((o) =>
      o.op === "addDest" || o.op === "editDest"
        ? { ...o, dest: { ...o.dest, proxyProtocol: this.headers.get(destId(o.service, o.dest)) } }
        : o,
    );
    const results = await this.proxy.apply(ops as unknown as readonly ProxyOperation[]);
    return results.map((r, i) => ({
      operation: operations[i] as Operation,
      error: r.error
        ? {
            code: r.error.code,
            message: r.error.message,
            object: r.error.object,
            errno: r.error.errno,
            errnoName: r.error.errnoName,
          }
        : undefined,
    }));
  }

  async destinationOptions(options: readonly DestinationOption[]): Promise<void> {
    this.headers = new Map(options.map((o) => [destId(o.service, o), o.proxyProtocol]));
    // Destinations already serving take a changed header for their next connection.
    for (const { service, dests } of this.proxy.listServices()) {
      const key = keyOf(service as never);
      for (const d of dests) {
        const want = this.headers.get(destId(key, d));
        if (want === (d as { proxyProtocol?: string }).proxyProtocol) continue;
        await this.proxy.editDest(service as never, {
          af: d.af,
          address: d.address,
          port: d.port,
          forward: d.forward,
          weight: d.weight,
          upperThreshold: d.upperThreshold,
          lowerThreshold: d.lowerThreshold,
          ...(want ? { proxyProtocol: want } : {}),
        });
      }
    }
  }

  async connections(keys?: readonly ServiceKey[]): Promise<DestConnections[]> {
    const wanted = keys ? new Set(keys.map((k) => serviceId(k))) : undefined;
    const out: DestConnections[] = [];
    for (const { service, dests } of await this.read()) {
      const key = keyOf(service);
      if (wanted && !wanted.has(serviceId(key))) continue;
      for (const d of dests) {
        out.push({
          service: key,
          address: d.address,
          port: d.port,
          active: d.activeConns,
          inactive: d.inactiveConns,
          persistent: d.persistConns,
        });
      }
    }
    return out;
  }

  /** The proxy's own connections, in /proc/net/ip_vs_conn's model. */
  async connectionTable(): Promise<Connection[]> {
    return this.proxy.connections() as Connection[];
  }

  async stats(): Promise<DataplaneStats> {
    const s = this.proxy.stats();
    return {
      conns: Number(s.conns),
      inPkts: Number(s.inPkts),
      outPkts: Number(s.outPkts),
      inBytes: Number(s.inBytes),
      outBytes: Number(s.outBytes),
    };
  }

  async timeouts(): Promise<Timeouts> {
    return this.proxy.timeouts();
  }

  async setTimeouts(t: Timeouts): Promise<void> {
    this.proxy.setTimeouts(t);
  }

  flush(): Promise<void> {
    return this.proxy.flush();
  }

  close(): void {
    // Listeners and connections close asynchronously; nothing waits on the director's stop.
    void this.proxy.close();
  }
}
