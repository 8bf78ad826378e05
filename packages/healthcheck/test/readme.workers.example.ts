import { type TargetEvent, WorkerCheckRunner } from "@lvs/healthcheck";

export async function workersExample(ports: number[]): Promise<TargetEvent[]> {
  // HealthCheckRunner's targets and callbacks, on two worker threads: targets are sharded by
  // check (identical checks stay in one thread), results come back here in batches.
  const events: TargetEvent[] = [];
  const runner = new WorkerCheckRunner({ threads: 2, onEvent: (e) => events.push(e) });
  runner.configure(
    ports.map((port, i) => ({
      id: `rs${i}`,
      check: { type: "tcp", connectIp: "127.0.0.1", connectPort: port, connectTimeout: 1 },
      policy: { delayLoop: 0.05, retry: 0, alpha: true },
    })),
  );
  while (events.length < ports.length) await new Promise((res) => setTimeout(res, 20));
  await runner.close(); // stops the checks and waits for the threads to end
  return events;
}
