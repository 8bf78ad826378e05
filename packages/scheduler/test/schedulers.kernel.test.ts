// Kernel tier (inside tools/vm): the kernel's IPVS schedules real TCP connections from a client
// namespace through a NAT director to real servers; every connection's real server, read back
// from /proc/net/ip_vs_conn, must be the one our model picks for the same input, and after every
// batch the kernel's destination list (a netlink dump walks it in list order, with its counters)
// must equal the model's. Connections are made one after another and held open (ESTABLISHED, active).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  Forward,
  IP_VS_SVC_F_PERSISTENT,
  IpvsClient,
  parseConnections,
  readConnectionsFile,
  type ServiceKey,
} from "@lvs/ipvs";
import { type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Connection,
  formatEndpoint,
  parseAddress,
  parseNetmask,
  parseSchedFlags,
  type Service,
} from "../src/index.js";
import {
  type Action,
  CLIENTS4,
  CLIENTS6,
  type DestStep,
  expand,
  ipvsadmDest,
  LBLCR_EXPIRATION,
  MARK_VIPS,
  modelClose,
  modelDest,
  modelService,
  pickToClose,
  RIPS4,
  RIPS6,
  RPORT,
  rip,
  SCENARIOS,
  type Scenario,
  TCPFIN_TIMEOUT,
  VIP4,
  VIP6,
} from "./kernel-scenarios.js";

// A persistent port-0 or fwmark service forwards to the port the client asked for.
const SERVER_PORTS = ["2000", "2001", "2002", "2003", "2004", "83"];
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

let topo: Topology;
let client: Netns;
let director: Netns;
let servers: Netns;
let helper: SpawnedProcess;
let web: SpawnedProcess;
let ipvs: IpvsClient;
const replies = new Map<number, (r: { results: { ok: boolean; code?: string }[] }) => void>();
let nextId = 1;
const golden: Record<string, { scenario: Scenario; record: unknown[] }> = {};

async function batch(conns: { src: string; sport: number; dst: string; dport: number }[]) {
  const id = nextId++;
  const p = new Promise<{ results: { ok: boolean; code?: string }[] }>((resolve) => replies.set(id, resolve));
  helper.child.stdin!.write(`${JSON.stringify({ id, conns })}\n`);
  return (await p).results;
}

async function closeConns(conns: { src: string; sport: number }[]): Promise<void> {
  const id = nextId++;
  const p = new Promise((resolve) => replies.set(id, resolve));
  helper.child.stdin!.write(`${JSON.stringify({ id, close: conns })}\n`);
  await p;
}

/** The real servers end these connections (FIN); the clients keep their halves open. */
async function serverClose(conns: { src: string; sport: number }[]): Promise<void> {
  const before = web.output().length;
  web.child.stdin!.write(`${JSON.stringify({ close: conns })}\n`);
  await waitFor(() => /closed missing=\d+\n/.test(web.output().slice(before)), {
    what: "server close",
    timeoutMs: 30_000,
  });
  // Every connection named must have been open on the server: otherwise the model and the
  // kernel would disagree for a reason outside the scheduler.
  expect(/closed missing=(\d+)/.exec(web.output().slice(before))?.[1]).toBe("0");
}

async function resetClient(): Promise<void> {
  const id = nextId++;
  const p = new Promise((resolve) => replies.set(id, resolve));
  helper.child.stdin!.write(`${JSON.stringify({ id, reset: true })}\n`);
  await p;
}

beforeAll(async () => {
  topo = await Topology.create("sched");
  client = await topo.addNamespace("client");
  director = await topo.addNamespace("director");
  servers = await topo.addNamespace("rs");
  await topo.link(client, director, {
    a: ["10.30.0.2/24", "fd00:30::2/64"],
    b: ["10.30.0.1/24", `${VIP4}/24`, "fd00:30::1/64", `${VIP6}/64`],
  });
  await topo.link(director, servers, {
    a: ["10.40.0.1/24", "fd00:40::1/64"],
    b: [...RIPS4.map((a) => `${a}/24`), ...RIPS6.map((a) => `${a}/64`)],
  });
  const batchIp = [
    ...CLIENTS4.map((a) => `addr add ${a}/24 dev eth0`),
    ...CLIENTS6.map((a) => `addr add ${a}/64 dev eth0 nodad`),
    "route add 10.31.0.0/24 via 10.30.0.1",
    "route add default via 10.30.0.1",
    "route add ::/0 via fd00:30::1",
  ].join("\n");
  const r = await client.exec(["ip", "-batch", "-"], { input: `${batchIp}\n` });
  expect(r.code, r.stderr).toBe(0);
  await servers.run("ip route add default via 10.40.0.1 && ip -6 route add default via fd00:40::1");
  await director.run(
    [
      "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1",
      // ip_vs_leave() answers an unschedulable SYN with ICMP port unreachable: no rate limit.
      "sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0",
      "ip route add local 10.31.0.0/24 dev lo",
      `sysctl -qw net.ipv4.vs.lblcr_expiration=${LBLCR_EXPIRATION}`,
    ].join(" && "),
  );
  const marks = SCENARIOS.filter((s) => s.fwmark)
    .map((s) => `    ip daddr 10.31.0.0/24 tcp dport ${s.port} meta mark set ${s.fwmark}`)
    .join("\n");
  await director.run("nft -f -", {
    input: `table ip lvsmark {\n  chain pre {\n    type filter hook prerouting priority -150;\n${marks}\n  }\n}\n`,
  });
  web = servers.spawn(["node", here("kernel/server.mjs"), String(RPORT), ...SERVER_PORTS], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  await waitFor(() => web.output().includes("up"), { what: "real servers listening", timeoutMs: 60_000 });
  helper = client.spawn(["node", here("kernel/client.mjs")], { stdio: ["pipe", "pipe", "pipe"] });
  let buf = "";
  helper.child.stdout!.on("data", (d: Buffer | string) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const msg = JSON.parse(line) as { id?: number; results: { ok: boolean; code?: string }[] };
      if (msg.id !== undefined) replies.get(msg.id)?.(msg);
    }
  });
  await waitFor(() => helper.output().includes("ready"), { what: "client helper", timeoutMs: 60_000 });
  ipvs = await IpvsClient.open({ netns: director.path, timeoutMs: 20_000 });
  // ipvsadm --set 0 1 0: a connection the real server closed (FIN_WAIT) expires after 1 s.
  await ipvs.setTimeouts({ tcp: 0, tcpFin: TCPFIN_TIMEOUT, udp: 0 });
}, 180_000);

afterAll(async () => {
  if (process.env.LVS_SCHED_CAPTURE && process.env.LVS_VM_OUT) {
    const dir = `${process.env.LVS_VM_OUT}/packages/scheduler/test/fixtures`;
    mkdirSync(dir, { recursive: true });
    // One record per line, so a re-capture diffs readably.
    const body = Object.entries(golden)
      .map(
        ([name, g]) =>
          `${JSON.stringify(name)}: {"scenario": ${JSON.stringify(g.scenario)}, "record": [\n${g.record.map((r) => `  ${JSON.stringify(r)}`).join(",\n")}\n]}`,
      )
      .join(",\n");
    writeFileSync(`${dir}/kernel-golden.json`, `{\n${body}\n}\n`);
  }
  ipvs?.close();
  await topo?.destroy();
});

function serviceKey(sc: Scenario): ServiceKey {
  if (sc.fwmark) return { fwmark: sc.fwmark, af: sc.family === 4 ? 2 : 10 };
  return { protocol: 6, address: sc.family === 4 ? VIP4 : VIP6, port: sc.port };
}

/** ipvsadm -A, over netlink. */
async function kernelService(sc: Scenario): Promise<void> {
  const af = sc.family === 4 ? 2 : 10;
  await ipvs.addService({
    ...serviceKey(sc),
    scheduler: sc.scheduler,
    flags:
      (sc.flags ? parseSchedFlags(sc.scheduler, sc.flags) : 0) | (sc.persistent ? IP_VS_SVC_F_PERSISTENT : 0),
    timeout: sc.persistent?.timeout ?? 0,
    netmask: parseNetmask(sc.persistent?.netmask ?? (af === 2 ? 32 : 128), af),
  });
}

/** ipvsadm -a / -e / -d, over netlink. */
async function kernelDest(sc: Scenario, st: DestStep): Promise<void> {
  const address = rip(sc, st.rs);
  if (st.dest === "del") {
    await ipvs.delDest(serviceKey(sc), { address, port: RPORT });
    return;
  }
  const d = {
    address,
    port: RPORT,
    forward: Forward.MASQ,
    weight: st.weight,
    upperThreshold: st.x ?? 0,
    lowerThreshold: st.y ?? 0,
  };
  if (st.dest === "add") await ipvs.addDest(serviceKey(sc), d);
  else await ipvs.editDest(serviceKey(sc), d);
}

/** The kernel's destination list (a netlink dump walks svc->destinations): `ip:port w p a i`. */
async function kernelDests(sc: Scenario): Promise<string[]> {
  return (await ipvs.dests(serviceKey(sc))).map(
    (d) =>
      `${formatEndpoint(parseAddress(d.address), d.port)} w${d.weight} p${d.persistConns} a${d.activeConns} i${d.inactiveConns}`,
  );
}

function modelDests(svc: Service): string[] {
  return svc.destinations.map(
    (d) => `${d.endpoint} w${d.weight} p${d.persistConns} a${d.activeConns} i${d.inactConns}`,
  );
}

// Client source ports are unique over the whole run, so no earlier scenario's entry can match.
const ACTIONS = expand(SCENARIOS);

describe.each(SCENARIOS.map((s) => [s.name, s] as const))("kernel and model agree: %s", (_name, sc) => {
  it("connection by connection, and in list order and counters after every batch", async () => {
    const actions = ACTIONS.get(sc.name)!;
    let clock = 0;
    const svc = modelService(sc, () => clock);
    await kernelService(sc);
    // Self-contained record for test/fixtures/kernel-golden.json (replayed on the host).
    const record: unknown[] = [];
    golden[sc.name] = { scenario: sc, record };
    const mismatches: string[] = [];
    const open = new Map<number, Connection>();
    let picked = 0;
    let found = 0;
    const compareTables = async (settle: boolean) => {
      const mt = modelDests(svc);
      let kt = await kernelDests(sc);
      // After a close the kernel's states follow the FIN/ACK exchange; give it a moment.
      for (let t = 0; settle && t < 50 && JSON.stringify(kt) !== JSON.stringify(mt); t++) {
        await new Promise((r) => setTimeout(r, 100));
        kt = await kernelDests(sc);
      }
      record.push({ table: kt });
      if (JSON.stringify(kt) !== JSON.stringify(mt)) {
        mismatches.push(
          `after ${picked} connections: kernel ${JSON.stringify(kt)} model ${JSON.stringify(mt)}`,
        );
      }
    };
    let i = 0;
    while (i < actions.length) {
      const a = actions[i]!;
      if (a.kind === "dest") {
        await kernelDest(sc, a.step);
        modelDest(svc, sc, a.step);
        record.push({ dest: a.step, ipvsadm: ipvsadmDest(sc, a.step) });
        i++;
        continue;
      }
      if (a.kind === "close") {
        const picked = pickToClose(sc, a.step, open);
        const list = picked.map(([sport, c]) => ({ src: c.clientAddress, sport }));
        if (a.step.by === "client") await closeConns(list);
        else await serverClose(list);
        for (const [, c] of picked) modelClose(c, a.step.by);
        record.push({ close: picked.map(([sport]) => sport), by: a.step.by });
        await compareTables(true);
        i++;
        continue;
      }
      if (a.kind === "wait") {
        await new Promise((r) => setTimeout(r, a.ms));
        clock += a.ms;
        svc.advance();
        record.push({ wait: a.ms });
        await compareTables(true);
        i++;
        continue;
      }
      const group: Extract<Action, { kind: "conn" }>[] = [];
      while (i < actions.length && actions[i]!.kind === "conn")
        group.push(actions[i++] as (typeof group)[number]);
      const results = await batch(
        group.map((c) => ({ src: c.client, sport: c.sport, dst: c.vip, dport: c.vport })),
      );
      const table = parseConnections(readConnectionsFile(director.path));
      expect(table.malformed).toEqual([]);
      const chosen = new Map<string, string>();
      for (const c of table.connections) {
        if (c.protocol !== "TCP" || c.clientPort < 30000) continue;
        chosen.set(
          `${parseAddress(c.clientAddress).text}|${c.clientPort}`,
          formatEndpoint(parseAddress(c.destAddress), c.destPort),
        );
      }
      group.forEach((c, j) => {
        const key = `${parseAddress(c.client).text}|${c.sport}`;
        const kernel = chosen.get(key) ?? null;
        const conn = svc.connect({
          clientAddress: c.client,
          clientPort: c.sport,
          virtualAddress: c.vip,
          virtualPort: c.vport,
        });
        conn?.establish();
        if (conn) open.set(c.sport, conn);
        const model = conn?.destEndpoint ?? null;
        record.push({ conn: [c.client, c.sport, c.vip, c.vport], kernel });
        if (kernel !== null) found++;
        if (kernel === null && results[j]!.ok)
          mismatches.push(`#${picked}: connected but no IPVS entry for ${key}`);
        if (kernel !== null && !results[j]!.ok) {
          mismatches.push(
            `#${picked}: ${key} scheduled to ${kernel} but did not connect (${results[j]!.code})`,
          );
        }
        if (kernel !== model) {
          mismatches.push(
            `#${picked} ${formatEndpoint(parseAddress(c.client), c.sport)} → ${c.vip}:${c.vport}: kernel ${kernel ?? "-"} (${results[j]!.ok ? "connected" : results[j]!.code}), model ${model ?? "-"}`,
          );
        }
        picked++;
      });
      await compareTables(false);
    }
    await resetClient();
    expect(mismatches).toEqual([]);
    // The scenario did exercise the kernel: most connections found a real server.
    expect(found).toBeGreaterThan(picked / 2);
  });
});

it("uses the whole address plan", () => {
  // Guards the scenario file: MARK_VIPS and both client families are in use.
  const all = [...expand(SCENARIOS).values()].flat();
  expect(all.some((a) => a.kind === "conn" && MARK_VIPS.includes(a.vip))).toBe(true);
  expect(all.some((a) => a.kind === "conn" && CLIENTS6.includes(a.client))).toBe(true);
  expect(all.some((a) => a.kind === "conn" && CLIENTS4.includes(a.client))).toBe(true);
});
