// keepalived's SMTP alerts (smtp_alert, smtp_alert_vrrp, smtp_alert_checker): who gets a mail for
// what, and its subject and body as keepalived 2.2 words them (core/smtp.c, vrrp/vrrp.c
// vrrp_smtp_notifier, check/check_api.c): "[ROUTER_ID] VRRP Instance VI_1 - Entering MASTER state",
// "[ROUTER_ID] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN".
import { hostname } from "node:os";
import type { LvsConfig } from "@lvs/config";
import { type Mail, type SmtpServer, sendMail } from "./smtp.js";

/** keepalived's default smtp_connect_timeout (global_data.c: 30 s). */
export const SMTP_CONNECT_TIMEOUT_S = 30;

export type VrrpAlertState = "MASTER" | "BACKUP" | "FAULT" | "STOP";

const VRRP_TEXT: Record<VrrpAlertState, [string, string]> = {
  MASTER: ["Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="],
  BACKUP: ["Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="],
  FAULT: ["Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="],
  STOP: ["Stopping", "=> VRRP Instance stopping <="],
};

/** What a quorum mail says: the transition and keepalived's figures. */
export interface QuorumAlert {
  up: boolean;
  init: boolean;
  quorum: number;
  hysteresis: number;
  threshold: number;
  weightSum: number;
}

/** Told of each mail sent (or failed: the error) — for logs. */
export type AlertSink = (mail: Mail, err?: Error) => void;

/** The alert mails one configuration asks for; `undefined` from alertsFromConfig when none. */
export class SmtpAlerts {
  private readonly vrrpOn: Map<string, boolean>;
  private readonly lastState = new Map<string, VrrpAlertState>();
  private readonly pending = new Set<Promise<void>>();
  /** What the mails need of global_defs (the parsed configuration itself is not kept). */
  private readonly g: Pick<
    LvsConfig["globalDefs"],
    | "routerId"
    | "notificationEmail"
    | "notificationEmailFrom"
    | "noEmailFaults"
    | "smtpAlertChecker"
    | "smtpAlert"
  >;

  constructor(
    config: LvsConfig,
    private readonly server: SmtpServer,
    private readonly report: AlertSink = () => {},
    private readonly send: (s: SmtpServer, m: Mail) => Promise<void> = sendMail,
  ) {
    const g = config.globalDefs;
    const dflt = g.smtpAlertVrrp ?? g.smtpAlert ?? false;
    this.vrrpOn = new Map(config.vrrpInstances.map((i) => [i.name, i.smtpAlert ?? dflt]));
    this.g = {
      ...(g.routerId !== undefined ? { routerId: g.routerId } : {}),
      notificationEmail: [...g.notificationEmail],
      ...(g.notificationEmailFrom !== undefined ? { notificationEmailFrom: g.notificationEmailFrom } : {}),
      noEmailFaults: g.noEmailFaults,
      ...(g.smtpAlertChecker !== undefined ? { smtpAlertChecker: g.smtpAlertChecker } : {}),
      ...(g.smtpAlert !== undefined ? { smtpAlert: g.smtpAlert } : {}),
    };
  }

  private get routerId(): string {
    return this.g.routerId ?? hostname().split(".")[0] ?? "";
  }

  private mail(subject: string, body: string): void {
    const g = this.g;
    const m: Mail = {
      from: g.notificationEmailFrom ?? `keepalived@${hostname()}`,
      to: g.notificationEmail,
      subject: `[${this.routerId}] ${subject}`,
      body,
    };
    const p = this.send(this.server, m).then(
      () => this.report(m),
      (err: Error) => this.report(m, err),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** A VRRP instance changed state (one mail per new state, as keepalived's last_email_state). */
  vrrp(instance: string, state: VrrpAlertState): void {
    if (!this.vrrpOn.get(instance)) return;
    if (state === "FAULT" && this.g.noEmailFaults) return;
    if (this.lastState.get(instance) === state) return;
    this.lastState.set(instance, state);
    const [subject, body] = VRRP_TEXT[state];
    this.mail(`VRRP Instance ${instance} - ${subject}`, body);
  }

  /**
   * A real server went up or down. `smtpAlert`: its own setting, else its virtual server's (undefined:
   * the global smtp_alert_checker, else smtp_alert).
   */
  realServer(rsLabel: string, vsLabel: string, up: boolean, smtpAlert: boolean | undefined): void {
    const g = this.g;
    if (!(smtpAlert ?? g.smtpAlertChecker ?? g.smtpAlert ?? false)) return;
    this.mail(
      `Realserver ${rsLabel} of virtual server ${vsLabel} - ${up ? "UP" : "DOWN"}`,
      up ? "=> CHECK succeed on service <=" : "=> CHECK failed on service <=",
    );
  }

  /**
   * A virtual server gained or lost its quorum (keepalived's do_vs_notifies): "Virtualserver
   * [10.0.0.1]:tcp:80 - UP", body "=> Gained quorum 1+0=1 <= 2 <=". keepalived writes the down
   * case with the same `+` and `<=` (only its log line says `-` and `>`).
   */
  virtualServer(vsLabel: string, t: QuorumAlert, smtpAlert: boolean | undefined): void {
    const g = this.g;
    if (!(smtpAlert ?? g.smtpAlertChecker ?? g.smtpAlert ?? false)) return;
    const what = t.up
      ? t.init
        ? "Starting with quorum up"
        : "Gained quorum"
      : t.init
        ? "Starting with quorum down"
        : "Lost quorum";
    this.mail(
      `Virtualserver ${vsLabel} - ${t.up ? "UP" : "DOWN"}`,
      `=> ${what} ${t.quorum}+${t.hysteresis}=${t.threshold} <= ${t.weightSum} <=`,
    );
  }

  /** Mails still being sent. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

/** The alerts of a configuration, or undefined when it mails nobody (no recipients or no server). */
export function alertsFromConfig(config: LvsConfig, report?: AlertSink): SmtpAlerts | undefined {
  const g = config.globalDefs;
  if (!g.smtpServer || g.notificationEmail.length === 0) return undefined;
  return new SmtpAlerts(
    config,
    {
      host: g.smtpServer.host,
      port: g.smtpServer.port,
      helo: g.smtpHeloName ?? hostname(),
      timeoutMs: (g.smtpConnectTimeout ?? SMTP_CONNECT_TIMEOUT_S) * 1000,
    },
    report,
  );
}
