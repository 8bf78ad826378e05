// The scenarios the kernel tier runs against Linux's IPVS and the host tier replays against the
// kernel's recorded answers (test/fixtures/kernel-golden.json). Fully deterministic: every client
// address and source port is fixed here, so the same scenario gives the same input everywhere.
import { type Connection, parseAddress, Service } from "../src/index.js";

export const CLIENTS4 = Array.from({ length: 50 }, (_, i) => `10.30.0.${10 + i}`);
export const CLIENTS6 = Array.from(
  { length: 24 },
  (_, i) =>
    `fd00:30::${[(0x1000 + i * 0x1357) & 0xffff, (0x2468 * (i + 1)) & 0xffff || 1, (i * 0x9e37) & 0xffff, i + 16].map((g) => g.toString(16)).join(":")}`,
);
export const VIP4 = "10.30.0.100";
export const VIP6 = "fd00:30::100";
/** The fwmark service's addresses (dh, lblc, lblcr hash the VIP). */
export const MARK_VIPS = Array.from({ length: 40 }, (_, i) => `10.31.0.${1 + i}`);
export const RIPS4 = Array.from({ length: 6 }, (_, i) => `10.40.0.${11 + i}`);
export const RIPS6 = Array.from({ length: 6 }, (_, i) => `fd00:40::${11 + i}`);
export const RPORT = 8080;

export type Step =
  | { dest: "add" | "edit"; rs: number; weight: number; x?: number; y?: number }
  | { dest: "del"; rs: number }
  | { conns: number }
  /**
   * Closes the `n` oldest open connections of the scenario (of real server `rs` if given). "client":
   * the client's FIN (CLOSE_WAIT, then TIME_WAIT: inactive, 2 min). "server": the real server's FIN
   * while the client keeps its half open (FIN_WAIT: inactive, gone after the tcpfin timeout, 1 s).
   */
  | { close: number; rs?: number; by: "client" | "server" }
  /** Time passes (ms): the model's clock moves, the test sleeps. */
  | { wait: number };

/** ipvsadm --set 0 TCPFIN 0 in the director, and the model's timeouts.tcpFin (seconds). */
export const TCPFIN_TIMEOUT = 1;
/** sysctl net.ipv4.vs.lblcr_expiration in the director, and the model's lblcrExpiration (seconds). */
export const LBLCR_EXPIRATION = 1;

export interface Scenario {
  name: string;
  family: 4 | 6;
  scheduler: string;
  flags?: string;
  persistent?: { timeout: number; netmask?: string | number };
  /** A fwmark service: the director marks packets to MARK_VIPS on `port` with this mark. */
  fwmark?: number;
  /** The service's virtual port (unique per scenario, so each starts with fresh destinations). */
  port: number;
  steps: Step[];
}

const add = (rs: number, weight: number, x?: number, y?: number): Step => ({ dest: "add", rs, weight, x, y });
const edit = (rs: number, weight: number, x?: number, y?: number): Step => ({
  dest: "edit",
  rs,
  weight,
  x,
  y,
});
const del = (rs: number): Step => ({ dest: "del", rs });
const conns = (n: number): Step => ({ conns: n });
const close = (n: number, rs?: number): Step => ({
  close: n,
  ...(rs === undefined ? {} : { rs }),
  by: "client",
});
const serverClose = (n: number, rs?: number): Step => ({
  close: n,
  ...(rs === undefined ? {} : { rs }),
  by: "server",
});
const wait = (ms: number): Step => ({ wait: ms });

export const SCENARIOS: Scenario[] = [
  {
    name: "rr with weight 0, delete of the current position, re-add from the trash, edits",
    family: 4,
    scheduler: "rr",
    port: 1001,
    steps: [
      add(0, 1),
      add(1, 2),
      add(2, 0),
      add(3, 3),
      conns(30),
      del(3),
      conns(15),
      add(3, 1),
      conns(15),
    ].concat([edit(1, 0), conns(20), edit(1, 2), del(0), conns(20), add(4, 1), conns(20)]),
  },
  {
    name: "wrr: gcd/max-weight interleave, edits and deletes mid-cycle",
    family: 4,
    scheduler: "wrr",
    port: 1002,
    steps: [
      add(0, 4),
      add(1, 3),
      add(2, 2),
      add(3, 1),
      conns(33),
      edit(2, 6),
      conns(29),
      del(0),
      conns(27),
    ].concat([add(0, 2), conns(28), edit(3, 0), conns(26), add(4, 4), add(5, 8), conns(40)]),
  },
  {
    name: "rr: deleting the destination it points at moves it back to the previous one",
    family: 4,
    scheduler: "rr",
    port: 1016,
    steps: [
      add(0, 1),
      add(1, 1),
      add(2, 1),
      add(3, 1),
      conns(1),
      del(3),
      conns(1),
      del(2),
      conns(2),
      add(3, 1),
    ].concat([conns(1), del(0), conns(1), add(2, 1), conns(3), del(1), conns(1), del(2), conns(2)]),
  },
  {
    name: "wrr: the gcd changes mid-cycle (cw is rounded to a multiple of it plus one)",
    family: 4,
    scheduler: "wrr",
    port: 1017,
    steps: [add(0, 4), add(1, 3), conns(6), edit(1, 2), conns(3), edit(1, 3), conns(5), edit(1, 6), conns(2)]
      .concat([
        edit(0, 9),
        conns(4),
        edit(1, 4),
        conns(7),
        edit(0, 6),
        conns(3),
        edit(1, 9),
        conns(5),
        add(2, 2),
      ])
      .concat([
        conns(4),
        edit(2, 12),
        conns(6),
        edit(1, 3),
        conns(9),
        edit(2, 2),
        conns(1),
        edit(0, 4),
        conns(8),
      ]),
  },
  {
    name: "wrr with weights sharing a gcd and an upper threshold",
    family: 4,
    scheduler: "wrr",
    port: 1003,
    steps: [
      add(0, 6),
      add(1, 4, 5),
      add(2, 2),
      conns(36),
      edit(1, 8, 5),
      conns(30),
      close(20),
      conns(20),
    ].concat([add(3, 10), conns(36)]),
  },
  {
    name: "lc with weight 0, an upper threshold and closed (inactive) connections",
    family: 4,
    scheduler: "lc",
    port: 1004,
    steps: [add(0, 1), add(1, 1, 5), add(2, 0), add(3, 2), conns(40), close(15), conns(20), add(4, 1)].concat(
      [conns(30), del(3), conns(20)],
    ),
  },
  {
    name: "wlc: thresholds with hysteresis, a deleted destination back with its counters",
    family: 4,
    scheduler: "wlc",
    port: 1005,
    steps: [
      add(0, 5, 8, 3),
      add(1, 3),
      add(2, 1),
      add(3, 2),
      conns(40),
      close(25),
      conns(20),
      del(1),
      conns(20),
    ].concat([add(1, 3), conns(30), edit(0, 1), close(30), conns(30)]),
  },
  {
    name: "lc: an inactive connection weighs 1/256 of an active one",
    family: 4,
    scheduler: "lc",
    port: 1018,
    steps: [add(0, 1), add(1, 1), conns(80), close(37, 0), conns(80)],
  },
  {
    name: "wlc: OVERLOAD set at the upper threshold, cleared under the lower one (or 3/4 of the upper)",
    family: 4,
    scheduler: "wlc",
    port: 1019,
    steps: [
      add(0, 5, 8, 3),
      add(1, 2, 8),
      add(2, 1),
      conns(30),
      serverClose(5, 0),
      serverClose(2, 1),
      wait(2500),
    ].concat([conns(6), serverClose(1, 0), serverClose(1, 1), wait(2500), conns(12)]),
  },
  {
    name: "sed",
    family: 4,
    scheduler: "sed",
    port: 1006,
    steps: [add(0, 5), add(1, 3), add(2, 1), add(3, 2), conns(60), close(30), conns(40)],
  },
  {
    name: "nq",
    family: 4,
    scheduler: "nq",
    port: 1007,
    steps: [add(0, 3), add(1, 2), add(2, 1), conns(8), add(3, 2), conns(52), close(40), conns(40)],
  },
  {
    name: "sh (source address, weighted buckets)",
    family: 4,
    scheduler: "sh",
    port: 1008,
    steps: [add(0, 3), add(1, 1), add(2, 2), add(3, 1), conns(60), edit(2, 0), conns(40), del(0), conns(40)],
  },
  {
    name: "sh with sh-port and sh-fallback, an overloaded destination",
    family: 4,
    scheduler: "sh",
    flags: "sh-port,sh-fallback",
    port: 1009,
    steps: [add(0, 2), add(1, 2, 3), add(2, 1), add(3, 3), conns(80), edit(3, 0), conns(60)],
  },
  {
    name: "dh (destination address of a fwmark service)",
    family: 4,
    scheduler: "dh",
    fwmark: 7,
    port: 80,
    steps: [
      add(0, 1),
      add(1, 2),
      add(2, 1),
      add(3, 0),
      conns(60),
      del(1),
      conns(40),
      add(5, 1, 4),
      conns(40),
    ],
  },
  {
    name: "mh (Maglev, source address, weights)",
    family: 4,
    scheduler: "mh",
    port: 1011,
    steps: [
      add(0, 3),
      add(1, 2),
      add(2, 1),
      add(3, 1),
      conns(60),
      edit(1, 0),
      conns(40),
      del(2),
      conns(40),
    ].concat([add(4, 200), conns(30)]),
  },
  {
    name: "mh with mh-port and mh-fallback",
    family: 4,
    scheduler: "mh",
    flags: "mh-port,mh-fallback",
    port: 1012,
    steps: [add(0, 1), add(1, 1), add(2, 4, 4), add(3, 2), conns(80), edit(0, 0), conns(60)],
  },
  {
    name: "fo with upper thresholds",
    family: 4,
    scheduler: "fo",
    port: 1013,
    steps: [
      add(0, 5, 4),
      add(1, 5, 3),
      add(2, 3),
      add(3, 1),
      conns(30),
      close(10),
      conns(10),
      edit(2, 9),
      conns(20),
    ],
  },
  {
    name: "ovf until every destination overflows",
    family: 4,
    scheduler: "ovf",
    port: 1014,
    steps: [add(0, 4), add(1, 3), add(2, 2), conns(16), add(3, 1), conns(4), close(8), conns(12)],
  },
  {
    name: "wlc with persistence (-p 300 -M 255.255.255.248)",
    family: 4,
    scheduler: "wlc",
    persistent: { timeout: 300, netmask: "255.255.255.248" },
    port: 1015,
    steps: [add(0, 3), add(1, 2), add(2, 1), conns(60), del(1), conns(30), add(1, 2), conns(30)],
  },
  {
    name: "rr with a persistent port-0 service",
    family: 4,
    scheduler: "rr",
    persistent: { timeout: 60 },
    port: 0,
    steps: [add(0, 1), add(1, 1), add(2, 1), conns(60)],
  },
  {
    name: "wrr with a persistent fwmark service (one template per client across VIPs)",
    family: 4,
    scheduler: "wrr",
    persistent: { timeout: 120, netmask: 28 },
    fwmark: 10,
    port: 83,
    steps: [add(0, 2), add(1, 1), add(2, 3), conns(60), edit(0, 0), conns(30)],
  },
  {
    name: "lblc (fwmark service; a cached server is kept past its upper threshold)",
    family: 4,
    scheduler: "lblc",
    fwmark: 8,
    port: 81,
    steps: [add(0, 1), add(1, 2, 3), add(2, 1), conns(50), add(3, 30), conns(30), edit(3, 10), conns(30)],
  },
  {
    name: "lblcr (fwmark service; sets grow when busy, shrink after lblcr_expiration = 1 s)",
    family: 4,
    scheduler: "lblcr",
    fwmark: 9,
    port: 82,
    steps: [
      add(0, 1),
      add(1, 1),
      conns(40),
      add(2, 60),
      conns(40),
      wait(1500),
      conns(40),
      add(3, 40),
      conns(40),
    ],
  },
  {
    name: "sh over IPv6 (address folding)",
    family: 6,
    scheduler: "sh",
    flags: "sh-port",
    port: 1021,
    steps: [add(0, 2), add(1, 1), add(2, 3), conns(80)],
  },
  {
    name: "mh over IPv6 (address folding in hsiphash)",
    family: 6,
    scheduler: "mh",
    port: 1022,
    steps: [add(0, 1), add(1, 2), add(2, 1), add(3, 1), conns(80)],
  },
];

/** One concrete action of a scenario. */
export type DestStep = Extract<Step, { dest: string }>;
export type Action =
  | { kind: "dest"; step: DestStep }
  | { kind: "conn"; client: string; sport: number; vip: string; vport: number }
  | { kind: "close"; step: Extract<Step, { close: number }> }
  | { kind: "wait"; ms: number };

/** Client source ports are unique over the whole run (30000 + a counter). */
export function expand(scenarios: readonly Scenario[]): Map<string, Action[]> {
  let k = 0;
  const out = new Map<string, Action[]>();
  for (const sc of scenarios) {
    const acts: Action[] = [];
    const clients = sc.family === 4 ? CLIENTS4 : CLIENTS6;
    for (const st of sc.steps) {
      if ("close" in st) acts.push({ kind: "close", step: st });
      else if ("wait" in st) acts.push({ kind: "wait", ms: st.wait });
      else if ("conns" in st) {
        for (let i = 0; i < st.conns; i++, k++) {
          const client = clients[(k * 7 + 3) % clients.length]!;
          const vip = sc.fwmark ? MARK_VIPS[(k * 11 + 5) % MARK_VIPS.length]! : sc.family === 4 ? VIP4 : VIP6;
          // A port-0 service takes any port: spread them.
          const vport = sc.port === 0 ? 2000 + (k % 5) : sc.port;
          acts.push({ kind: "conn", client, sport: 30000 + k, vip, vport });
        }
      } else {
        acts.push({ kind: "dest", step: st });
      }
    }
    out.set(sc.name, acts);
  }
  return out;
}

/**
 * Picks the connections a close step closes: the `n` oldest still open (of real server `rs`).
 * `open` is in creation order; the picked ones are removed from it.
 */
export function pickToClose(
  sc: Scenario,
  step: Extract<Step, { close: number }>,
  open: Map<number, Connection>,
): [number, Connection][] {
  const want = step.rs === undefined ? undefined : rip(sc, step.rs);
  const picked = [...open].filter(([, c]) => want === undefined || c.destAddress === parseAddress(want).text);
  const out = picked.slice(0, step.close);
  for (const [sport] of out) open.delete(sport);
  return out;
}

/** The model's side of a close: the packets the kernel sees. */
export function modelClose(c: Connection, by: "client" | "server"): void {
  if (by === "client") c.close();
  else c.tcp("out", { fin: true, ack: true }).tcp("in", { ack: true });
}

export function rip(sc: Scenario, i: number): string {
  return (sc.family === 4 ? RIPS4 : RIPS6)[i]!;
}

/** The model's Service for a scenario; its clock only moves at wait steps. */
export function modelService(sc: Scenario, clock: () => number = () => 0): Service {
  return new Service({
    timeouts: { tcpFin: TCPFIN_TIMEOUT },
    lblcrExpiration: LBLCR_EXPIRATION,
    scheduler: sc.scheduler,
    ...(sc.flags ? { flags: sc.flags } : {}),
    ...(sc.fwmark ? { fwmark: sc.fwmark } : { address: sc.family === 4 ? VIP4 : VIP6, port: sc.port }),
    ...(sc.persistent ? { persistent: sc.persistent } : {}),
    clock,
  });
}

/** Applies a destination step to the model. */
export function modelDest(svc: Service, sc: Scenario, st: DestStep): void {
  const address = rip(sc, st.rs);
  if (st.dest === "del") {
    svc.deleteDest(address, RPORT);
    return;
  }
  const o = {
    address,
    port: RPORT,
    weight: st.weight,
    upperThreshold: st.x ?? 0,
    lowerThreshold: st.y ?? 0,
    forward: "masq" as const,
  };
  if (st.dest === "add") svc.addDest(o);
  else svc.editDest(o);
}

/** The ipvsadm command of a destination step (for messages; the test programs IPVS over netlink). */
export function ipvsadmDest(sc: Scenario, st: DestStep): string {
  const svc = sc.fwmark ? `-f ${sc.fwmark}` : `-t ${sc.family === 4 ? VIP4 : `[${VIP6}]`}:${sc.port}`;
  const r = sc.family === 4 ? `${rip(sc, st.rs)}:${RPORT}` : `[${rip(sc, st.rs)}]:${RPORT}`;
  if (st.dest === "del") return `-d ${svc} -r ${r}`;
  const x = st.x ? ` -x ${st.x}` : "";
  const y = st.y ? ` -y ${st.y}` : "";
  return `${st.dest === "add" ? "-a" : "-e"} ${svc} -r ${r} -m -w ${st.weight}${x}${y}`;
}
