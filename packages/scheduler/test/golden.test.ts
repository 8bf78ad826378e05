// Golden sequences: what Linux 6.1's IPVS chose for every connection of the kernel-tier scenarios,
// captured in the VM (LVS_SCHED_CAPTURE=1, see schedulers.kernel.test.ts) and replayed here against
// the model, connection by connection, with the kernel's destination tables after every batch.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Connection, Service } from "../src/index.js";
import {
  type DestStep,
  modelClose,
  modelDest,
  modelService,
  SCENARIOS,
  type Scenario,
} from "./kernel-scenarios.js";

type Rec =
  | { dest: DestStep; ipvsadm: string }
  | { conn: [string, number, string, number]; kernel: string | null }
  | { close: number[]; by: "client" | "server" }
  | { wait: number }
  | { table: string[] };

const golden = JSON.parse(
  readFileSync(new URL("fixtures/kernel-golden.json", import.meta.url), "utf8"),
) as Record<string, { scenario: Scenario; record: Rec[] }>;

function tables(svc: Service): string[] {
  return svc.destinations.map(
    (d) => `${d.endpoint} w${d.weight} p${d.persistConns} a${d.activeConns} i${d.inactConns}`,
  );
}

/** Replays one scenario; returns the first disagreements (empty when the model is the kernel). */
export function replay(sc: Scenario, record: readonly Rec[]): string[] {
  let clock = 0;
  const svc: Service = modelService(sc, () => clock);
  const out: string[] = [];
  const open = new Map<number, Connection>();
  let n = 0;
  for (const r of record) {
    if ("dest" in r) modelDest(svc, sc, r.dest);
    else if ("close" in r) {
      for (const sport of r.close) {
        modelClose(open.get(sport)!, r.by);
        open.delete(sport);
      }
    } else if ("wait" in r) {
      clock += r.wait;
      svc.advance();
    } else if ("table" in r) {
      const mt = tables(svc);
      if (JSON.stringify(mt) !== JSON.stringify(r.table)) {
        out.push(`after ${n}: kernel ${JSON.stringify(r.table)}, model ${JSON.stringify(mt)}`);
      }
    } else {
      const [clientAddress, clientPort, virtualAddress, virtualPort] = r.conn;
      const c = svc.connect({ clientAddress, clientPort, virtualAddress, virtualPort });
      c?.establish();
      if (c) open.set(clientPort, c);
      const model = c?.destEndpoint ?? null;
      if (model !== r.kernel)
        out.push(`#${n} ${clientAddress}:${clientPort}: kernel ${r.kernel}, model ${model}`);
      n++;
    }
  }
  return out;
}

describe("the kernel's recorded choices (Linux 6.1, tools/vm)", () => {
  it("cover every kernel-tier scenario, unchanged since the capture", () => {
    expect(Object.keys(golden)).toEqual(SCENARIOS.map((s) => s.name));
    for (const sc of SCENARIOS) expect(golden[sc.name]!.scenario).toEqual(JSON.parse(JSON.stringify(sc)));
  });

  it("hold thousands of decisions, with failures (no destination) among them", () => {
    const conns = Object.values(golden).flatMap((g) => g.record.filter((r) => "conn" in r));
    expect(conns.length).toBeGreaterThan(2000);
    expect(conns.some((r) => (r as { kernel: unknown }).kernel === null)).toBe(true);
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s: the model makes every one of them", (name, sc) => {
    expect(replay(sc, golden[name]!.record)).toEqual([]);
  });
});
