// Constants of @lvs/director. Values that mirror keepalived cite keepalived 2.2.7's source
// (keepalived/include/*.h, keepalived/check/*.c); kernel values come from @lvs/ipvs, which cites
// include/uapi/linux/ip_vs.h.

/** keepalived/include/ip_vs.h: IPVS_WEIGHT_MAX (INT32_MAX) — real_weight() clamps to [0, this]. */
export const IPVS_WEIGHT_LIMIT = 2_147_483_647;

/** keepalived/include/libipvs.h: IPVS_SVC_PERSISTENT_TIMEOUT (6*60) — forced on a port-0 service. */
export const IPVS_SVC_PERSISTENT_TIMEOUT = 360;

/** keepalived/include/ipvswrapper.h: IPVS_DEF_SCHED. */
export const IPVS_DEF_SCHED = "wlc";

/** Default runtime API socket (unix domain, mode 0600). */
export const DEFAULT_SOCKET_PATH = "/run/lvs/director.sock";

/** Suffix of the state file written next to the configuration file. */
export const STATE_FILE_SUFFIX = ".state.json";

/** Version of the state file's format. */
export const STATE_FILE_VERSION = 1;

/** Periodic full reconcile pass (drift repair), ms. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 5_000;

/** How often a draining real server's connections are looked at, ms. */
export const DEFAULT_DRAIN_POLL_MS = 1_000;

/** How often local addresses are looked at for ha_suspend, ms. */
export const DEFAULT_HA_SUSPEND_POLL_MS = 1_000;

/** Slow start re-evaluation while a weight ramps, ms. */
export const SLOW_START_TICK_MS = 1_000;

/**
 * keepalived's notify scripts are killed after this (keepalived/core/notify.c runs them with
 * no timeout while running, TIMER_HZ at shutdown); ours get a generous bound so none can pile up.
 */
export const SCRIPT_TIMEOUT_MS = 30_000;

/** At shutdown (omega), scripts get this long (keepalived: TIMER_HZ = 1 s in system_call_script). */
export const SHUTDOWN_SCRIPT_TIMEOUT_MS = 1_000;

/** Largest request body the API accepts (413 above); the largest real request is ~200 bytes. */
export const API_MAX_BODY = 64 * 1024;

/** Open API connections per listener; more are closed as they arrive (Node server.maxConnections). */
export const API_MAX_CONNECTIONS = 64;

/** Time a client gets to send a request's headers (slowloris bound), ms. Node's default: 60 s. */
export const API_HEADERS_TIMEOUT_MS = 10_000;

/** Time a client gets to send a whole request, ms. Node's default: 300 s. */
export const API_REQUEST_TIMEOUT_MS = 30_000;

/** An idle kept-alive connection is closed after this, ms. */
export const API_KEEPALIVE_TIMEOUT_MS = 5_000;

/**
 * A socket with no traffic either way is closed after this, ms (the slowest handler, a reload
 * of a large file, answers well within it).
 */
export const API_IDLE_TIMEOUT_MS = 120_000;
