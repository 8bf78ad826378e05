// An in-memory IPVS (for tests, and for trying a configuration where the kernel has no IPVS):
// the same errno the kernel returns
// (net/netfilter/ipvs/ip_vs_ctl.c: EEXIST on a duplicate, ESRCH for a missing service, ENOENT
// for a missing destination), counters left at zero unless set. The kernel tier of this package
// proves the same behaviour against the real IPVS.

import { addressToBytes, FORWARD_METHOD_NAMES, prefixToMask } from "@lvs/inet";
import {
  AF_INET6,
  type Daemon,
  type DestinationEntry,
  destId,
  IpvsError,
  type Operation,
  type OperationResult,
  type ServiceEntry,
  type ServiceKey,
  type ServiceWithDests,
  serviceId,
  type Timeouts,
} from "@lvs/ipvs";
import type { DirectorKernel } from "./daemon.js";
import { destEntryOf, serviceEntryOf } from "./entries.js";

const kerr = (errno: number, name: string, what: string, cmd: string) =>
  new IpvsError(
    `IPVS_${name}_${cmd.endsWith("DEST") ? "DEST" : "SERVICE"}` as never,
    `${cmd} ${what}: ${name}`,
    {
      errno,
      errnoName: name,
      command: cmd,
      object: what,
    },
  );

export class MemoryKernel implements DirectorKernel {
  readonly services = new Map<string, ServiceWithDests>();
  readonly log: Operation[] = [];
  reads = { table: 0, service: 0, dests: 0 };
  /** Ops matching this are refused with the errno (a test's way to make the kernel say no). */
  refuse: ((op: Operation) => { errno: number; name: string } | undefined) | undefined;
  /** Stop after this many batch operations and throw (a crash in the middle of an apply). */
  crashAfter: number | undefined;
  daemonList: Daemon[] = [];
  timeoutsSet: Timeouts | undefined;
  flushes = 0;

  async table(): Promise<ServiceWithDests[]> {
    this.reads.table++;
    return [...this.services.values()].map((s) => ({
      service: { ...s.service },
      dests: s.dests.map((d) => ({ ...d })),
    }));
  }

  async service(key: ServiceKey): Promise<ServiceEntry> {
    this.reads.service++;
    const s = this.services.get(serviceId(key));
    if (!s) throw kerr(3, "ESRCH", serviceId(key), "GET_SERVICE");
    return { ...s.service };
  }

  async dests(key: ServiceKey): Promise<DestinationEntry[]> {
    this.reads.dests++;
    const s = this.services.get(serviceId(key));
    if (!s) throw kerr(3, "ESRCH", serviceId(key), "GET_DEST");
    return s.dests.map((d) => ({ ...d }));
  }

  /** Apply one operation with the kernel's errors. */
  apply(op: Operation): void {
    const sid = serviceId(op.service);
    const have = this.services.get(sid);
    const refused = this.refuse?.(op);
    if (refused) throw kerr(refused.errno, refused.name, sid, op.op.toUpperCase());
    switch (op.op) {
      case "addService":
        if (have) throw kerr(17, "EEXIST", sid, "NEW_SERVICE");
        this.services.set(sid, { service: serviceEntryOf(op.service), dests: [] });
        return;
      case "editService":
        if (!have) throw kerr(3, "ESRCH", sid, "SET_SERVICE");
        have.service = serviceEntryOf(op.service, have.service);
        return;
      case "delService":
        if (!have) throw kerr(3, "ESRCH", sid, "DEL_SERVICE");
        this.services.delete(sid);
        return;
    }
    if (!have) throw kerr(3, "ESRCH", sid, "NEW_DEST");
    const did = destId(op.dest);
    const i = have.dests.findIndex((d) => destId(d) === did);
    if (op.op === "addDest") {
      if (i >= 0) throw kerr(17, "EEXIST", did, "NEW_DEST");
      have.dests.push(destEntryOf(op.dest));
    } else if (op.op === "editDest") {
      if (i < 0) throw kerr(2, "ENOENT", did, "SET_DEST");
      have.dests[i] = destEntryOf(op.dest, have.dests[i]);
    } else {
      if (i < 0) throw kerr(2, "ENOENT", did, "DEL_DEST");
      have.dests.splice(i, 1);
    }
  }

  async batch(ops: readonly Operation[]): Promise<OperationResult[]> {
    const out: OperationResult[] = [];
    for (const op of ops) {
      if (this.crashAfter !== undefined && this.log.length >= this.crashAfter) throw new Error("crashed");
      this.log.push(op);
      try {
        this.apply(op);
        out.push({ operation: op, error: undefined });
      } catch (err) {
        out.push({ operation: op, error: err as IpvsError });
      }
    }
    return out;
  }

  async flush(): Promise<void> {
    this.flushes++;
    this.services.clear();
  }

  async setTimeouts(t: Timeouts): Promise<void> {
    this.timeoutsSet = t;
  }

  async startDaemon(d: Daemon): Promise<void> {
    if (this.daemonList.some((x) => x.state === d.state)) throw kerr(17, "EEXIST", "daemon", "NEW_DAEMON");
    this.daemonList.push(d);
  }

  async stopDaemon(state: number): Promise<void> {
    const i = this.daemonList.findIndex((x) => x.state === state);
    if (i < 0) throw kerr(3, "ESRCH", "daemon", "DEL_DAEMON");
    this.daemonList.splice(i, 1);
  }

  async daemons(): Promise<Daemon[]> {
    return [...this.daemonList];
  }

  /** The table as /proc/net/ip_vs prints it (net/netfilter/ipvs/ip_vs_ctl.c ip_vs_info_seq_show). */
  async procText(): Promise<string> {
    const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, "0");
    const v4 = (a: string) => hex(new DataView(addressToBytes(a).buffer).getUint32(0), 8);
    // %pI6: eight groups of four lower-case hex digits
    const v6 = (a: string) =>
      Buffer.from(addressToBytes(a))
        .toString("hex")
        .replace(/(.{4})(?!$)/g, "$1:");
    const ep = (af: number, a: string, port: number) =>
      af === AF_INET6 ? `[${v6(a)}]:${hex(port, 4)}` : `${v4(a)}:${hex(port, 4)}`;
    const names = FORWARD_METHOD_NAMES;
    const lines = [
      "IP Virtual Server version 1.2.1 (size=4096)",
      "Prot LocalAddress:Port Scheduler Flags",
      "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
    ];
    for (const { service: s, dests } of this.services.values()) {
      const ops = s.flags & 4 ? "ops " : "";
      let head: string;
      if (s.fwmark) head = `FWM  ${hex(s.fwmark, 8)} ${s.scheduler} ${ops}`;
      else if (s.af === AF_INET6)
        head = `${["", "", "", "", "", "", "TCP"][s.protocol] ?? (s.protocol === 17 ? "UDP" : "SCTP")}  ${ep(s.af, s.address, s.port)} ${s.scheduler} `;
      else
        head = `${s.protocol === 6 ? "TCP" : s.protocol === 17 ? "UDP" : "SCTP"}  ${ep(s.af, s.address, s.port)} ${s.scheduler} ${ops}`;
      const mask = s.af === AF_INET6 ? s.netmask : prefixToMask(s.netmask);
      // The kernel prints svc->timeout in jiffies (Debian's CONFIG_HZ=250).
      lines.push(s.flags & 1 ? `${head}persistent ${s.timeout * 250} ${hex(mask, 8)}` : head);
      for (const d of dests) {
        lines.push(
          `  -> ${ep(d.af, d.address, d.port)}      ${(names[d.forward & 7] ?? "Masq").padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactiveConns).padEnd(10)}`,
        );
      }
    }
    return `${lines.join("\n")}\n`;
  }

  // ── helpers for tests ──

  /** `ipvsadm -Sn`-like lines, sorted, for comparisons. */
  lines(): string[] {
    const out: string[] = [];
    for (const { service: s, dests } of this.services.values()) {
      const name = s.fwmark
        ? `FWM ${s.fwmark}${s.af === AF_INET6 ? " v6" : ""}`
        : `${s.protocol} ${s.address}:${s.port}`;
      out.push(
        `S ${name} ${s.scheduler} f=${s.flags} t=${s.timeout} m=${s.netmask}${s.peName ? ` pe=${s.peName}` : ""}`,
      );
      for (const d of dests) {
        out.push(
          `  ${name} -> ${d.address}:${d.port} fwd=${d.forward} w=${d.weight}${d.upperThreshold || d.lowerThreshold ? ` x=${d.upperThreshold}/${d.lowerThreshold}` : ""}${d.forward === 2 ? ` tun=${d.tunnelType}/${d.tunnelPort}/${d.tunnelFlags}` : ""}`,
        );
      }
    }
    return out.sort();
  }

  dest(sid: string, address: string, port: number): DestinationEntry | undefined {
    return this.services.get(sid)?.dests.find((d) => d.address === address && d.port === port);
  }
}
