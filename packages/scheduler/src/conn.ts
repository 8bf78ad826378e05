// Connection entries and persistence templates (struct ip_vs_conn), as far as they move the
// destination counters: ip_vs_conn.c (bind/unbind, expiry) and the protocols' state transitions.
import { type IpAddress as Address, formatEndpoint } from "@lvs/inet";
import {
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SCTP_ESTABLISHED_TIMEOUT_S,
  SCTP_MAX_RTO_S,
  TCP_ACTIVE_STATES,
  TCP_STATE_TABLE,
  TCP_STATES,
  type TcpState,
  TEMPLATE_RETRY_MS,
} from "./constants.js";
import type { Dest, Destination } from "./dest.js";
import { SchedulerError } from "./errors.js";
import type { TimerHandle } from "./timers.js";

/** What connections and templates need from their service. */
export interface ConnHost {
  now(): number;
  advance(): void;
  addTimer(at: number, fn: (at: number) => void): TimerHandle;
  cancelTimer(h: TimerHandle): void;
  hold(d: Dest): void;
  put(d: Dest): void;
  timeoutMs(protocol: number, state: string): number;
  forgetConn(c: Connection): void;
  forgetTemplate(t: Template): void;
}

/** TCP flags of one packet, as tcp_state_idx() reads them (rst, then syn, then fin, then ack). */
export interface TcpFlags {
  syn?: boolean;
  fin?: boolean;
  ack?: boolean;
  rst?: boolean;
}

/** A persistence template: <protocol, client network, 0, vaddr or fwmark, vport, dest>. */
export class Template {
  /** Connections created through it (cp->control = ct; ct->n_control). */
  nControl = 0;
  /** False once ip_vs_check_template() invalidated it (its dest left the service). */
  valid = true;
  expired = false;
  timeoutMs: number;
  expiresAt = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly host: ConnHost,
    readonly key: string,
    readonly protocol: number,
    readonly clientNet: Address,
    readonly virtual: string,
    readonly virtualPort: number,
    readonly dest: Dest,
    timeoutMs: number,
  ) {
    this.timeoutMs = timeoutMs;
    // ip_vs_bind_dest() for a template: persistconns, then the upper threshold.
    host.hold(dest);
    dest.persistConns++;
    dest.checkUpper();
  }

  get destination(): Destination {
    return this.dest;
  }

  /** ip_vs_conn_put() → __ip_vs_conn_put_timer(): restart the timer with ct->timeout. */
  rearm(now: number): void {
    if (this.timer) this.host.cancelTimer(this.timer);
    this.expiresAt = now + this.timeoutMs;
    this.timer = this.host.addTimer(this.expiresAt, (at) => this.fire(at));
  }

  /**
   * ip_vs_conn_expire() on a template: while it controls connections it retries with
   * cp->timeout = 60*HZ (which stays its timeout from then on); else it is unlinked.
   */
  private fire(at: number): void {
    this.timer = undefined;
    if (this.nControl > 0) {
      this.timeoutMs = TEMPLATE_RETRY_MS;
      this.rearm(at);
      return;
    }
    this.unbind();
  }

  private unbind(): void {
    if (this.expired) return;
    this.expired = true;
    const d = this.dest;
    d.persistConns--;
    d.checkLower();
    this.host.put(d);
    this.host.forgetTemplate(this);
  }
}

const SCTP_STATES_ACTIVE = "ESTABLISHED";

/**
 * One connection entry. Bound INACTIVE (the dest's conn_flags carry IP_VS_CONN_F_INACTIVE), then
 * the protocol's state transitions move it between activeconns and inactconns: TCP by
 * tcp_state_active_table, SCTP only ESTABLISHED is active, UDP is never active.
 */
export class Connection {
  /** IPVS state name as /proc/net/ip_vs_conn prints it (TCP states, "UDP", SCTP states). */
  state: string;
  private inactive = true;
  private noOutput: boolean;
  private timer: TimerHandle | undefined;
  private gone = false;
  /** ms since the clock's epoch when the entry will expire unless another packet arrives. */
  expiresAt = 0;

  constructor(
    private readonly host: ConnHost,
    readonly protocol: number,
    readonly client: Address,
    readonly clientPort: number,
    readonly virtual: Address,
    readonly virtualPort: number,
    private readonly dest: Dest,
    /** The port packets are forwarded to (dest port, or the virtual port when the dest has 0). */
    readonly destPort: number,
    readonly template: Template | undefined,
    private readonly onePacket: boolean,
  ) {
    this.state = protocol === IPPROTO_UDP ? "UDP" : "NONE";
    this.noOutput = dest.forward !== "masq";
    // ip_vs_bind_dest(): a new entry counts as inactive until the protocol says otherwise.
    host.hold(dest);
    dest.inactConns++;
    dest.checkUpper();
    if (template) template.nControl++;
  }

  get destination(): Destination {
    return this.dest;
  }
  get clientAddress(): string {
    return this.client.text;
  }
  get virtualAddress(): string {
    return this.virtual.text;
  }
  get destAddress(): string {
    return this.dest.address;
  }
  /** `ip:port` of the real server the connection was given. */
  get destEndpoint(): string {
    return formatEndpoint(this.dest.addr, this.destPort);
  }
  /** Counted in the destination's activeconns (not IP_VS_CONN_F_INACTIVE). */
  get active(): boolean {
    return !this.inactive;
  }
  get expired(): boolean {
    return this.gone;
  }

  /**
   * One TCP packet through IPVS (set_tcp_state): "in" is client → director, "out" is the real
   * server's reply through the director (NAT only; other methods use the INPUT-ONLY table until an
   * output packet is seen). No flag at all moves the entry to CLOSE, as the kernel does.
   */
  tcp(direction: "in" | "out", flags: TcpFlags): this {
    this.host.advance();
    this.alive();
    if (this.protocol !== IPPROTO_TCP) {
      throw new SchedulerError("SCHED_BAD_PACKET", "tcp() on a non-TCP connection", {
        object: this.toString(),
      });
    }
    let table: keyof typeof TCP_STATE_TABLE = direction === "in" ? "input" : "output";
    if (this.noOutput) {
      if (direction === "out") this.noOutput = false;
      else table = "inputOnly";
    }
    const idx = flags.rst ? 3 : flags.syn ? 0 : flags.fin ? 1 : flags.ack ? 2 : -1;
    const cur = TCP_STATES.indexOf(this.state as TcpState);
    const row = idx < 0 ? undefined : TCP_STATE_TABLE[table][idx as 0 | 1 | 2 | 3];
    const next: TcpState = row ? row[cur]! : "CLOSE";
    this.setState(next, TCP_ACTIVE_STATES.has(next));
    return this;
  }

  /** The first packet (the one that was scheduled): TCP SYN, SCTP INIT, a UDP datagram. */
  firstPacket(): void {
    if (this.protocol === IPPROTO_TCP) {
      this.tcp("in", { syn: true });
      return;
    }
    if (this.protocol === IPPROTO_SCTP) this.setState("INIT1", false);
    else this.setState(this.state, false);
    if (this.onePacket) this.expire();
  }

  /**
   * The handshake completes: TCP SYN+ACK out (NAT) and ACK in → ESTABLISHED (active); SCTP →
   * ESTABLISHED (active); UDP: one more datagram (stays inactive, restarts the timer).
   */
  establish(): this {
    this.host.advance();
    this.alive();
    if (this.protocol === IPPROTO_TCP) {
      if (!this.noOutput) this.tcp("out", { syn: true, ack: true });
      this.tcp("in", { ack: true });
    } else if (this.protocol === IPPROTO_SCTP) {
      this.setState(SCTP_STATES_ACTIVE, true);
    } else {
      this.setState(this.state, false);
    }
    return this;
  }

  /**
   * An orderly close: TCP FIN in, FIN out (NAT), ACK in → TIME_WAIT (NAT) or FIN_WAIT (other
   * methods), both inactive, expiring after their timeouts; SCTP → CLOSED; UDP: nothing changes.
   */
  close(): this {
    this.host.advance();
    this.alive();
    if (this.protocol === IPPROTO_TCP) {
      const nat = !this.noOutput;
      this.tcp("in", { fin: true, ack: true });
      if (nat) this.tcp("out", { fin: true, ack: true });
      this.tcp("in", { ack: true });
    } else if (this.protocol === IPPROTO_SCTP) {
      this.setState("CLOSED", false);
    }
    return this;
  }

  /** The entry expires now (its timer fired): ip_vs_unbind_dest() and the template's n_control. */
  expire(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.timer) this.host.cancelTimer(this.timer);
    this.timer = undefined;
    const d = this.dest;
    if (this.inactive) d.inactConns--;
    else d.activeConns--;
    d.checkLower();
    this.host.put(d);
    if (this.template) this.template.nControl--;
    this.host.forgetConn(this);
  }

  toString(): string {
    return `${formatEndpoint(this.client, this.clientPort)} → ${formatEndpoint(this.virtual, this.virtualPort)} → ${this.destEndpoint} ${this.state}`;
  }

  private alive(): void {
    if (this.gone) {
      throw new SchedulerError("SCHED_CONN_GONE", `connection ${this.toString()} has expired`, {
        object: this.toString(),
      });
    }
  }

  /** The counter move of the state transitions, then the timer restarts with the state's timeout. */
  private setState(next: string, active: boolean): void {
    const d = this.dest;
    if (!this.inactive && !active) {
      d.activeConns--;
      d.inactConns++;
      this.inactive = true;
    } else if (this.inactive && active) {
      d.activeConns++;
      d.inactConns--;
      this.inactive = false;
    }
    this.state = next;
    const now = this.host.now();
    if (this.timer) this.host.cancelTimer(this.timer);
    this.expiresAt = now + this.host.timeoutMs(this.protocol, next);
    this.timer = this.host.addTimer(this.expiresAt, () => {
      this.timer = undefined;
      this.expire();
    });
  }
}

export const SCTP_TIMEOUTS_S: Readonly<Record<string, number>> = {
  NONE: 2,
  INIT1: 4,
  ESTABLISHED: SCTP_ESTABLISHED_TIMEOUT_S,
  CLOSED: SCTP_MAX_RTO_S,
};
