// `lvsctl status --watch`: the status page's live view in a terminal, for ssh users. One
// EventSource-style stream on `GET /api/events` (state documents pushed on change) and a text
// rendering of each, redrawn in place; a history sparkline in block characters.
import { request } from "node:http";
import type { DirectorClientOptions } from "./client.js";
import { DirectorError } from "./errors.js";
import { bgpLines } from "./format.js";
import type { CheckRecord } from "./history.js";
import { defaultSocketPath } from "./paths.js";
import type { WebState } from "./web-state.js";

/** Longest event the watcher buffers (a state document of thousands of real servers fits). */
export const WATCH_MAX_EVENT_BYTES = 64 * 1024 * 1024;

export interface StateWatch {
  close(): void;
  /** Resolves when the stream ends (the daemon stopped, or close()). */
  readonly ended: Promise<void>;
}

/**
 * Follow the daemon's state: `onState` for each document it pushes. Rejects `ended` with a
 * DirectorError when the daemon can't be reached or refuses (401 without the token on TCP is not
 * one: the state is readable without it).
 */
export function watchState(opts: DirectorClientOptions, onState: (s: WebState) => void): StateWatch {
  const target = opts.url ? new URL("/api/events", opts.url) : undefined;
  const where = target ? target.host : (opts.socketPath ?? defaultSocketPath());
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let req: ReturnType<typeof request> | undefined;
  const ended = new Promise<void>((resolve, reject) => {
    req = request(
      target
        ? { host: target.hostname, port: target.port, path: "/api/events", headers }
        : { socketPath: where, path: "/api/events", headers },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new DirectorError("DIRECTOR_API_ERROR", `GET /api/events: HTTP ${res.statusCode}`));
          return;
        }
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          buf += d;
          if (buf.length > WATCH_MAX_EVENT_BYTES) {
            res.destroy(new Error(`an event over ${WATCH_MAX_EVENT_BYTES} bytes`));
            return;
          }
          for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!/^event: state$/m.test(block)) continue;
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (data) onState(JSON.parse(data) as WebState);
          }
        });
        res.on("end", () => resolve());
        res.on("close", () => resolve());
        res.on("error", (err) => reject(err));
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.message === "closed by watcher") return resolve();
      reject(
        new DirectorError(
          "DIRECTOR_UNREACHABLE",
          `no director answers on ${where} (${err.code ?? err.message}); is it running? (--socket PATH)`,
          { object: where, errnoName: err.code, cause: err },
        ),
      );
    });
    req.end();
  });
  return { ended, close: () => req?.destroy(new Error("closed by watcher")) };
}

const BLOCKS = "▁▂▃▄▅▆▇█";

/** The last `width` check results: a block per pass (taller = slower), `✗` per failure. */
export function textSparkline(checks: readonly CheckRecord[], width = 30): string {
  const last = checks.slice(-width);
  // Scaled to the slowest pass: a failure's timeout would flatten the rest.
  const max = Math.max(1, ...last.filter((c) => c.ok).map((c) => c.latencyMs ?? 0));
  return last
    .map((c) => (c.ok ? BLOCKS[Math.min(7, Math.floor(((c.latencyMs ?? 0) / max) * 7.999))] : "✗"))
    .join("");
}

const hhmmss = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? "-" : new Date(ms).toISOString().slice(11, 19);

/** The terminal view of one state document (UTC times). */
export function formatWebState(s: WebState): string {
  const out: string[] = [];
  const r = s.reconcile;
  out.push(
    `lvs director (${s.daemon.mode}, dataplane ${s.dataplane}) ${s.health.ok ? "healthy" : `UNHEALTHY: ${s.health.reasons.join("; ")}`} — as of ${hhmmss(s.generatedAt)} UTC`,
    `reconcile: ${r.passes} passes, ${r.driftRepairs} drift repairs, ${r.refusals} refusals, ${r.readErrors} read errors; last ${hhmmss(r.lastPassAt)}`,
  );
  for (const i of s.vrrp.instances) {
    const last = i.transitions.at(-1);
    out.push(
      `VRRP ${i.name} ${i.state} prio ${i.priority}/${i.effectivePriority} vrid ${i.vrid} ${i.vips.join(" ")}${last ? `  (${hhmmss(last.at)} ${last.from}→${last.to}: ${last.reason})` : ""}`,
    );
  }
  for (const d of s.syncDaemons) out.push(`sync daemon ${d.role} on ${d.interface} syncid ${d.syncId}`);
  out.push(...bgpLines(s.bgp ?? undefined, s.directorDrain ?? undefined, hhmmss));
  for (const vs of s.virtualServers) {
    out.push(
      "",
      `${vs.label} ${vs.scheduler}${vs.flags.length ? ` ${vs.flags.join(",")}` : ""}  quorum ${vs.quorum.up ? "up" : "DOWN"}  ${vs.rates.cps} conn/s${vs.sorry?.active ? `  sorry ${vs.sorry.key} ACTIVE` : ""}`,
    );
    for (const rs of vs.realServers) {
      const c = rs.checks[0];
      const t = rs.history.transitions.at(-1);
      out.push(
        `  ${rs.key.padEnd(22)} ${rs.state.padEnd(9)} w ${rs.configWeight}/${rs.effectiveWeight}/${rs.kernelWeight ?? "-"}  conns ${rs.activeConns}/${rs.inactiveConns}  ${textSparkline(rs.history.checks)} ${c ? `${c.kind}: ${c.reason ?? "-"}` : ""}`,
      );
      if (t)
        out.push(
          `  ${"".padEnd(22)} last change ${hhmmss(t.at)} ${t.fromState ?? "·"}→${t.state}: ${t.reason}`,
        );
    }
  }
  return `${out.join("\n")}\n`;
}
