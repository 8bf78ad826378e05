/**
 * @lvs/director — the daemon keepalived is for an LVS cluster: the LVS part of keepalived.conf
 * (virtual servers in every form, real servers with their checkers, sorry server, quorum,
 * inhibit, alpha/omega, ha_suspend, lvs_sync_daemon) reconciled into a Dataplane (the kernel's
 * IPVS by default) by one loop, plus a runtime API (status, drain, weight, enable/disable,
 * reload), drift repair, persisted runtime changes and Prometheus metrics.
 */

/** @deprecated The in-memory IPVS moved to @lvs/ipvs: use its `MemoryIpvs`. */
export { MemoryIpvs as MemoryKernel } from "@lvs/ipvs";
export {
  type AlertSink,
  alertsFromConfig,
  SMTP_CONNECT_TIMEOUT_S,
  SmtpAlerts,
  type VrrpAlertState,
} from "./alerts.js";
export {
  type ApiHandlers,
  type ApiLimits,
  ApiServer,
  type ApiServerOptions,
  apiLimits,
  type ConnectionsAnswer,
  DEFAULT_API_LIMITS,
  type RealServerRequest,
  type TimeoutsAnswer,
} from "./api.js";
export type {
  BgpAnnouncementStatus,
  BgpReloadSummary,
  BgpSessionStatus,
  BgpSpeakerLike,
} from "./bgp.js";
export { DirectorClient, type DirectorClientOptions } from "./client.js";
export {
  compilePlan,
  destFor,
  type ForwardSpec,
  forwardOf,
  granularityPrefix,
  type Plan,
  type PlannedCheck,
  type PlannedDest,
  type PlannedRealServer,
  type PlannedService,
  type PlannedSorryServer,
  type PlannedVirtualServer,
  planTargets,
  realWeight,
} from "./compile.js";
export * from "./constants.js";
export { Director, type RunDaemonOptions, runDaemon } from "./daemon.js";
export type {
  Dataplane,
  DataplaneError,
  DataplaneResult,
  DataplaneStats,
  DestConnections,
  DestinationOption,
} from "./dataplane.js";
export {
  chooseDataplane,
  type DataplaneChoice,
  type DataplaneKind,
  hasNetAdmin,
} from "./dataplane-choice.js";
export { DirectorEngine } from "./engine.js";
export type { RealServerView } from "./engine-state.js";
export { DirectorError, type DirectorErrorCode, type DirectorErrorContext, httpStatusOf } from "./errors.js";
export type {
  DirectorEvent,
  DrainState,
  EngineEffect,
  HealthState,
  Override,
  RuntimeChange,
  ScriptName,
  TargetWeight,
  Transition,
} from "./events.js";
export { type ExplainCandidate, type Explanation, explainPick } from "./explain.js";
export { formatStatus, operationLine } from "./format.js";
export {
  DEFAULT_HEAP_REDUCE_INTERVAL_S,
  HEAP_REDUCE_ENV,
  HEAP_REDUCE_MIN_SLACK,
  HEAP_REDUCE_SLACK_RATIO,
  type HeapReducer,
  type HeapReducerOptions,
  heapReduceIntervalS,
  heapWorthReducing,
  startHeapReducer,
} from "./heap-reducer.js";
export {
  type CheckRecord,
  DirectorHistory,
  HISTORY_CHECK_RESULTS,
  HISTORY_CHECKS,
  HISTORY_CHECKS_MIN,
  HISTORY_TRANSITIONS,
  HISTORY_VRRP,
  type HistoryLimits,
  RingBuffer,
  type TransitionRecord,
  type VrrpTransitionRecord,
} from "./history.js";
export { type DirectorKernel, IpvsDataplane, type IpvsDataplaneOptions } from "./ipvs-dataplane.js";
export {
  addressVsKey,
  fwmarkVsKey,
  groupVsKey,
  hostPort,
  overrideKey,
  type ProtoName,
  parseRsReference,
  parseVsReference,
  type RsReference,
  trio,
  type VsReference,
} from "./keys.js";
export type { ReloadResult } from "./lifecycle.js";
export { createLogger, ctime, type LogFormat, type Logger, type LogOptions, textLine } from "./log.js";
export { DirectorMetrics, type MetricsSource, type RealServerMetric } from "./metrics.js";
export { ObservedTable } from "./observed.js";
export { type DirectorMode, type DirectorOptions, type LoadedConfig, loadConfigFile } from "./options.js";
export {
  defaultSocketPath,
  defaultStatePathFor,
  ensurePrivateDir,
  type RuntimeDir,
  runtimeDir,
} from "./paths.js";
export { parseIpvsStats } from "./proc-ipvs.js";
export { ProxyDirectorDataplane, type ProxyDirectorDataplaneOptions } from "./proxy-dataplane.js";
export {
  keyFromServiceId,
  type PassFailure,
  type PassOptions,
  type PassReport,
  Reconciler,
  type ReconcilerOptions,
  type TableSource,
} from "./reconcile.js";
export { runScript, type ScriptResult, type ScriptRunner } from "./scripts.js";
export { dotStuff, formatMessage, type Mail, type SmtpServer, sendMail } from "./smtp.js";
export {
  checkStatePath,
  defaultStatePath,
  emptyState,
  type LoadedState,
  loadStateFile,
  parseStateFile,
  readStateFile,
  type StateFile,
  StateWriter,
  writeStateFile,
} from "./state-file.js";
export type * from "./status.js";
export { SyncDaemonControl, type SyncRole } from "./sync-daemon.js";
export { type LocalAddresses, systemLocalAddresses } from "./vip.js";
export type { VrrpComponent, VrrpInstanceStatus, VrrpStateChange, VrrpStateName } from "./vrrp.js";
export { createVrrpComponent, type VrrpAdapterOptions, vrrpInstanceStatus } from "./vrrp-adapter.js";
export { type VrrpOnlyApiOptions, vrrpOnlyApiHandlers } from "./vrrp-api.js";
export { CONTENT_SECURITY_POLICY, createWebRoutes, type WebRoutes, type WebSources } from "./web.js";
export { renderLive, renderPage } from "./web-page.js";
export { dataplaneName } from "./web-runtime.js";
export {
  buildWebState,
  type HealthVerdict,
  healthVerdict,
  STATE_SCHEMA_ID,
  STATE_SCHEMA_VERSION,
  type WebState,
} from "./web-state.js";
export { formatWebState, type StateWatch, textSparkline, watchState } from "./web-watch.js";
export {
  capYoungGeneration,
  DEFAULT_SEMI_SPACE_MIB,
  OPTIMIZE_FOR_SIZE_ENV,
  optimizeHeapForSize,
  SEMI_SPACE_ENV,
  semiSpaceMib,
  wantsOptimizeForSize,
} from "./young-generation.js";
