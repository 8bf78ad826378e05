// The status page's view of a running daemon: its state document built from the runtime's
// parts, its health verdict, and its change notifications (runtime.ts's watchers).
import type { Dataplane } from "./dataplane.js";
import { IpvsDataplane } from "./ipvs-dataplane.js";
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

export function webSourcesOf(rt: DirectorRuntime): WebSources {
  const health = async (): Promise<HealthVerdict> =>
    healthVerdict(rt.vrrp?.states() ?? [], await dataplaneProblem(rt));
  return {
    clock: rt.clock,
    health,
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
