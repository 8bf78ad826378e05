// The zod schema of the model (src/model.ts): it validates both formats after they are read,
// fills keepalived's fixed defaults, and is the source of the published JSON Schema.
// Messages end with HINT + an example value; the error formatter turns that into
// "write `keyword example`" (keepalived.conf) or "write `key: example`" (YAML).

import {
  DELAY_LOOP_DEFAULT,
  DNS_QUERY_TYPES,
  FWMARK_MAX,
  GARP_MASTER_DELAY_DEFAULT,
  GARP_MASTER_REFRESH_DEFAULT,
  GARP_MASTER_REFRESH_REPEAT_DEFAULT,
  GARP_MASTER_REPEAT_DEFAULT,
  HYSTERESIS_DEFAULT,
  LVS_MAX_TIMEOUT,
  LVS_SCHED_DEFAULT,
  LVS_SCHEDULERS,
  PREEMPT_DELAY_MAX,
  QUORUM_DEFAULT,
  RS_WEIGHT_MAX,
  TRACK_WEIGHT_MAX,
  VRRP_ADVERT_DEFAULT,
  VRRP_ADVERT_MAX,
  VRRP_ADVERT_MIN,
  VRRP_MCAST_GROUP4,
  VRRP_MCAST_GROUP6,
  VRRP_PRIO_DEFAULT,
  VRRP_SCRIPT_INTERVAL_DEFAULT,
  VRRP_SCRIPT_WEIGHT_DEFAULT,
  VS_WEIGHT_DEFAULT,
} from "./constants.js";
import { lazyValue, zodModule } from "./lazy.js";

/** Separates a message from its example value (see formatHint in diagnostics.ts). */
export const HINT = "\u001f";

interface Opts {
  note?: string;
  example?: unknown;
  description?: string;
}

function hint(msg: string, o: Opts): string {
  return `${msg}${o.note ? ` (${o.note})` : ""}${o.example !== undefined ? HINT + JSON.stringify(o.example) : ""}`;
}

/**
 * Every schema, built on first use (zod loads then): see lazy.ts. Within, the schemas refer to
 * each other directly; outside, each exported name below is a stand-in for its schema.
 */
function build() {
  const { z } = zodModule();
  function typeMsg(what: string, o: Opts) {
    return (iss: { input?: unknown }) =>
      iss.input === undefined ? hint(`is required: ${what}`, o) : hint(`must be ${what}`, o);
  }

  function int(min: number, max: number, o: Opts = {}) {
    const what = `an integer ${min}..${max}`;
    const s = z
      .number({ error: typeMsg(what, o) })
      .int({ error: hint(`must be ${what}`, o) })
      .min(min, { error: hint(`must be ${what}`, o) })
      .max(max, { error: hint(`must be ${what}`, o) });
    return o.description ? s.meta({ description: o.description }) : s;
  }

  /** Seconds, decimals allowed (keepalived <TIMER>, resolution 1 µs). */
  function seconds(min: number, max: number, o: Opts = {}) {
    const what = `a number of seconds ${min}..${max}`;
    const s = z
      .number({ error: typeMsg(what, o) })
      .min(min, { error: hint(`must be ${what}`, o) })
      .max(max, { error: hint(`must be ${what}`, o) });
    return o.description ? s.meta({ description: o.description }) : s;
  }

  function str(o: Opts = {}) {
    const s = z.string({ error: typeMsg("a string", o) }).min(1, { error: hint("must not be empty", o) });
    return o.description ? s.meta({ description: o.description }) : s;
  }

  function bool(o: Opts = {}) {
    const s = z.boolean({ error: typeMsg("true or false", { example: true, ...o }) });
    return o.description ? s.meta({ description: o.description }) : s;
  }

  function oneOf<const T extends readonly [string, ...string[]]>(values: T, o: Opts = {}) {
    const what = `one of ${values.join(", ")}`;
    const s = z.enum(values, { error: typeMsg(what, { example: values[0], ...o }) });
    return o.description ? s.meta({ description: o.description }) : s;
  }

  function ip(o: Opts = {}) {
    return z.union([z.ipv4(), z.ipv6()], {
      error: typeMsg("an IPv4 or IPv6 address", { example: "192.168.0.1", ...o }),
    });
  }

  const flag = (description?: string) => bool(description ? { description } : {}).default(false);

  // ───────────────────────────── shared ─────────────────────────────

  // A user to run as. In YAML, `"nobody"` or `"nobody:nogroup"` is enough: ids are looked up at
  // load time (resolve.ts), as keepalived does with getpwnam().
  const RunAsSchema = z.union(
    [
      z
        .string()
        .regex(/^[^:\s]+(:[^:\s]+)?$/, { error: hint("must be USER or USER:GROUP", { example: "nobody" }) }),
      z.strictObject({
        user: str({ example: "root" }),
        group: str({ example: "root" }).optional(),
        uid: int(0, 0xffffffff, { example: 0 }).optional(),
        gid: int(0, 0xffffffff, { example: 0 }).optional(),
      }),
    ],
    { error: typeMsg("USER, USER:GROUP or {user, group}", { example: "nobody" }) },
  );

  const ScriptSchema = z.strictObject({
    argv: z
      .array(z.string(), { error: typeMsg("an argv array", { example: ["/usr/local/bin/check"] }) })
      .min(1, { error: hint("needs at least the program", { example: ["/usr/local/bin/check"] }) })
      .meta({ description: "Program and arguments (no shell)." }),
    user: RunAsSchema.optional(),
  });

  const FifoSchema = z.strictObject({
    path: str({ example: "/run/keepalived.fifo" }),
    user: RunAsSchema.optional(),
  });

  // ───────────────────────────── global_defs ─────────────────────────────

  const LvsSyncDaemonSchema = z.strictObject({
    interface: str({ example: "eth0" }),
    instance: str({ example: "VI_1" }).optional(),
    syncId: int(0, 255, { example: 0 }).optional(),
    maxlen: int(1, 65535 - 20 - 8, { example: 1472 }).optional(),
    port: int(1, 65535, { example: 8848 }).optional(),
    ttl: int(1, 255, { example: 1 }).optional(),
    group: ip({ example: "224.0.0.81" }).optional(),
  });

  const uintSecs = (example: number) => int(0, 0xffffffff, { example });

  const GlobalDefsSchema = z.strictObject({
    routerId: str({ example: "LVS_DEVEL" }).optional(),
    notificationEmail: z.array(str({ example: "admin@example.com" })).default([]),
    notificationEmailFrom: str({ example: "keepalived@example.com" }).optional(),
    smtpServer: z
      .strictObject({ host: str({ example: "127.0.0.1" }), port: int(1, 65535, { example: 25 }) })
      .optional(),
    smtpHeloName: str({ example: "director1" }).optional(),
    smtpConnectTimeout: uintSecs(30).optional(),
    smtpAlert: bool().optional(),
    smtpAlertVrrp: bool().optional(),
    smtpAlertChecker: bool().optional(),
    noEmailFaults: flag(),
    checkerLogAllFailures: bool().optional(),
    enableScriptSecurity: flag("Refuse root scripts writable by non-root users."),
    scriptUser: RunAsSchema.optional(),
    startupScript: ScriptSchema.optional(),
    startupScriptTimeout: int(1, 1000, { example: 10 }).optional(),
    shutdownScript: ScriptSchema.optional(),
    shutdownScriptTimeout: int(1, 1000, { example: 10 }).optional(),
    defaultInterface: str({ example: "eth0" }).optional(),
    dynamicInterfaces: flag(),
    vrrpMcastGroup4: z
      .ipv4({ error: hint("must be an IPv4 multicast address", { example: VRRP_MCAST_GROUP4 }) })
      .default(VRRP_MCAST_GROUP4),
    vrrpMcastGroup6: z
      .ipv6({ error: hint("must be an IPv6 multicast address", { example: VRRP_MCAST_GROUP6 }) })
      .default(VRRP_MCAST_GROUP6),
    vrrpGarpMasterDelay: uintSecs(5).default(GARP_MASTER_DELAY_DEFAULT),
    vrrpGarpMasterRepeat: int(1, 0x7fffffff, { example: 5 }).default(GARP_MASTER_REPEAT_DEFAULT),
    vrrpGarpMasterRefresh: uintSecs(60).default(GARP_MASTER_REFRESH_DEFAULT),
    vrrpGarpMasterRefreshRepeat: int(1, 0x7fffffff, { example: 1 }).default(
      GARP_MASTER_REFRESH_REPEAT_DEFAULT,
    ),
    vrrpGarpLowerPrioDelay: uintSecs(5).optional(),
    vrrpGarpLowerPrioRepeat: int(0, 0x7fffffff, { example: 5 }).optional(),
    vrrpGarpInterval: seconds(0, 0xffffffff, { example: 0.001 }).default(0),
    vrrpGnaInterval: seconds(0, 0xffffffff, { example: 0.001 }).default(0),
    vrrpMinGarp: flag(),
    vrrpLowerPrioNoAdvert: bool().optional(),
    vrrpHigherPrioSendAdvert: bool().optional(),
    vrrpVersion: z
      .union([z.literal(2), z.literal(3)], { error: hint("must be 2 or 3", { example: 2 }) })
      .default(2),
    vrrpStrict: flag(),
    vrrpCheckUnicastSrc: flag(),
    vrrpSkipCheckAdvAddr: flag(),
    vrrpStartupDelay: seconds(0.001, 0xffffffff, { example: 5 }).optional(),
    vrrpNotifyPriorityChanges: bool().optional(),
    vrrpDownTimerAdverts: int(1, 100, { example: 3 }).optional(),
    vrrpPriority: int(-20, 19, {
      example: -10,
      description: "Nice value of the VRRP child process (keepalived's vrrp_priority); below 0 needs root.",
    }).optional(),
    vrrpRtPriority: int(1, 99, {
      example: 50,
      description: "SCHED_RR priority of the VRRP child process (keepalived's vrrp_rt_priority).",
    }).optional(),
    notifyFifo: FifoSchema.optional(),
    notifyFifoScript: ScriptSchema.optional(),
    vrrpNotifyFifo: FifoSchema.optional(),
    vrrpNotifyFifoScript: ScriptSchema.optional(),
    lvsNotifyFifo: FifoSchema.optional(),
    lvsNotifyFifoScript: ScriptSchema.optional(),
    fifoWriteVrrpStatesOnReload: flag(),
    lvsSyncDaemon: LvsSyncDaemonSchema.optional(),
    lvsTimeouts: z
      .strictObject({
        tcp: int(0, LVS_MAX_TIMEOUT, { example: 900 }).optional(),
        tcpfin: int(0, LVS_MAX_TIMEOUT, { example: 120 }).optional(),
        udp: int(0, LVS_MAX_TIMEOUT, { example: 300 }).optional(),
      })
      .optional(),
    lvsFlush: flag(),
    lvsFlushOnStop: oneOf(["RS", "VS"] as const).optional(),
    lvsDirectorSysctl: bool().optional(),
    rsInitNotifies: flag(),
    noCheckerEmails: flag(),
  });

  // ───────────────────────────── vrrp_script ─────────────────────────────

  const trackWeight = (example: number) =>
    int(-TRACK_WEIGHT_MAX, TRACK_WEIGHT_MAX, { example, note: "negative lowers the priority on failure" });

  const VrrpScriptSchema = z.strictObject({
    name: str({ example: "chk_haproxy" }),
    script: z
      .array(z.string(), { error: typeMsg("an argv array", { example: ["/usr/bin/pgrep", "haproxy"] }) })
      .min(1, { error: hint("is required", { example: ["/usr/bin/pgrep", "haproxy"] }) }),
    // keepalived 2.3.2+ reads interval and timeout to the millisecond (2.2.7: whole seconds).
    interval: seconds(0.001, 0xffffffff, { example: 2 }).default(VRRP_SCRIPT_INTERVAL_DEFAULT),
    timeout: seconds(0.001, 0xffffffff, { example: 2 }).optional(),
    weight: trackWeight(-2).default(VRRP_SCRIPT_WEIGHT_DEFAULT),
    weightReverse: flag(),
    rise: int(1, 0x7fffffff, { example: 1 }).default(1),
    fall: int(1, 0x7fffffff, { example: 2 }).default(1),
    user: RunAsSchema.optional(),
    initFail: flag(),
  });

  // ───────────────────────────── tracking and sync groups ─────────────────────────────

  const TrackInterfaceSchema = z.strictObject({
    name: str({ example: "eth1" }),
    weight: trackWeight(-10).default(0),
    reverse: flag(),
  });

  const TrackScriptSchema = z.strictObject({
    name: str({ example: "chk_haproxy" }),
    weight: trackWeight(-2).optional(),
    reverse: bool().optional(),
  });

  const VrrpSyncGroupSchema = z.strictObject({
    name: str({ example: "VG_1" }),
    group: z
      .array(str({ example: "VI_1" }))
      .min(1, { error: hint("needs at least one member", { example: ["VI_1"] }) }),
    trackInterface: z.array(TrackInterfaceSchema).default([]),
    trackScript: z.array(TrackScriptSchema).default([]),
    notifyMaster: ScriptSchema.optional(),
    notifyBackup: ScriptSchema.optional(),
    notifyFault: ScriptSchema.optional(),
    notifyStop: ScriptSchema.optional(),
    notify: ScriptSchema.optional(),
    smtpAlert: bool().optional(),
    notifyPriorityChanges: bool().optional(),
    globalTracking: flag(),
    syncGroupTrackingWeight: flag(),
  });

  // ───────────────────────────── vrrp_instance ─────────────────────────────

  const VirtualIpAddressSchema = z.strictObject({
    address: ip({ example: "10.0.0.100" }),
    prefix: int(0, 128, { example: 24 }),
    brd: ip({ example: "10.0.0.255" }).optional(),
    dev: str({ example: "eth0" }).optional(),
    scope: oneOf(["site", "link", "host", "nowhere", "global"] as const).optional(),
    label: str({ example: "eth0:1" }).optional(),
    peer: ip({ example: "10.0.0.2" }).optional(),
    home: flag(),
    nodad: flag(),
    noprefixroute: flag(),
    noTrack: flag(),
    preferredLft: z.union([int(0, 0xffffffff, { example: 0 }), z.literal("forever")]).optional(),
  });

  const UnicastPeerSchema = z.strictObject({
    address: ip({ example: "192.168.1.2" }),
    minTtl: int(0, 255, { example: 255 }).optional(),
    maxTtl: int(0, 255, { example: 255 }).optional(),
  });

  const VrrpInstanceSchema = z.strictObject({
    name: str({ example: "VI_1" }),
    state: oneOf(["MASTER", "BACKUP"] as const, { example: "BACKUP" }).default("BACKUP"),
    interface: str({ example: "eth0" }).optional(),
    virtualRouterId: int(1, 255, { example: 51 }),
    priority: int(1, 255, { example: VRRP_PRIO_DEFAULT, note: "255 = address owner" }).default(
      VRRP_PRIO_DEFAULT,
    ),
    advertInt: seconds(VRRP_ADVERT_MIN, VRRP_ADVERT_MAX, { example: 1 }).default(VRRP_ADVERT_DEFAULT),
    version: z
      .union([z.literal(2), z.literal(3)], { error: hint("must be 2 or 3", { example: 3 }) })
      .optional(),
    nopreempt: flag("Don't take over from a lower-priority master."),
    preemptDelay: seconds(0, PREEMPT_DELAY_MAX, { example: 300 }).default(0),
    accept: bool().optional(),
    authentication: z
      .strictObject({
        authType: oneOf(["PASS", "AH"] as const, { example: "PASS" }),
        authPass: z
          .string()
          .min(1, { error: hint("must not be empty", { example: "1111" }) })
          .optional(),
      })
      .optional(),
    virtualIpaddress: z.array(VirtualIpAddressSchema).default([]),
    virtualIpaddressExcluded: z.array(VirtualIpAddressSchema).default([]),
    virtualRoutes: z.array(z.array(z.string())).default([]),
    virtualRules: z.array(z.array(z.string())).default([]),
    unicastSrcIp: ip().optional(),
    unicastPeer: z.array(UnicastPeerSchema).default([]),
    unicastTtl: int(0, 255, { example: 255 }).optional(),
    mcastSrcIp: ip().optional(),
    mcastDstIp: ip({ example: "224.0.0.18" }).optional(),
    checkUnicastSrc: flag(),
    trackInterface: z.array(TrackInterfaceSchema).default([]),
    trackScript: z.array(TrackScriptSchema).default([]),
    dontTrackPrimary: flag(),
    trackSrcIp: flag(),
    notifyMaster: ScriptSchema.optional(),
    notifyBackup: ScriptSchema.optional(),
    notifyFault: ScriptSchema.optional(),
    notifyStop: ScriptSchema.optional(),
    notify: ScriptSchema.optional(),
    notifyMasterRxLowerPri: ScriptSchema.optional(),
    notifyPriorityChanges: bool().optional(),
    smtpAlert: bool().optional(),
    garpMasterDelay: uintSecs(5).optional(),
    garpMasterRepeat: int(1, 0x7fffffff, { example: 5 }).optional(),
    garpMasterRefresh: uintSecs(60).optional(),
    garpMasterRefreshRepeat: int(1, 0x7fffffff, { example: 1 }).optional(),
    garpLowerPrioDelay: uintSecs(5).optional(),
    garpLowerPrioRepeat: int(0, 0x7fffffff, { example: 5 }).optional(),
    downTimerAdverts: int(1, 100, { example: 3 }).optional(),
    lowerPrioNoAdvert: bool().optional(),
    higherPrioSendAdvert: bool().optional(),
    strictMode: bool().optional(),
    skipCheckAdvAddr: bool().optional(),
    promoteSecondaries: flag(),
    nativeIpv6: flag(),
    useVmac: z
      .strictObject({
        name: str({ example: "vrrp.51" }).optional(),
        mac: z
          .string()
          .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){4,5}$/, {
            error: hint("must be a MAC address", { example: "00:00:5e:00:01:33" }),
          })
          .optional(),
      })
      .optional(),
    vmacXmitBase: flag(),
    unicastFaultNoPeer: flag(),
    lvsSyncDaemonInterface: str({ example: "eth0" }).optional(),
  });

  // ───────────────────────────── LVS ─────────────────────────────

  const LvsMethodSchema = z.strictObject({
    method: oneOf(["NAT", "DR", "TUN"] as const, { example: "DR" }),
    tunnelType: oneOf(["ipip", "gue", "gre"] as const).optional(),
    tunnelPort: int(1, 65535, { example: 6080 }).optional(),
    tunnelChecksum: oneOf(["nocsum", "csum", "remcsum"] as const).optional(),
  });

  const port = (example = 80) => int(0, 65535, { example });

  const VirtualServerGroupEntrySchema = z.union([
    z.strictObject({
      address: ip({ example: "10.0.0.1" }),
      lastAddress: ip({ example: "10.0.0.10" }).optional(),
      port: port(),
    }),
    z.strictObject({
      fwmark: int(0, FWMARK_MAX, { example: 1 }),
      family: oneOf(["inet", "inet6"] as const).optional(),
    }),
  ]);

  const VirtualServerGroupSchema = z.strictObject({
    name: str({ example: "WEB" }),
    entries: z
      .array(VirtualServerGroupEntrySchema)
      .min(1, { error: hint("needs at least one entry", { example: [{ address: "10.0.0.1", port: 80 }] }) }),
  });

  const CheckPolicySchema = z.strictObject({
    delayLoop: seconds(0.000001, 0xffffffff, { example: 6 }),
    retry: int(0, 0xffffffff, { example: 1 }),
    delayBeforeRetry: seconds(0, 0xffffffff, { example: 1 }),
    warmup: seconds(0, 0xffffffff, { example: 0 }),
    alpha: bool(),
    weight: int(0, RS_WEIGHT_MAX, { example: 1 }),
    rise: int(1, 0x7fffffff, { example: 2 }).optional(),
    fall: int(1, 0x7fffffff, { example: 3 }).optional(),
    slowStart: seconds(0, 86400, { example: 10 }).optional(),
  });

  // connectIp/connectPort may be omitted: they default to the real server's (resolve.ts).
  const commonCheck = {
    connectIp: ip({ example: "10.0.0.2" }).optional(),
    connectPort: int(1, 65535, { example: 80 }).optional(),
    bindto: ip({ example: "10.0.0.1" }).optional(),
    bindPort: int(1, 65535, { example: 10000 }).optional(),
    connectTimeout: seconds(0.000001, 0xffffffff, { example: 3 }).optional(),
  };

  const statusCode = z.union([
    int(100, 999, { example: 200 }),
    z.tuple([int(100, 999, { example: 200 }), int(100, 999, { example: 299 })]),
  ]);

  const HttpUrlSchema = z.strictObject({
    path: str({ example: "/health" }),
    digest: z
      .string()
      .regex(/^[0-9a-f]{32}$/, {
        error: hint("must be 32 lowercase hex digits (an MD5)", {
          example: "9b3a0c85a887a256d6939da88aabd8cd",
        }),
      })
      .optional(),
    statusCode: z.array(statusCode).optional(),
    regex: str({ example: "OK" }).optional(),
    regexNoMatch: bool().optional(),
    virtualhost: str({ example: "www.example.com" }).optional(),
  });

  const CheckDefSchema = z.discriminatedUnion(
    "type",
    [
      z.strictObject({ type: z.literal("tcp"), ...commonCheck }),
      z.strictObject({
        type: z.enum(["http", "https"]),
        ...commonCheck,
        url: z
          .array(HttpUrlSchema)
          .min(1, { error: hint("needs at least one url", { example: [{ path: "/" }] }) }),
        virtualhost: str({ example: "www.example.com" }).optional(),
        httpProtocol: oneOf(["1.0", "1.0C", "1.1"] as const).optional(),
        enableSni: bool().optional(),
        tlsVerify: bool().optional(),
        ca: z.string().optional(),
      }),
      z.strictObject({
        type: z.literal("misc"),
        miscPath: z
          .array(z.string())
          .min(1, { error: hint("is required", { example: ["/usr/local/bin/check"] }) }),
        miscTimeout: seconds(0.000001, 0xffffffff, { example: 5 }).optional(),
        miscDynamic: bool().optional(),
        user: RunAsSchema.optional(),
      }),
      z.strictObject({
        type: z.literal("udp"),
        ...commonCheck,
        payload: z
          .string()
          .regex(/^[0-9a-fA-F]*$/, { error: hint("must be hex", { example: "00" }) })
          .optional(),
        requireReply: z.union([z.boolean(), z.string().regex(/^([0-9a-fA-F?]{2})*$/)]).optional(),
      }),
      z.strictObject({
        type: z.literal("icmp"),
        connectIp: commonCheck.connectIp,
        bindto: commonCheck.bindto,
        connectTimeout: commonCheck.connectTimeout,
      }),
      z.strictObject({
        type: z.literal("dns"),
        ...commonCheck,
        queryType: oneOf(DNS_QUERY_TYPES).optional(),
        name: str({ example: "example.com" }).optional(),
      }),
      z.strictObject({
        type: z.literal("smtp"),
        ...commonCheck,
        heloName: str({ example: "localhost" }).optional(),
      }),
    ],
    {
      error: hint("check type must be one of tcp, http, https, misc, udp, icmp, dns, smtp", {
        example: "tcp",
      }),
    },
  );

  // `kind` follows from check.type and policy from the enclosing blocks when omitted (resolve.ts).
  const CheckerSchema = z.strictObject({
    kind: oneOf(
      [
        "TCP_CHECK",
        "HTTP_GET",
        "SSL_GET",
        "MISC_CHECK",
        "UDP_CHECK",
        "PING_CHECK",
        "DNS_CHECK",
        "SMTP_CHECK",
      ] as const,
      { example: "TCP_CHECK" },
    ).optional(),
    check: CheckDefSchema,
    policy: CheckPolicySchema.partial().optional(),
    bindIf: str({ example: "eth0" }).optional(),
    fwmark: int(0, FWMARK_MAX, { example: 1 }).optional(),
    logAllFailures: bool().optional(),
    fastRecovery: bool().optional(),
    minReplyLength: int(0, 65535, { example: 0 }).optional(),
    maxReplyLength: int(0, 65535, { example: 255 }).optional(),
  });

  const timers = {
    connectTimeout: seconds(0.000001, 0xffffffff, { example: 3 }).optional(),
    retry: int(0, 0xffffffff, { example: 3 }).optional(),
    delayBeforeRetry: seconds(0, 0xffffffff, { example: 3 }).optional(),
    warmup: seconds(0, 0xffffffff, { example: 0 }).optional(),
  };

  const RealServerSchema = z.strictObject({
    address: ip({ example: "192.168.1.11" }),
    port: port(),
    /** Default: the virtual server's `weight`. */
    weight: int(0, RS_WEIGHT_MAX, { example: 1 }).optional(),
    lvsMethod: LvsMethodSchema.optional(),
    inhibitOnFailure: flag(),
    notifyUp: ScriptSchema.optional(),
    notifyDown: ScriptSchema.optional(),
    uthreshold: int(0, 0xffffffff, { example: 1000 }).optional(),
    lthreshold: int(0, 0xffffffff, { example: 100 }).optional(),
    smtpAlert: bool().optional(),
    virtualhost: str({ example: "www.example.com" }).optional(),
    alpha: bool().optional(),
    /**
     * lvs extension (keepalived has no such keyword): the userspace proxy dataplane sends haproxy's
     * PROXY header, v1 (`send-proxy`) or v2 (`send-proxy-v2`), first on each connection to it. TCP.
     */
    proxyProtocol: oneOf(["v1", "v2"] as const, { example: "v2" }).optional(),
    ...timers,
    delayLoop: seconds(0.000001, 0xffffffff, { example: 6 }).optional(),
    checkers: z.array(CheckerSchema).default([]),
  });

  const VirtualServerKeySchema = z.union(
    [
      z.strictObject({ address: ip({ example: "10.0.0.100" }), port: port() }),
      z.strictObject({ fwmark: int(0, FWMARK_MAX, { example: 1 }) }),
      z.strictObject({ group: str({ example: "WEB" }) }),
    ],
    {
      error: hint("must be {address, port}, {fwmark} or {group}", {
        example: { address: "10.0.0.100", port: 80 },
      }),
    },
  );

  const SCHED_FLAGS = [
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
  ] as const;

  const VirtualServerSchema = z.strictObject({
    key: VirtualServerKeySchema,
    lvsSched: oneOf(LVS_SCHEDULERS, { example: "wlc" }).default(LVS_SCHED_DEFAULT),
    lvsMethod: LvsMethodSchema.default({ method: "NAT" }),
    protocol: oneOf(["TCP", "UDP", "SCTP"] as const).optional(),
    persistenceTimeout: int(1, LVS_MAX_TIMEOUT, { example: 360 }).optional(),
    persistenceGranularity: str({ example: "255.255.255.0" }).optional(),
    persistenceEngine: str({ example: "sip" }).optional(),
    ops: flag(),
    schedFlags: z.array(oneOf(SCHED_FLAGS)).default([]),
    delayLoop: seconds(0.000001, 0xffffffff, { example: 6 }).default(DELAY_LOOP_DEFAULT),
    ...timers,
    inhibitOnFailure: flag(),
    haSuspend: flag(),
    alpha: flag(),
    omega: flag(),
    quorum: int(1, 0xffffffff, { example: 1 }).default(QUORUM_DEFAULT),
    hysteresis: int(0, 0xffffffff, { example: 0 }).default(HYSTERESIS_DEFAULT),
    quorumUp: ScriptSchema.optional(),
    quorumDown: ScriptSchema.optional(),
    virtualhost: str({ example: "www.example.com" }).optional(),
    smtpAlert: bool().optional(),
    ipFamily: oneOf(["inet", "inet6"] as const).optional(),
    weight: int(1, RS_WEIGHT_MAX, { example: 1 }).default(VS_WEIGHT_DEFAULT),
    sorryServer: z
      .strictObject({
        address: ip({ example: "127.0.0.1" }),
        port: port(),
        inhibit: flag(),
        lvsMethod: LvsMethodSchema.optional(),
      })
      .optional(),
    realServers: z.array(RealServerSchema).default([]),
  });

  // ───────────────────────────── bgp (native format only) ─────────────────────────────

  const BgpPeerSchema = z.strictObject({
    address: ip({ description: "The router's address." }),
    as: int(1, 4294967295, { example: 65000, description: "The router's AS number." }),
    port: int(1, 65535, { example: 179, description: "The router's TCP port (default 179)." }).optional(),
    localAddress: ip({ description: "Local address to connect from." }).optional(),
  });

  const BgpSectionSchema = z
    .strictObject({
      localAs: int(1, 4294967295, { example: 65001, description: "Our AS number." }),
      routerId: z.ipv4({ error: hint("must be a dotted quad", { example: "192.0.2.1" }) }).optional(),
      holdTime: int(0, 65535, { example: 90, description: "Hold time offered (0 or 3..65535), seconds." })
        .refine((n) => n === 0 || n >= 3, {
          error: hint("must be 0 or at least 3 (RFC 4271)", { example: 90 }),
        })
        .optional(),
      netns: str({ description: "Network namespace to open the sessions in." }).optional(),
      nextHops: z.array(ip()).max(2).optional(),
      communities: z.array(str({ example: "65000:100" })).optional(),
      announceWhenMaster: z
        .union([
          str({ example: "VI_1", description: "A vrrp_instance name." }),
          z
            .array(str({ example: "VI_1" }))
            .min(1, { error: hint("needs at least one instance", { example: ["VI_1"] }) }),
        ])
        .optional()
        .meta({
          description:
            "Announce only while this VRRP instance (every listed instance) is MASTER on this node.",
        }),
      peers: z.array(BgpPeerSchema).min(1, {
        error: hint("needs at least one peer", { example: [{ address: "10.0.0.1", as: 65000 }] }),
      }),
    })
    .meta({
      description:
        "Announce each virtual server's address over BGP (announce-only) while the service has quorum; YAML/JSON only.",
    });

  const LvsConfigSchema = z
    .strictObject({
      $schema: z.string().optional().meta({ description: "Editor hint: the JSON Schema of this file." }),
      globalDefs: GlobalDefsSchema.default(GlobalDefsSchema.parse({})),
      vrrpScripts: z.array(VrrpScriptSchema).default([]),
      vrrpSyncGroups: z.array(VrrpSyncGroupSchema).default([]),
      vrrpInstances: z.array(VrrpInstanceSchema).default([]),
      virtualServerGroups: z.array(VirtualServerGroupSchema).default([]),
      virtualServers: z.array(VirtualServerSchema).default([]),
      bgp: BgpSectionSchema.optional(),
    })
    .meta({
      title: "lvs configuration",
      description:
        "The lvs director's configuration (the same model as keepalived.conf). Durations are seconds.",
    });
  return {
    RunAsSchema,
    ScriptSchema,
    FifoSchema,
    LvsSyncDaemonSchema,
    GlobalDefsSchema,
    VrrpScriptSchema,
    TrackInterfaceSchema,
    TrackScriptSchema,
    VrrpSyncGroupSchema,
    VirtualIpAddressSchema,
    UnicastPeerSchema,
    VrrpInstanceSchema,
    LvsMethodSchema,
    VirtualServerGroupEntrySchema,
    VirtualServerGroupSchema,
    CheckPolicySchema,
    HttpUrlSchema,
    CheckDefSchema,
    CheckerSchema,
    RealServerSchema,
    VirtualServerKeySchema,
    VirtualServerSchema,
    BgpPeerSchema,
    BgpSectionSchema,
    LvsConfigSchema,
  };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The schemas themselves (the stand-ins below forward to these). */
export function schemas(): Schemas {
  built ??= build();
  return built;
}

export const RunAsSchema = lazyValue(() => schemas().RunAsSchema);
export const ScriptSchema = lazyValue(() => schemas().ScriptSchema);
export const FifoSchema = lazyValue(() => schemas().FifoSchema);
export const LvsSyncDaemonSchema = lazyValue(() => schemas().LvsSyncDaemonSchema);
export const GlobalDefsSchema = lazyValue(() => schemas().GlobalDefsSchema);
export const VrrpScriptSchema = lazyValue(() => schemas().VrrpScriptSchema);
export const TrackInterfaceSchema = lazyValue(() => schemas().TrackInterfaceSchema);
export const TrackScriptSchema = lazyValue(() => schemas().TrackScriptSchema);
export const VrrpSyncGroupSchema = lazyValue(() => schemas().VrrpSyncGroupSchema);
export const VirtualIpAddressSchema = lazyValue(() => schemas().VirtualIpAddressSchema);
export const UnicastPeerSchema = lazyValue(() => schemas().UnicastPeerSchema);
export const VrrpInstanceSchema = lazyValue(() => schemas().VrrpInstanceSchema);
export const LvsMethodSchema = lazyValue(() => schemas().LvsMethodSchema);
export const VirtualServerGroupEntrySchema = lazyValue(() => schemas().VirtualServerGroupEntrySchema);
export const VirtualServerGroupSchema = lazyValue(() => schemas().VirtualServerGroupSchema);
export const CheckPolicySchema = lazyValue(() => schemas().CheckPolicySchema);
export const HttpUrlSchema = lazyValue(() => schemas().HttpUrlSchema);
export const CheckDefSchema = lazyValue(() => schemas().CheckDefSchema);
export const CheckerSchema = lazyValue(() => schemas().CheckerSchema);
export const RealServerSchema = lazyValue(() => schemas().RealServerSchema);
export const VirtualServerKeySchema = lazyValue(() => schemas().VirtualServerKeySchema);
export const VirtualServerSchema = lazyValue(() => schemas().VirtualServerSchema);
export const BgpPeerSchema = lazyValue(() => schemas().BgpPeerSchema);
export const BgpSectionSchema = lazyValue(() => schemas().BgpSectionSchema);
export const LvsConfigSchema = lazyValue(() => schemas().LvsConfigSchema);
