// The worker side of WorkerCheckRunner: an ordinary HealthCheckRunner over this thread's shard,
// its results flattened into one message per event-loop turn.
import { parentPort, workerData } from "node:worker_threads";
import { HealthCheckRunner } from "./runner.js";
import {
  clockOrigin,
  EVENT_RECORD,
  type FromWorker,
  RESULT_RECORD,
  type ToWorker,
  type WorkerInit,
} from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("@lvs/healthcheck worker entry: not in a worker thread");
const init = (workerData ?? {}) as WorkerInit;

let records: unknown[] = [];
let flushQueued = false;

const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

const runner: HealthCheckRunner = new HealthCheckRunner({
  ...(init.concurrency !== undefined ? { concurrency: init.concurrency } : {}),
  onResult: (id, r, s) => {
    const p = s.progress;
    records.push(
      RESULT_RECORD,
      id,
      r.up,
      r.reason,
      r.latencyMs,
      r.weight ?? null,
      s.up,
      s.weight,
      p?.ok ?? 0,
      p?.fail ?? 0,
      p?.retries ?? 0,
      p?.rise ?? 0,
      p?.fall ?? 0,
      p?.retry ?? 0,
    );
    queueFlush();
  },
  onEvent: (e) => {
    records.push(EVENT_RECORD, e.id, e.kind, e.reason, e.latencyMs, e.at, e.weight);
    queueFlush();
  },
});

function queueFlush(): void {
  if (flushQueued) return;
  flushQueued = true;
  // After this turn's I/O callbacks: everything that completed in the turn goes in one message.
  setImmediate(flush);
}

function flush(): void {
  flushQueued = false;
  const jitter = Float64Array.from(runner.stats.jitterMs);
  runner.stats.jitterMs.length = 0;
  const batch = records;
  records = [];
  post(
    {
      op: "batch",
      records: batch,
      counters: {
        probesStarted: runner.stats.probesStarted,
        probesCompleted: runner.stats.probesCompleted,
        fannedOut: runner.stats.fannedOut,
        inFlight: runner.inFlight,
        uniqueChecks: runner.uniqueChecks,
      },
      jitterMs: jitter,
    },
    [jitter.buffer as ArrayBuffer],
  );
}

port.on("message", (m: ToWorker) => {
  try {
    if (m.op === "configure") {
      runner.configure(m.targets);
      queueFlush(); // uniqueChecks changed
    } else if (m.op === "setWeight") runner.setWeight(m.id, m.weight);
    else if (m.op === "stop") {
      runner.stop();
      port.close();
    }
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    post({
      op: "error",
      code: typeof e.code === "string" ? e.code : "HC_WORKER_FAILED",
      message: String(e.message ?? err),
    });
  }
});

post({ op: "ready", clockOrigin: clockOrigin() });
