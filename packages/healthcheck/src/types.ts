// Checker definitions. Field names are keepalived's option names in camelCase; the README has
// the full mapping (`connectTimeout` ↔ `connect_timeout`). Durations are in SECONDS, as in
// keepalived.conf, so @lvs/config can copy values across unchanged.
import type { DnsTypeName } from "./constants.js";

/** Options every checker shares (keepalived: connect_ip, connect_port, bindto, bind_port, connect_timeout). */
export interface CommonCheck {
  /** `connect_ip`: address to probe. */
  connectIp: string;
  /** `connect_port`. */
  connectPort?: number;
  /** `bindto`: local source address. */
  bindto?: string;
  /** `bind_port`: local source port. */
  bindPort?: number;
  /** `connect_timeout`, seconds (default 5). */
  connectTimeout?: number;
  /**
   * `bind_if`: the device the probe's packets leave and arrive by (SO_BINDTODEVICE, as keepalived;
   * needed for an IPv6 link-local `connect_ip`). Needs @lvs/sys's native addon for TCP and UDP.
   */
  bindIf?: string;
}

/** TCP_CHECK: up when the three-way handshake completes. */
export interface TcpCheck extends CommonCheck {
  type: "tcp";
  connectPort: number;
}

/** One `url { … }` block of HTTP_GET / SSL_GET. */
export interface HttpUrl {
  /** `path`, e.g. "/health". */
  path: string;
  /** `digest`: hex MD5 of the body. */
  digest?: string;
  /** `status_code`: list of codes or ranges, e.g. [200, [300, 399]]; default 200-299. */
  statusCode?: Array<number | [number, number]>;
  /** `regex`: body must match (or must NOT match with `regexNoMatch`). */
  regex?: string;
  /** `regex_no_match`. */
  regexNoMatch?: boolean;
  /** `virtualhost` for this url (overrides the checker's). */
  virtualhost?: string;
}

/** HTTP_GET and SSL_GET. */
export interface HttpCheck extends CommonCheck {
  type: "http" | "https";
  url: HttpUrl[];
  /** `virtualhost`: Host header (default connectIp[:port]). */
  virtualhost?: string;
  /** `http_protocol`: "1.0" (default), "1.0C" (1.0 + Connection: close), "1.1". */
  httpProtocol?: "1.0" | "1.0C" | "1.1";
  /** `enable_sni` (https): send virtualhost as SNI. */
  enableSni?: boolean;
  /** `ssl { verify … }`/`tls_verify`: verify the server certificate chain (default false, as keepalived). */
  tlsVerify?: boolean;
  /** CA certificate(s) in PEM for verification (keepalived `ssl { ca … }`). */
  ca?: string;
}

/** MISC_CHECK: run a program (argv, never a shell). */
export interface MiscCheck {
  type: "misc";
  /** `misc_path`, split into argv (no shell). */
  miscPath: string[];
  /** `misc_timeout`, seconds (default: the target's delay_loop). */
  miscTimeout?: number;
  /** `misc_dynamic`: exit 2..255 → up with weight = status - 2 (keepalived). */
  miscDynamic?: boolean;
  /** `user`: run as this user (name or uid) and optional group. */
  user?: { uid: number; gid?: number };
}

/** UDP_CHECK. */
export interface UdpCheck extends CommonCheck {
  type: "udp";
  connectPort: number;
  /** `payload` as hex (default: one zero byte). */
  payload?: string;
  /** `require_reply`: true = any reply needed; hex string = reply must match ("??" = any byte). */
  requireReply?: boolean | string;
  /** `min_reply_length`: with a `requireReply` pattern, a shorter reply fails (keepalived check_udp.c). */
  minReplyLength?: number;
  /** `max_reply_length`: with a `requireReply` pattern, a longer reply fails (default 255). */
  maxReplyLength?: number;
}

/** PING_CHECK: ICMP / ICMPv6 echo (needs CAP_NET_RAW). */
export interface IcmpCheck extends Omit<CommonCheck, "connectPort" | "bindPort"> {
  type: "icmp";
}

/** DNS_CHECK. */
export interface DnsCheck extends CommonCheck {
  type: "dns";
  /** `type` of the query (default A). */
  queryType?: DnsTypeName;
  /** `name` to ask for (default "."). */
  name?: string;
}

/** SMTP_CHECK. */
export interface SmtpCheck extends CommonCheck {
  type: "smtp";
  /** `helo_name` (default "localhost"). */
  heloName?: string;
}

export type CheckDefinition = TcpCheck | HttpCheck | MiscCheck | UdpCheck | IcmpCheck | DnsCheck | SmtpCheck;

export type CheckType = CheckDefinition["type"];

/** Outcome of one probe. */
export interface ProbeResult {
  up: boolean;
  /** Why: "connected", "ECONNREFUSED", "status 503 not in 200-299", "timeout after 5000 ms"… */
  reason: string;
  latencyMs: number;
  /** Dynamic weight (MISC `misc_dynamic`, load hook). */
  weight?: number;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /**
   * Cancels the probe like `signal`, for a fraction of its memory: the runner gives each check
   * one (an AbortController with its signal and listener is ~700 bytes of heap, ~13 MiB at 20,000
   * checks). The built-in checkers watch both.
   */
  cancel?: ProbeCancel;
}

/** What an in-flight attempt does when its probe is cancelled. */
export interface Cancellable {
  cancelled(): void;
}

/** A probe's cancellation, set once (see ProbeOptions.cancel). */
export interface ProbeCancel {
  readonly isCancelled: boolean;
  /** `attempt.cancelled()` is called on cancel, unless unwatched first (it settled). */
  watch(attempt: Cancellable): void;
  unwatch(attempt: Cancellable): void;
}
