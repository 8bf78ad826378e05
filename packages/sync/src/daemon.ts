/**
 * Control of the kernel's own sync daemon through @lvs/ipvs's generic-netlink client — the
 * operations of `ipvsadm --start-daemon`, `--stop-daemon` and `-L --daemon`. The client is passed
 * in (an `IpvsClient`, or anything with the same three methods), so this module loads no netlink.
 */
import type { Daemon } from "@lvs/ipvs";
import { IP_VS_STATE_BACKUP, IP_VS_STATE_MASTER } from "./constants.js";

export type DaemonRole = "master" | "backup";

export interface SyncDaemonConfig {
  role: DaemonRole;
  /** --mcast-interface */
  interface: string;
  /** --syncid */
  syncId: number;
  /** --sync-maxlen (kernel default: 1500 minus headers for a master, the MTU's for a backup) */
  maxLength?: number;
  /** --mcast-group (kernel default 224.0.0.81) */
  group?: string;
  /** --mcast-port (kernel default 8848) */
  port?: number;
  /** --mcast-ttl (kernel default 1) */
  ttl?: number;
}

/** The three calls of @lvs/ipvs's IpvsClient this module uses. */
export interface DaemonClient {
  startDaemon(d: Daemon): Promise<void>;
  stopDaemon(state: number): Promise<void>;
  daemons(): Promise<Daemon[]>;
}

const stateOf = (role: DaemonRole): number => (role === "master" ? IP_VS_STATE_MASTER : IP_VS_STATE_BACKUP);

/** `ipvsadm --start-daemon ROLE --mcast-interface IF --syncid N [...]` */
export function startSyncDaemon(client: DaemonClient, cfg: SyncDaemonConfig): Promise<void> {
  const d: Daemon = { state: stateOf(cfg.role), mcastIfn: cfg.interface, syncId: cfg.syncId };
  if (cfg.maxLength !== undefined) d.syncMaxLen = cfg.maxLength;
  if (cfg.group !== undefined) d.mcastGroup = cfg.group;
  if (cfg.port !== undefined) d.mcastPort = cfg.port;
  if (cfg.ttl !== undefined) d.mcastTtl = cfg.ttl;
  return client.startDaemon(d);
}

/** `ipvsadm --stop-daemon ROLE` */
export function stopSyncDaemon(client: DaemonClient, role: DaemonRole): Promise<void> {
  return client.stopDaemon(stateOf(role));
}

/** `ipvsadm -L --daemon`, as data. */
export async function syncDaemonStatus(client: DaemonClient): Promise<SyncDaemonConfig[]> {
  const out: SyncDaemonConfig[] = [];
  for (const d of await client.daemons()) {
    const role: DaemonRole | undefined =
      d.state === IP_VS_STATE_MASTER ? "master" : d.state === IP_VS_STATE_BACKUP ? "backup" : undefined;
    if (!role) continue;
    const c: SyncDaemonConfig = { role, interface: d.mcastIfn, syncId: d.syncId };
    if (d.syncMaxLen) c.maxLength = d.syncMaxLen;
    if (d.mcastGroup) c.group = d.mcastGroup;
    if (d.mcastPort) c.port = d.mcastPort;
    if (d.mcastTtl) c.ttl = d.mcastTtl;
    out.push(c);
  }
  return out;
}

/** One line as `ipvsadm -L --daemon` prints it (ipvsadm 1.31 print_daemon()). */
export function formatSyncDaemon(c: SyncDaemonConfig): string {
  let s = `${c.role} sync daemon (mcast=${c.interface}, syncid=${c.syncId}`;
  if (c.maxLength) s += `, maxlen=${c.maxLength}`;
  if (c.group) s += `, group=${c.group}`;
  if (c.port) s += `, port=${c.port}`;
  if (c.ttl) s += `, ttl=${c.ttl}`;
  return `${s})`;
}
