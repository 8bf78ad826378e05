// The Dataplane over @lvs/proxy: the userspace L4 proxy serves the director's table where the
// kernel has no IPVS (or we lack CAP_NET_ADMIN). Operations and entries already have IPVS's shape
// (@lvs/proxy mirrors @lvs/ipvs's field names), so this only narrows types and answers reads;
// a fwmark service or an SCTP one is refused by the proxy with a code, per operation.
import type { Clock } from "@lvs/inet";
import {
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
import type { Dataplane, DataplaneResult, DataplaneStats, DestConnections } from "./dataplane.js";

export interface ProxyDirectorDataplaneOptions {
  clock?: Clock;
  log?: ProxyLogger;
  /** An existing proxy (tests); default: a new one with @lvs/proxy's defaults. */
  proxy?: ProxyDataplane;
}

/** A proxy table entry in @lvs/ipvs's model (the proxy's extra fields stay, harmlessly). */
const asIpvs = (entry: ProxyServiceWithDests): ServiceWithDests => entry as unknown as ServiceWithDests;

export class ProxyDirectorDataplane implements Dataplane {
  readonly proxy: ProxyDataplane;
  /** What status and logs call this dataplane. */
  readonly kind = "proxy";

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
    const results = await this.proxy.apply(operations as unknown as readonly ProxyOperation[]);
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
