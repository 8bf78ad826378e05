// Shared by the netns tier and the benchmark: a LAN of namespaces on one bridge, keepalived and
// our router as processes, VIP ownership polled over rtnetlink, GARP/NA watched from a third
// namespace with an AF_PACKET socket.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listAddresses } from "@lvs/netconf";
import { ETH_P_ALL, PacketSocket } from "@lvs/sys";
import { type Netns, type SpawnedProcess, Topology } from "@lvs/testkit";
import { bytesToAddress } from "../src/index.js";

export const ROUTER = fileURLToPath(new URL("./peers/router.mjs", import.meta.url));
export const CAPTURE = fileURLToPath(new URL("./peers/capture-adverts.mjs", import.meta.url));

export interface Lan {
  topo: Topology;
  nodes: Netns[];
  obs: Netns;
  bridge: Netns;
  dir: string;
  destroy(): Promise<void>;
}

/**
 * `names.length` router namespaces + an observer "obs", all on one bridge. Each gets
 * `${prefix}.${i + 1}/24` (and `${prefix6}::${i + 1}/64`); obs gets .250. IPv6 DAD is off so
 * link-local addresses are usable at once.
 */
export async function makeLan(
  label: string,
  names: string[],
  net: { v4: string; v6?: string },
): Promise<Lan> {
  const topo = await Topology.create(label);
  const dir = mkdtempSync(join(tmpdir(), `lvs-vrrp-${label}-`));
  try {
    const br = await topo.addBridge("lan");
    const all = [...names, "obs"];
    const nodes: Netns[] = [];
    for (const [i, n] of all.entries()) {
      const ns = await topo.addNamespace(n);
      await ns.sysctl("net.ipv6.conf.default.accept_dad", 0);
      await ns.sysctl("net.ipv6.conf.all.accept_dad", 0);
      const host = n === "obs" ? 250 : i + 1;
      const addr = [`${net.v4}.${host}/24`, ...(net.v6 ? [`${net.v6}::${host.toString(16)}/64`] : [])];
      await topo.attach(ns, br, { addr, ifname: "eth0" });
      nodes.push(ns);
    }
    const obs = nodes.pop() as Netns;
    return {
      topo,
      nodes,
      obs,
      bridge: br.ns,
      dir,
      destroy: async () => {
        await topo.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface InstanceConf {
  name?: string;
  /** keepalived `state` (default BACKUP). */
  state?: "MASTER" | "BACKUP";
  vrid: number;
  priority: number;
  version: 2 | 3;
  advertInt: number | string;
  vips: string[];
  iface?: string;
  unicastSrc?: string;
  unicastPeers?: string[];
  authPass?: string;
  extra?: string;
  globalExtra?: string;
  /** Top-level blocks between global_defs and the instance (vrrp_script…). */
  preamble?: string;
}

/** One keepalived.conf, readable by both keepalived and lvs. */
export function keepalivedConf(c: InstanceConf): string {
  return `global_defs {
  router_id ${c.name ?? "lvs"}_${c.vrid}
  vrrp_version ${c.version}
  ${c.globalExtra ?? ""}
}
${c.preamble ?? ""}
vrrp_instance ${c.name ?? "VI_1"} {
  state ${c.state ?? "BACKUP"}
  interface ${c.iface ?? "eth0"}
  virtual_router_id ${c.vrid}
  priority ${c.priority}
  advert_int ${c.advertInt}
${c.unicastSrc ? `  unicast_src_ip ${c.unicastSrc}\n` : ""}${c.unicastPeers ? `  unicast_peer {\n${c.unicastPeers.map((p) => `    ${p}\n`).join("")}  }\n` : ""}${c.authPass ? `  authentication {\n    auth_type PASS\n    auth_pass ${c.authPass}\n  }\n` : ""}  virtual_ipaddress {
${c.vips.map((v) => `    ${v}\n`).join("")}  }
${c.extra ?? ""}
}
`;
}

let seq = 0;

/** A running VRRP daemon (keepalived or ours) in a namespace. */
export interface Daemon {
  kind: "keepalived" | "lvs";
  ns: Netns;
  proc: SpawnedProcess;
  /** Its configuration file. */
  file: string;
  /** Writes a new configuration and sends SIGHUP; ours: resolves once it logged the reload. */
  reload(conf: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL of the process holding the VRRP socket (keepalived: its VRRP child). */
  crash(): void;
  /** SIGTERM (clean stop); resolves when the process has exited. */
  stop(): Promise<number>;
  output(): string;
  /** Resolves once the daemon runs its instances (our "started" line; keepalived's first state line). */
  ready(timeoutMs?: number): Promise<number>;
}

/** keepalived --vrrp -D -l -n -R (no respawn, so a killed VRRP child stays dead), pid files in a temp dir. */
export function startKeepalived(lan: Lan, ns: Netns, conf: string): Daemon {
  const id = `ka${seq++}`;
  const file = join(lan.dir, `${id}.conf`);
  writeFileSync(file, conf);
  const vrrpPid = join(lan.dir, `${id}-vrrp.pid`);
  const proc = ns.spawn([
    "keepalived",
    "--vrrp",
    "-D",
    "-l",
    "-n",
    "-R",
    "-f",
    file,
    "-p",
    join(lan.dir, `${id}.pid`),
    "-r",
    vrrpPid,
  ]);
  return {
    kind: "keepalived",
    ns,
    proc,
    file,
    reload: async (next) => {
      writeFileSync(file, next);
      proc.kill("SIGHUP");
    },
    crash: () => {
      // the VRRP child holds the sockets and the VIPs; the parent would respawn it without -R
      try {
        const pid = Number(readFileSync(vrrpPid, "utf8").trim());
        if (pid > 0) process.kill(pid, "SIGKILL");
      } catch {
        // not started yet
      }
      proc.kill("SIGKILL");
    },
    stop: () => {
      proc.kill("SIGTERM");
      return proc.exited;
    },
    output: () => proc.output(),
    ready: (timeoutMs = 10_000) =>
      until(
        "keepalived running",
        () => /Entering (BACKUP|MASTER|FAULT) STATE/.test(proc.output()),
        timeoutMs,
      ),
  };
}

/** Our router (test/peers/router.mjs, what `lvsctl up --vrrp` runs); `isolated`: in a child process. */
export function startOurs(lan: Lan, ns: Netns, conf: string, opts: { isolated?: boolean } = {}): Daemon {
  const id = `lvs${seq++}`;
  const file = join(lan.dir, `${id}.conf`);
  writeFileSync(file, conf);
  const proc = ns.spawn(["node", ROUTER, file, ...(opts.isolated ? ["--isolated"] : [])]);
  const reloads = () =>
    proc
      .output()
      .split("\n")
      .filter((l) => /"reload(ed|Error)"/.test(l)).length;
  return {
    kind: "lvs",
    ns,
    proc,
    file,
    reload: async (next, timeoutMs = 5000) => {
      const n = reloads();
      writeFileSync(file, next);
      proc.kill("SIGHUP");
      await until("lvs reloaded", () => reloads() > n, timeoutMs);
      const last =
        proc
          .output()
          .split("\n")
          .filter((l) => /"reload(ed|Error)"/.test(l))
          .at(-1) ?? "";
      if (last.includes('"reloadError"')) throw new Error(`reload failed: ${last}`);
    },
    crash: () => proc.kill("SIGKILL"),
    stop: () => {
      proc.kill("SIGTERM");
      return proc.exited;
    },
    output: () => proc.output(),
    ready: (timeoutMs = 10_000) =>
      until("lvs router running", () => proc.output().includes('"started":true'), timeoutMs),
  };
}

/** Does the namespace have `addr` on any interface (rtnetlink dump, no process spawned). */
export async function owns(ns: Netns, addr: string): Promise<boolean> {
  const list = await listAddresses({ netns: ns.name });
  return list.some((a) => a.address === addr);
}

/** Polls until `pred` holds; resolves with the elapsed ms, rejects after `timeoutMs`. */
export async function until(
  what: string,
  pred: () => Promise<boolean> | boolean,
  timeoutMs: number,
  stepMs = 10,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await pred()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Gratuitous ARPs (sender = target = the VIP) and unsolicited NAs seen in a namespace. */
export class AnnounceWatch {
  readonly seen: Array<{ t: number; address: string; mac: string }> = [];
  private readonly sock: PacketSocket;
  constructor(ns: Netns, ifname = "eth0") {
    this.sock = PacketSocket.open({ interface: ifname, netns: ns.name, protocol: ETH_P_ALL });
    this.sock.onFrame((f) => {
      const t = performance.now();
      const type = f.readUInt16BE(12);
      const mac = Array.from(f.subarray(6, 12), (b) => b.toString(16).padStart(2, "0")).join(":");
      if (type === 0x0806 && f.length >= 42) {
        const spa = f.subarray(28, 32).join(".");
        const tpa = f.subarray(38, 42).join(".");
        if (spa === tpa) this.seen.push({ t, address: spa, mac });
      } else if (type === 0x86dd && f.length >= 14 + 40 + 24 && f[20] === 58 && f[54] === 136) {
        this.seen.push({ t, address: bytesToAddress(f.subarray(62, 78)), mac });
      }
    });
  }
  /** First announcement of `address` at or after `since` (performance.now() time). */
  first(address: string, since: number): { t: number; mac: string } | undefined {
    return this.seen.find((s) => s.address === address && s.t >= since);
  }
  close(): void {
    this.sock.close();
  }
}

/** VRRP adverts over IPv4 seen in a namespace (multicast reaches every port of the bridge). */
export class AdvertWatch {
  readonly seen: Array<{ t: number; source: string; vrid: number; priority: number; count: number }> = [];
  private readonly sock: PacketSocket;
  constructor(ns: Netns, ifname = "eth0") {
    this.sock = PacketSocket.open({ interface: ifname, netns: ns.name, protocol: ETH_P_ALL });
    this.sock.onFrame((f) => {
      if (f.length < 14 + 20 + 8 || f.readUInt16BE(12) !== 0x0800 || f[23] !== 112) return;
      const ihl = ((f[14] as number) & 0x0f) * 4;
      const v = 14 + ihl;
      if (f.length < v + 8) return;
      this.seen.push({
        t: performance.now(),
        source: f.subarray(26, 30).join("."),
        vrid: f[v + 1] as number,
        priority: f[v + 2] as number,
        count: f[v + 3] as number,
      });
    });
  }
  from(source: string, since = 0) {
    return this.seen.filter((s) => s.source === source && s.t >= since);
  }
  close(): void {
    this.sock.close();
  }
}

/** nft rules in the bridge's namespace that drop everything between two bridge ports (a cut link). */
export async function cutLink(lan: Lan, portA: string, portB: string): Promise<void> {
  await lan.bridge.run(
    `nft -f - <<'EOF'
table bridge lvscut {
  chain cut {
    type filter hook forward priority 0; policy accept;
    iifname "${portA}" oifname "${portB}" drop
    iifname "${portB}" oifname "${portA}" drop
  }
}
EOF`,
  );
}

export async function restoreLink(lan: Lan): Promise<void> {
  await lan.bridge.run("nft delete table bridge lvscut");
}

/**
 * VRRP adverts over IPv4 seen in a namespace, captured and timed by a process of its own
 * (test/peers/capture-adverts.mjs): this process may block its event loop meanwhile.
 */
export class AdvertCapture {
  private constructor(
    private readonly proc: SpawnedProcess,
    /** The capture file (one line per advert). */
    readonly path: string,
  ) {}

  static async open(lan: Lan, ns: Netns, ifname = "eth0"): Promise<AdvertCapture> {
    const file = join(lan.dir, `adverts-${seq++}.txt`);
    writeFileSync(file, "");
    const proc = ns.spawn(["node", CAPTURE, ifname, file]);
    await until("advert capture ready", () => proc.output().includes("ready"), 10_000);
    return new AdvertCapture(proc, file);
  }

  /** Adverts from `source` (epoch ms) in [from, to]. */
  from(source: string, from = 0, to = Number.POSITIVE_INFINITY) {
    return readFileSync(this.path, "utf8")
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => {
        const [t, src, vrid, priority] = l.split(" ");
        return { t: Number(t), source: src as string, vrid: Number(vrid), priority: Number(priority) };
      })
      .filter((a) => a.source === source && a.t >= from && a.t <= to);
  }

  async close(): Promise<void> {
    this.proc.kill("SIGTERM");
    await this.proc.exited;
  }
}

/** Epoch milliseconds, comparable with AdvertCapture's timestamps. */
export const epochMs = () => performance.timeOrigin + performance.now();

/** The silences between consecutive times (ms): median, 99th percentile, largest. */
export function gapStats(times: readonly number[]): { count: number; p50: number; p99: number; max: number } {
  const gaps = times
    .slice(1)
    .map((t, i) => t - (times[i] as number))
    .sort((a, b) => a - b);
  const at = (q: number) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? Number.NaN;
  return { count: gaps.length, p50: at(0.5), p99: at(0.99), max: gaps.at(-1) ?? Number.NaN };
}

/**
 * Blocks this process's event loop for `ms`, as parsing a big configuration does, without
 * taking a CPU from the other tests running meanwhile (bench/isolation.mjs parses and spins
 * for real).
 */
export function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
