// The status page, rendered on the server from `GET /api/state`'s document, so it reads with
// JavaScript off. With it on, assets/app.js swaps in the live part (`renderLive`) as the event
// stream pushes it. Everything that comes from the configuration or a probe is escaped; the
// page's Content-Security-Policy (web.ts) forbids inline script and style, so markup only.
import type { CheckRecord, TransitionRecord, VrrpTransitionRecord } from "./history.js";
import type { WebCheck, WebRealServer, WebState, WebVirtualServer, WebVrrpInstance } from "./web-state.js";

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (v: unknown): string => String(v ?? "").replace(/[&<>"']/g, (c) => ESC[c] as string);

/** `12:03:04` UTC in a <time> element carrying the full instant. */
function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.slice(11, 19)}</time>`;
}

function si(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}

const badge = (state: string): string => `<b class="st st-${esc(state.toLowerCase())}">${esc(state)}</b>`;

/** Transitions listed on the page per real server (all of them are in /api/state). */
export const PAGE_TRANSITIONS = 10;

/**
 * The last check results as bars, two SVG paths (passes green, scaled by latency; failures red,
 * full height), so a hundred results cost about 1.5 KB.
 */
export function sparkline(checks: readonly CheckRecord[]): string {
  if (!checks.length) return `<span class="muted">no checks yet</span>`;
  // Scaled to the slowest pass: a failure's timeout would flatten the rest.
  const max = Math.max(1, ...checks.filter((c) => c.ok).map((c) => c.latencyMs ?? 0));
  let ok = "";
  let ko = "";
  checks.forEach((c, i) => {
    const h = c.ok ? Math.max(3, Math.round(((c.latencyMs ?? 0) / max) * 14)) : 16;
    const bar = `M${i * 2} 16v-${h}h2v${h}z`;
    if (c.ok) ok += bar;
    else ko += bar;
  });
  const passed = checks.filter((c) => c.ok).length;
  const label = `${passed} of the last ${checks.length} checks passed`;
  const paths = `${ok ? `<path class="ok" d="${ok}"/>` : ""}${ko ? `<path class="ko" d="${ko}"/>` : ""}`;
  return `<svg class="spark" viewBox="0 0 200 16" width="200" height="16" role="img" aria-label="${label}"><title>${label}</title>${paths}</svg><small class="spark-n">${passed}/${checks.length}</small>`;
}

function transitions(list: readonly TransitionRecord[]): string {
  if (!list.length) return "";
  const items = list
    .slice(-PAGE_TRANSITIONS)
    .reverse()
    .map(
      (t) =>
        `<li>${time(t.at)} ${esc(t.fromState ?? "·")}→${esc(t.state)} w${esc(t.fromWeight ?? "·")}→${esc(t.weight)}: ${esc(t.reason)}</li>`,
    )
    .join("");
  const n = list.length > PAGE_TRANSITIONS ? `last ${PAGE_TRANSITIONS} of ${list.length}` : `${list.length}`;
  return `<details class="tl"><summary>${n} transitions</summary><ol>${items}</ol></details>`;
}

function vrrpTransitions(list: readonly VrrpTransitionRecord[]): string {
  if (!list.length) return "";
  const items = list
    .slice()
    .reverse()
    .map((t) => `<li>${time(t.at)} ${esc(t.from)}→${esc(t.to)}: ${esc(t.reason)}</li>`)
    .join("");
  return `<details class="tl"><summary>${list.length} transitions</summary><ol>${items}</ol></details>`;
}

function actions(vs: WebVirtualServer, rs: WebRealServer): string {
  const data = `data-vs="${esc(vs.key)}" data-rs="${esc(rs.key)}"`;
  const b = (op: string, label = op) =>
    `<button type="button" class="act" data-op="${op}" ${data}>${label}</button>`;
  const drain = rs.drain ? b("undrain") : b("drain");
  const able = rs.disabled ? b("enable") : b("disable");
  return `${drain}${able}${b("weight")}`;
}

/** `fall 1/3` while an up server fails, `rise 1/2` while a down one passes. */
function progressText(c: WebCheck): string {
  const p = c.progress;
  if (!p) return "";
  if (c.up && p.fail > 0) return ` <small class="st st-draining">fall ${p.fail}/${p.fall}</small>`;
  if (!c.up && p.ok > 0) return ` <small class="st st-backup">rise ${p.ok}/${p.rise}</small>`;
  return "";
}

function realServerRow(vs: WebVirtualServer, rs: WebRealServer): string {
  const check = rs.checks[0];
  const health = check
    ? `${esc(check.kind)}: ${esc(check.reason ?? (check.up ? "ok" : "down"))}${check.latencyMs !== null ? ` <small>${Math.round(check.latencyMs)} ms</small>` : ""}${progressText(check)}`
    : `<span class="muted">no check</span>`;
  const drain = rs.drain
    ? `<div class="muted">${esc(rs.drain.phase)} since ${time(rs.drain.since)}${rs.drain.deadline ? `, deadline ${time(rs.drain.deadline)}` : ""}</div>`
    : "";
  const cells = [
    `<td data-l="state">${badge(rs.state)}${drain}</td>`,
    `<td data-l="weight cfg/eff/kernel">${esc(rs.configWeight)} / ${esc(rs.effectiveWeight)} / ${esc(rs.kernelWeight ?? "–")}</td>`,
    `<td data-l="conns act/inact">${esc(rs.activeConns)} / ${esc(rs.inactiveConns)}</td>`,
    `<td data-l="conn/s">${si(rs.rates.cps)}</td>`,
    `<td data-l="health">${health}</td>`,
    `<td data-l="history" class="hist">${sparkline(rs.history.checks)}${transitions(rs.history.transitions)}</td>`,
    `<td class="acts">${actions(vs, rs)}</td>`,
  ];
  return `<tr data-rs="${esc(rs.key)}" data-state="${esc(rs.state)}"><th scope="row">${esc(rs.key)} <small>${esc(rs.forward)}</small></th>${cells.join("")}</tr>`;
}

function virtualServerSection(vs: WebVirtualServer): string {
  const facts = [
    `scheduler <b>${esc(vs.scheduler)}</b>`,
    vs.flags.length ? `flags ${esc(vs.flags.join(","))}` : "",
    vs.persistence !== null ? `persistence ${esc(vs.persistence)} s` : "",
    `quorum ${vs.quorum.up ? "up" : "<b class='st st-down'>down</b>"} (${esc(vs.quorum.liveWeight)} ≥ ${esc(vs.quorum.quorum)}±${esc(vs.quorum.hysteresis)})`,
    vs.sorry
      ? `sorry ${esc(vs.sorry.key)}${vs.sorry.active ? " <b class='st st-sorry'>active</b>" : ""}`
      : "",
    `${si(vs.rates.cps)} conn/s, ${si(vs.rates.inBps)}B/s in, ${si(vs.rates.outBps)}B/s out`,
    vs.inKernel ? "" : "<b class='st st-down'>not in the dataplane</b>",
    vs.checksSuspended ? "checks suspended (ha_suspend)" : "",
  ].filter(Boolean);
  const rows = vs.realServers.map((rs) => realServerRow(vs, rs)).join("");
  return `<section class="vs" data-vs="${esc(vs.key)}"><h2>${esc(vs.label)} <small>${esc(vs.services.join(", "))}</small></h2><p class="facts">${facts.join(" · ")}</p><div class="tbl"><table><thead><tr><th>real server</th><th>state</th><th>weight cfg/eff/kernel</th><th>conns act/inact</th><th>conn/s</th><th>health</th><th>history</th><th class="acts">actions</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function vrrpRow(i: WebVrrpInstance): string {
  const since = i.state === "MASTER" ? time(i.since) : "–";
  return `<tr><th scope="row">${esc(i.name)}</th><td>${badge(i.state)}</td><td>${esc(i.vrid)}</td><td>${esc(i.interface)}</td><td>${esc(i.priority)} / ${esc(i.effectivePriority)}</td><td>${since}</td><td>${esc(i.vips.join(" "))}</td><td>${vrrpTransitions(i.transitions)}</td></tr>`;
}

function vrrpSection(s: WebState): string {
  if (!s.vrrp.instances.length)
    return `<p class="muted">VRRP: ${s.vrrp.running ? "no instance" : "not running here"}</p>`;
  return `<section><h2>VRRP</h2><div class="tbl"><table><thead><tr><th>instance</th><th>state</th><th>vrid</th><th>interface</th><th>priority / effective</th><th>master since</th><th>VIPs</th><th>history</th></tr></thead><tbody>${s.vrrp.instances.map(vrrpRow).join("")}</tbody></table></div></section>`;
}

function bgpSection(s: WebState): string {
  const drained = s.directorDrain
    ? `<p id="director-drain"><b class="st st-down">director drained</b> since ${time(s.directorDrain.since)}: nothing announced over BGP, established connections still served (<code>lvsctl undrain --director</code>)</p>`
    : "";
  if (!s.bgp) return drained;
  const a = s.bgp.announcement;
  const gate = a.announceWhenMaster.length
    ? `<p>announced while MASTER: ${a.announceWhenMaster.map((g) => `${esc(g.instance)} ${badge(g.state)}`).join(", ")}</p>`
    : "";
  const what = a.withheld
    ? `<p id="bgp-announced"><b class="st st-down">withheld</b> ${esc(a.eligible.join(" ") || "(nothing with quorum)")}: ${esc(a.withheld)}</p>`
    : `<p id="bgp-announced">announced: ${esc(a.announced.join(" ") || "nothing (no virtual server with quorum)")}</p>`;
  const rows = s.bgp.sessions
    .map(
      (x) =>
        `<tr><th scope="row">${esc(x.peer)}</th><td>${esc(x.peerAs)}</td><td>${badge(x.state)}</td><td>${time(x.since)}</td><td>${esc(x.state === "Established" ? x.announced.join(" ") : "")}</td><td>${esc(x.updatesSent)} / ${esc(x.updatesReceived)}</td><td>${esc(x.lastNotification ?? "")}</td></tr>`,
    )
    .join("");
  return `<section id="bgp"><h2>BGP</h2>${drained}${what}${gate}<div class="tbl"><table><thead><tr><th>peer</th><th>AS</th><th>state</th><th>since</th><th>announced</th><th>updates out/in</th><th>last notification</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function summary(s: WebState): string {
  const r = s.reconcile;
  const health = s.health.ok
    ? `<b class="st st-up">healthy</b>`
    : `<b class="st st-down">unhealthy</b> ${esc(s.health.reasons.join("; "))}`;
  const sync = s.syncDaemons.length
    ? s.syncDaemons.map((d) => `${esc(d.role)} on ${esc(d.interface)} syncid ${esc(d.syncId)}`).join(", ")
    : "off";
  const warnings = s.config.warnings.length
    ? `<details><summary>${s.config.warnings.length} configuration warnings</summary><ul>${s.config.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul></details>`
    : "";
  return `<section class="summary"><p id="health">${health}</p><dl><dt>dataplane</dt><dd id="dataplane">${esc(s.dataplane)}</dd><dt>mode</dt><dd>${esc(s.daemon.mode)}</dd><dt>started</dt><dd>${time(s.daemon.startedAt)}</dd><dt>sync daemon</dt><dd>${sync}</dd><dt>reconcile</dt><dd id="reconcile">${esc(r.passes)} passes, ${esc(r.driftRepairs)} drift repairs, ${esc(r.refusals)} refusals, ${esc(r.readErrors)} read errors; last ${time(r.lastPassAt)}${r.lastDurationMs !== null ? ` (${esc(r.lastDurationMs)} ms)` : ""}${r.lastReadError ? ` <b class="st st-down">${esc(r.lastReadError)}</b>` : ""}</dd></dl>${warnings}</section>`;
}

/** The part of the page the live feed replaces. */
export function renderLive(s: WebState): string {
  return `${summary(s)}${vrrpSection(s)}${bgpSection(s)}${s.virtualServers.map(virtualServerSection).join("")}<p class="muted gen">as of ${time(s.generatedAt)} UTC</p>`;
}

/** The whole document. */
export function renderPage(s: WebState): string {
  const act = s.access === "write" ? ` class="can-act"` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>lvs director</title><link rel="stylesheet" href="/assets/style.css"><script src="/assets/app.js" defer></script></head>
<body${act} data-access="${s.access}"><header><h1>lvs director</h1><span id="conn" class="muted">static page (reload to refresh)</span><form id="tokenform" hidden><input type="password" id="token" placeholder="API token for actions" autocomplete="off" aria-label="API token"><button>unlock</button></form><output id="msg"></output></header>
<main id="live">${renderLive(s)}</main></body></html>
`;
}
