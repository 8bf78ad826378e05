// BGP announcement of the virtual servers' addresses (the YAML `bgp:` section): one announce-only
// session per peer (@lvs/bgp); an address (/32 or /128) is announced while at least one virtual
// server on it has quorum, withdrawn when the last one loses it. Two gates withhold everything
// while the sessions stay up: a drain of the whole director (`lvsctl drain --director`) and, with
// `announceWhenMaster`, a VRRP instance that is not MASTER here. Everything is withdrawn (with
// Cease) when the director stops. A reload keeps each session whose parameters did not change
// (it stays Established), restarts the changed ones and opens/closes added/removed peers.
// Fed by the engine's quorum transitions (effects.ts) and the VRRP state changes (runtime.ts).
import {
  BgpSpeaker,
  type FsmState,
  type SessionEffect,
  type SessionStats,
  type SpeakerOptions,
} from "@lvs/bgp";
import type { BgpPeer, BgpSection } from "@lvs/config";
import type { Logger } from "./log.js";
import type { PlannedVirtualServer } from "./plan.js";

/** What the announcer needs of a speaker (BgpSpeaker; a double in unit tests). */
export interface BgpSpeakerLike {
  readonly state: FsmState;
  /** Message counters (BgpSpeaker's; absent on a double: reported as 0). */
  readonly stats?: SessionStats;
  start(): void;
  setRoutes(routes: { prefix: string; communities?: readonly string[] }[]): void;
  stop(text?: string): Promise<void>;
  on(listener: (e: SessionEffect) => void): () => void;
}

export interface BgpSessionStatus {
  peer: string;
  peerAs: number;
  state: FsmState;
  /** Epoch ms of the last state change (or of the session's creation). */
  since: number;
  /** Prefixes announced (or to announce once Established); [] while withheld. */
  announced: string[];
  updatesSent: number;
  updatesReceived: number;
  /** Times the session reached Established. */
  established: number;
  notificationsSent: number;
  notificationsReceived: number;
  /** The last NOTIFICATION either way, `sent Cease/Administrative Shutdown "…"`. */
  lastNotification: string | null;
}

/** What the sessions announce, and why not when they don't. */
export interface BgpAnnouncementStatus {
  /** Addresses of the virtual servers with quorum, as prefixes (what would be announced). */
  eligible: string[];
  /** What is announced now ([] while withheld). */
  announced: string[];
  /** Why nothing is announced although some address has quorum (null: not withheld). */
  withheld: string | null;
  /** The VRRP instances that gate the announcement (`announceWhenMaster`), with their state here. */
  announceWhenMaster: Array<{ instance: string; state: string }>;
}

/** What a reload did to the sessions (peer addresses). */
export interface BgpReloadSummary {
  added: string[];
  removed: string[];
  restarted: string[];
  kept: string[];
}

/** A reload's new sessions, built (and so checked) before anything running changes. */
export interface BgpReconfiguration {
  apply(): Promise<BgpReloadSummary>;
}

interface Session {
  key: string;
  peer: string;
  peerAs: number;
  /** The speaker options, as text: equal text = the session is kept on reload. */
  params: string;
  speaker: BgpSpeakerLike;
  since: number;
  off: () => void;
}

export interface BgpAnnouncerOptions {
  log: Logger;
  createSpeaker?: (o: SpeakerOptions) => BgpSpeakerLike;
  /** Epoch ms (state-change times). */
  now?: () => number;
  /** A session changed state or the announcement changed (the status page's live feed). */
  onChange?: () => void;
}

/** Notification counts per peer address, kept across the restarts of its session. */
interface PeerCounters {
  sent: number;
  received: number;
  last: string | null;
}

const keyOf = (p: BgpPeer) => `${p.address}|${p.port ?? 179}`;
const gateOf = (s: BgpSection): string[] =>
  s.announceWhenMaster === undefined
    ? []
    : typeof s.announceWhenMaster === "string"
      ? [s.announceWhenMaster]
      : [...s.announceWhenMaster];

function speakerOptions(section: BgpSection, p: BgpPeer): SpeakerOptions {
  const nextHopSelf: SpeakerOptions["nextHopSelf"] = {};
  for (const nh of section.nextHops ?? []) nextHopSelf[nh.includes(":") ? "ipv6" : "ipv4"] = nh;
  return {
    localAs: section.localAs,
    peerAs: p.as,
    peer: p.address,
    nextHopSelf,
    ...(p.port !== undefined ? { port: p.port } : {}),
    ...(p.localAddress !== undefined ? { localAddress: p.localAddress } : {}),
    ...(section.routerId !== undefined ? { routerId: section.routerId } : {}),
    ...(section.holdTime !== undefined ? { holdTime: section.holdTime } : {}),
    ...(section.netns !== undefined ? { netns: section.netns } : {}),
  };
}

export class BgpAnnouncer {
  private section: BgpSection;
  private sessions = new Map<string, Session>();
  /** Virtual server key → its addresses, for those with quorum up. */
  private up = new Map<string, string[]>();
  private eligible: string[] = [];
  private announced: string[] = [];
  /** What the sessions were last given (prefixes and communities), to skip no-op updates. */
  private given = "";
  private drained = false;
  /** VRRP instance → its state here (upper case), as reported. */
  private readonly vrrpStates = new Map<string, string>();
  private readonly counters = new Map<string, PeerCounters>();
  private readonly log: Logger;
  private readonly createSpeaker: (o: SpeakerOptions) => BgpSpeakerLike;
  private readonly now: () => number;
  private readonly onChange: () => void;
  private started = false;
  private stopped = false;

  constructor(section: BgpSection, opts: BgpAnnouncerOptions) {
    this.section = section;
    this.log = opts.log;
    this.createSpeaker = opts.createSpeaker ?? ((o) => new BgpSpeaker(o));
    this.now = opts.now ?? Date.now;
    this.onChange = opts.onChange ?? (() => {});
    for (const s of this.build(section, new Set(section.peers.map(keyOf)))) this.sessions.set(s.key, s);
  }

  start(): void {
    this.started = true;
    for (const s of this.sessions.values()) s.speaker.start();
    this.sync();
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

  /** The quorum of every virtual server at once (after a reload: removed ones are gone). */
  resync(list: Iterable<{ vs: PlannedVirtualServer; up: boolean }>): void {
    this.up.clear();
    for (const { vs, up } of list) {
      const addresses = vs.services.flatMap((s) =>
        s.service.address !== undefined ? [s.service.address] : [],
      );
      if (up && addresses.length > 0) this.up.set(vs.key, addresses);
    }
    this.sync();
  }

  /** Drain of the whole director: withdraw everything (the sessions stay up), or announce again. */
  setDrained(drained: boolean): void {
    this.drained = drained;
    this.sync();
  }

  /** A VRRP instance's state here (MASTER, BACKUP, FAULT…). */
  vrrp(instance: string, state: string): void {
    this.vrrpStates.set(instance, state.toUpperCase());
    this.sync();
  }

  /**
   * Build the sessions a new `bgp:` section adds or changes; throws (BgpError BGP_BAD_CONFIG)
   * before anything running changes. `apply()` then closes removed and changed sessions with
   * Cease, opens the new ones and announces to them; untouched sessions are not disturbed.
   */
  prepare(section: BgpSection): BgpReconfiguration {
    const wanted = new Map(section.peers.map((p) => [keyOf(p), p] as const));
    const changed = new Set<string>();
    for (const [key, p] of wanted) {
      const old = this.sessions.get(key);
      if (!old || old.params !== JSON.stringify(speakerOptions(section, p))) changed.add(key);
    }
    const fresh = this.build(section, changed);
    return {
      apply: async () => {
        const summary: BgpReloadSummary = { added: [], removed: [], restarted: [], kept: [] };
        const closing: Promise<void>[] = [];
        for (const [key, s] of this.sessions) {
          if (wanted.has(key) && !changed.has(key)) {
            summary.kept.push(s.peer);
            continue;
          }
          (wanted.has(key) ? summary.restarted : summary.removed).push(s.peer);
          this.sessions.delete(key);
          closing.push(this.close(s, wanted.has(key) ? "session parameters changed" : "peer removed"));
        }
        await Promise.all(closing);
        this.section = section;
        for (const s of fresh) {
          if (!summary.restarted.includes(s.peer)) summary.added.push(s.peer);
          this.sessions.set(s.key, s);
        }
        // New sessions get the routes before they start (sent once Established).
        this.given = "";
        this.sync();
        if (this.started && !this.stopped) for (const s of fresh) s.speaker.start();
        return summary;
      },
    };
  }

  /** Withdraw everything and close each session with Cease (director stop, or `bgp:` removed). */
  async stop(text = "lvs director stopping"): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.sessions.values()].map((s) => s.speaker.stop(text)));
    for (const s of this.sessions.values()) s.off();
  }

  status(): BgpSessionStatus[] {
    return [...this.sessions.values()].map((s) => {
      const st = s.speaker.stats;
      const c = this.countersOf(s.peer);
      return {
        peer: s.peer,
        peerAs: s.peerAs,
        state: s.speaker.state,
        since: s.since,
        announced: [...this.announced],
        updatesSent: st?.updatesOut ?? 0,
        updatesReceived: st?.updatesIn ?? 0,
        established: st?.established ?? 0,
        notificationsSent: c.sent,
        notificationsReceived: c.received,
        lastNotification: c.last,
      };
    });
  }

  announcement(): BgpAnnouncementStatus {
    return {
      eligible: [...this.eligible],
      announced: [...this.announced],
      withheld: this.withheld(),
      announceWhenMaster: gateOf(this.section).map((instance) => ({
        instance,
        state: this.vrrpStates.get(instance) ?? "UNKNOWN",
      })),
    };
  }

  /** Why the eligible addresses are not announced (null: they are). */
  private withheld(): string | null {
    if (this.drained) return "the director is drained (lvsctl undrain --director announces again)";
    const notMaster = gateOf(this.section).filter((i) => this.vrrpStates.get(i) !== "MASTER");
    if (notMaster.length)
      return `announceWhenMaster: ${notMaster.map((i) => `VRRP instance ${i} is ${this.vrrpStates.get(i) ?? "not reported yet"}`).join(", ")}`;
    return null;
  }

  private sync(): void {
    const before = this.announced;
    this.eligible = [...new Set([...this.up.values()].flat())]
      .map((a) => `${a}/${a.includes(":") ? 128 : 32}`)
      .sort();
    const why = this.withheld();
    this.announced = why === null ? this.eligible : [];
    const communities = this.section.communities ?? [];
    const given = JSON.stringify([this.announced, communities]);
    if (given === this.given) return;
    this.given = given;
    if (this.announced.join() !== before.join()) {
      const gone = before.filter((p) => !this.announced.includes(p));
      const fresh = this.announced.filter((p) => !before.includes(p));
      if (fresh.length) this.log.info({ prefixes: fresh }, `BGP: announcing ${fresh.join(" ")}`);
      if (gone.length)
        this.log.info(
          { prefixes: gone, reason: why ?? "quorum lost" },
          `BGP: withdrawing ${gone.join(" ")}${why ? ` (${why})` : ""}`,
        );
    }
    const routes = this.announced.map((prefix) => ({ prefix, communities }));
    for (const s of this.sessions.values()) s.speaker.setRoutes(routes);
    this.onChange();
  }

  private countersOf(peer: string): PeerCounters {
    let c = this.counters.get(peer);
    if (!c) {
      c = { sent: 0, received: 0, last: null };
      this.counters.set(peer, c);
    }
    return c;
  }

  /** Speakers for the peers of `section` whose key is in `keys` (not started). */
  private build(section: BgpSection, keys: ReadonlySet<string>): Session[] {
    const out: Session[] = [];
    for (const p of section.peers) {
      const key = keyOf(p);
      if (!keys.has(key)) continue;
      const options = speakerOptions(section, p);
      const speaker = this.createSpeaker(options);
      const session: Session = {
        key,
        peer: p.address,
        peerAs: p.as,
        params: JSON.stringify(options),
        speaker,
        since: this.now(),
        off: () => {},
      };
      session.off = speaker.on((e) => this.onEffect(session, e));
      out.push(session);
    }
    return out;
  }

  private onEffect(s: Session, e: SessionEffect): void {
    const peer = s.peer;
    if (e.type === "state") {
      s.since = this.now();
      this.log.info({ peer, from: e.from, to: e.to }, `BGP peer ${peer}: ${e.from} -> ${e.to} (${e.reason})`);
      this.onChange();
    } else if (e.type === "notification") {
      const c = this.countersOf(peer);
      if (e.direction === "sent") c.sent++;
      else c.received++;
      c.last = `${e.direction} ${e.name}${e.text ? ` "${e.text}"` : ""}`;
      this.log.warn(
        { peer, code: e.code, subcode: e.subcode },
        `BGP peer ${peer}: NOTIFICATION ${e.direction} ${e.name}${e.text ? ` "${e.text}"` : ""}`,
      );
    } else if (e.type === "warning") this.log.warn({ peer }, `BGP peer ${peer}: ${e.message}`);
  }

  private async close(s: Session, why: string): Promise<void> {
    this.log.info({ peer: s.peer }, `BGP peer ${s.peer}: closing (${why})`);
    await s.speaker.stop(`lvs director reload: ${why}`);
    s.off();
  }
}
