// BGP announcement of the virtual servers' addresses (the YAML `bgp:` section): one announce-only
// session per peer (@lvs/bgp); an address (/32 or /128) is announced while at least one virtual
// server on it has quorum, withdrawn when the last one loses it, and everything is withdrawn
// (with Cease) when the director stops. Fed by the engine's quorum transitions (effects.ts).
import { BgpSpeaker, type FsmState, type SessionEffect, type SpeakerOptions } from "@lvs/bgp";
import type { BgpSection } from "@lvs/config";
import type { Logger } from "./log.js";
import type { PlannedVirtualServer } from "./plan.js";

/** What the announcer needs of a speaker (BgpSpeaker; a double in unit tests). */
export interface BgpSpeakerLike {
  readonly state: FsmState;
  start(): void;
  setRoutes(routes: { prefix: string; communities?: readonly string[] }[]): void;
  stop(text?: string): Promise<void>;
  on(listener: (e: SessionEffect) => void): () => void;
}

export interface BgpSessionStatus {
  peer: string;
  peerAs: number;
  state: FsmState;
  /** Prefixes announced (or to announce once Established). */
  announced: string[];
}

export class BgpAnnouncer {
  private readonly sessions: { peer: string; peerAs: number; speaker: BgpSpeakerLike }[];
  /** Virtual server key → its addresses, for those with quorum up. */
  private readonly up = new Map<string, string[]>();
  private announced: string[] = [];

  constructor(
    private readonly section: BgpSection,
    private readonly log: Logger,
    createSpeaker: (o: SpeakerOptions) => BgpSpeakerLike = (o) => new BgpSpeaker(o),
  ) {
    const nextHopSelf: SpeakerOptions["nextHopSelf"] = {};
    for (const nh of section.nextHops ?? []) nextHopSelf[nh.includes(":") ? "ipv6" : "ipv4"] = nh;
    this.sessions = section.peers.map((p) => {
      const speaker = createSpeaker({
        localAs: section.localAs,
        peerAs: p.as,
        peer: p.address,
        nextHopSelf,
        ...(p.port !== undefined ? { port: p.port } : {}),
        ...(p.localAddress !== undefined ? { localAddress: p.localAddress } : {}),
        ...(section.routerId !== undefined ? { routerId: section.routerId } : {}),
        ...(section.holdTime !== undefined ? { holdTime: section.holdTime } : {}),
        ...(section.netns !== undefined ? { netns: section.netns } : {}),
      });
      speaker.on((e) => {
        if (e.type === "state")
          this.log.info(
            { peer: p.address, from: e.from, to: e.to },
            `BGP peer ${p.address}: ${e.from} -> ${e.to} (${e.reason})`,
          );
        else if (e.type === "notification")
          this.log.warn(
            { peer: p.address, code: e.code, subcode: e.subcode },
            `BGP peer ${p.address}: NOTIFICATION ${e.direction} ${e.name}${e.text ? ` "${e.text}"` : ""}`,
          );
        else if (e.type === "warning")
          this.log.warn({ peer: p.address }, `BGP peer ${p.address}: ${e.message}`);
      });
      return { peer: p.address, peerAs: p.as, speaker };
    });
  }

  start(): void {
    for (const s of this.sessions) s.speaker.start();
  }

  /** A quorum transition of a virtual server (fwmark services have no address to announce). */
  quorum(vs: PlannedVirtualServer, up: boolean): void {
    const addresses = vs.services.flatMap((s) =>
      s.service.address !== undefined ? [s.service.address] : [],
    );
    if (up && addresses.length > 0) this.up.set(vs.key, addresses);
    else this.up.delete(vs.key);
    this.sync();
  }

  /** Withdraw everything and close each session with Cease (director stop). */
  async stop(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.speaker.stop("lvs director stopping")));
  }

  status(): BgpSessionStatus[] {
    return this.sessions.map((s) => ({
      peer: s.peer,
      peerAs: s.peerAs,
      state: s.speaker.state,
      announced: [...this.announced],
    }));
  }

  private sync(): void {
    const prefixes = [...new Set([...this.up.values()].flat())]
      .map((a) => `${a}/${a.includes(":") ? 128 : 32}`)
      .sort();
    if (prefixes.join() === this.announced.join()) return;
    this.announced = prefixes;
    const routes = prefixes.map((prefix) => ({ prefix, communities: this.section.communities ?? [] }));
    for (const s of this.sessions) s.speaker.setRoutes(routes);
  }
}
