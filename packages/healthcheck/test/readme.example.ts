import { HealthCheckRunner, probe, type TargetEvent } from "@lvs/healthcheck";

export async function example(port: number): Promise<{ once: string; events: TargetEvent[] }> {
  // One probe, like `lvsctl check http --url http://127.0.0.1:PORT/health`.
  const r = await probe({
    type: "http",
    connectIp: "127.0.0.1",
    connectPort: port,
    url: [{ path: "/health", statusCode: [[200, 299]] }],
  });
  const once = `${r.up ? "UP" : "DOWN"} ${r.reason}`;

  // Many targets on one loop: rise/fall, retries, slow start; identical checks probed once.
  const events: TargetEvent[] = [];
  const runner = new HealthCheckRunner({ onEvent: (e) => events.push(e) });
  runner.configure([
    {
      id: "10.0.0.2:80@vs1",
      check: { type: "tcp", connectIp: "127.0.0.1", connectPort: port, connectTimeout: 1 },
      policy: { delayLoop: 0.05, retry: 0, alpha: true, rise: 2, fall: 3, weight: 100, slowStart: 10 },
    },
  ]);
  while (events.length === 0) await new Promise((res) => setTimeout(res, 20));
  runner.stop();
  return { once, events };
}
