import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { NS_PREFIX, type ShResult, sh, sweepStaleNamespaces } from "./util.js";

export type ExecResult = ShResult;

export interface LinkOptions {
  /** Address (CIDR) for the first namespace's end, e.g. "10.0.0.1/24" or "fd00::1/64". */
  a?: string | string[];
  /** Address (CIDR) for the second namespace's end. */
  b?: string | string[];
  /** Interface names; default eth0, eth1, … per namespace. */
  ifA?: string;
  ifB?: string;
  mtu?: number;
}

export interface SpawnedProcess {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or 128+signal) once the process ends. */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

let topologyCounter = 0;
const liveTopologies = new Set<Topology>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last-chance cleanup: a failed or interrupted test must not leave namespaces.
  process.on("exit", () => {
    for (const t of liveTopologies) t.destroySync();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      for (const t of liveTopologies) t.destroySync();
      process.kill(process.pid, sig);
    });
  }
}

async function ip(args: string[]): Promise<string> {
  const r = await sh(["ip", ...args]);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** One network namespace of a topology. */
export class Netns {
  private ifCounter = 0;
  constructor(
    readonly topology: Topology,
    /** Full namespace name, usable with `ip netns exec` and `ip -n`. */
    readonly name: string,
    /** Short name given by the test. */
    readonly label: string,
  ) {}

  /** Path of the namespace file (for setns-based APIs such as @lvs/sys withNetns). */
  get path(): string {
    return `/run/netns/${this.name}`;
  }

  nextIfName(): string {
    return `eth${this.ifCounter++}`;
  }

  /** Runs argv inside the namespace; resolves with code/stdout/stderr (never rejects on exit code). */
  exec(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return sh(["ip", "netns", "exec", this.name, ...argv], opts);
  }

  /** Runs a shell command inside the namespace and returns stdout; rejects on a non-zero exit. */
  async run(command: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(["sh", "-c", command], opts);
    if (r.code !== 0) {
      throw new Error(`[${this.label}] ${command} → exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    }
    return r.stdout;
  }

  /** Starts a long-running process inside the namespace; it is killed by topology.destroy(). */
  spawn(argv: string[], opts: SpawnOptions = {}): SpawnedProcess {
    const child = spawn("ip", ["netns", "exec", this.name, ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
      ...opts,
    });
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const exited = new Promise<number>((resolve) => {
      child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      child.on("error", () => resolve(127));
    });
    const proc: SpawnedProcess = {
      child,
      output: () => out,
      exited,
      kill: (signal = "SIGTERM") => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
    this.topology.track(proc);
    return proc;
  }

  /** Adds an address (CIDR) to an interface. IPv6 addresses skip DAD so they are usable at once. */
  async addAddress(ifname: string, cidr: string): Promise<void> {
    const extra = cidr.includes(":") ? ["nodad"] : [];
    await ip(["-n", this.name, "addr", "add", cidr, "dev", ifname, ...extra]);
  }

  async addRoute(spec: string): Promise<void> {
    await ip(["-n", this.name, "route", "add", ...spec.split(/\s+/)]);
  }

  /** Writes a sysctl inside the namespace (key in dotted form). */
  async sysctl(key: string, value: string | number): Promise<void> {
    await this.run(`sysctl -qw ${key}=${value}`);
  }

  /** MAC address of an interface in this namespace. */
  async mac(ifname: string): Promise<string> {
    const out = await ip(["-n", this.name, "-j", "link", "show", "dev", ifname]);
    const parsed = JSON.parse(out) as Array<{ address: string }>;
    const addr = parsed[0]?.address;
    if (!addr) throw new Error(`no MAC for ${ifname} in ${this.label}`);
    return addr;
  }
}

/** A bridge living in its own namespace, so the host's own interfaces are never touched. */
export class Bridge {
  private portCounter = 0;
  constructor(
    readonly topology: Topology,
    readonly ns: Netns,
    readonly name: string,
  ) {}

  nextPortName(): string {
    return `p${this.portCounter++}`;
  }
}

/**
 * A set of namespaces, veth pairs and bridges owned by one test. Names carry the pid so that
 * parallel test files never collide and leftovers of a killed run are swept on the next create.
 */
export class Topology {
  private readonly namespaces: Netns[] = [];
  private readonly procs: SpawnedProcess[] = [];
  private destroyed = false;

  private constructor(readonly prefix: string) {}

  static async create(label = "t"): Promise<Topology> {
    sweepStaleNamespaces();
    installExitHook();
    const safe = label.replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 20) || "t";
    const topo = new Topology(`${NS_PREFIX}${process.pid}-${topologyCounter++}-${safe}`);
    liveTopologies.add(topo);
    return topo;
  }

  track(proc: SpawnedProcess): void {
    this.procs.push(proc);
  }

  /** Creates a namespace with loopback up. */
  async addNamespace(label: string): Promise<Netns> {
    if (this.destroyed) throw new Error("topology destroyed");
    const name = `${this.prefix}-${label}`;
    await ip(["netns", "add", name]);
    const ns = new Netns(this, name, label);
    this.namespaces.push(ns);
    await ip(["-n", name, "link", "set", "lo", "up"]);
    return ns;
  }

  /** Joins two namespaces with a veth pair, brings both ends up, adds the given addresses. */
  async link(a: Netns, b: Netns, opts: LinkOptions = {}): Promise<{ ifA: string; ifB: string }> {
    const ifA = opts.ifA ?? a.nextIfName();
    const ifB = opts.ifB ?? b.nextIfName();
    await ip(["-n", a.name, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b.name]);
    if (opts.mtu) {
      await ip(["-n", a.name, "link", "set", ifA, "mtu", String(opts.mtu)]);
      await ip(["-n", b.name, "link", "set", ifB, "mtu", String(opts.mtu)]);
    }
    for (const cidr of [opts.a ?? []].flat()) await a.addAddress(ifA, cidr);
    for (const cidr of [opts.b ?? []].flat()) await b.addAddress(ifB, cidr);
    await ip(["-n", a.name, "link", "set", ifA, "up"]);
    await ip(["-n", b.name, "link", "set", ifB, "up"]);
    return { ifA, ifB };
  }

  /**
   * A learning bridge (its own namespace). Multicast snooping is off so that VRRP and IPVS sync
   * multicast reach every port, as on a plain L2 segment.
   */
  async addBridge(label = "br"): Promise<Bridge> {
    const ns = await this.addNamespace(`sw-${label}`);
    await ip([
      "-n",
      ns.name,
      "link",
      "add",
      "br0",
      "type",
      "bridge",
      "mcast_snooping",
      "0",
      "forward_delay",
      "0",
    ]);
    await ip(["-n", ns.name, "link", "set", "br0", "up"]);
    return new Bridge(this, ns, "br0");
  }

  /** Plugs a namespace into a bridge with a new veth; returns the namespace-side interface name. */
  async attach(
    ns: Netns,
    bridge: Bridge,
    opts: { addr?: string | string[]; ifname?: string; mtu?: number } = {},
  ): Promise<string> {
    const port = bridge.nextPortName();
    const { ifA } = await this.link(ns, bridge.ns, {
      ifA: opts.ifname ?? ns.nextIfName(),
      ifB: port,
      ...(opts.addr !== undefined ? { a: opts.addr } : {}),
      ...(opts.mtu !== undefined ? { mtu: opts.mtu } : {}),
    });
    await ip(["-n", bridge.ns.name, "link", "set", port, "master", bridge.name]);
    return ifA;
  }

  /** Kills every process started in the topology's namespaces, then deletes the namespaces. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    for (const p of this.procs) p.kill("SIGKILL");
    await Promise.all(
      this.procs.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 2000))])),
    );
    this.destroySync();
  }

  /** Synchronous teardown (exit hook); also kills processes started in the namespaces by others. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveTopologies.delete(this);
    for (const p of this.procs) p.kill("SIGKILL");
    for (const ns of [...this.namespaces].reverse()) {
      try {
        const pids = execFileSync("ip", ["netns", "pids", ns.name], { encoding: "utf8" })
          .split(/\s+/)
          .filter(Boolean)
          .map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone already
          }
        }
      } catch {
        // namespace already gone
      }
      try {
        execFileSync("ip", ["netns", "del", ns.name], { stdio: "ignore" });
      } catch {
        // already deleted
      }
    }
  }
}
