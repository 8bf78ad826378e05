// The status page's view of a running daemon: its state document built from the runtime's
// parts, its health verdict, and its change notifications (runtime.ts's watchers).
import type { Dataplane } from "./dataplane.js";
import { DirectorError } from "./errors.js";
import { type Explanation, explainPick } from "./explain.js";
import { IpvsDataplane } from "./ipvs-dataplane.js";
import { parseVsReference } from "./keys.js";
import { keyFromServiceId } from "./reconcile.js";
import type { DirectorRuntime } from "./runtime.js";
import type { WebSources } from "./web.js";
import { buildWebState, type HealthVerdict, healthVerdict } from "./web-state.js";

/** How long the dataplane has to answer before /healthz calls it down. */
export const HEALTH_DATAPLANE_TIMEOUT_MS = 2_000;

/** `ipvs`, `proxy`, a custom dataplane's `kind` or class name, `none`. */
export function dataplaneName(dp: Dataplane | undefined): string {
  if (!dp) return "none";
  const named = (dp as { kind?: unknown }).kind;
  if (typeof named === "string") return named;
  return dp instanceof IpvsDataplane ? "ipvs" : dp.constructor.name;
}

/** undefined when the dataplane answers (a cheap read: its timeouts); else why not. */
async function dataplaneProblem(rt: DirectorRuntime): Promise<string | undefined> {
  if (!rt.lvsEnabled) return undefined;
  const dp = rt.dataplane;
  if (!dp) return "not open";
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`no answer within ${HEALTH_DATAPLANE_TIMEOUT_MS} ms`),
      HEALTH_DATAPLANE_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      dp.timeouts().then(
        () => undefined,
        (err: Error) => err.message,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A new connection's source port when the question names none (only sh-port / mh-port use it). */
export const EXPLAIN_DEFAULT_CLIENT_PORT = 40000;

/** `IP`, `IP:PORT`, `[v6]:PORT` → address and port. */
function endpointOf(text: string, what: string, defaultPort?: number): { address: string; port: number } {
  const t = text.trim();
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(t) ?? /^([0-9.]+)(?::(\d+))?$/.exec(t);
  const bare = /^[0-9a-fA-F:]+$/.test(t) && t.includes(":") ? t : undefined;
  const address = m?.[1] ?? bare;
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!address || port === undefined || port > 65535)
    throw new DirectorError(
      "DIRECTOR_BAD_ARGUMENT",
      `${what} ${JSON.stringify(text)}: expected IP[:PORT] or [IPv6][:PORT]`,
    );
  return { address, port };
}

/** `GET /api/explain`: one fresh read of the virtual server's first kernel service, scheduled in @lvs/scheduler. */
export async function explainFor(rt: DirectorRuntime, client: string, service: string): Promise<Explanation> {
  if (!rt.lvsEnabled || !rt.dataplane)
    throw new DirectorError("DIRECTOR_LVS_NOT_RUNNING", "no dataplane here: nothing to explain");
  const from = endpointOf(client, "client", EXPLAIN_DEFAULT_CLIENT_PORT);
  const vs = rt.engine.resolveVs(parseVsReference(service));
  const first = vs.services[0];
  if (!first) throw new DirectorError("DIRECTOR_NOT_FOUND", `virtual server ${vs.key} has no service`);
  const [entry] = await rt.dataplane.read([keyFromServiceId(first.id)]);
  if (!entry)
    throw new DirectorError("DIRECTOR_NOT_FOUND", `${vs.key} is not in the dataplane (yet)`, {
      object: vs.key,
    });
  const target = /^[[\d]/.test(service.trim()) ? endpointOf(service, "service") : undefined;
  return explainPick(entry, from, vs.key, target);
}

export function webSourcesOf(rt: DirectorRuntime): WebSources {
  const health = async (): Promise<HealthVerdict> =>
    healthVerdict(rt.vrrp?.states() ?? [], await dataplaneProblem(rt));
  return {
    clock: rt.clock,
    health,
    explain: (client, service) => explainFor(rt, client, service),
    watch: (fn) => {
      rt.watchers.add(fn);
      return () => rt.watchers.delete(fn);
    },
    state: async (access) => {
      const [status, verdict] = await Promise.all([rt.status(), health()]);
      return buildWebState({
        status,
        plan: rt.plan?.virtualServers ?? [],
        table: rt.loop?.reconciler.table,
        history: rt.history,
        dataplane: dataplaneName(rt.dataplane),
        health: verdict,
        counters: { refusals: rt.loop?.refusals ?? 0, readErrors: rt.loop?.readErrors ?? 0 },
        progress: (id) => rt.runner?.status(id)?.progress,
        now: rt.now(),
        access,
      });
    },
  };
}
