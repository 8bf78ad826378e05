// FRR 8.4 (Debian `frr`, installed by tools/host-deps) as a router in a test namespace, without systemd: zebra and bgpd in the foreground
// with a pathspace (-N) of their own, so their vtysh sockets live under /var/run/frr/NAME and
// several routers (or other helpers' tests) never meet. Killed with the topology.
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Netns, SpawnedProcess } from "./topology.js";
import { sh, waitFor } from "./util.js";

export const FRR_DIR = "/usr/lib/frr";

/** FRR's daemons are installed (tools/host-deps) and user frr exists. */
export function haveFrr(): boolean {
  return (
    existsSync(`${FRR_DIR}/bgpd`) &&
    existsSync(`${FRR_DIR}/zebra`) &&
    spawnSync("id", ["-u", "frr"]).status === 0
  );
}

export interface Frr {
  name: string;
  /** Config and pid files (removed by cleanupFrr). */
  dir: string;
  zebra: SpawnedProcess;
  bgpd: SpawnedProcess;
  /** bgpd's log so far (stdout, `log stdout debugging`). */
  log(): string;
  vtysh(command: string): Promise<string>;
  json<T = Record<string, unknown>>(command: string): Promise<T>;
}

function frrUid(): number {
  return Number(spawnSync("id", ["-u", "frr"]).stdout.toString().trim());
}
function frrGid(): number {
  return Number(spawnSync("id", ["-g", "frr"]).stdout.toString().trim());
}

/** Starts zebra + bgpd in `ns` with `bgpdConf`; resolves once vtysh answers. */
export async function startFrr(ns: Netns, bgpdConf: string): Promise<Frr> {
  const name = ns.name;
  const dir = mkdtempSync(join(tmpdir(), `lvs-frr-${name}-`));
  const run = `/var/run/frr/${name}`;
  mkdirSync(run, { recursive: true });
  for (const d of [dir, run]) chownSync(d, frrUid(), frrGid());
  const zebraConf = join(dir, "zebra.conf");
  const bgpConf = join(dir, "bgpd.conf");
  writeFileSync(zebraConf, "hostname r\n");
  writeFileSync(bgpConf, bgpdConf);
  for (const f of [zebraConf, bgpConf]) chownSync(f, frrUid(), frrGid());
  const zebra = ns.spawn([`${FRR_DIR}/zebra`, "-N", name, "-f", zebraConf, "-i", join(dir, "zebra.pid")]);
  await waitFor(() => existsSync(`${run}/zserv.api`), { timeoutMs: 10_000, what: "zebra's zserv.api" });
  const bgpd = ns.spawn([`${FRR_DIR}/bgpd`, "-N", name, "-f", bgpConf, "-i", join(dir, "bgpd.pid")]);
  const vtysh = async (command: string) => {
    const r = await sh(["vtysh", "-N", name, "-c", command]);
    if (r.code !== 0) throw new Error(`vtysh -N ${name} -c '${command}' → ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  await waitFor(async () => (await vtysh("show bgp summary json")).includes("routerId"), {
    timeoutMs: 10_000,
    what: "bgpd answering vtysh",
  });
  return {
    name,
    dir,
    zebra,
    bgpd,
    log: () => bgpd.output(),
    vtysh,
    json: async <T>(command: string) => JSON.parse(await vtysh(command)) as T,
  };
}

export interface FrrPath {
  valid?: boolean;
  nexthops: { ip: string; afi: string }[];
  path?: string;
}

/** `show bgp <afi> unicast json` → the paths FRR holds for `prefix` (empty if none). */
export async function frrPaths(frr: Frr, afi: "ipv4" | "ipv6", prefix: string): Promise<FrrPath[]> {
  const j = await frr.json<{ routes?: Record<string, FrrPath[]> }>(`show bgp ${afi} unicast json`);
  return j.routes?.[prefix] ?? [];
}

/** The peer's state as FRR sees it ("Established", "Active", "Idle"…). */
export async function frrPeerState(frr: Frr, peer: string): Promise<string | undefined> {
  const j = await frr.json<Record<string, { bgpState?: string }>>(`show bgp neighbors ${peer} json`);
  return j[peer]?.bgpState;
}

/** Removes what startFrr left on disk (call after the topology, which killed the daemons). */
export function cleanupFrr(frr: Frr | undefined): void {
  if (!frr) return;
  rmSync(frr.dir, { recursive: true, force: true });
  rmSync(`/var/run/frr/${frr.name}`, { recursive: true, force: true });
}

/** Next hops of the kernel route for `dst` in `ns` (zebra's FIB install), sorted; [] if none. */
export async function kernelNextHops(ns: Netns, dst: string): Promise<string[]> {
  const out = await ns.run(`ip -j ${dst.includes(":") ? "-6 " : ""}route show ${dst}`);
  const routes = JSON.parse(out || "[]") as Array<{ gateway?: string; nexthops?: { gateway: string }[] }>;
  return routes
    .flatMap((r) => (r.nexthops ? r.nexthops.map((n) => n.gateway) : r.gateway ? [r.gateway] : []))
    .sort();
}
