/**
 * The BGP finite state machine of RFC 4271 §8 for one peer, announce-only, on an injected clock.
 *
 * Events go in as method calls (start, stop, tcpConnected, tcpFailed, receive, setRoutes); what
 * the io must do comes out once, as typed effects through `emit` (connect, send, close) along
 * with what happened (state, notification, warning). No sockets, no timers of its own: the clock
 * is a parameter, so every timer is tested with FakeClock.
 *
 * Deliberate simplifications for a speaker that only originates routes: it never listens (no
 * passive side, so no connection collision), keeps no RIB (received UPDATEs are counted, RFC 7606
 * "treat-as-withdraw" errors are counted and ignored), and re-sends its own routes on a
 * ROUTE-REFRESH (RFC 2918 §4).
 */
import type { Clock } from "@lvs/inet";
import {
  type BgpMessage,
  type Capability,
  decodeMessage,
  encodeMessage,
  Framer,
  messageName,
  type NotificationMessage,
  type OpenMessage,
  shutdownCommunication,
} from "./codec.js";
import {
  AFI_IPV4,
  AFI_IPV6,
  CeaseSubcode,
  DEFAULT_HOLD_TIME,
  ErrorCode,
  FsmSubcode,
  MIN_NONZERO_HOLD_TIME,
  notificationName,
  OPEN_SENT_HOLD_TIME,
  OpenSubcode,
  SAFI_UNICAST,
} from "./constants.js";
import { BgpError } from "./errors.js";
import {
  buildAnnouncements,
  buildOpen,
  buildWithdrawals,
  ceaseNotification,
  type Family,
  type Route,
  type UpdateContext,
} from "./routes.js";

// RFC 4271 §8.2.2 states
export type FsmState = "Idle" | "Connect" | "Active" | "OpenSent" | "OpenConfirm" | "Established";

export interface SessionConfig {
  localAs: number;
  peerAs: number;
  /** Our BGP Identifier (dotted quad, non-zero). */
  routerId: string;
  /** Hold time we offer, seconds: 0 or ≥ 3 (RFC 4271 §4.2). Default 90. */
  holdTime?: number;
  /** First ConnectRetry / IdleHold delay, ms; doubles per failed attempt. Default 1000. */
  connectRetryMs?: number;
  /** Ceiling of the back-off, ms. Default 30000. */
  maxConnectRetryMs?: number;
  /** Address families we offer (multiprotocol capabilities). Default both. */
  families?: readonly Family[];
  /** Next hop for routes without one, per family, when the session's own address is of the other family. */
  nextHopSelf?: Partial<Record<Family, string>>;
  /** Jitter source in [0, 1): RFC 4271 §10 jitters ConnectRetry by 0.75..1. Default Math.random. */
  random?: () => number;
}

export interface NegotiatedSession {
  holdTime: number;
  keepaliveTime: number;
  as4: boolean;
  routeRefresh: boolean;
  families: Family[];
  peerRouterId: string;
  peerAs: number;
}

export type SessionEffect =
  | { type: "connect" }
  | { type: "send"; message: BgpMessage; bytes: Uint8Array }
  | { type: "close" }
  | { type: "state"; from: FsmState; to: FsmState; reason: string }
  | {
      type: "notification";
      direction: "sent" | "received";
      code: number;
      subcode: number;
      /** "Cease/Administrative Shutdown" */
      name: string;
      /** RFC 9003 shutdown communication, if any. */
      text?: string;
    }
  | { type: "warning"; code: string; message: string };

export interface SessionStats {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  /** Prefixes announced to us (NLRI + MP_REACH_NLRI), counted and ignored. */
  prefixesIn: number;
  /** UPDATEs with an RFC 7606 treat-as-withdraw error, counted and ignored. */
  malformedUpdatesIn: number;
  routeRefreshesIn: number;
  /** Times the session reached Established. */
  established: number;
  /** RFC 4271 §8: ConnectRetryCounter. */
  connectRetryCounter: number;
  lastNotificationSent?: string;
  lastNotificationReceived?: string;
}

const MAX_CONNECT_RETRY_DEFAULT = 30_000;
type TimerName = "connectRetry" | "hold" | "keepalive" | "idleHold";

export class BgpSession {
  private _state: FsmState = "Idle";
  private framer = new Framer();
  private readonly routes = new Map<string, Route>();
  /** What the peer has been sent and not withdrawn, by prefix (so changes send only the diff). */
  private readonly advertised = new Map<string, Route>();
  private timers: Record<TimerName, unknown> = {
    connectRetry: undefined,
    hold: undefined,
    keepalive: undefined,
    idleHold: undefined,
  };
  private retryMs: number;
  private running = false;
  private localAddress: string | undefined;
  private _negotiated: NegotiatedSession | undefined;
  private readonly warned = new Set<string>();
  readonly stats: SessionStats = {
    messagesIn: 0,
    messagesOut: 0,
    updatesIn: 0,
    updatesOut: 0,
    prefixesIn: 0,
    malformedUpdatesIn: 0,
    routeRefreshesIn: 0,
    established: 0,
    connectRetryCounter: 0,
  };
  private readonly holdTime: number;
  private readonly families: readonly Family[];

  constructor(
    readonly config: SessionConfig,
    private readonly clock: Clock,
    private readonly emit: (effect: SessionEffect) => void,
  ) {
    const hold = config.holdTime ?? DEFAULT_HOLD_TIME;
    if (!Number.isInteger(hold) || hold < 0 || hold > 0xffff || (hold > 0 && hold < MIN_NONZERO_HOLD_TIME)) {
      throw new BgpError("BGP_BAD_CONFIG", `hold time ${hold} s must be 0 or 3..65535 (RFC 4271 §4.2)`, {
        object: "hold-time",
      });
    }
    for (const [what, asn] of [
      ["local AS", config.localAs],
      ["peer AS", config.peerAs],
    ] as const) {
      if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff) {
        throw new BgpError("BGP_BAD_CONFIG", `${what} ${asn} is not in 1..4294967295`, { object: what });
      }
    }
    if (
      !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(config.routerId) ||
      config.routerId === "0.0.0.0" ||
      config.routerId.split(".").some((o) => Number(o) > 255)
    ) {
      throw new BgpError(
        "BGP_BAD_CONFIG",
        `router id ${JSON.stringify(config.routerId)} is not a non-zero dotted quad`,
        { object: "router-id" },
      );
    }
    this.holdTime = hold;
    this.families = config.families ?? ["ipv4", "ipv6"];
    this.retryMs = config.connectRetryMs ?? 1000;
  }

  get state(): FsmState {
    return this._state;
  }

  /** What OPEN exchange agreed, while OpenConfirm or Established. */
  get negotiated(): NegotiatedSession | undefined {
    return this._negotiated;
  }

  /** The routes we originate (announced whenever the session is Established). */
  get originated(): Route[] {
    return [...this.routes.values()];
  }

  // ------------------------------------------------------------------ events from the user

  /** RFC 4271 Event 1 (ManualStart): Idle → Connect. */
  start(): void {
    this.running = true;
    if (this._state === "Idle") this.connect("start");
  }

  /**
   * RFC 4271 Event 2 (ManualStop): withdraws what was announced, sends Cease/Administrative
   * Shutdown (with `text` as RFC 9003 shutdown communication), closes, and stays Idle.
   */
  stop(text = "administrative shutdown"): void {
    this.running = false;
    this.clearTimer("idleHold");
    if (this._state === "Established") this.sendWithdrawals([...this.advertised.values()]);
    if (this._state === "OpenSent" || this._state === "OpenConfirm" || this._state === "Established") {
      this.sendNotification(ceaseNotification(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, text));
    }
    this.stats.connectRetryCounter = 0;
    this.toIdle("stop", false);
  }

  /** Replaces the routes we originate; when Established, sends only what changed. */
  setRoutes(routes: readonly Route[]): void {
    const next = new Map(routes.map((r) => [r.prefix, r]));
    this.routes.clear();
    for (const [k, r] of next) this.routes.set(k, r);
    if (this._state === "Established") this.sync();
  }

  announce(routes: readonly Route[]): void {
    this.setRoutes([...this.routes.values(), ...routes]);
  }

  withdraw(prefixes: readonly string[]): void {
    const drop = new Set(prefixes);
    this.setRoutes([...this.routes.values()].filter((r) => !drop.has(r.prefix)));
  }

  // ------------------------------------------------------------------ events from the io

  /** RFC 4271 Events 16/17: the TCP connection is up; `localAddress` serves next-hop self. */
  tcpConnected(localAddress: string): void {
    if (this._state !== "Connect" && this._state !== "Active") return;
    this.localAddress = localAddress;
    this.clearTimer("connectRetry");
    this.send(
      buildOpen({
        localAs: this.config.localAs,
        holdTime: this.holdTime,
        routerId: this.config.routerId,
        families: this.families,
      }),
    );
    // RFC 4271 §8.2.2 (Connect, Event 16/17): "sets the HoldTimer to a large value"
    this.setTimer("hold", OPEN_SENT_HOLD_TIME * 1000, () => this.holdExpired());
    this.transition("OpenSent", "TCP connection established");
  }

  /** RFC 4271 Event 18 (TcpConnectionFails): the connect failed or the connection closed. */
  tcpFailed(reason = "TCP connection failed"): void {
    switch (this._state) {
      case "Idle":
        return;
      case "Connect":
      case "OpenSent":
        // RFC 4271 §8.2.2: Connect/OpenSent + TcpConnectionFails → Active, ConnectRetryTimer restarted
        this.clearTimer("hold");
        this.emit({ type: "close" });
        this.backoff();
        this.setTimer("connectRetry", this.jittered(), () => this.connect("ConnectRetryTimer expired"));
        this.transition("Active", reason);
        return;
      default:
        this.toIdle(reason, true);
    }
  }

  /** Bytes read from the TCP connection (any chunking). */
  receive(chunk: Uint8Array): void {
    if (this._state !== "OpenSent" && this._state !== "OpenConfirm" && this._state !== "Established") return;
    let frames: Uint8Array[];
    try {
      frames = this.framer.push(chunk);
    } catch (err) {
      this.decodeFailed(err);
      return;
    }
    for (const frame of frames) {
      if ((this._state as FsmState) === "Idle") return;
      let msg: BgpMessage;
      try {
        msg = decodeMessage(frame, { as4: this._negotiated?.as4 ?? true });
      } catch (err) {
        this.decodeFailed(err);
        continue;
      }
      this.stats.messagesIn++;
      this.handle(msg);
    }
  }

  // ------------------------------------------------------------------ the machine

  private handle(msg: BgpMessage): void {
    if (msg.type === "NOTIFICATION") {
      this.noteReceived(msg);
      this.toIdle(`NOTIFICATION received: ${notificationName(msg.code, msg.subcode)}`, true);
      return;
    }
    switch (this._state) {
      case "OpenSent":
        if (msg.type === "OPEN") {
          this.onOpen(msg);
          return;
        }
        this.fsmError(FsmSubcode.UNEXPECTED_IN_OPENSENT, msg);
        return;
      case "OpenConfirm":
        if (msg.type === "KEEPALIVE") {
          this.restartHold();
          this.stats.established++;
          this.retryMs = this.config.connectRetryMs ?? 1000;
          this.transition("Established", "KEEPALIVE received");
          this.sync();
          return;
        }
        this.fsmError(FsmSubcode.UNEXPECTED_IN_OPENCONFIRM, msg);
        return;
      case "Established":
        this.restartHold();
        if (msg.type === "KEEPALIVE") return;
        if (msg.type === "UPDATE") {
          this.stats.updatesIn++;
          this.stats.prefixesIn += msg.nlri.length;
          for (const a of msg.attributes) if (a.kind === "mp-reach") this.stats.prefixesIn += a.nlri.length;
          return;
        }
        if (msg.type === "ROUTE_REFRESH") {
          this.stats.routeRefreshesIn++;
          // RFC 2918 §4: re-advertise the Adj-RIB-Out of the requested family
          const fam =
            msg.safi === SAFI_UNICAST
              ? msg.afi === AFI_IPV4
                ? "ipv4"
                : msg.afi === AFI_IPV6
                  ? "ipv6"
                  : undefined
              : undefined;
          if (fam) this.sendAnnouncements([...this.advertised.values()].filter((r) => r.family === fam));
          return;
        }
        this.fsmError(FsmSubcode.UNEXPECTED_IN_ESTABLISHED, msg);
        return;
      default:
        return;
    }
  }

  private onOpen(open: OpenMessage): void {
    const caps: Capability[] = open.params.flatMap((p) => ("capabilities" in p ? p.capabilities : []));
    const as4cap = caps.find((c): c is Extract<Capability, { kind: "as4" }> => c.kind === "as4");
    const peerAs = as4cap ? as4cap.asn : open.myAs;
    // RFC 4271 §6.2: the peer's AS is not the one configured → Bad Peer AS
    if (peerAs !== this.config.peerAs) {
      this.openError(OpenSubcode.BAD_PEER_AS, `peer AS ${peerAs}, expected ${this.config.peerAs}`);
      return;
    }
    // RFC 6286 §2.2: for an internal peer the BGP Identifiers must differ
    if (peerAs === this.config.localAs && open.bgpId === this.config.routerId) {
      this.openError(OpenSubcode.BAD_BGP_IDENTIFIER, `peer BGP Identifier ${open.bgpId} equals ours`);
      return;
    }
    const mp = caps.filter(
      (c): c is Extract<Capability, { kind: "multiprotocol" }> => c.kind === "multiprotocol",
    );
    // RFC 4760 §8: without multiprotocol capabilities only IPv4 unicast is exchanged
    const peerFamilies: Family[] =
      mp.length === 0
        ? ["ipv4"]
        : mp
            .filter((c) => c.safi === SAFI_UNICAST && (c.afi === AFI_IPV4 || c.afi === AFI_IPV6))
            .map((c) => (c.afi === AFI_IPV4 ? "ipv4" : "ipv6"));
    // RFC 4271 §4.2: "the calculated value ... is the smaller of its configured Hold Time and the
    // Hold Time received in the OPEN message"; KeepaliveTime is one third of it
    const holdTime = Math.min(this.holdTime, open.holdTime);
    const keepaliveTime = Math.floor(holdTime / 3);
    this._negotiated = {
      holdTime,
      keepaliveTime,
      as4: as4cap !== undefined,
      routeRefresh: caps.some((c) => c.kind === "route-refresh"),
      families: this.families.filter((f) => peerFamilies.includes(f)),
      peerRouterId: open.bgpId,
      peerAs,
    };
    this.clearTimer("connectRetry");
    this.sendKeepalive();
    if (holdTime > 0) {
      this.restartHold();
    } else {
      // RFC 4271 §4.4: a zero hold time means no KEEPALIVEs and no HoldTimer
      this.clearTimer("hold");
      this.clearTimer("keepalive");
    }
    this.transition("OpenConfirm", `OPEN received (AS ${peerAs}, id ${open.bgpId}, hold ${holdTime} s)`);
  }

  private openError(subcode: number, reason: string): void {
    this.sendNotification({
      type: "NOTIFICATION",
      code: ErrorCode.OPEN_MESSAGE,
      subcode,
      data: new Uint8Array(0),
    });
    this.toIdle(reason, true);
  }

  private fsmError(subcode: number, msg: BgpMessage): void {
    // RFC 6608 §3: an unexpected message → Finite State Machine Error with the state's subcode
    this.sendNotification({ type: "NOTIFICATION", code: ErrorCode.FSM, subcode, data: new Uint8Array(0) });
    this.toIdle(`unexpected ${messageName(msg)} in ${this._state}`, true);
  }

  private decodeFailed(err: unknown): void {
    if (!(err instanceof BgpError) || !err.context.notification) throw err;
    if (err.context.treatAsWithdraw && this._state === "Established") {
      // RFC 7606 §2: treat-as-withdraw; we hold no routes from the peer, so there is nothing to remove
      this.stats.messagesIn++;
      this.stats.updatesIn++;
      this.stats.malformedUpdatesIn++;
      this.restartHold();
      this.warnOnce(err.code, `ignored a malformed UPDATE: ${err.message}`);
      return;
    }
    const n = err.context.notification;
    this.sendNotification({ type: "NOTIFICATION", code: n.code, subcode: n.subcode, data: n.data });
    this.toIdle(err.message, true);
  }

  private holdExpired(): void {
    // RFC 4271 §6.5: Hold Timer Expired NOTIFICATION, then close
    this.sendNotification({
      type: "NOTIFICATION",
      code: ErrorCode.HOLD_TIMER_EXPIRED,
      subcode: 0,
      data: new Uint8Array(0),
    });
    this.toIdle("hold timer expired", true);
  }

  /** Idle/Active → Connect: ask the io for a connection and arm ConnectRetryTimer. */
  private connect(reason: string): void {
    if (!this.running) return;
    this.clearTimer("idleHold");
    this.framer = new Framer();
    this.setTimer("connectRetry", this.jittered(), () => {
      // RFC 4271 §8.2.2 (Connect, Event 9): drop the attempt, restart the timer, connect again
      this.emit({ type: "close" });
      this.backoff();
      this.connect("ConnectRetryTimer expired");
    });
    this.transition("Connect", reason);
    this.emit({ type: "connect" });
  }

  /** Any state → Idle, releasing everything; restarts after the back-off unless stopped. */
  private toIdle(reason: string, error: boolean): void {
    for (const t of ["connectRetry", "hold", "keepalive"] as const) this.clearTimer(t);
    const was = this._state;
    if (was !== "Idle") this.emit({ type: "close" });
    this._negotiated = undefined;
    this.localAddress = undefined;
    this.advertised.clear();
    this.framer = new Framer();
    if (error) {
      this.stats.connectRetryCounter++;
      this.backoff();
    }
    if (was !== "Idle") this.transition("Idle", reason);
    // RFC 4271 §8.1.1 (AutomaticStart with DampPeerOscillations): restart after IdleHoldTime
    if (this.running && error)
      this.setTimer("idleHold", this.jittered(), () => this.connect("automatic restart"));
  }

  private sync(): void {
    // Withdraw what is no longer originated (or changed), announce what is new or changed.
    const gone: Route[] = [];
    const fresh: Route[] = [];
    for (const [k, r] of this.advertised) {
      const now = this.routes.get(k);
      if (!now) gone.push(r);
      else if (!sameRoute(now, r)) fresh.push(now);
    }
    for (const [k, r] of this.routes) if (!this.advertised.has(k)) fresh.push(r);
    if (gone.length > 0) this.sendWithdrawals(gone);
    if (fresh.length > 0) this.sendAnnouncements(fresh);
  }

  private sendAnnouncements(routes: Route[]): void {
    const n = this._negotiated;
    if (!n) return;
    const sendable = routes.filter((r) => {
      if (n.families.includes(r.family)) return true;
      this.warnOnce(
        `family ${r.family}`,
        `${r.prefix} not announced: ${r.family} unicast was not negotiated with the peer`,
      );
      return false;
    });
    const selfNextHop: Partial<Record<Family, string>> = { ...this.config.nextHopSelf };
    if (this.localAddress)
      selfNextHop[this.localAddress.includes(":") ? "ipv6" : "ipv4"] ??= this.localAddress;
    const ctx: UpdateContext = {
      localAs: this.config.localAs,
      ibgp: n.peerAs === this.config.localAs,
      as4: n.as4,
      selfNextHop,
    };
    const ok: Route[] = [];
    for (const r of sendable) {
      try {
        buildAnnouncements([r], ctx);
        ok.push(r);
      } catch (err) {
        if (!(err instanceof BgpError)) throw err;
        this.warnOnce(`${err.code} ${r.prefix}`, err.message);
      }
    }
    for (const u of buildAnnouncements(ok, ctx)) this.send(u);
    for (const r of ok) this.advertised.set(r.prefix, r);
  }

  private sendWithdrawals(routes: Route[]): void {
    for (const u of buildWithdrawals(routes)) this.send(u);
    for (const r of routes) this.advertised.delete(r.prefix);
  }

  private send(message: BgpMessage): void {
    const bytes = encodeMessage(message, { as4: this._negotiated?.as4 ?? true });
    this.stats.messagesOut++;
    if (message.type === "UPDATE") this.stats.updatesOut++;
    this.emit({ type: "send", message, bytes });
    // RFC 4271 §8.2.2: "Each time the local system sends a KEEPALIVE or UPDATE message, it
    // restarts its KeepaliveTimer, unless the negotiated HoldTime value is zero."
    if (
      (message.type === "UPDATE" || message.type === "KEEPALIVE") &&
      this._negotiated &&
      this._negotiated.holdTime > 0
    ) {
      this.setTimer("keepalive", this._negotiated.keepaliveTime * 1000, () => this.sendKeepalive());
    }
  }

  private sendKeepalive(): void {
    this.send({ type: "KEEPALIVE" });
  }

  private restartHold(): void {
    const n = this._negotiated;
    if (n && n.holdTime > 0) this.setTimer("hold", n.holdTime * 1000, () => this.holdExpired());
  }

  private sendNotification(n: NotificationMessage): void {
    this.send(n);
    const name = notificationName(n.code, n.subcode);
    this.stats.lastNotificationSent = name;
    const text = shutdownCommunication(n);
    this.emit({
      type: "notification",
      direction: "sent",
      code: n.code,
      subcode: n.subcode,
      name,
      ...(text !== undefined ? { text } : {}),
    });
  }

  private noteReceived(n: NotificationMessage): void {
    const name = notificationName(n.code, n.subcode);
    this.stats.lastNotificationReceived = name;
    const text = shutdownCommunication(n);
    this.emit({
      type: "notification",
      direction: "received",
      code: n.code,
      subcode: n.subcode,
      name,
      ...(text !== undefined ? { text } : {}),
    });
  }

  private transition(to: FsmState, reason: string): void {
    const from = this._state;
    this._state = to;
    this.emit({ type: "state", from, to, reason });
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.emit({ type: "warning", code: key, message });
  }

  private backoff(): void {
    this.retryMs = Math.min(this.retryMs * 2, this.config.maxConnectRetryMs ?? MAX_CONNECT_RETRY_DEFAULT);
  }

  /** RFC 4271 §10: jitter ConnectRetry by a factor in 0.75..1. */
  private jittered(): number {
    const r = (this.config.random ?? Math.random)();
    return Math.round(this.retryMs * (0.75 + 0.25 * r));
  }

  private setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers[name] = this.clock.setTimeout(() => {
      this.timers[name] = undefined;
      fn();
    }, ms);
  }

  private clearTimer(name: TimerName): void {
    const h = this.timers[name];
    if (h !== undefined) this.clock.clearTimeout(h);
    this.timers[name] = undefined;
  }
}

function sameRoute(a: Route, b: Route): boolean {
  return a.nextHop === b.nextHop && a.communities.join(",") === b.communities.join(",");
}
