// A real server of a service: struct ip_vs_dest, as far as scheduling needs it.
import {
  type IpAddress as Address,
  type ForwardMethod as ConnForwardMethod,
  formatEndpoint,
} from "@lvs/inet";
import { IP_VS_DEST_F_AVAILABLE, IP_VS_DEST_F_OVERLOAD } from "./constants.js";

/** Forwarding method of a destination (ipvsadm -g / -m / -i; "local" is IP_VS_CONN_F_LOCALNODE). */
export type ForwardMethod = Exclude<ConnForwardMethod, "bypass">;

/** What a caller sees of a destination: read-only; change it through the Service. */
export interface Destination {
  readonly address: string;
  readonly port: number;
  /** `ip:port`, IPv6 in brackets. */
  readonly endpoint: string;
  readonly af: number;
  readonly weight: number;
  /** The latest non-zero weight (dest->last_weight; mh builds its table from it). */
  readonly lastWeight: number;
  /** ipvsadm -x: upper connection threshold, 0 = none. */
  readonly upperThreshold: number;
  /** ipvsadm -y: lower connection threshold, 0 = none. */
  readonly lowerThreshold: number;
  readonly forward: ForwardMethod;
  readonly activeConns: number;
  readonly inactConns: number;
  readonly persistConns: number;
  /** IP_VS_DEST_F_OVERLOAD. */
  readonly overloaded: boolean;
  /** IP_VS_DEST_F_AVAILABLE: in the service (false once deleted, true again when re-added). */
  readonly available: boolean;
}

/** Internal mutable destination; the object identity is the kernel's struct ip_vs_dest. */
export class Dest implements Destination {
  weight = 0;
  lastWeight = 0;
  upperThreshold = 0;
  lowerThreshold = 0;
  forward: ForwardMethod = "route";
  activeConns = 0;
  inactConns = 0;
  persistConns = 0;
  flags = 0;
  /** Connections and scheduler caches holding this object (for the trash). */
  refs = 0;
  readonly endpoint: string;

  constructor(
    readonly addr: Address,
    readonly port: number,
  ) {
    this.endpoint = formatEndpoint(addr, port);
  }

  get address(): string {
    return this.addr.text;
  }
  get af(): number {
    return this.addr.af;
  }
  get overloaded(): boolean {
    return (this.flags & IP_VS_DEST_F_OVERLOAD) !== 0;
  }
  get available(): boolean {
    return (this.flags & IP_VS_DEST_F_AVAILABLE) !== 0;
  }

  /** include/net/ip_vs.h ip_vs_dest_conn_overhead(): activeconns << 8 + inactconns. */
  overhead(): number {
    return (this.activeConns << 8) + this.inactConns;
  }

  /** ip_vs_conn.c ip_vs_dest_totalconns(). */
  totalConns(): number {
    return this.activeConns + this.inactConns;
  }

  /** ip_vs_conn.c ip_vs_bind_dest(): after the counters, set OVERLOAD at the upper threshold. */
  checkUpper(): void {
    if (this.upperThreshold !== 0 && this.totalConns() >= this.upperThreshold)
      this.flags |= IP_VS_DEST_F_OVERLOAD;
  }

  /**
   * ip_vs_conn.c ip_vs_unbind_dest(): clear OVERLOAD under the lower threshold, or, without one,
   * under 3/4 of the upper threshold, or always when neither is set.
   */
  checkLower(): void {
    if (this.lowerThreshold !== 0) {
      if (this.totalConns() < this.lowerThreshold) this.flags &= ~IP_VS_DEST_F_OVERLOAD;
    } else if (this.upperThreshold !== 0) {
      if (this.totalConns() * 4 < this.upperThreshold * 3) this.flags &= ~IP_VS_DEST_F_OVERLOAD;
    } else {
      this.flags &= ~IP_VS_DEST_F_OVERLOAD;
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      address: this.address,
      port: this.port,
      weight: this.weight,
      upperThreshold: this.upperThreshold,
      lowerThreshold: this.lowerThreshold,
      activeConns: this.activeConns,
      inactConns: this.inactConns,
      persistConns: this.persistConns,
      overloaded: this.overloaded,
    };
  }
}

/** Compares a*b > c*d exactly for non-negative 32-bit ints (the kernel's (__s64) products). */
export function mulGreater(a: number, b: number, c: number, d: number): boolean {
  const x = a * b;
  const y = c * d;
  if (x <= Number.MAX_SAFE_INTEGER && y <= Number.MAX_SAFE_INTEGER) return x > y;
  return BigInt(a) * BigInt(b) > BigInt(c) * BigInt(d);
}

/** a*b < c*d, exactly. */
export function mulLess(a: number, b: number, c: number, d: number): boolean {
  return mulGreater(c, d, a, b);
}
