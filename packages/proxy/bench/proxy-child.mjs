// The @lvs/proxy side of bench/vs-haproxy.mjs, in a process of its own (so it gets one core):
//   node bench/proxy-child.mjs '[{"port":47120,"scheduler":"rr","dests":[47101,47102]}]'
// prints "ready" once every service listens; SIGTERM closes it.
import { createProxy } from "../dist/index.js";

const services = JSON.parse(process.argv[2]);
const proxy = createProxy(process.env.BENCH_HWM ? { highWaterMark: Number(process.env.BENCH_HWM) } : {});
for (const s of services) {
  const key = { protocol: "tcp", address: "127.0.0.1", port: s.port, scheduler: s.scheduler ?? "rr" };
  await proxy.addService(key);
  for (const d of [...s.dests].reverse()) await proxy.addDest(key, { address: "127.0.0.1", port: d });
}
process.on("SIGTERM", () => {
  proxy.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
process.stdout.write("ready\n");
