// The healthcheck netns tier's lab: a "director" namespace where the checkers run and a "server"
// namespace where real daemons (nginx, unbound) listen, joined by one veth pair. Everything lives
// in namespaces @lvs/testkit creates and deletes (its exit hook also cleans up after a failed or
// interrupted run); nothing listens on the host.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import type { CheckDefinition, ProbeResult } from "../../src/index.js";

export const DIRECTOR_IP = "10.77.0.1";
export const SERVER_IP = "10.77.0.2";
export const DIRECTOR_IP6 = "fd77::1";
export const SERVER_IP6 = "fd77::2";
/** Link-local addresses on the veth (fixed, so no wait for DAD of the kernel's own). */
export const DIRECTOR_LL = "fe80::77:1";
export const SERVER_LL = "fe80::77:2";
/** The director side's interface towards the server (what `bind_if` names to reach it). */
export const DIRECTOR_IF = "hcdir0";
/** The server side's interface (what a test takes down or strips of its address). */
export const SERVER_IF = "hcsrv0";
/** A second director interface that leads nowhere (a veth pair with both ends in the director). */
export const SIDE_IF = "hcside0";

const PROBE_CLI = fileURLToPath(new URL("./probe-cli.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

/** Root, iproute2 and the built package (the probes run dist/, as the director does). */
export function canRunLab(): boolean {
  return canUseNetns() && existsSync(DIST);
}

export interface CheckerLab {
  readonly topo: Topology;
  readonly director: Netns;
  readonly server: Netns;
  /** A private temp dir for the peers' config files, certificates and pages. */
  readonly dir: string;
  /** Runs the checkers (in order) from the director namespace with the built package. */
  probe(...defs: CheckDefinition[]): Promise<ProbeResult[]>;
  /** Starts a daemon in the server namespace; resolves once `listening()` says so. */
  startDaemon(argv: string[], listening: () => Promise<boolean>, what: string): Promise<SpawnedProcess>;
  /** Kills every daemon, deletes both namespaces and the temp dir. */
  destroy(): Promise<void>;
}

/** `ss` in the server namespace: is something bound to `proto` port `port`? */
export async function serverListens(server: Netns, proto: "tcp" | "udp", port: number): Promise<boolean> {
  const r = await server.exec(["ss", "-Hn", proto === "tcp" ? "-lt" : "-lu", `sport = :${port}`]);
  return r.code === 0 && r.stdout.trim().length > 0;
}

export async function createCheckerLab(label: string): Promise<CheckerLab> {
  const topo = await Topology.create(`hc-${label}`);
  const dir = mkdtempSync(join(tmpdir(), `hc-${label}-`));
  try {
    const director = await topo.addNamespace("dir");
    const server = await topo.addNamespace("srv");
    await topo.link(director, server, {
      ifA: DIRECTOR_IF,
      ifB: SERVER_IF,
      a: [`${DIRECTOR_IP}/24`, `${DIRECTOR_IP6}/64`, `${DIRECTOR_LL}/64`],
      b: [`${SERVER_IP}/24`, `${SERVER_IP6}/64`, `${SERVER_LL}/64`],
    });
    await director.run(
      `ip link add ${SIDE_IF} type veth peer name hcside1 && ip link set ${SIDE_IF} up && ip link set hcside1 up`,
    );
    // A fresh veth's IPv6 route is usable a moment after the link comes up: wait until the
    // system's ping (iputils) gets through both ways, so a test never races the link.
    for (const addr of [SERVER_IP, SERVER_IP6]) {
      await waitFor(async () => (await director.exec(["ping", "-c1", "-W1", addr])).code === 0, {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: `${addr} reachable from the director namespace`,
      });
    }
    const lab: CheckerLab = {
      topo,
      director,
      server,
      dir,
      async probe(...defs) {
        const r = await director.exec([process.execPath, PROBE_CLI, JSON.stringify(defs)], {
          timeoutMs: 20_000,
        });
        if (r.code !== 0) throw new Error(`probe-cli exit ${r.code}: ${r.stderr.trim()}`);
        return JSON.parse(r.stdout) as ProbeResult[];
      },
      async startDaemon(argv, listening, what) {
        const proc = server.spawn(argv);
        const exitedEarly = proc.exited.then((code) => code);
        await waitFor(
          async () => {
            if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
              throw new Error(`${what} exited ${await exitedEarly}: ${proc.output().trim()}`);
            }
            return listening();
          },
          { timeoutMs: 10_000, intervalMs: 50, what: `${what} listening` },
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${what} output:\n${proc.output()}`);
        });
        return proc;
      },
      async destroy() {
        await topo.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return lab;
  } catch (err) {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
