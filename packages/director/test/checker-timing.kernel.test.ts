// Kernel tier (tools/vm): checker timing against keepalived 2.2.7. Both read the same
// keepalived.conf, each in its own namespace (its own IPVS), and check the same flapping real
// server (up 5 s, down 5 s, three times). Each one's notify_up/notify_down script writes the time
// of every transition; the two must see the same transitions in the same order, each at the time
// delay_loop + retry × delay_before_retry allows (generous bounds: the two checkers' phases differ
// by up to one delay_loop).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { keepalivedArgv, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { directorCheckArgv } from "./helpers.js";

const FLAPPER = fileURLToPath(new URL("./fixtures/flapper.mjs", import.meta.url));

const UP_MS = 5_000;
const DOWN_MS = 5_000;
const CYCLES = 3;
const DELAY_LOOP_S = 1;
const RETRY = 2;
const DELAY_BEFORE_RETRY_S = 1;

const conf = (notify: string) => `global_defs {
  router_id timing
}
virtual_server 10.75.0.1 80 {
  delay_loop ${DELAY_LOOP_S}
  lb_kind NAT
  protocol TCP
  real_server 10.74.0.11 8080 {
    notify_up "${notify} up"
    notify_down "${notify} down"
    TCP_CHECK {
      connect_timeout 1
      retry ${RETRY}
      delay_before_retry ${DELAY_BEFORE_RETRY_S}
    }
  }
}
`;

interface Transition {
  kind: "up" | "down";
  at: number;
}

const transitions = (text: string): Transition[] =>
  text
    .split("\n")
    .filter((l) => /^(up|down) \d+$/.test(l))
    .map((l) => {
      const [kind, at] = l.split(" ");
      return { kind: kind as "up" | "down", at: Number(at) };
    });

describe("checker timing: the same flapping server gives keepalived and lvs the same transitions", () => {
  let topo: Topology | undefined;
  let dir: string | undefined;
  const procs: SpawnedProcess[] = [];

  afterAll(async () => {
    for (const p of procs) p.kill();
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`up ${UP_MS / 1000} s / down ${DOWN_MS / 1000} s × ${CYCLES}, TCP_CHECK retry ${RETRY}, delay_before_retry ${DELAY_BEFORE_RETRY_S}`, async () => {
    dir = mkdtempSync(join(tmpdir(), "lvs-timing-"));
    topo = await Topology.create("tim");
    const server = await topo.addNamespace("srv");
    const ka = await topo.addNamespace("ka");
    const lb = await topo.addNamespace("lb");
    const lan = await topo.addBridge("lan");
    await topo.attach(server, lan, { addr: "10.74.0.11/24", ifname: "eth0" });
    await topo.attach(ka, lan, { addr: "10.74.0.2/24", ifname: "eth0" });
    await topo.attach(lb, lan, { addr: "10.74.0.1/24", ifname: "eth0" });
    const notify = join(dir, "notify.sh");
    writeFileSync(notify, '#!/bin/sh\necho "$2 $(date +%s%3N)" >> "$1"\n', { mode: 0o755 });
    const kaLog = join(dir, "ka.transitions");
    const lbLog = join(dir, "lb.transitions");
    writeFileSync(join(dir, "ka.conf"), conf(`${notify} ${kaLog}`));
    writeFileSync(join(dir, "lb.conf"), conf(`${notify} ${lbLog}`));

    // Both checkers start against a healthy server and settle before it starts to flap.
    // One server process throughout: up until told to start flapping (SIGUSR1).
    const flapper = server.spawn([
      "node",
      FLAPPER,
      "10.74.0.11:8080",
      String(UP_MS),
      String(DOWN_MS),
      String(CYCLES),
    ]);
    procs.push(flapper);
    await waitFor(() => flapper.output().includes("up "), { what: "server up", timeoutMs: 60_000 });
    procs.push(ka.spawn(keepalivedArgv({ half: "check", config: join(dir, "ka.conf"), dir })));
    procs.push(lb.spawn(directorCheckArgv(join(dir, "lb.conf"), dir)));
    const present = async (ns: typeof ka) => (await ns.run("ipvsadm -Ln")).includes("10.74.0.11:8080");
    try {
      await waitFor(async () => (await present(ka)) && (await present(lb)), {
        what: "both tables hold the real server",
        // The director's start (node under TCG, on a busy host) can take tens of seconds.
        timeoutMs: 120_000,
        intervalMs: 500,
      });
    } catch (err) {
      console.log(
        `keepalived:\n${procs[1]?.output().slice(-3000)}\n${await ka.run("ipvsadm -Ln")}\n` +
          `director:\n${procs[2]?.output().slice(-3000)}\n${await lb.run("ipvsadm -Ln")}`,
      );
      throw err;
    }
    flapper.kill("SIGUSR1");
    await waitFor(() => flapper.output().includes("done"), {
      what: "the flapping schedule",
      timeoutMs: CYCLES * (UP_MS + DOWN_MS) + 30_000,
    });
    // The last recovery is seen within one check interval.
    await new Promise((r) => setTimeout(r, (DELAY_LOOP_S + 2) * 1000));

    const schedule = transitions(flapper.output()).slice(1); // the first "up" is the start
    const theirs = transitions(readFileSync(kaLog, "utf8"));
    const ours = transitions(readFileSync(lbLog, "utf8"));
    const rel = (t: Transition[]) => t.map((x) => `${x.kind}@${x.at - (schedule[0]?.at ?? 0)}`);
    console.log(
      `schedule: ${rel(schedule).join(" ")}\nkeepalived: ${rel(theirs).join(" ")}\nlvs:        ${rel(ours).join(" ")}`,
    );

    expect(schedule.map((t) => t.kind)).toEqual(Array.from({ length: CYCLES }, () => ["down", "up"]).flat());
    expect(theirs.map((t) => t.kind)).toEqual(schedule.map((t) => t.kind));
    expect(ours.map((t) => t.kind)).toEqual(theirs.map((t) => t.kind));

    // When keepalived's rules say a transition may happen: a drop is declared after the failed
    // check and RETRY retries DELAY_BEFORE_RETRY apart, the first failed check at most one
    // delay_loop after the drop; a recovery at the first check after it.
    const minDown = RETRY * DELAY_BEFORE_RETRY_S * 1000;
    const maxDown = (DELAY_LOOP_S + RETRY * DELAY_BEFORE_RETRY_S + 1) * 1000 + 1000;
    const maxUp = (DELAY_LOOP_S + 1) * 1000 + 1000;
    for (const [who, seen] of [
      ["keepalived", theirs],
      ["lvs", ours],
    ] as const) {
      seen.forEach((t, i) => {
        const lag = t.at - (schedule[i]?.at ?? 0);
        const [lo, hi] = t.kind === "down" ? [minDown - 200, maxDown] : [0, maxUp];
        expect(lag, `${who} ${t.kind} #${i} lag ${lag} ms`).toBeGreaterThanOrEqual(lo);
        expect(lag, `${who} ${t.kind} #${i} lag ${lag} ms`).toBeLessThanOrEqual(hi);
      });
    }
    // And the two agree within one check interval plus scheduling slack.
    ours.forEach((t, i) => {
      const diff = Math.abs(t.at - (theirs[i]?.at ?? 0));
      expect(diff, `transition #${i} ${t.kind}: lvs vs keepalived ${diff} ms`).toBeLessThanOrEqual(
        DELAY_LOOP_S * 1000 + 1000,
      );
    });
  }, 300_000);
});
