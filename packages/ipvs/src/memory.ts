// An in-memory IPVS: the client's interface over a Map, for unit tests of code that programs IPVS
// and for trying a configuration where the kernel has no IPVS (a dry run). It refuses what the
// kernel refuses, with the kernel's errno (net/netfilter/ipvs/ip_vs_ctl.c, Linux 6.1: EEXIST on a
// duplicate, ESRCH for a missing service, ENOENT for a missing destination, EEXIST/ESRCH for the
// sync daemons) and the same IpvsError codes and objects IpvsClient reports. Counters stay at zero
// unless a test sets them. test/memory.kernel.test.ts runs the same operations against the real
// IPVS and compares.
import { addressToBytes, FORWARD_METHOD_NAMES, prefixToMask } from "@lvs/inet";
import type { IpvsClient, Operation, OperationResult } from "./client.js";
import { AF_INET6, DAEMON_STATE_NAMES } from "./constants.js";
import { destId, serviceId } from "./diff.js";
import { destEntryOf, serviceEntryOf } from "./entries.js";
import { type IpvsError, type IpvsObjectKind, kernelError } from "./errors.js";
import { describeDest, describeService } from "./model.js";
import type {
  Daemon,
  DestinationEntry,
  ServiceEntry,
  ServiceKey,
  ServiceWithDests,
  Timeouts,
} from "./types.js";

/** The kernel's command for each operation (what its errors name). */
const COMMAND: Record<Operation["op"], string> = {
  addService: "NEW_SERVICE",
  editService: "SET_SERVICE",
  delService: "DEL_SERVICE",
  addDest: "NEW_DEST",
  editDest: "SET_DEST",
  delDest: "DEL_DEST",
};

/** net/netfilter/ipvs/ip_vs_ctl.c: the timeouts a fresh namespace starts with (s). */
const DEFAULT_TIMEOUTS: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };

const ESRCH = 3;
const ENOENT = 2;
const EEXIST = 17;

function operationError(op: Operation, errno: number): IpvsError {
  const dest = op.op === "addDest" || op.op === "editDest" || op.op === "delDest";
  const kind: IpvsObjectKind = dest ? "DEST" : "SERVICE";
  return kernelError(
    errno,
    kind,
    COMMAND[op.op],
    dest ? describeDest(op.service, op.dest) : describeService(op.service),
  );
}

/** The part of IpvsClient MemoryIpvs stands in for. */
export type IpvsTableClient = Pick<
  IpvsClient,
  | "table"
  | "service"
  | "dests"
  | "batch"
  | "flush"
  | "timeouts"
  | "setTimeouts"
  | "daemons"
  | "startDaemon"
  | "stopDaemon"
  | "close"
>;

export class MemoryIpvs implements IpvsTableClient {
  /** The table, by serviceId. Tests may edit entries (connection counts) in place. */
  readonly services = new Map<string, ServiceWithDests>();
  /** Every operation a batch was asked to run, in order. */
  readonly log: Operation[] = [];
  reads = { table: 0, service: 0, dests: 0 };
  /** Ops matching this are refused with the errno (a test's way to make the kernel say no). */
  refuse: ((op: Operation) => { errno: number; name?: string } | undefined) | undefined;
  /** Stop after this many batch operations and throw (a crash in the middle of an apply). */
  crashAfter: number | undefined;
  daemonList: Daemon[] = [];
  /** The last timeouts set (undefined: never set). */
  timeoutsSet: Timeouts | undefined;
  flushes = 0;
  private current: Timeouts = { ...DEFAULT_TIMEOUTS };

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
    if (!s) throw kernelError(ESRCH, "SERVICE", "GET_SERVICE", describeService(key));
    return { ...s.service };
  }

  async dests(key: ServiceKey): Promise<DestinationEntry[]> {
    this.reads.dests++;
    const s = this.services.get(serviceId(key));
    if (!s) throw kernelError(ESRCH, "SERVICE", "GET_DEST", describeService(key));
    return s.dests.map((d) => ({ ...d }));
  }

  /** Apply one operation with the kernel's errors (throws the IpvsError the kernel's errno makes). */
  apply(op: Operation): void {
    const refused = this.refuse?.(op);
    if (refused) throw operationError(op, refused.errno);
    const sid = serviceId(op.service);
    const have = this.services.get(sid);
    switch (op.op) {
      case "addService":
        if (have) throw operationError(op, EEXIST);
        this.services.set(sid, { service: serviceEntryOf(op.service), dests: [] });
        return;
      case "editService":
        if (!have) throw operationError(op, ESRCH);
        have.service = serviceEntryOf(op.service, have.service);
        return;
      case "delService":
        if (!have) throw operationError(op, ESRCH);
        this.services.delete(sid);
        return;
    }
    if (!have) throw operationError(op, ESRCH);
    const did = destId(op.dest);
    const i = have.dests.findIndex((d) => destId(d) === did);
    if (op.op === "addDest") {
      if (i >= 0) throw operationError(op, EEXIST);
      have.dests.push(destEntryOf(op.dest));
    } else if (op.op === "editDest") {
      if (i < 0) throw operationError(op, ENOENT);
      have.dests[i] = destEntryOf(op.dest, have.dests[i]);
    } else {
      if (i < 0) throw operationError(op, ENOENT);
      have.dests.splice(i, 1);
    }
  }

  /** Runs every operation in order; a refusal does not stop the rest (as the kernel's batch). */
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

  async timeouts(): Promise<Timeouts> {
    return { ...this.current };
  }

  /** 0 leaves a value as it is (ip_vs_set_timeout). */
  async setTimeouts(t: Timeouts): Promise<void> {
    this.timeoutsSet = t;
    this.current = {
      tcp: t.tcp || this.current.tcp,
      tcpFin: t.tcpFin || this.current.tcpFin,
      udp: t.udp || this.current.udp,
    };
  }

  async startDaemon(d: Daemon): Promise<void> {
    if (this.daemonList.some((x) => x.state === d.state))
      throw kernelError(EEXIST, "DAEMON", "NEW_DAEMON", DAEMON_STATE_NAMES[d.state]);
    this.daemonList.push({ ...d });
  }

  async stopDaemon(state: number): Promise<void> {
    const i = this.daemonList.findIndex((x) => x.state === state);
    if (i < 0) throw kernelError(ESRCH, "DAEMON", "DEL_DAEMON", DAEMON_STATE_NAMES[state]);
    this.daemonList.splice(i, 1);
  }

  async daemons(): Promise<Daemon[]> {
    return this.daemonList.map((d) => ({ ...d }));
  }

  close(): void {}

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
