// Text for people: the kernel operations of a dry run, in `ipvsadm -R` syntax (so the output can
// be read as ipvsadm commands, or fed to `ipvsadm -R` / `lvsctl ipvs -R`), and the status table
// of `lvsctl status`, laid out like `ipvsadm -Ln` with health, drains and quorum added.
import { destEntryOf, IP_VS_CONN_F_MASQ, type Operation, serviceEntryOf } from "@lvs/ipvs";
import { Fmt, formatServiceEntry } from "@lvs/ipvsadm";
import type { BgpAnnouncementStatus, BgpSessionStatus } from "./bgp.js";
import type { DirectorStatus, RealServerStatus } from "./status.js";

const RULE = Fmt.RULE | Fmt.NUMERIC;

/** One operation as an `ipvsadm -R` line: `-A -t 10.0.0.1:80 -s wlc`, `-e -t … -r … -m -w 0`, `-d …`. */
export function operationLine(op: Operation): string {
  const se = serviceEntryOf(op.service);
  switch (op.op) {
    case "addService":
      return formatServiceEntry(se, [], RULE).trimEnd();
    case "editService":
      return formatServiceEntry(se, [], RULE).trimEnd().replace(/^-A /, "-E ");
    case "delService": {
      const head = formatServiceEntry(se, [], RULE).trimEnd().split(" -s ")[0] as string;
      return head.replace(/^-A /, "-D ");
    }
    case "addDest":
    case "editDest": {
      const lines = formatServiceEntry(se, [destEntryOf(op.dest)], RULE)
        .trimEnd()
        .split("\n");
      const line = lines[lines.length - 1] as string;
      return op.op === "editDest" ? line.replace(/^-a /, "-e ") : line;
    }
    case "delDest": {
      const lines = formatServiceEntry(se, [destEntryOf({ ...op.dest, forward: IP_VS_CONN_F_MASQ })], RULE)
        .trimEnd()
        .split("\n");
      const line = lines[lines.length - 1] as string;
      return line.replace(/^-a (.* -r \S+).*$/, "-d $1");
    }
  }
}

const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s + " ".repeat(n - s.length));

function forwardName(rs: RealServerStatus): string {
  return rs.forward === "NAT" ? "Masq" : rs.forward === "DR" ? "Route" : "Tunnel";
}

function healthText(rs: RealServerStatus, now: number): string {
  const bad = rs.checks.find((c) => !c.up);
  const shown = bad ?? rs.checks[0];
  let why = "";
  if (shown) {
    const lat =
      shown.latencyMs === null
        ? ""
        : ` ${shown.latencyMs < 10 ? shown.latencyMs.toFixed(1) : Math.round(shown.latencyMs)} ms`;
    why = `${shown.kind}: ${shown.reason ?? "not checked yet"}${lat}`;
  } else why = "no checker";
  const d = rs.override?.drain;
  let extra = "";
  if (d?.phase === "draining") {
    const left = d.deadline ? `, ${Math.max(0, Math.ceil((d.deadline - now) / 1000))}s left` : "";
    extra = `  [draining since ${Math.round((now - d.since) / 1000)}s${left}]`;
  } else if (d?.phase === "drained") extra = `  [drained${d.doneReason ? `: ${d.doneReason}` : ""}]`;
  if (rs.override?.disabled) extra += "  [disabled]";
  if (rs.override?.weight !== undefined) extra += `  [weight set to ${rs.override.weight}]`;
  return `${why}${extra}`;
}

/**
 * The director drain, each BGP session (state, since, what it announces) and why nothing is
 * announced when so: shared by `lvsctl status` and `status --watch`.
 */
export function bgpLines(
  bgp: { sessions: BgpSessionStatus[]; announcement: BgpAnnouncementStatus } | undefined,
  drain: { since: number } | null | undefined,
  when: (ms: number) => string,
): string[] {
  const out: string[] = [];
  if (drain)
    out.push(
      `Director DRAINED since ${when(drain.since)}: nothing announced over BGP, established connections still served (lvsctl undrain --director)`,
    );
  if (!bgp) return out;
  const a = bgp.announcement;
  out.push(
    a.withheld
      ? `BGP: withheld ${a.eligible.join(" ") || "(nothing with quorum)"}: ${a.withheld}`
      : `BGP: announcing ${a.announced.join(" ") || "nothing (no virtual server with quorum)"}`,
  );
  for (const x of bgp.sessions)
    out.push(
      `  peer ${x.peer} AS ${x.peerAs} ${x.state} since ${when(x.since)}; updates ${x.updatesSent} out/${x.updatesReceived} in${x.lastNotification ? `; last NOTIFICATION ${x.lastNotification}` : ""}`,
    );
  return out;
}

/** `lvsctl status`: an `ipvsadm -Ln` user's table with health, drains and quorum. */
export function formatStatus(s: DirectorStatus, now = Date.now()): string {
  const out: string[] = [];
  const vrrp = s.vrrp.running
    ? s.vrrp.instances.map((i) => `${i.name} ${i.state}`).join(", ") || "no instances"
    : "not running";
  out.push(
    `lvs director pid ${s.daemon.pid} — ${s.daemon.configPath}; ${s.virtualServers.length} virtual servers; VRRP: ${vrrp}; last pass ${
      s.reconcile.lastPassAt ? `${Math.round((now - s.reconcile.lastPassAt) / 1000)}s ago` : "never"
    }${s.reconcile.driftRepairs ? `, ${s.reconcile.driftRepairs} drift repairs` : ""}`,
  );
  const ago = (ms: number) =>
    `${new Date(ms).toISOString().slice(11, 19)} UTC (${Math.round((now - ms) / 1000)}s ago)`;
  out.push(
    ...bgpLines(
      s.bgp && s.bgpAnnouncement ? { sessions: s.bgp, announcement: s.bgpAnnouncement } : undefined,
      s.directorDrain,
      ago,
    ),
  );
  out.push("Prot LocalAddress:Port Scheduler Flags          Quorum");
  out.push("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn State     Health");
  for (const vs of s.virtualServers) {
    const flags = vs.persistence !== null ? `persistent ${vs.persistence}` : "";
    const q = `${vs.quorum.up ? "up" : "DOWN"} ${vs.quorum.liveWeight}/${vs.quorum.quorum}${vs.sorry?.active ? " sorry" : ""}${vs.checksSuspended ? " suspended" : ""}`;
    const head =
      vs.services.length === 1 ? (vs.services[0] as string) : `${vs.label} (${vs.services.length} services)`;
    out.push(
      `${pad(`${pad(head, 27)}${vs.scheduler} ${flags}`, 44)}${q}${vs.inKernel ? "" : "  [not in kernel]"}`,
    );
    for (const rs of vs.realServers) {
      const weight = rs.kernelWeight === null ? "-" : String(rs.kernelWeight);
      out.push(
        `  -> ${pad(rs.key, 28)}${pad(forwardName(rs), 8)}${pad(weight, 7)}${pad(String(rs.activeConns), 11)}${pad(String(rs.inactiveConns), 10)}${pad(rs.state.toUpperCase(), 10)}${healthText(rs, now)}`,
      );
    }
    if (vs.sorry) {
      out.push(
        `  -> ${pad(vs.sorry.key, 28)}${pad("", 8)}${pad(vs.sorry.active ? "1" : vs.sorry.inhibit ? "0" : "-", 7)}${pad("", 21)}${pad(vs.sorry.active ? "SORRY" : "standby", 10)}sorry server`,
      );
    }
  }
  if (s.reconcile.failures.length) {
    out.push("");
    out.push("Kernel refused (retried every pass):");
    for (const f of s.reconcile.failures) out.push(`  ${f.operation}: ${f.errno ?? f.code} ${f.message}`);
  }
  return `${out.join("\n")}\n`;
}
