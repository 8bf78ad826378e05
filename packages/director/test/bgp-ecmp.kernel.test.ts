// Kernel tier (tools/vm): the scale-out of issue 17 end to end, with the real IPVS and FRR 8.4.
// A client reaches the VIP through an FRR router (maximum-paths, L4 multipath hash) that learns
// it over BGP from three directors (`lvsctl up -C` with a `bgp:` section, IPVS mh + mh-port in
// DR mode, sloppy_tcp); the real servers (VIP on lo) answer the client directly. 60 long-lived
// TCP flows spread over the directors; kill -9 of one director (then its namespace deleted: the
// box and its IPVS state are gone) loses none; a fresh director joining takes flows over
// mid-stream and loses none; a director whose link goes silent is dropped at the hold timer and
// still loses none. The scenario lives in bench/bgp-ecmp.mjs, which makes the README's figure
// with 100 flows.
import { canUseNetns, haveFrr } from "@lvs/testkit";
import { describe, expect, it } from "vitest";
import { runBgpEcmp } from "../bench/bgp-ecmp.mjs";

const HOLD_MS = 3000;
/** Slack for polling and process scheduling under TCG on a loaded host: generous on purpose. */
const MARGIN_MS = 7000;
const D = ["10.190.0.11", "10.190.0.12", "10.190.0.13"];

describe.skipIf(!canUseNetns() || !haveFrr())(
  "active-active directors behind FRR's ECMP (BGP, IPVS mh, DR)",
  () => {
    it("60 flows spread over three directors; none lost at a kill -9, a join, or a silent link", async () => {
      const r = await runBgpEcmp({ directors: 3, flows: 60, silent: true, log: (l) => console.log(l) });

      // One ECMP route, one next hop per director; every session came up.
      expect(r.nextHops).toEqual(D);
      for (const s of r.start) expect(s.sessionMs).toBeGreaterThanOrEqual(0);

      // The router spread the flows: every director carries some, none carries a flow twice, and
      // every director that saw a flow sent it to the same real server (one Maglev table).
      expect(r.spread.map((s) => s.director)).toEqual([1, 2, 3]);
      for (const s of r.spread) expect(s.flows).toBeGreaterThan(0);
      expect(r.spread.reduce((n, s) => n + s.flows, 0)).toBe(60);
      expect(r.duplicated).toBe(0);
      expect(Object.keys(r.perServer)).toHaveLength(3);

      // kill -9: R drops D1 within the hold time; D1's flows continue on the others, same real servers.
      expect(r.loss.nextHops).toEqual([D[1], D[2]]);
      expect(r.loss.sessionDownMs).toBeLessThan(HOLD_MS + MARGIN_MS);
      expect(r.loss.routeChangeMs).toBeLessThan(HOLD_MS + MARGIN_MS);
      expect(r.loss.victimFlows).toBeGreaterThan(0);
      expect(r.loss.moved).toBe(r.loss.victimFlows);
      expect(r.loss.movedInconsistent).toBe(0);
      expect(r.loss.lostFlows).toEqual([]);

      // join: a fresh D1 (empty IPVS) gets its next hop back, takes flows mid-stream, loses none.
      expect(r.join.nextHops).toEqual(D);
      expect(r.join.rehashed).toBeGreaterThan(0);
      expect(r.join.lostFlows).toEqual([]);

      // silent link: no FIN, R waits for its hold timer (logged as such), then the flows come back.
      expect(r.silent?.holdTimerLogged).toBe(true);
      expect(r.silent?.nextHops).toEqual([D[0], D[2]]);
      expect(r.silent?.victimFlows).toBeGreaterThan(0);
      expect(r.silent?.sessionDownMs).toBeLessThan(HOLD_MS + MARGIN_MS);
      expect(r.silent?.routeChangeMs).toBeLessThan(HOLD_MS + MARGIN_MS);
      expect(r.silent?.lostFlows).toEqual([]);

      expect(r.inconsistent).toEqual([]);
      expect(r.ended).toBe(0);
    }, 600_000); // three daemon start-ups at once under TCG: ~1 min idle, ~3 min on a loaded host
  },
);
